"""Command line: ``qa index | ask | predict | chat | evaluate`` (also ``python -m qa``).

Only this module prints; everything it shows comes from the same Pipeline the chat uses.
Heavy imports happen inside the commands so ``--help`` stays fast.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .options import (add_filter_arguments, add_pipeline_arguments, backend_from_args, build_pipeline,
                      filter_from_args)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

EXIT_USAGE = 2
EXIT_FAILURE = 1


# ------------------------------------------------------------------ commands

def cmd_index(args) -> int:
    from .extract.base import LoadError
    from .pipeline import Pipeline

    failed = 0
    for source in args.feed or []:
        from .extract.feed import ingest_feed

        if not Path(args.corpus).is_dir():
            raise FileNotFoundError(f"corpus folder not found: {args.corpus} (create it, or pass --corpus FOLDER)")
        try:
            feed = ingest_feed(source, args.corpus, fetch_pages=not args.no_fetch, progress=not args.quiet,
                               allow_private_fetch=args.allow_private_fetch)
        except LoadError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(feed.summary(), file=sys.stderr)
        for entry in feed.entries:
            for note in entry.notes:
                print(f"  {entry.status} {entry.path or entry.title!r}: {note}", file=sys.stderr)
    if args.ray is not None:  # the same index, read and embedded on Ray (qa/bulk/ray_index.py)
        from .bulk.ray_index import BulkIndexError, bulk_index_from_args

        try:
            bulk = bulk_index_from_args(args, progress=not args.quiet)
        except (BulkIndexError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        print(f"ray: {bulk.summary()}", file=sys.stderr)
        report, skipped_files, where = bulk.update, bulk.skipped, backend_from_args(args).describe()
    else:
        pipeline = Pipeline(corpus_dir=args.corpus, index_dir=args.index_dir, reader="heuristic",
                            backend=backend_from_args(args))
        report = pipeline.index(progress=not args.quiet)
        skipped_files, where = pipeline.skipped, pipeline.backend.describe()
    for s in skipped_files:
        print(s.line(), file=sys.stderr)
    skipped = sum(not s.note for s in skipped_files)
    print(f"index {where}: {report.summary()}" + (f"; {skipped} files skipped" if skipped else ""))
    if not report.chunks_total:
        print(f"note: no articles indexed; put .txt, .md, .html or .pdf files in {args.corpus}", file=sys.stderr)
    return EXIT_FAILURE if failed else 0


def cmd_ask(args) -> int:
    from .pipeline import QuestionError

    try:
        restrict = filter_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    pipeline = build_pipeline(args, progress=not args.json)
    try:
        answers = pipeline.ask(args.question, top_k=args.top_k, filter=restrict)
    except QuestionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from .news.question_time import as_dict as question_time, interpretation

    if args.json:
        print(json.dumps({"question": args.question, "question_time": question_time(args.question),
                          "answers": [a.to_dict() for a in answers],
                          "timings": {k: round(v, 4) for k, v in pipeline.last_timings.items()}},
                         ensure_ascii=False, indent=2))
        return 0
    from .conversation.terminal import answer_lines

    note = interpretation(args.question, None)
    print("\n".join(([note] if note else []) + answer_lines(answers)))
    return 0


def cmd_chat(args) -> int:
    from .conversation import ConversationalAsker
    from .conversation.terminal import run_chat

    pipeline = build_pipeline(args, progress=False)
    run_chat(ConversationalAsker(pipeline), sys.stdin, sys.stdout, top_k=args.top_k, prompt=sys.stdin.isatty())
    return 0


def cmd_predict(args) -> int:
    from tqdm import tqdm

    if args.batch_size < 1:
        print("error: --batch-size must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        restrict = filter_from_args(args)
        rows = list(_read_questions(Path(args.questions)))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    needs_corpus = any("context" not in r for r in rows)
    if needs_corpus:
        pipeline = build_pipeline(args)
    else:  # every line brings its own context: no index needed
        from .pipeline import Pipeline
        pipeline = Pipeline(corpus_dir=args.corpus, index_dir=args.index_dir, reader=args.reader,
                            min_score=args.min_score, backend=backend_from_args(args))
    from .predict import predict

    with tqdm(total=len(rows), desc="questions", unit="q", disable=args.quiet) as bar:
        out_rows = predict(pipeline, rows, top_k=args.top_k, batch_size=args.batch_size, progress=bar.update,
                           filter=restrict)
    problems = sum("error" in r for r in out_rows)
    _write_jsonl_atomic(Path(args.out), out_rows)
    print(f"wrote {len(out_rows)} predictions to {args.out}"
          + (f" ({problems} questions could not be asked; see their \"error\" field)" if problems else ""),
          file=sys.stderr)
    return 0


def _read_questions(path: Path):
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg}); each line must be "
                                 '{"id": ..., "question": ...}') from None
            if not isinstance(row, dict) or "question" not in row:
                raise ValueError(f'{path}:{n}: each line needs a "question" field (and an "id")')
            yield row


def _write_jsonl_atomic(path: Path, rows) -> None:
    from .fsutil import atomic_write_text

    atomic_write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


# ------------------------------------------------------------------ parser

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description=__doc__.splitlines()[0] + " Answers are exact "
                                     "spans of the articles, with citations.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("index", help="build or update the index of a corpus folder",
                       description="Index the corpus folder incrementally. With --feed, first write each entry "
                       "of an RSS/Atom feed into CORPUS/feeds/<feed>/ as an article (its linked page when it can "
                       "be fetched, else the entry's own text); re-running skips entries already written.")
    add_pipeline_arguments(p)
    p.add_argument("--feed", action="append", default=None, metavar="FILE_OR_URL",
                   help="an RSS or Atom feed (a file or an http(s) URL) to add to the corpus; repeat for several")
    p.add_argument("--no-fetch", action="store_true",
                   help="with --feed: index each entry's own summary or content; do not fetch linked pages")
    p.add_argument("--allow-private-fetch", action="store_true",
                   help="with --feed: also fetch from loopback and private (intranet) addresses; by default a feed "
                   "and its links may only reach public addresses (link-local, multicast and reserved ones never)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    from .bulk.ray_index import add_arguments as add_ray_arguments

    add_ray_arguments(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="ask one question")
    p.add_argument("question")
    add_pipeline_arguments(p)
    add_filter_arguments(p)
    p.add_argument("--top-k", type=int, default=3, metavar="N", help="answers to return (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("predict", help="answer a JSONL file of questions (for evaluation scripts)",
                       description='Each input line: {"id": ..., "question": ...} and optionally "context" '
                       '(answer from that text only) or "conversation" (lines with the same value are one '
                       "conversation, asked in file order: follow-ups are resolved against the earlier lines' "
                       "questions and this command's answers to them). Each output line: id, question, "
                       "interpreted_as (the standalone question answered), answer (\"\" when it abstains), score, "
                       "citations [{doc_id, title, source, published, url, page, start, end, text}].")
    p.add_argument("questions", metavar="QUESTIONS.jsonl")
    p.add_argument("--out", required=True, metavar="PREDICTIONS.jsonl")
    add_pipeline_arguments(p)
    add_filter_arguments(p)
    p.add_argument("--top-k", type=int, default=1, metavar="N", help=argparse.SUPPRESS)
    p.add_argument("--batch-size", type=int, default=16, metavar="N",
                   help="questions answered together (qa/predict.py; 1 = one at a time; default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("chat", help="a conversation in the terminal: follow-ups may refer back",
                       description="Reads questions from the terminal (or piped in), one per line, and answers "
                       "each with citations; a follow-up such as \"When did it begin?\" is read against the "
                       "conversation so far, and its reply says how it was interpreted. /new starts a new "
                       "conversation, /quit leaves.")
    add_pipeline_arguments(p)
    p.add_argument("--top-k", type=int, default=3, metavar="N", help="answers per question (default: %(default)s)")
    p.set_defaults(func=cmd_chat)

    from . import auth

    auth.register(sub)

    try:
        from . import evaluate
    except ImportError:  # evaluation extras not installed
        evaluate = None
    if evaluate is not None and hasattr(evaluate, "register"):
        evaluate.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from .backends import IndexLocationError

    try:
        return args.func(args)
    except (FileNotFoundError, IndexLocationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("interrupted; the index on disk is unchanged unless an update completed", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of our output went away (e.g. `qa ask ... | head`): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush stays quiet
        return 0


if __name__ == "__main__":
    sys.exit(main())
