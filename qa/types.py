"""The data that flows through the pipeline: documents, chunks, retrieval hits, answers.

Offsets are half-open character positions. The prefix says which text they index:
``doc_start``/``doc_end`` index ``Document.text``; ``start``/``end`` on reader spans index the
passage text handed to the reader. The invariant every test leans on:
``document.text[chunk.doc_start:chunk.doc_end] == chunk.text``.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Document:
    """One article, with its exact original text (never normalised: offsets point into it)."""

    doc_id: str  # file stem, unique within a corpus
    title: str
    path: str  # source path as given (relative to the corpus folder)
    text: str
    sha256: str  # of the raw file bytes: drives incremental indexing
    # Where and when it was published, where known ("" otherwise): the outlet's name, an ISO date
    # (YYYY-MM-DD, or YYYY-MM / YYYY when only that is known) and the article's canonical URL.
    source: str = ""
    published: str = ""
    url: str = ""
    author: str = ""
    # Which extractor (and version) made ``text`` from the file, e.g. "trafilatura 2.3.1": the index
    # re-reads an article when it changes. ``pages``: offset in ``text`` where each page starts
    # (page 1 first), for paged formats (PDF); empty otherwise.
    extractor: str = ""
    pages: tuple[int, ...] = ()
    # Time expressions of ``text``, found and resolved against ``published`` when the article is
    # indexed (qa/news/timex.py): (start, end, ISO value) each; empty until then.
    dates: tuple[tuple[int, int, str], ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding ``text[offset]``, None for an article without pages."""
        if not self.pages:
            return None
        return max(bisect_right(self.pages, offset), 1)


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one document."""

    chunk_id: str  # f"{doc_id}#{index}", stable while the document is unchanged
    doc_id: str
    doc_start: int
    doc_end: int
    text: str
    # (doc_start, doc_end) of each sentence in the chunk, in order; they tile the chunk.
    sentences: tuple[tuple[int, int], ...]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sentences"] = [list(s) for s in self.sentences]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Chunk":
        return cls(
            chunk_id=d["chunk_id"],
            doc_id=d["doc_id"],
            doc_start=int(d["doc_start"]),
            doc_end=int(d["doc_end"]),
            text=d["text"],
            sentences=tuple((int(a), int(b)) for a, b in d["sentences"]),
        )


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk. ``score`` is the fused score (higher is better); ``ranks`` holds the
    0-based rank the chunk had in each retriever's list that contained it."""

    chunk: Chunk
    score: float
    ranks: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Passage:
    """What a reader reads: a text plus where it comes from. ``doc_start`` maps reader offsets
    back into the document: ``doc offset = doc_start + passage offset``."""

    doc_id: str
    doc_start: int
    text: str


@dataclass(frozen=True)
class ReadSpan:
    """A candidate answer found by a reader, in offsets of ``passages[passage_index].text``.

    ``score`` is in [0, 1] and comparable across passages and windows (higher = more likely right).
    """

    passage_index: int
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class ReaderOutput:
    spans: list[ReadSpan]  # distinct, best first
    no_answer_score: float  # in [0, 1]: how sure the reader is that no passage answers


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str
    path: str
    start: int  # answer span in document.text
    end: int
    text: str  # == document.text[start:end]
    sentence: str  # the sentence holding the answer
    sentence_start: int  # in document.text
    sentence_end: int
    chunk_id: str
    source: str = ""  # the article's outlet, publication date and URL (Document), "" when unknown
    published: str = ""
    url: str = ""
    page: int | None = None  # 1-based page of the answer in a paged article (PDF), else None
    # The time expressions inside the answer span, resolved against the article's date
    # (qa.news.timex.TimeExpression: text, start, end in document.text, ISO value).
    dates: tuple = ()

    def to_dict(self) -> dict:
        return {**asdict(self), "dates": [asdict(t) for t in self.dates]}

    def credit(self) -> str:
        """Headline · outlet · date (· page N), the parts that are known:
        "Harbour ferry service to resume · The Harbour Times · May 12, 2023"."""
        from .extract.dates import readable_date

        parts = [self.title or self.doc_id, self.source, readable_date(self.published),
                 f"page {self.page}" if self.page else ""]
        return " · ".join(p for p in parts if p)


@dataclass(frozen=True)
class Answer:
    """An extractive answer: ``text`` is exactly ``document.text[c.start:c.end]`` of its citations."""

    text: str
    score: float
    citations: list[Citation]
    reader: str = ""
    # Other articles' answers of other dates (qa/news/changed.py ``EarlierReport``), newest first.
    earlier_reports: tuple = ()

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "score": round(float(self.score), 6),
            "reader": self.reader,
            "citations": [c.to_dict() for c in self.citations],
            "dates": [asdict(t) for t in self.citations[0].dates] if self.citations else [],
            "earlier_reports": [r.to_dict() for r in self.earlier_reports],
        }
