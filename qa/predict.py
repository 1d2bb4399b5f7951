"""``qa predict``'s answering loop: questions in batches (``Pipeline.ask_many``), one record each.

Questions that bring their own ``context`` are read from it alone (``Pipeline.ask_context``), one by
one; lines of a ``conversation`` are asked in file order through ``ConversationalAsker`` (a
follow-up needs the answers before it); the others are asked of the index ``batch_size`` at a
time, so their windows share forward passes. A question that cannot be asked (empty, wordless, too
long) gets an ``error`` field and does not hold up the rest of its batch.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

BATCH_SIZE = 16  # questions asked together; beyond ~16 the reader's batches are already full


def prediction_record(row: dict, answers, interpreted_as: str | None = None) -> dict:
    """One line of ``qa predict`` output (the evaluation scripts' schema); ``interpreted_as`` is the
    standalone question answered (the question itself unless a follow-up was rewritten)."""
    from .news.question_time import as_dict as question_time

    top = answers[0] if answers else None
    return {
        "id": row.get("id"),
        "question": row.get("question"),
        "interpreted_as": interpreted_as if interpreted_as is not None else row.get("question"),
        # what the question asks of time ("in 2024", "latest"), null when nothing (qa/news/question_time.py)
        "question_time": question_time(interpreted_as if interpreted_as is not None else row.get("question")),
        "answer": top.text if top else "",
        "score": round(float(top.score), 6) if top else 0.0,
        "citations": [{"doc_id": c.doc_id, "title": c.title, "source": c.source, "published": c.published,
                       "url": c.url, "page": c.page, "start": c.start, "end": c.end, "text": c.text,
                       "dates": [t.to_dict() for t in c.dates]}
                      for c in (top.citations if top else [])],
        # the time expressions inside the answer, resolved against its article's date (qa/news/timex.py)
        "dates": [t.to_dict() for t in top.citations[0].dates] if top and top.citations else [],
        "earlier_reports": [r.to_dict() for r in getattr(top, "earlier_reports", ())] if top else [],
    }


def predict(pipeline, rows: Sequence[dict], top_k: int = 1, batch_size: int = BATCH_SIZE,
            progress: Callable[[int], None] | None = None, filter=None) -> list[dict]:
    """One prediction record per row, in order; ``progress(n)`` after every n rows answered.
    ``filter`` (qa/filters.py) restricts the articles every question of the index searches."""
    from .conversation import Conversation, ConversationalAsker
    from .pipeline import QuestionError, clean_question

    out: list[dict | None] = [None] * len(rows)
    batch: list[tuple[int, str]] = []
    asker = ConversationalAsker(pipeline)
    conversations: dict[str, Conversation] = {}  # "conversation" id -> its turns so far, in file order

    def flush() -> None:
        if not batch:
            return
        results = pipeline.ask_many([q for _, q in batch], top_k=top_k, filter=filter)
        for (i, _), answers in zip(batch, results):
            out[i] = prediction_record(rows[i], answers)
        if progress:
            progress(len(batch))
        batch.clear()

    for i, row in enumerate(rows):
        try:
            if "context" in row:
                out[i] = prediction_record(row, pipeline.ask_context(row["question"], row["context"], top_k=top_k))
            elif row.get("conversation") is not None:
                key = str(row["conversation"])
                reply = asker.ask(row["question"], conversations.get(key), top_k=top_k, filter=filter)
                conversations[key] = reply.conversation
                out[i] = prediction_record(row, reply.answers, reply.interpreted_as)
            else:
                batch.append((i, clean_question(row["question"])))
                if len(batch) >= max(1, batch_size):
                    flush()
                continue
        except QuestionError as exc:
            out[i] = {**prediction_record(row, []), "error": str(exc)}
        if progress:
            progress(1)
    flush()
    return out
