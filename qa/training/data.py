"""SQuAD-format data for training the span reader: loading, the binding splits, training windows.

The splits follow ../shared/data/README.md ("Splits", binding), always by article title:

* held out (report only): six SQuAD v1.1 dev articles, ``HELD_OUT_TITLES``; the v2.0 dev questions
  of three of them (``HELD_OUT_V2_TITLES``) are the held-out abstention benchmark;
* tuning (early stopping, thresholds): the 16 CS224n titles with their v2.0 questions, ``TUNING_TITLES``;
* training (``TRAINING_SOURCES``): SQuAD v1.1 train (rebuilt), the other 26 SQuAD v1.1 dev
  articles, the v2.0 dev questions of the training-side v2.0 articles (real unanswerable
  questions), SQuADShifts new_wiki and reddit, TyDi QA GoldP English train;
* evaluation only: SQuADShifts amazon, TyDi QA GoldP English dev.

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

from qa.reader.windows import Window, tokenize_windows

HELD_OUT_TITLES: frozenset[str] = frozenset(
    {"Super_Bowl_50", "Nikola_Tesla", "Oxygen", "Black_Death", "Kenya", "Rhine"}
)
# The held-out articles that SQuAD v2.0 dev also covers: their v2.0 questions (answerable and
# unanswerable) are the held-out abstention benchmark.
HELD_OUT_V2_TITLES: frozenset[str] = frozenset({"Oxygen", "Black_Death", "Rhine"})
TUNING_TITLES: frozenset[str] = frozenset(
    {
        "1973_oil_crisis", "Computational_complexity_theory", "European_Union_law", "Force",
        "French_and_Indian_War", "Harvard_University", "Huguenot", "Immune_system", "Imperialism",
        "Islamism", "Normans", "Packet_switching", "Scottish_Parliament", "Steam_engine", "Warsaw",
        "Yuan_dynasty",
    }
)

SQUAD_V11_DEV = "squad_v1.1/dev-v1.1.json.gz"
SQUAD_V11_TRAIN = "squad_v1.1/train-v1.1.rebuilt.json.gz"
SQUAD_V20_DEV = "squad_v2.0/dev-v2.0.rebuilt.json.gz"
SQUAD_V20_CS224N = "squad_v2.0_cs224n/dev-v2.0.json"
SHIFTS_NEW_WIKI = "squadshifts/new_wiki_v1.0.json.gz"
SHIFTS_REDDIT = "squadshifts/reddit_v1.0.json.gz"
SHIFTS_AMAZON = "squadshifts/amazon_reviews_v1.0.json.gz"
TYDI_TRAIN = "tydiqa_goldp_en/tydiqa-goldp-en-train.json.gz"
TYDI_DEV = "tydiqa_goldp_en/tydiqa-goldp-en-dev.json"
# Which SQuADShifts sets are trained on (so reports never call them held out).
TRAINED_SHIFTS = ("new_wiki", "reddit")

# Training sources by name (a recipe lists the ones it uses, configs/*.json "train_sources").
TRAINING_SOURCES = ("squad_train", "squad_dev", "squad_v2_dev", "new_wiki", "reddit", "tydi")
# What the readers trained before 2026-12-01 used; a recipe without "train_sources" means these.
LEGACY_TRAINING_SOURCES = ("squad_dev", "new_wiki", "reddit")


def default_data_dir() -> Path:
    """``$QA_DATA_DIR`` or ``<repo>/../shared/data`` (the layout of this machine)."""
    env = os.environ.get("QA_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


@dataclass(frozen=True)
class SquadRecord:
    """One question with its paragraph. ``answers`` holds (text, char start) pairs; empty means
    unanswerable (SQuAD v2.0 ``is_impossible``). ``alt_starts[i]`` holds the other character
    starts where answer i's text also occurs, when the data could not tell which occurrence was
    meant (the rebuilt files' ``answer_start_candidates``); empty otherwise."""

    qid: str
    source: str  # e.g. "squad_v1.1", "new_wiki"
    title: str
    context: str
    question: str
    answers: tuple[tuple[str, int], ...]
    alt_starts: tuple[tuple[int, ...], ...] = ()

    @property
    def answer_texts(self) -> list[str]:
        return [a for a, _ in self.answers]

    @property
    def is_impossible(self) -> bool:
        return not self.answers

    @property
    def is_ambiguous(self) -> bool:
        """The first answer's text occurs more than once and its position was recovered, not given."""
        return bool(self.alt_starts and self.alt_starts[0])


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
                alts: list[tuple[int, ...]] = []
                if not qa.get("is_impossible", False):
                    seen = set()
                    for a in qa.get("answers", []):
                        key = (a["text"], int(a["answer_start"]))
                        if key not in seen:
                            seen.add(key)
                            answers.append(key)
                            alts.append(tuple(int(c) for c in a.get("answer_start_candidates", ())
                                              if int(c) != key[1]))
                out.append(
                    SquadRecord(
                        qid=str(qa["id"]), source=source, title=title, context=ctx,
                        question=qa["question"], answers=tuple(answers),
                        alt_starts=tuple(alts) if any(alts) else (),
                    )
                )
    return out


def load_records(path: str | Path, source: str) -> list[SquadRecord]:
    """Load and flatten one SQuAD-format file."""
    return flatten(load_squad_json(path), source)


def _dir(data_dir: str | Path | None) -> Path:
    return Path(data_dir) if data_dir is not None else default_data_dir()


def title_key(title: str) -> str:
    """A Wikipedia title as SQuAD ("Black_Death") and TyDi ("Black Death") spell it, made one."""
    return " ".join(title.replace("_", " ").split()).casefold()


_HELD_OUT_OR_TUNING_KEYS = frozenset(title_key(t) for t in HELD_OUT_TITLES | TUNING_TITLES)


def _not_held_out_or_tuning(records: Iterable[SquadRecord]) -> list[SquadRecord]:
    """Records whose article is neither held out nor tuning, in any spelling of its title: TyDi's
    English train set has questions on the Wikipedia articles "Oxygen" and "Force" too."""
    return [r for r in records if title_key(r.title) not in _HELD_OUT_OR_TUNING_KEYS]


def training_records(data_dir: str | Path | None = None,
                     sources: Sequence[str] = LEGACY_TRAINING_SOURCES) -> list[SquadRecord]:
    """The binding training split, from the named ``sources`` (``TRAINING_SOURCES``), in that order."""
    d = _dir(data_dir)
    unknown = [s for s in sources if s not in TRAINING_SOURCES]
    if unknown:
        raise ValueError(f"unknown training source(s) {unknown}; choose from {', '.join(TRAINING_SOURCES)}")
    loaders = {
        "squad_train": lambda: load_records(d / SQUAD_V11_TRAIN, "squad_train"),
        "squad_dev": lambda: _not_held_out_or_tuning(load_records(d / SQUAD_V11_DEV, "squad_v1.1")),
        "squad_v2_dev": lambda: _not_held_out_or_tuning(load_records(d / SQUAD_V20_DEV, "squad_v2.0")),
        "new_wiki": lambda: load_records(d / SHIFTS_NEW_WIKI, "new_wiki"),
        "reddit": lambda: load_records(d / SHIFTS_REDDIT, "reddit"),
        "tydi": lambda: load_records(d / TYDI_TRAIN, "tydi"),
    }
    out: list[SquadRecord] = []
    for s in sources:
        out += _not_held_out_or_tuning(loaders[s]())
    return out


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


def held_out_abstention_records(data_dir: str | Path | None = None) -> list[SquadRecord]:
    """The held-out abstention benchmark (report only): the rebuilt v2.0 dev questions of
    ``HELD_OUT_V2_TITLES``, answerable and unanswerable."""
    return [
        r for r in load_records(_dir(data_dir) / SQUAD_V20_DEV, "squad_v2.0")
        if r.title in HELD_OUT_V2_TITLES
    ]


def amazon_records(data_dir: str | Path | None = None) -> list[SquadRecord]:
    """SQuADShifts amazon reviews: evaluation only."""
    return load_records(_dir(data_dir) / SHIFTS_AMAZON, "amazon")


def tydi_dev_records(data_dir: str | Path | None = None) -> list[SquadRecord]:
    """TyDi QA GoldP English dev: evaluation only (information-seeking questions)."""
    return load_records(_dir(data_dir) / TYDI_DEV, "tydi_dev")


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
    unanswerable_keep_fraction: float | None = None,
    ambiguous: str = "first",
    unanswerable_repeat: int = 1,
) -> tuple[list[Window], dict]:
    """Training windows with start/end labels from each record's first answer.

    Windows that miss the answer are labelled with the CLS position (the no-answer logit); only
    ``negative_keep_fraction`` of them are kept, so the time budget goes mostly to real spans.
    Windows of *unanswerable* questions (SQuAD v2.0) are kept with ``unanswerable_keep_fraction``
    (default: the same fraction): they are the only real "no answer" questions there are.
    ``cross_negative_fraction`` of the answerable records also get one window of *another*
    paragraph of the same article, labelled no-answer: in the product the reader mostly sees
    retrieved passages that do not answer, and they look like these (same topic, wrong place).

    ``ambiguous`` says what to do with an answer whose text occurs several times in the paragraph
    and whose start was recovered, not given (``SquadRecord.alt_starts``): ``"first"`` trusts the
    recovered start, ``"drop"`` skips the question, ``"marginal"`` labels every occurrence inside
    the window (``Window.alt_positions``) so the loss can sum their probabilities.
    ``unanswerable_repeat`` > 1 trains on each kept window of a real unanswerable question that many
    times per pass (they are ~2% of questions: weighting them up is the cheapest way to be heard).
    Returns the windows and counts.
    """
    if ambiguous not in ("first", "drop", "marginal"):
        raise ValueError(f"ambiguous must be 'first', 'drop' or 'marginal', not {ambiguous!r}")
    if unanswerable_keep_fraction is None:
        unanswerable_keep_fraction = negative_keep_fraction
    rng = random.Random(seed)
    kept: list[Window] = []
    stats = {"records": len(records), "windows": 0, "positives": 0, "negatives_kept": 0,
             "negatives_dropped": 0, "unanswerable_windows": 0, "cross_negatives": 0,
             "ambiguous_records": 0, "ambiguous_dropped": 0, "multi_label_windows": 0}
    if ambiguous == "drop":
        stats["ambiguous_dropped"] = sum(r.is_ambiguous for r in records)
        records = [r for r in records if not r.is_ambiguous]
    stats["ambiguous_records"] = sum(r.is_ambiguous for r in records)
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
            if rec.is_impossible:
                stats["unanswerable_windows"] += 1
                if rng.random() < unanswerable_keep_fraction:
                    kept.extend([w] * max(1, int(unanswerable_repeat)))
                    stats["negatives_kept"] += 1
                else:
                    stats["negatives_dropped"] += 1
                continue
            text, start = rec.answers[0]
            starts = [start]
            if ambiguous == "marginal" and rec.alt_starts:
                starts += list(rec.alt_starts[0])
            spans = [answer_token_span(w, s, s + len(text)) for s in starts]
            spans = [sp for sp in spans if sp[0] > 0]
            if spans:
                (w.start_position, w.end_position), w.alt_positions = spans[0], sorted(set(spans[1:]) - {spans[0]})
                kept.append(w)
                stats["positives"] += 1
                stats["multi_label_windows"] += bool(w.alt_positions)
            elif rng.random() < negative_keep_fraction:
                kept.append(w)
                stats["negatives_kept"] += 1
            else:
                stats["negatives_dropped"] += 1
    return kept, stats


_CONTEXT_TOKEN = (0, 0)  # one shared placeholder: training needs only "is this a context token"


def compact_for_training(windows: list[Window]) -> list[Window]:
    """Shrink labelled windows in place for a long training run: token ids become numpy arrays
    and the character offsets (needed only to label and to decode) become one shared placeholder
    per context token. ~190k windows of all of SQuAD take ~1 GB instead of ~5 GB."""
    import numpy as np

    for w in windows:
        w.input_ids = np.asarray(w.input_ids, dtype=np.int64)
        w.token_type_ids = np.asarray(w.token_type_ids, dtype=np.int64)
        w.offsets = [None if o is None else _CONTEXT_TOKEN for o in w.offsets]
    return windows


def iter_titles(records: Iterable[SquadRecord]) -> set[str]:
    return {r.title for r in records}
