"""Sentence splitting is linear in the text's length (issue 22: it searched from offset 0 at every
full stop) and splits exactly as before on real text; a text too big to index is refused with a
reason. The old splitter is kept here, only here, as the reference."""
from __future__ import annotations

import random
import re
import time

import pytest

from qa import chunk
from qa.chunk import chunk_document, split_sentences, too_big_to_index
from qa.types import Document

from .conftest import NEWS, SEEDS

_OLD_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_OLD_WORD_BEFORE = re.compile(r"([\w.'-]+)$")


def _old_is_abbreviation(text: str, dot: int) -> bool:
    m = _OLD_WORD_BEFORE.search(text, 0, dot)
    if not m:
        return False
    word = m.group(1).lower().lstrip("'-")
    last = re.split(r"[-']", word)[-1]
    if last in chunk.ABBREVIATIONS or word in chunk.ABBREVIATIONS:
        return True
    raw_last = text[dot - 1]
    if len(last) == 1 and raw_last.isalpha() and raw_last.isupper():
        return True
    if "." in word and len(word) <= 5:
        return True
    return False


def old_split_sentences(text: str, max_chars: int = 2000) -> list[tuple[int, int]]:
    """split_sentences as it was before issue 22 (quadratic)."""
    spans: list[tuple[int, int]] = []
    for b_start, b_end in chunk._block_spans(text):
        cursor = b_start
        for m in _OLD_BOUNDARY.finditer(text, b_start, b_end):
            end, dot = m.end(), m.start()
            if text[dot] == "." and _old_is_abbreviation(text, dot):
                continue
            if not chunk._next_starts_sentence(text, end):
                continue
            spans.extend(chunk._trimmed(text, cursor, end))
            cursor = end
        spans.extend(chunk._trimmed(text, cursor, b_end))
    out: list[tuple[int, int]] = []
    for s, e in spans:
        out.extend(chunk._cut_long(text, s, e, max_chars))
    return out


def _real_texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((NEWS / "text").glob("*"))]
    return texts


def _generated(seed: int, n: int = 1200) -> str:
    """Text made of the pieces sentence splitting decides on: abbreviations, initials, quotes,
    ellipses, dotted words, line breaks, long words, runs of punctuation."""
    rng = random.Random(seed)
    pieces = ["Mr.", "Dr.", "U.S.", "e.g.", "J.", "approx.", "St.", "word", "Word", "the", "A", "B.C.",
              "end.", "Why?", "No!", "\"Quote.\"", "(aside.)", "...", "…", "x" * 70, "brig.-gen.", "'tis",
              "3.5", "well-known", "\n", "\n\n", "  ", "\t", "ok.)", "Yes.’", "U.K.-based", "a.m.", "—"]
    return " ".join(rng.choice(pieces) for _ in range(n))


@pytest.mark.parametrize("index", range(len(_real_texts())))
def test_real_articles_split_exactly_as_before(index):
    text = _real_texts()[index]
    assert split_sentences(text) == old_split_sentences(text)
    assert split_sentences(text, max_chars=120) == old_split_sentences(text, max_chars=120)


@pytest.mark.parametrize("seed", range(4))
def test_generated_texts_split_exactly_as_before(seed):
    text = _generated(seed)
    assert split_sentences(text) == old_split_sentences(text)


def test_long_words_before_a_period_are_read_whole():
    """The word before a full stop is looked for in a window that grows: a word longer than the
    window still decides (a 200-letter 'word' ending in an abbreviation-like token)."""
    text = "Start here. " + "x" * 200 + "-mr. next Sentence. " + "y" * 300 + "." + " Z ends."
    assert split_sentences(text) == old_split_sentences(text)


def _seconds(fn, text: str, repeat: int = 2) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - start)
    return best


def _news_text(chars: int) -> str:
    base = "\n\n".join(_real_texts())
    return (base * (chars // len(base) + 1))[:chars]


@pytest.mark.parametrize("make", [_news_text, lambda n: ("a. " * n)[:n], lambda n: ("U.S. " * n)[:n],
                                  lambda n: "." * n, lambda n: ("word" * 1000 + ". ") * (n // 4002)],
                         ids=["news", "one-letter-sentences", "initials", "dots", "long-words"])
def test_four_times_the_text_costs_far_less_than_sixteen_times_the_time(make):
    """Quadratic would be 16x; linear is 4x. Bounds are generous (a busy machine): < 8x."""
    small, large = make(25_000), make(100_000)
    t_small = _seconds(lambda t: chunk_document(Document("d", "t", "d.txt", t, "")), small)
    t_large = _seconds(lambda t: chunk_document(Document("d", "t", "d.txt", t, "")), large)
    assert t_large < max(8 * t_small, 0.05), (t_small, t_large)


def test_a_text_too_big_to_index_says_so():
    assert too_big_to_index(_news_text(100_000)) is None
    assert "split it into smaller files" in too_big_to_index("x" * (chunk.MAX_TEXT_CHARS + 1))
    many = "a. " * (chunk.MAX_SENTENCE_MARKS + 10)
    reason = too_big_to_index(many)
    assert reason and "sentence ends" in reason and "split it" in reason


def test_the_chunking_benchmark_writes_its_report(tmp_path):
    from .scripts_helpers import load_script

    bench = load_script("bench_chunking")
    assert bench.main(["--sizes-kb", "5", "20", "--old-up-to-kb", "5", "--repeat", "1",
                       "--out", str(tmp_path / "chunking")]) == 0
    md = (tmp_path / "chunking.md").read_text(encoding="utf-8")
    assert "| 20 kB |" in md and "exponent" in md and (tmp_path / "chunking.png").stat().st_size > 1000
    with pytest.raises(SystemExit):
        bench.main(["--help"])
