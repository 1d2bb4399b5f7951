#!/usr/bin/env python
"""Report the made-up unanswerable questions a training recipe uses: how many of each kind were
made, tried and rejected by the automatic checks, and 30 random examples of each kind.

    python scripts/unanswerable_report.py [--config configs/reader_abstain.json] [--out reports/unanswerable.md]

The generator is qa/training/unanswerable.py; it runs with the recipe's own fractions and seed, on
the recipe's training sources (../shared/data), exactly as training does.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(REPO / "configs" / "reader_abstain.json"), help="training recipe")
    ap.add_argument("--out", default=str(REPO / "reports" / "unanswerable.md"), help="report path")
    ap.add_argument("--examples", type=int, default=30, help="random examples per kind (default: %(default)s)")
    ap.add_argument("--data-dir", default=None, help="shared datasets (default: ../shared/data)")
    args = ap.parse_args(argv)
    from qa.fsutil import atomic_write_text
    from qa.training.data import LEGACY_TRAINING_SOURCES, training_records
    from qa.training.unanswerable import KINDS, generate_unanswerable

    cfg = json.loads(Path(args.config).read_text(encoding="utf-8"))
    fractions = cfg.get("generated_unanswerable")
    if not fractions:
        print(f"error: {args.config} has no 'generated_unanswerable' fractions", file=sys.stderr)
        return 2
    records = training_records(args.data_dir, cfg.get("train_sources", LEGACY_TRAINING_SOURCES))
    gen, stats = generate_unanswerable(records, fractions, int(cfg["seed"]))
    real = sum(r.is_impossible for r in records)
    rng = random.Random(0)
    s = "# Made-up unanswerable questions for the reader's training\n\n"
    s += (f"Date: {datetime.now(timezone.utc).isoformat(timespec='seconds')}. `scripts/unanswerable_report.py "
          f"--config {Path(args.config).relative_to(REPO) if Path(args.config).is_relative_to(REPO) else args.config}` "
          f"over {len(records):,} training questions ({real:,} real unanswerable ones, which are kept and weighted "
          f"x{cfg.get('unanswerable_repeat', 1)}). Generator: `qa/training/unanswerable.py`.\n\n")
    s += "| kind | fraction tried | tried | made (passed checks) | no edit possible | rejected by checks |\n"
    s += "| --- | ---: | ---: | ---: | ---: | ---: |\n"
    for k in KINDS:
        s += (f"| {k} | {fractions.get(k, 0):.2f} | {stats.get(k + '_tried', 0):,} | {stats.get(k, 0):,} "
              f"| {stats.get(k + '_no_edit', 0):,} | {stats.get(k + '_rejected', 0):,} |\n")
    s += f"\nIn all {len(gen):,} made-up questions against {len(records) - real:,} answerable ones.\n\n"
    s += ("Checks: a swap or antonym puts in a term absent from the paragraph; a negation only where the answer's "
          "sentence is not negated; a sibling paragraph holds none of the gold answers. These questions are for "
          "training only: the reader is judged on real unanswerable questions (tuning split, held-out benchmark).\n")
    for k in KINDS:
        of_kind = [g for g in gen if g.kind == k]
        s += f"\n## {k}: {min(args.examples, len(of_kind))} random examples\n\n| original | made | edit |\n| --- | --- | --- |\n"
        for g in rng.sample(of_kind, min(args.examples, len(of_kind))):
            edit = f"{g.edit[0]} → {g.edit[1]}" if g.edit else f"asked of another paragraph: “{g.record.context[:90]}…”"
            cells = (g.original_question.strip(), g.record.question.strip(), edit)
            s += "| " + " | ".join(c.replace("|", "/").replace("\n", " ") for c in cells) + " |\n"
    atomic_write_text(Path(args.out), s)
    print(f"wrote {args.out}: {len(gen):,} questions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
