#!/usr/bin/env python
"""What answering a follow-up with its history costs on top of today's ``Pipeline.ask``.

For every follow-up of the conversation set (history from the product's own answers, as in
``qa evaluate``):

- **added work**, timed on its own ``--repeats`` times (median): the resolution (``FollowUpResolver``),
  and the history-aware retrieval minus plain retrieval of the same rewrite (expansion, weighted
  BM25, the previous passages, a third list in the fusion). The query embedding is cached in both,
  so the encoder pass, which is the same in both, drops out;
- **end to end** (``--end-to-end``), once each, in turn: ``ConversationalAsker.ask``; ``Pipeline.ask`` on the same
  rewrite; ``Pipeline.ask`` on the question as typed (today's behaviour), each with the
  query-embedding cache emptied first (so each pays its encoder pass). End-to-end figures also
  differ because the passages read differ; on a shared machine they are noisy.

Run it with the training paused:

    QA_RUNS_DIR=/work/main/runs scripts/with_training_paused.sh .venv/bin/python scripts/followup_latency.py
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _timed(fn, clear, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        clear()
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT / "seeds"))
    parser.add_argument("--index-dir", default=str(ROOT / "embeddings"))
    parser.add_argument("--reader", default=None, help="default: the product's default reader")
    parser.add_argument("--repeats", type=int, default=20, metavar="N",
                        help="runs per timing of the added work (median; default %(default)s)")
    parser.add_argument("--end-to-end", action="store_true",
                        help="also time whole asks: conversational, the rewrite alone, the question as typed")
    parser.add_argument("--json", default=None, metavar="OUT", help="write the per-turn timings as JSON")
    args = parser.parse_args(argv)

    from qa.conversation import Conversation, ConversationalAsker
    from qa.eval.conversations import load_conversations
    from qa.pipeline import Pipeline

    pipeline = Pipeline(args.corpus, args.index_dir, reader=args.reader)
    pipeline.warm_up()
    asker = ConversationalAsker(pipeline)
    # The retriever caches query embeddings (evaluation asks a question in several modes); a timing
    # that hit it would skip the encoder pass a user's new question pays.
    clear = lambda: pipeline._require_index()._cache.clear()  # noqa: E731
    conversations: dict[str, Conversation] = {}
    retriever = pipeline._require_index()
    passages = pipeline.config.passages
    rows = []
    for turn in load_conversations():
        conv = conversations.get(turn.conversation, Conversation())
        reply = asker.ask(turn.question, conv)  # the history the next turns see, and a warm path
        conversations[turn.conversation] = reply.conversation
        if turn.follow_up == "first":
            continue
        resolution = reply.resolution
        row = {"id": turn.id, "depends": resolution.depends,
               "resolve": _timed(lambda: asker.resolver.resolve(turn.question, conv.turns), lambda: None,
                                 args.repeats)}
        if resolution.depends:
            rewrite = resolution.interpreted_as
            retriever.embed_query(rewrite)  # cached: both timings below skip the (identical) encoder pass
            history = _timed(lambda: asker._search(resolution, conv)(retriever, rewrite, mode=pipeline.mode,
                                                                      top_k=passages), lambda: None, args.repeats)
            plain = _timed(lambda: retriever.retrieve(rewrite, mode=pipeline.mode, top_k=passages), lambda: None,
                           args.repeats)
            row["retrieval_extra"] = history - plain
        if args.end_to_end:
            row["conversational"] = _timed(lambda: asker.ask(turn.question, conv), clear, 1)
            row["rewrite_alone"] = _timed(lambda: pipeline.ask(resolution.interpreted_as), clear, 1)
            row["as_typed"] = _timed(lambda: pipeline.ask(turn.question), clear, 1)
        rows.append(row)

    def p50(key: str, subset=rows) -> float:
        return 1000 * statistics.median(r[key] for r in subset)

    dependent = [r for r in rows if r["depends"]]
    added = [1000 * (r["resolve"] + r.get("retrieval_extra", 0.0)) for r in rows]
    print(f"{len(rows)} follow-ups ({len(dependent)} read with the history); added work: medians of {args.repeats} runs")
    print(f"added work per follow-up, p50: {statistics.median(added):.2f} ms (resolution {p50('resolve'):.2f} ms; "
          f"history retrieval over plain, dependent ones: {p50('retrieval_extra', dependent):.2f} ms); "
          f"p95 {sorted(added)[int(0.95 * (len(added) - 1))]:.2f} ms")
    if args.end_to_end:
        print(f"end to end p50 ms: conversational {p50('conversational'):.1f}, the rewrite alone "
              f"{p50('rewrite_alone'):.1f}, as typed {p50('as_typed'):.1f}")
    if args.json:
        from qa.fsutil import atomic_write_text

        atomic_write_text(Path(args.json), json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
