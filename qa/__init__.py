"""Extractive question answering over a folder of news articles, with exact cited spans."""
from .config import QAConfig
from .pipeline import Pipeline, QuestionError
from .types import Answer, Chunk, Citation, Document, Hit

__all__ = ["Pipeline", "QAConfig", "QuestionError", "Answer", "Citation", "Chunk", "Document", "Hit"]
