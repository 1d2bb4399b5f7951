"""Evaluation data (``seed_questions.jsonl``, ``regression_floors.json``) and report helpers."""
