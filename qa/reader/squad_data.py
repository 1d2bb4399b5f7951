"""SQuAD-format data for the span reader: loading, the binding splits, and training windows.

The splits follow /work/shared/data/README.md ("Splits", binding), always by article title:

* held out (report only): six SQuAD v1.1 dev articles, ``HELD_OUT_TITLES``;
* tuning (early stopping, thresholds): the 16 CS224n titles with their v2.0 questions, ``TUNING_TITLES``;
* training: the other 26 SQuAD v1.1 dev articles plus SQuADShifts new_wiki and reddit;
* evaluation only: SQuADShifts amazon.

Nothing here copies data into the repository: everything is read from ``data_dir`` at run time.
"""
from __future__ import annotations

import gzip
import json
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

HELD_OUT_TITLES: frozenset[str] = frozenset(
    {"Super_Bowl_50", "Nikola_Tesla", "Oxygen", "Black_Death", "Kenya", "Rhine"}
)
TUNING_TITLES: frozenset[str] = frozenset(
    {
        "1973_oil_crisis", "Computational_complexity_theory", "European_Union_law", "Force",
        "French_and_Indian_War", "Harvard_University", "Huguenot", "Immune_system", "Imperialism",
        "Islamism", "Normans", "Packet_switching", "Scottish_Parliament", "Steam_engine", "Warsaw",
        "Yuan_dynasty",
    }
)

SQUAD_V11_DEV = "squad_v1.1/dev-v1.1.json.gz"
SQUAD_V20_CS224N = "squad_v2.0_cs224n/dev-v2.0.json"
SHIFTS_NEW_WIKI = "squadshifts/new_wiki_v1.0.json.gz"
SHIFTS_REDDIT = "squadshifts/reddit_v1.0.json.gz"
SHIFTS_AMAZON = "squadshifts/amazon_reviews_v1.0.json.gz"
# Which SQuADShifts sets are trained on (so reports never call them held out).
TRAINED_SHIFTS = ("new_wiki", "reddit")


def default_data_dir() -> Path:
    """``$QA_DATA_DIR`` or ``<repo>/../shared/data`` (the layout of this machine)."""
    env = os.environ.get("QA_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


@dataclass(frozen=True)
class SquadRecord:
    """One question with its paragraph. ``answers`` holds (text, char start) pairs; empty means
    unanswerable (SQuAD v2.0 ``is_impossible``)."""

    qid: str
    source: str  # e.g. "squad_v1.1", "new_wiki"
    title: str
    context: str
    question: str
    answers: tuple[tuple[str, int], ...]

    @property
    def answer_texts(self) -> list[str]:
        return [a for a, _ in self.answers]

    @property
    def is_impossible(self) -> bool:
        return not self.answers


def load_squad_json(path: str | Path) -> dict:
    """Read a SQuAD JSON file, gzip-compressed when its name ends in ``.gz``."""
    path = Path(path)
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return json.load(f)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def flatten(data: dict, source: str) -> list[SquadRecord]:
    """Flatten the nested SQuAD layout into one record per question (order preserved)."""
    out: list[SquadRecord] = []
    for article in data["data"]:
        title = article["title"]
        for para in article["paragraphs"]:
            ctx = para["context"]
            for qa in para["qas"]:
                answers: list[tuple[str, int]] = []
                if not qa.get("is_impossible", False):
                    seen = set()
                    for a in qa.get("answers", []):
                        key = (a["text"], int(a["answer_start"]))
                        if key not in seen:
                            seen.add(key)
                            answers.append(key)
                out.append(
                    SquadRecord(
                        qid=str(qa["id"]), source=source, title=title, context=ctx,
                        question=qa["question"], answers=tuple(answers),
                    )
                )
    return out


def load_records(path: str | Path, source: str) -> list[SquadRecord]:
    """Load and flatten one SQuAD-format file."""
    return flatten(load_squad_json(path), source)


def _dir(data_dir: str | Path | None) -> Path:
    return Path(data_dir) if data_dir is not None else default_data_dir()


def training_records(data_dir: str | Path | None = None) -> list[SquadRecord]:
    """The binding training split: 26 SQuAD v1.1 dev articles + SQuADShifts new_wiki + reddit."""
    d = _dir(data_dir)
    squad = [
        r for r in load_records(d / SQUAD_V11_DEV, "squad_v1.1")
        if r.title not in HELD_OUT_TITLES and r.title not in TUNING_TITLES
    ]
    return (
        squad
        + load_records(d / SHIFTS_NEW_WIKI, "new_wiki")
        + load_records(d / SHIFTS_REDDIT, "reddit")
    )


def tuning_records(data_dir: str | Path | None = None) -> list[SquadRecord]:
    """The tuning split: v2.0 (CS224n) questions of the 16 tuning titles, answerable + not."""
    recs = load_records(_dir(data_dir) / SQUAD_V20_CS224N, "squad_v2.0_cs224n")
    bad = {r.title for r in recs} - TUNING_TITLES
    if bad:  # the file is documented to hold exactly these titles; refuse silently mixing splits
        raise ValueError(f"unexpected titles in tuning file: {sorted(bad)}")
    return recs


def held_out_records(data_dir: str | Path | None = None) -> list[SquadRecord]:
    """The held-out split (report only): the 6 held-out SQuAD v1.1 dev articles."""
    return [
        r for r in load_records(_dir(data_dir) / SQUAD_V11_DEV, "squad_v1.1")
        if r.title in HELD_OUT_TITLES
    ]


def amazon_records(data_dir: str | Path | None = None) -> list[SquadRecord]:
    """SQuADShifts amazon reviews: evaluation only."""
    return load_records(_dir(data_dir) / SHIFTS_AMAZON, "amazon")


def sample_records(records: Sequence[SquadRecord], n: int | None, seed: int) -> list[SquadRecord]:
    """A deterministic sample of ``n`` records (all when ``n`` is None or too large)."""
    if n is None or n >= len(records):
        return list(records)
    rng = random.Random(seed)
    idx = sorted(rng.sample(range(len(records)), n))
    return [records[i] for i in idx]


# ---------------------------------------------------------------------------------------------
# Windows
# ---------------------------------------------------------------------------------------------


@dataclass
class Window:
    """One tokenised (question, context slice) pair.

    ``offsets[i]`` is the (start, end) character range of token i in the context, or None for
    question / special tokens. ``start_position``/``end_position`` are the answer's token
    positions, 0 (the CLS token) when the window does not contain the answer.
    """

    example_index: int
    input_ids: list[int]
    token_type_ids: list[int]
    offsets: list[tuple[int, int] | None]
    start_position: int = 0
    end_position: int = 0

    @property
    def context_token_range(self) -> tuple[int, int]:
        """(first, last) token index of the context part of the window (inclusive)."""
        idx = [i for i, o in enumerate(self.offsets) if o is not None]
        return idx[0], idx[-1]


def truncate_question(tokenizer, question: str, max_question_tokens: int) -> str:
    """Cut very long questions so the context always gets most of the window."""
    q = question.strip()
    enc = tokenizer(q, add_special_tokens=False, return_offsets_mapping=True)
    offs = enc["offset_mapping"]
    if len(offs) <= max_question_tokens:
        return q
    return q[: offs[max_question_tokens - 1][1]]


def tokenize_windows(
    tokenizer,
    questions: Sequence[str],
    contexts: Sequence[str],
    max_seq_len: int,
    stride: int,
    max_question_tokens: int = 64,
) -> list[Window]:
    """Window every (question, context) pair: ``truncation="only_second"`` with ``stride`` tokens
    of overlap between consecutive windows. Labels are left at 0 (see ``label_windows``)."""
    qs = [truncate_question(tokenizer, q, max_question_tokens) for q in questions]
    enc = tokenizer(
        qs, list(contexts),
        truncation="only_second", max_length=max_seq_len, stride=stride,
        return_overflowing_tokens=True, return_offsets_mapping=True, padding=False,
    )
    windows: list[Window] = []
    for w in range(len(enc["input_ids"])):
        seq_ids = enc.sequence_ids(w)
        offs = [
            (int(o[0]), int(o[1])) if s == 1 else None
            for o, s in zip(enc["offset_mapping"][w], seq_ids)
        ]
        windows.append(
            Window(
                example_index=int(enc["overflow_to_sample_mapping"][w]),
                input_ids=list(enc["input_ids"][w]),
                token_type_ids=list(enc["token_type_ids"][w]),
                offsets=offs,
            )
        )
    return windows


def answer_token_span(window: Window, answer_start: int, answer_end: int) -> tuple[int, int]:
    """Token (start, end) of the char span [answer_start, answer_end) in the window, or (0, 0)
    when the window does not fully contain it."""
    lo, hi = window.context_token_range
    offs = window.offsets
    if offs[lo][0] > answer_start or offs[hi][1] < answer_end:
        return 0, 0
    ts = lo
    while ts + 1 <= hi and offs[ts + 1][0] <= answer_start:
        ts += 1
    # the token holding answer_start may end before it (whitespace between tokens): step on
    while ts <= hi and offs[ts][1] <= answer_start:
        ts += 1
    te = hi
    while te - 1 >= lo and offs[te - 1][1] >= answer_end:
        te -= 1
    while te >= lo and offs[te][0] >= answer_end:
        te -= 1
    if ts > te:
        return 0, 0
    return ts, te


def build_training_windows(
    records: Sequence[SquadRecord],
    tokenizer,
    max_seq_len: int,
    stride: int,
    max_question_tokens: int = 64,
    negative_keep_fraction: float = 0.3,
    seed: int = 0,
    batch: int = 512,
    cross_negative_fraction: float = 0.0,
) -> tuple[list[Window], dict]:
    """Training windows with start/end labels from each record's first answer.

    Windows that miss the answer are labelled with the CLS position (the no-answer logit); only
    ``negative_keep_fraction`` of them are kept, so the time budget goes mostly to real spans.
    ``cross_negative_fraction`` of the answerable records also get one window of *another*
    paragraph of the same article, labelled no-answer: in the product the reader mostly sees
    retrieved passages that do not answer, and they look like these (same topic, wrong place).
    Returns the windows and counts.
    """
    rng = random.Random(seed)
    kept: list[Window] = []
    stats = {"records": len(records), "windows": 0, "positives": 0, "negatives_kept": 0,
             "negatives_dropped": 0, "unlabelable": 0, "cross_negatives": 0}
    if cross_negative_fraction > 0:
        by_title: dict[tuple[str, str], list[str]] = {}
        for r in records:
            ctxs = by_title.setdefault((r.source, r.title), [])
            if not ctxs or ctxs[-1] != r.context:
                ctxs.append(r.context)
        extra: list[SquadRecord] = []
        for r in records:
            others = [c for c in by_title[(r.source, r.title)] if c != r.context]
            if r.answers and others and rng.random() < cross_negative_fraction:
                extra.append(SquadRecord(r.qid + "#other", r.source, r.title, rng.choice(others),
                                         r.question, ()))
        for b in range(0, len(extra), batch):
            chunk = extra[b : b + batch]
            wins = tokenize_windows(
                tokenizer, [r.question for r in chunk], [r.context for r in chunk],
                max_seq_len, stride, max_question_tokens,
            )
            seen: set[int] = set()
            for w in wins:  # the first window of each pair only: one negative per question
                if w.example_index in seen:
                    continue
                seen.add(w.example_index)
                w.example_index = -1  # not a record of ``records``
                kept.append(w)
                stats["cross_negatives"] += 1
    for b in range(0, len(records), batch):
        chunk = records[b : b + batch]
        wins = tokenize_windows(
            tokenizer, [r.question for r in chunk], [r.context for r in chunk],
            max_seq_len, stride, max_question_tokens,
        )
        stats["windows"] += len(wins)
        for w in wins:
            rec = chunk[w.example_index]
            w.example_index += b
            if rec.answers:
                text, start = rec.answers[0]
                ts, te = answer_token_span(w, start, start + len(text))
            else:
                ts, te = 0, 0
            if ts > 0:
                w.start_position, w.end_position = ts, te
                kept.append(w)
                stats["positives"] += 1
            elif rng.random() < negative_keep_fraction:
                kept.append(w)
                stats["negatives_kept"] += 1
            else:
                stats["negatives_dropped"] += 1
    return kept, stats


def iter_titles(records: Iterable[SquadRecord]) -> set[str]:
    return {r.title for r in records}
