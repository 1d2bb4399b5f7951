"""``qa evaluate``: run a question set through the product's own Pipeline and score it.

For every question it records the answers, where the gold article ranks for each retriever
(BM25, dense, hybrid; depth 20) and the stage timings of ``ask``; then it reports EM/F1,
recall@k and MRR, abstention precision/recall, citation accuracy, F1 by question type and
category, and latency, as a table on stdout, ``reports/eval.md`` with PNG plots, and JSON.

    qa evaluate qa/eval/seed_questions.jsonl --report reports/eval.md
    python -m qa.evaluate qa/eval/seed_questions.jsonl --reader heuristic --json out.json

Question file: one JSON object per line with ``id``, ``question``, ``answers`` (verbatim gold
spans; ``[]`` = unanswerable), ``doc_id`` (the article holding them, null if unanswerable) and
optionally ``category`` and ``qtype``. ``scripts/bench.py`` reuses the same functions.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .metrics import (
    abstention_scores,
    citation_accuracy,
    exact_match,
    first_relevant_rank,
    max_over_golds,
    mean_reciprocal_rank,
    recall_at_k,
    token_f1,
)

MODES = ("bm25", "dense", "hybrid")
DEPTH = 20  # candidates per retriever when ranking the gold article
RECALL_KS = (1, 5, 10, 20)
STAGES = ("encode", "search", "read", "total")
SEED_QUESTIONS = Path(__file__).parent / "eval" / "seed_questions.jsonl"
CONVERSATIONS = Path(__file__).parent / "eval" / "conversations.jsonl"


@dataclass(frozen=True)
class EvalQuestion:
    """One question with its gold spans; no answers and no doc_id means unanswerable."""

    id: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None
    category: str = ""
    qtype: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_questions(path: str | Path) -> list[EvalQuestion]:
    """Read a question JSONL file; errors name the line."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                out.append(EvalQuestion(id=str(row["id"]), question=row["question"],
                                        answers=tuple(row.get("answers") or ()), doc_id=row.get("doc_id"),
                                        category=row.get("category", ""), qtype=row.get("qtype", "")))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: not a question record ({exc!r}); each line needs "
                                 '"id", "question", "answers" and "doc_id"') from None
    return out


# --- one question ------------------------------------------------------------------------------


def gold_ranks(hits, doc_id: str | None, answers: Sequence[str]) -> dict[str, int | None]:
    """0-based rank of the first relevant hit under two definitions of "relevant":
    ``answer`` = a chunk of the gold article whose text contains a gold span verbatim;
    ``doc`` = any chunk of the gold article (for SQuAD paragraphs the two mostly coincide)."""
    in_doc = [h.chunk.doc_id == doc_id for h in hits]
    return {
        "answer": first_relevant_rank(d and any(a in h.chunk.text for a in answers) for d, h in zip(in_doc, hits)),
        "doc": first_relevant_rank(in_doc),
    }


def rank_question(pipeline, q: EvalQuestion, modes: Sequence[str] = MODES, depth: int = DEPTH,
                  filter=None) -> dict:
    """Gold ranks for each retrieval mode (only meaningful for answerable questions)."""
    return {mode: gold_ranks(pipeline.retrieve(q.question, mode=mode, depth=depth, top_k=depth, filter=filter),
                             q.doc_id, q.answers)
            for mode in modes}


def answer_question(pipeline, q: EvalQuestion, top_k: int = 3, filter=None) -> dict:
    """Ask through the Pipeline exactly as a user would; score the top answer (none = "").
    ``filter`` (qa/filters.py) restricts the articles searched, as ``--since/--until/--source`` do."""
    from .pipeline import QuestionError

    try:
        answers = pipeline.ask(q.question, top_k=top_k, filter=filter)
        timings = dict(pipeline.last_timings)
        error = None
    except QuestionError as exc:  # e.g. a dataset question with no words: counts as abstaining
        answers, timings, error = [], {}, str(exc)
    top = answers[0] if answers else None
    prediction = top.text if top else ""
    record = {
        "prediction": prediction,
        "score": float(top.score) if top else None,
        "cited_doc": top.citations[0].doc_id if top and top.citations else None,
        "answers": [{"text": a.text, "score": round(float(a.score), 4),
                     "citations": [[c.doc_id, c.start, c.end] for c in a.citations]} for a in answers],
        "em": max_over_golds(exact_match, prediction, q.answers),
        "f1": max_over_golds(token_f1, prediction, q.answers),
        "timings": timings,
        "passages_read": getattr(pipeline, "last_passages_read", None) if error is None else None,
    }
    if error:
        record["error"] = error
    return record


def raw_top_answer(pipeline, q: EvalQuestion, filter=None) -> dict:
    """The top answer with abstention off (``min_score=0.0``): its score is what the threshold
    is compared with. Score None when the question cannot be asked, 0.0 when nothing was read."""
    from .pipeline import QuestionError

    try:
        raw = pipeline.ask(q.question, top_k=1, min_score=0.0, filter=filter)
    except QuestionError:
        return {"raw_score": None, "raw_prediction": ""}
    return {"raw_score": float(raw[0].score) if raw else 0.0, "raw_prediction": raw[0].text if raw else ""}


def run_questions(pipeline, questions: Sequence[EvalQuestion], *, answers: bool = True, retrieval: bool = True,
                  modes: Sequence[str] = MODES, depth: int = DEPTH, top_k: int = 3, raw_score: bool = False,
                  progress: bool = True, desc: str = "questions", filter=None) -> tuple[list[dict], float]:
    """One record per question, plus the wall-clock seconds spent answering (for q/s; the
    retrieval ranking done for recall@k is timed apart and not included)."""
    from tqdm import tqdm

    records = []
    answer_seconds = 0.0
    for q in tqdm(questions, desc=desc, unit="q", disable=not progress):
        rec = {"id": q.id, "question": q.question, "golds": list(q.answers), "doc_id": q.doc_id,
               "category": q.category, "qtype": q.qtype}
        if answers:
            t0 = time.perf_counter()
            rec.update(answer_question(pipeline, q, top_k=top_k, filter=filter))
            answer_seconds += time.perf_counter() - t0
            if raw_score:  # a second, untimed ask with abstention off, for the score plot
                rec.update(raw_top_answer(pipeline, q, filter=filter))
        if retrieval and q.answerable:
            rec["ranks"] = rank_question(pipeline, q, modes, depth, filter=filter)
        records.append(rec)
    return records, answer_seconds


# --- summaries ---------------------------------------------------------------------------------


def _mean100(values: Iterable[float]) -> float | None:
    values = list(values)
    return 100.0 * sum(values) / len(values) if values else None


def summarize_answers(records: Sequence[dict]) -> dict:
    """EM/F1 (percent; max over golds, unanswerable gold = empty prediction), abstention and
    citation accuracy, F1 by question type (answerable only) and by category (all)."""
    answerable = [r for r in records if r["golds"]]
    answered = [bool(r["prediction"]) for r in records]
    abstention = abstention_scores(answered, [bool(r["golds"]) for r in records])
    by_qtype: dict[str, list[float]] = defaultdict(list)
    by_category: dict[str, list[float]] = defaultdict(list)
    for r in records:
        if r["golds"] and r.get("qtype"):
            by_qtype[r["qtype"]].append(r["f1"])
        if r.get("category"):
            by_category[r["category"]].append(r["f1"])
    return {
        "count": len(records),
        "answerable": len(answerable),
        "answered": sum(answered),
        "exact_match": _mean100(r["em"] for r in records),
        "f1": _mean100(r["f1"] for r in records),
        "answerable_exact_match": _mean100(r["em"] for r in answerable),
        "answerable_f1": _mean100(r["f1"] for r in answerable),
        # Unanswerable questions are the positive class; None when the set has none.
        "abstention_precision": 100 * abstention["precision"] if abstention["unanswerable"] else None,
        "abstention_recall": 100 * abstention["recall"] if abstention["unanswerable"] else None,
        "abstained": abstention["abstained"],
        "unanswerable": abstention["unanswerable"],
        "citation_accuracy": 100 * citation_accuracy([r["cited_doc"] for r in answerable],
                                                     [r["doc_id"] for r in answerable]),
        "cited": sum(1 for r in answerable if r["cited_doc"] is not None),
        "f1_by_qtype": {k: {"f1": _mean100(v), "count": len(v)} for k, v in sorted(by_qtype.items())},
        "f1_by_category": {k: {"f1": _mean100(v), "count": len(v)} for k, v in sorted(by_category.items())},
    }


def summarize_retrieval(records: Sequence[dict], modes: Sequence[str] = MODES,
                        ks: Sequence[int] = RECALL_KS) -> dict:
    """recall@k and MRR (percent / fraction) per mode and relevance definition, over the
    answerable questions that were ranked."""
    ranked = [r for r in records if "ranks" in r]
    out: dict = {"count": len(ranked)}
    for mode in modes:
        out[mode] = {}
        for relevance in ("answer", "doc"):
            ranks = [r["ranks"][mode][relevance] for r in ranked]
            out[mode][relevance] = {"recall": {k: recall_at_k(ranks, k) for k in ks},
                                    "mrr": mean_reciprocal_rank(ranks)}
    return out


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolation percentile (numpy's default), None for no values."""
    import numpy as np

    return float(np.percentile(values, q)) if len(values) else None


def summarize_latency(records: Sequence[dict], wall_seconds: float | None = None) -> dict:
    """p50/p95/mean per stage in milliseconds, and questions per second over ``wall_seconds``."""
    timed = [r["timings"] for r in records if r.get("timings")]
    out: dict = {"count": len(timed)}
    for stage in STAGES:
        values = [t.get(stage, 0.0) for t in timed]
        out[stage] = {"p50_ms": _ms(percentile(values, 50)), "p95_ms": _ms(percentile(values, 95)),
                      "mean_ms": _ms(sum(values) / len(values) if values else None)}
    if wall_seconds:
        out["questions_per_second"] = len(timed) / wall_seconds
    return out


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else 1000.0 * seconds


def abstention_threshold(pipeline) -> float:
    """The score below which the pipeline withholds answers."""
    return pipeline.answer_threshold


# --- tables ------------------------------------------------------------------------------------


def answer_rows(summary: dict) -> list[list]:
    """Rows of the headline answer table (shared by stdout and Markdown)."""
    s = summary
    return [
        ["EM (all questions)", s["exact_match"]],
        ["F1 (all questions)", s["f1"]],
        [f"EM (answerable, n={s['answerable']})", s["answerable_exact_match"]],
        [f"F1 (answerable, n={s['answerable']})", s["answerable_f1"]],
        [f"abstention precision (abstained {s['abstained']})", s["abstention_precision"]],
        [f"abstention recall (unanswerable {s['unanswerable']})", s["abstention_recall"]],
        [f"citation accuracy (answered answerable, n={s['cited']})", s["citation_accuracy"]],
    ]


def retrieval_tables(summary: dict, relevance: Sequence[tuple[str, str]]) -> list[str]:
    """Markdown lines: for each (relevance definition, caption), the caption and its table."""
    from .eval import report as R

    lines: list[str] = []
    for key, caption in relevance:
        lines += [caption, "", R.md_table(retrieval_header(summary), retrieval_rows(summary, key)), ""]
    return lines


def retrieval_rows(summary: dict, relevance: str = "answer", modes: Sequence[str] = MODES) -> list[list]:
    rows = []
    for mode in modes:
        m = summary[mode][relevance]
        # Pre-formatted: recall in percent, MRR as the usual fraction.
        rows.append([mode] + [f"{100 * v:.1f}" for v in m["recall"].values()] + [f"{m['mrr']:.3f}"])
    return rows


def retrieval_header(summary: dict, modes: Sequence[str] = MODES) -> list[str]:
    ks = list(summary[modes[0]]["answer"]["recall"])
    return ["retriever"] + [f"R@{k} %" for k in ks] + ["MRR"]


def latency_rows(latency: dict) -> list[list]:
    return [[stage, latency[stage]["p50_ms"], latency[stage]["p95_ms"], latency[stage]["mean_ms"]]
            for stage in STAGES]


# --- the report --------------------------------------------------------------------------------


def invocation() -> str:
    """The command line that is running, as a user would type it."""
    argv0 = sys.argv[0]
    if argv0.endswith("__main__.py"):
        prog = ["python", "-m", Path(argv0).parent.name]
    elif argv0.endswith(".py"):
        prog = ["python", "-m", "qa.evaluate"] if Path(argv0).stem == "evaluate" else ["python", argv0]
    else:
        prog = [Path(argv0).name]
    return shlex.join(prog + sys.argv[1:])


def write_report(path: Path, *, summary: dict, records: Sequence[dict], meta: dict) -> list[Path]:
    """``eval.md`` plus four PNGs beside it (prefix = the report's stem). Returns the files."""
    from .eval import report as R

    out_dir = path.parent
    stem = path.stem
    ans, ret, lat = summary["answers"], summary["retrieval"], summary["latency"]
    pngs = {
        "recall": R.plot_recall({m: ret[m]["answer"]["recall"] for m in MODES}, out_dir / f"{stem}_recall.png",
                                "Gold-answer chunk within top k"),
        "qtype": R.plot_bars({k: v["f1"] for k, v in ans["f1_by_qtype"].items()},
                             {k: v["count"] for k, v in ans["f1_by_qtype"].items()},
                             out_dir / f"{stem}_f1_by_qtype.png", "F1 by question type (answerable)", "F1"),
        "scores": R.plot_scores([r["raw_score"] for r in records if r["golds"] and r.get("raw_score") is not None],
                                [r["raw_score"] for r in records if not r["golds"] and r.get("raw_score") is not None],
                                meta["threshold"], out_dir / f"{stem}_scores.png",
                                f"Top answer score ({meta['reader']} reader)"),
        "latency": R.plot_latency({s: [r["timings"].get(s, 0.0) for r in records if r.get("timings")]
                                   for s in STAGES}, out_dir / f"{stem}_latency.png", "ask() latency by stage"),
    }
    misses = [r for r in records if r["f1"] < 1.0]
    categories = ", ".join(f"{k} {v['count']}" for k, v in ans["f1_by_category"].items())
    lines = [
        f"# Evaluation: {meta['questions']}",
        "",
        f"- **Date / machine:** {R.machine_line(meta['machine'])}",
        f"- **Command:** `{meta['command']}`",
        f"- **Reader:** `{meta['reader']}` (abstains below score {meta['threshold']:.3f}); "
        f"retriever for answers: `{meta['retriever']}`; corpus `{meta['corpus']}` "
        f"({meta['documents']} articles, {meta['chunks']} chunks), index `{meta['index_dir']}`"
        + (f"; only the articles {meta['filter']}" if meta.get("filter") else ""),
        *([f"- **Span reader weights:** {meta['reader_note']}"] if meta.get("reader_note") else []),
        f"- **Questions:** {ans['count']} ({categories})" + (f", the first {meta['limit']} only" if meta.get("limit") else ""),
        f"- Wall time {meta['seconds']:.1f} s. EM/F1 take the best gold span; on an unanswerable "
        "question only abstaining (empty answer) scores 100. Citation accuracy = the top answer's "
        "first citation is the gold article, over answerable questions that were answered.",
        "",
        "## Answers",
        "",
        R.md_table(["metric", "%"], answer_rows(ans)),
        "",
        "F1 by category (all questions of the category; for `unanswerable` it is the share "
        "correctly abstained):",
        "",
        R.md_table(["category", "questions", "F1"],
                   [[k, v["count"], v["f1"]] for k, v in ans["f1_by_category"].items()]),
        "",
        "F1 by question type (answerable questions):",
        "",
        R.md_table(["qtype", "questions", "F1"], [[k, v["count"], v["f1"]] for k, v in ans["f1_by_qtype"].items()]),
        "",
        f"![F1 by question type]({pngs['qtype'].name})",
        "",
        f"![Score distribution]({pngs['scores'].name})",
        "",
        "The score plot shows the top answer's score with abstention switched off "
        "(`ask(..., min_score=0.0)`); questions left of the dashed line get no answer.",
        "",
        f"## Retrieval (depth {DEPTH}, {ret['count']} answerable questions)",
        "",
        *retrieval_tables(ret, [("answer", "Relevant = a chunk of the gold article containing a gold span verbatim:"),
                                ("doc", "Relevant = any chunk of the gold article:")]),
        f"![Recall at k]({pngs['recall'].name})",
        "",
        f"## Latency of `ask` ({lat['count']} questions, milliseconds)",
        "",
        R.md_table(["stage", "p50", "p95", "mean"], latency_rows(lat)),
        "",
        f"![Latency]({pngs['latency'].name})",
        "",
        *(_follow_up_lines(summary, meta) if "follow_ups" in summary else []),
        f"## Questions not answered exactly ({len(misses)})",
        "",
        R.md_table(["id", "question", "gold", "prediction", "F1"],
                   [[r["id"], r["question"].replace("|", "/"), " / ".join(r["golds"]) or "(unanswerable)",
                     _shown(r), 100 * r["f1"]]
                    for r in misses]),
        "",
    ]
    R.atomic_write_text(path, "\n".join(lines))
    return [path, *pngs.values()]


def _shown_path(path: str | Path) -> str:
    """A path as the report shows it: relative to the working folder when it lies below it."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _follow_up_lines(summary: dict, meta: dict) -> list[str]:
    from .eval import conversations as C

    return C.report_lines(summary["follow_ups"], meta["conversation_records"], summary["follow_ups"].get("latency"),
                          meta.get("conversations") or "")


def _shown(record: dict) -> str:
    """A prediction for a Markdown cell; for an abstention, what the reader would have said."""
    if record["prediction"]:
        text = record["prediction"]
    elif record.get("raw_prediction"):
        text = f"(abstained; best {record['raw_prediction']!r} at {record['raw_score']:.2f})"
    else:
        text = "(abstained)"
    return " ".join(text.replace("|", "/").split())[:160]


# --- the command -------------------------------------------------------------------------------


def evaluate(questions_path: str | Path, corpus: str | Path = "seeds", index_dir: str | Path = "embeddings",
             reader: str | None = None, retriever: str = "hybrid", min_score: float | None = None,
             top_k: int = 3, progress: bool = True, limit: int | None = None,
             backend="faiss", filter=None, conversations: str | Path | None = None) -> tuple[dict, list[dict], dict]:
    """Index ``corpus`` (incrementally), run every question (the first ``limit`` if given) over the
    articles ``filter`` admits (all when None), return (summary, records, meta). With
    ``conversations`` (a conversation set, qa/eval/conversations.py) the summary also has
    ``follow_ups`` (with and without history) and meta the per-turn records under
    ``conversation_records``."""
    from .eval import report as R
    from .pipeline import Pipeline

    questions = load_questions(questions_path)[:limit]
    started = time.perf_counter()
    pipeline = Pipeline(corpus_dir=corpus, index_dir=index_dir, reader=reader, retriever=retriever,
                        min_score=min_score, backend=backend)
    pipeline.index(progress=progress)
    pipeline.warm_up()
    records, answer_seconds = run_questions(pipeline, questions, top_k=top_k, raw_score=True, progress=progress,
                                            filter=filter)
    summary = {
        "answers": summarize_answers(records),
        "retrieval": summarize_retrieval(records),
        "latency": summarize_latency(records, answer_seconds),
    }
    conversation_records = None
    if conversations:
        from .conversation import ConversationalAsker
        from .eval import conversations as C

        conversation_records = C.run_conversations(ConversationalAsker(pipeline), C.load_conversations(conversations),
                                                   top_k=top_k, progress=progress)
        summary["follow_ups"] = {**C.summarize(conversation_records), "latency": C.latency(conversation_records)}
    meta = {
        "questions": str(questions_path), "corpus": str(corpus), "index_dir": str(index_dir),
        "backend": pipeline.backend.describe(),
        "reader": pipeline.reader.name, "retriever": retriever, "threshold": abstention_threshold(pipeline),
        "documents": len(pipeline.documents), "chunks": pipeline.chunk_count,
        "machine": R.machine_info(), "command": invocation(), "seconds": time.perf_counter() - started,
        "limit": limit, "filter": _filter_note(filter),
        "conversations": _shown_path(conversations) if conversations else None,
        "conversation_records": conversation_records, "reader_note": (R.span_reader_note(getattr(pipeline.reader, "weights_dir", None), pipeline.reader.name)
                        if pipeline.reader.name.startswith("span") else ""),
    }
    return summary, records, meta


def _filter_note(filter) -> str:
    from .chat import scope_text

    return scope_text(filter.since, filter.until, sorted(filter.sources or ())) if filter is not None else ""


def print_summary(summary: dict, file=None) -> None:
    """The headline tables on stdout."""
    from .eval import report as R

    ans, ret, lat = summary["answers"], summary["retrieval"], summary["latency"]
    out = file or sys.stdout
    print(R.text_table(["answers", "%"], answer_rows(ans)), file=out)
    print(file=out)
    print(R.text_table(retrieval_header(ret), retrieval_rows(ret, "answer")), file=out)
    print(file=out)
    print(R.text_table(["latency ms", "p50", "p95", "mean"], latency_rows(lat)), file=out)
    if "follow_ups" in summary:
        f = summary["follow_ups"]["follow_ups"]
        print(file=out)
        print(R.text_table(["follow-ups", "EM with history", "EM alone", "F1 with history", "F1 alone",
                            "interpretation right %"],
                           [[f"{f['count']} follow-ups", f["with"]["exact_match"], f["alone"]["exact_match"],
                             f["with"]["f1"], f["alone"]["f1"], f["interpretation_right"]]]), file=out)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .eval.report import atomic_write_json
    from .options import backend_from_args

    from .options import filter_from_args

    try:
        summary, records, meta = evaluate(args.questions, corpus=args.corpus, index_dir=args.index_dir,
                                          reader=args.reader, retriever=args.retriever, min_score=args.min_score,
                                          top_k=args.top_k, progress=not args.quiet, limit=args.limit,
                                          backend=backend_from_args(args), filter=filter_from_args(args),
                                          conversations=args.conversations or None)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if meta["filter"]:  # the outlets as the user wrote them (the filter compares them case-folded)
        from .chat import scope_text

        meta["filter"] = scope_text(args.since, args.until, args.source)
    print_summary(summary)
    if args.report:
        written = write_report(Path(args.report), summary=summary, records=records, meta=meta)
        print(f"wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    if args.json:
        atomic_write_json(args.json, {"meta": meta, "summary": summary, "records": records})
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``qa evaluate`` (shared by the subcommand and ``python -m qa.evaluate``)."""
    from .options import add_filter_arguments, add_pipeline_arguments

    p.add_argument("questions", metavar="QUESTIONS.jsonl", nargs="?", default=str(SEED_QUESTIONS),
                   help="question set (default: the seed set, %(default)s)")
    add_pipeline_arguments(p)
    add_filter_arguments(p)
    p.add_argument("--top-k", type=int, default=3, metavar="N", help="answers asked for (default: %(default)s)")
    p.add_argument("--report", default="reports/eval.md", metavar="MD",
                   help="Markdown report; PNG plots go beside it (default: %(default)s; '' = none)")
    p.add_argument("--json", default=None, metavar="OUT", help="also write summary + per-question records as JSON")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N questions (a quick check)")
    p.add_argument("--conversations", default=str(CONVERSATIONS), metavar="JSONL",
                   help="also score follow-up questions on this conversation set, with and without history "
                        "(default: %(default)s; '' = none)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_evaluate)
    return p


_DESCRIPTION = __doc__.split("\n\n")[1].replace("\n", " ")


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``evaluate`` subcommand to the ``qa`` CLI's subparsers."""
    return add_arguments(subparsers.add_parser(
        "evaluate", help="score a question set (EM/F1, retrieval recall, abstention, latency)",
        description=_DESCRIPTION))


def main(argv: list[str] | None = None) -> int:
    """``python -m qa.evaluate ...``: the same command without the ``qa`` front end."""
    parser = add_arguments(argparse.ArgumentParser(prog="python -m qa.evaluate", description=_DESCRIPTION))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
