"""Tests of span decoding and the SpanReader component.

Fast tests patch in a model that emits known logits (a start/end peak on chosen word pieces), so
they test windowing, decoding, offsets, scores and de-duplication without trained weights. The
slow test runs the shipped weights.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from qa.reader.span import SpanReader, decode_window, trim_span
from qa.types import Passage, ReaderOutput


@pytest.fixture(scope="module")
def tokenizer():
    from qa.reader.model import load_tokenizer

    return load_tokenizer()


class PeakModel(torch.nn.Module):
    """Start logit `peak` on `start_word`'s first piece, end logit `peak` on `end_word`'s last piece,
    CLS logits `null`, everything else 0 (or seeded noise)."""

    def __init__(self, tokenizer, start_word: str, end_word: str | None = None, peak: float = 8.0,
                 null: float = 0.0, noise: float = 0.0, seed: int = 0):
        super().__init__()
        self.start_id = tokenizer(start_word, add_special_tokens=False)["input_ids"][0]
        self.end_id = tokenizer(end_word or start_word, add_special_tokens=False)["input_ids"][-1]
        self.peak, self.null, self.noise = peak, null, noise
        self.gen = torch.Generator().manual_seed(seed)

    def forward(self, input_ids, attention_mask, token_type_ids):
        s = torch.zeros(input_ids.shape)
        e = torch.zeros(input_ids.shape)
        if self.noise:
            s += self.noise * torch.randn(input_ids.shape, generator=self.gen)
            e += self.noise * torch.randn(input_ids.shape, generator=self.gen)
        s[input_ids == self.start_id] += self.peak
        e[input_ids == self.end_id] += self.peak
        s[:, 0] = self.null
        e[:, 0] = self.null
        return s, e


def make_reader(tokenizer, model, **kw) -> SpanReader:
    r = SpanReader(weights_dir="/nonexistent", **kw)
    r._set_model(model, tokenizer)
    return r


def test_decode_window_respects_context_and_length():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(8, 80))
        ctx = np.zeros(n, dtype=bool)
        a = int(rng.integers(2, n - 2))
        ctx[a : n - 1] = True  # [CLS] question [SEP] context [SEP]
        null, spans = decode_window(rng.normal(0, 3, n), rng.normal(0, 3, n), ctx, max_answer_tokens=5, n_best=10)
        assert 0.0 <= null <= 1.0
        assert spans == sorted(spans, key=lambda x: -x[0])
        for score, s, e in spans:
            assert ctx[s] and ctx[e] and s <= e and e - s + 1 <= 5
            assert 0.0 <= score <= 1.0


def test_offsets_exact_and_question_tokens_never_used(tokenizer):
    # "paris" appears in the question too: question tokens must never be decoded
    p = Passage(doc_id="d", doc_start=10, text="The capital of France is Paris, a large city.")
    r = make_reader(tokenizer, PeakModel(tokenizer, "paris"))
    out = r.read("Is Paris the capital of France?", [p])
    assert isinstance(out, ReaderOutput)
    best = out.spans[0]
    assert p.text[best.start : best.end] == "Paris"
    assert best.passage_index == 0


def test_multiword_span_and_trimming(tokenizer):
    p = Passage(doc_id="d", doc_start=0, text="It opened on 4 July 1976, to applause.")
    r = make_reader(tokenizer, PeakModel(tokenizer, "4", "1976"))
    out = r.read("When did it open?", [p])
    assert p.text[out.spans[0].start : out.spans[0].end] == "4 July 1976"


def test_random_logits_spans_inside_text_and_short(tokenizer):
    text = " ".join(f"Word{i} is followed by, (another) token; and more." for i in range(40))
    ps = [Passage(doc_id=f"d{i}", doc_start=0, text=text) for i in range(3)]
    r = make_reader(tokenizer, PeakModel(tokenizer, "token", noise=3.0), max_seq_len=64, stride=16,
                    max_answer_tokens=6)
    out = r.read("which token follows?", ps, top_k=10)
    assert out.spans
    for s in out.spans:
        t = ps[s.passage_index].text
        assert 0 <= s.start < s.end <= len(t)
        piece = t[s.start : s.end]
        assert piece == piece.strip()
        assert len(tokenizer(piece, add_special_tokens=False)["input_ids"]) <= 6
    scores = [s.score for s in out.spans]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= x <= 1.0 for x in scores) and 0.0 <= out.no_answer_score <= 1.0


def test_overlapping_passages_are_deduplicated(tokenizer):
    doc = "Alpha beta gamma. The winner was Zanzibar in the final round. Delta epsilon zeta."
    a = doc.index("The winner")
    p1 = Passage(doc_id="doc", doc_start=0, text=doc[: a + 45])
    p2 = Passage(doc_id="doc", doc_start=a, text=doc[a:])  # overlaps p1 around the answer
    p3 = Passage(doc_id="other", doc_start=0, text="Zanzibar also won elsewhere.")
    r = make_reader(tokenizer, PeakModel(tokenizer, "zanzibar"))
    out = r.read("Who won?", [p1, p2, p3], top_k=5)
    keys = {(["doc", "doc", "other"][s.passage_index], [0, a, 0][s.passage_index] + s.start) for s in out.spans}
    texts = [[p1, p2, p3][s.passage_index].text[s.start : s.end] for s in out.spans]
    assert texts.count("Zanzibar") == 2  # one per document, not one per passage
    assert ("doc", doc.index("Zanzibar")) in keys and ("other", 0) in keys
    # no two returned spans overlap in the same document
    pos = [(["doc", "doc", "other"][s.passage_index], [0, a, 0][s.passage_index] + s.start,
            [0, a, 0][s.passage_index] + s.end) for s in out.spans]
    for i in range(len(pos)):
        for j in range(i + 1, len(pos)):
            assert not (pos[i][0] == pos[j][0] and pos[i][1] < pos[j][2] and pos[j][1] < pos[i][2])


def test_long_passage_answer_in_last_window(tokenizer):
    filler = " ".join(f"Paragraph filler sentence {i} mentions nothing useful." for i in range(60))
    text = filler + " Finally the treasure was found in Timbuktu by divers."
    p = Passage(doc_id="d", doc_start=0, text=text)
    n_tokens = len(tokenizer(text)["input_ids"])
    r = make_reader(tokenizer, PeakModel(tokenizer, "timbuktu"), max_seq_len=128, stride=32)
    assert n_tokens > 3 * r.max_seq_len
    out = r.read("Where was the treasure found?", [p])
    assert text[out.spans[0].start : out.spans[0].end] == "Timbuktu"
    assert out.spans[0].start > len(filler)


def test_no_answer_score_and_empty_inputs(tokenizer):
    p = Passage(doc_id="d", doc_start=0, text="Nothing relevant here at all.")
    confident_null = make_reader(tokenizer, PeakModel(tokenizer, "paris", null=10.0))
    out = confident_null.read("Where?", [p])
    assert out.no_answer_score > 0.9
    assert all(s.score < 0.1 for s in out.spans)
    assert confident_null.read("Where?", []).spans == []
    assert confident_null.read("Where?", [Passage("d", 0, "   ")]).no_answer_score == 1.0


@pytest.mark.parametrize(
    "text, want",
    [
        ("  Paris, ", "Paris"),
        ("(born 1856)", "(born 1856)"),
        ("the U.S.", "the U.S."),
        ("end of sentence.", "end of sentence"),
        ('"quoted', "quoted"),
        ("$5.2 million", "$5.2 million"),
        ("...", "..."),
    ],
)
def test_trim_span(text, want):
    s, e = trim_span(text, 0, len(text))
    assert text[s:e] == want


@pytest.mark.slow
def test_shipped_weights_find_answer_in_last_window():
    from qa.reader.model import WEIGHTS_DIR

    if not (WEIGHTS_DIR / "reader.safetensors").exists():
        pytest.skip("no shipped reader weights yet")
    filler = " ".join(
        f"The committee met again in session {i} and discussed the budget for roads." for i in range(40)
    )
    text = filler + " The Eiffel Tower was completed in 1889 by the company of Gustave Eiffel."
    p = Passage(doc_id="d", doc_start=100, text=text)
    r = SpanReader(max_seq_len=128, stride=32)
    r.warm_up()
    r.warm_up()  # idempotent
    out = r.read("In which year was the Eiffel Tower completed?", [p], top_k=3)
    assert out.spans
    texts = [text[s.start : s.end] for s in out.spans]
    assert "1889" in texts[0]
    assert out.spans[0].start > len(filler)
    assert 0.0 <= r.min_score <= 1.0


def test_focus_mode_reads_the_best_sentence_with_exact_offsets(tokenizer):
    text = ("The harbour opened in spring. Fishing boats use the eastern quay. "
            "The lighthouse was designed by Maria Kowalski in 1902. Tourists visit in summer.")
    p = Passage(doc_id="d", doc_start=100, text=text)
    full = make_reader(tokenizer, PeakModel(tokenizer, "maria", "kowalski"))
    fast = make_reader(tokenizer, PeakModel(tokenizer, "maria", "kowalski"), focus_chars=60)
    for r in (full, fast):
        best = r.read("Who designed the lighthouse?", [p]).spans[0]
        assert text[best.start : best.end] == "Maria Kowalski"
    # an answer outside the focused sentences cannot be read in fast mode
    elsewhere = make_reader(tokenizer, PeakModel(tokenizer, "eastern", "quay"), focus_chars=60)
    spans = elsewhere.read("Who designed the lighthouse?", [p]).spans
    assert all("quay" not in text[s.start : s.end] for s in spans)


def _decode_reference(start_logits, end_logits, ctx, max_answer_tokens, n_best):
    """Every allowed (start, end) pair scored one by one: what decode_window must agree with."""
    allowed = ctx.copy()
    allowed[0] = True

    def softmax(x):
        x = np.where(allowed, x, -np.inf)
        e = np.exp(x - x.max())
        return e / e.sum()

    ps, pe = softmax(start_logits), softmax(end_logits)
    cands = [(ps[s] * pe[e], s, e) for s in range(len(ctx)) for e in range(len(ctx))
             if ctx[s] and ctx[e] and s <= e < s + max_answer_tokens]
    cands.sort(key=lambda c: (-c[0], c[1], c[2]))
    return ps[0] * pe[0], cands[:n_best]


def test_decode_window_agrees_with_scoring_every_pair():
    rng = np.random.default_rng(1)
    for _ in range(100):
        n = int(rng.integers(6, 23))  # <= 20 context tokens: the top-20 starts/ends are all of them
        ctx = np.zeros(n, dtype=bool)
        a = int(rng.integers(2, n - 2))
        ctx[a : n - 1] = True
        sl, el = rng.normal(0, 3, n), rng.normal(0, 3, n)
        null, spans = decode_window(sl, el, ctx, max_answer_tokens=4, n_best=6)
        ref_null, ref = _decode_reference(sl, el, ctx, 4, 6)
        assert null == pytest.approx(ref_null)
        assert [(s, e) for _, s, e in spans] == [(s, e) for _, s, e in ref]
        assert [p for p, _, _ in spans] == pytest.approx([p for p, _, _ in ref])


@pytest.mark.slow
def test_shipped_tiny_reader_picks_the_answer_out_of_five_passages_with_exact_offsets():
    from qa.reader import make_reader as build

    r = build("span-tiny")
    r.warm_up()
    texts = [
        "The city council approved a new budget for public transport on Monday.",
        "Heavy rain flooded several streets in the old town during the weekend.",
        "The museum reopened after renovation with a collection of medieval maps.",
        "Local farmers reported a good harvest of apples and pears this autumn.",
        "The Eiffel Tower was completed in 1889 by the company of Gustave Eiffel. It is in Paris.",
    ]
    passages = [Passage(doc_id=f"d{i}", doc_start=7 * i, text=t) for i, t in enumerate(texts)]
    out = r.read("In which year was the Eiffel Tower completed?", passages, top_k=3)
    best = out.spans[0]
    assert best.passage_index == 4
    assert texts[4][best.start : best.end] == "1889"
    assert r.meta["num_layers"] == 3


def test_no_span_crosses_a_paragraph_break_with_the_paragraph_rule(tokenizer):
    # the model wants a span from "Ottawa" (end of paragraph one) to "Kuwait" (start of paragraph two)
    p = Passage(doc_id="d", doc_start=0, text="Troops left Ottawa\n\nKuwait hosted them. Ottawa paid.")
    free = make_reader(tokenizer, PeakModel(tokenizer, "ottawa", "kuwait"), one_paragraph=False)
    spans = free.read("Where?", [p], top_k=3).spans
    assert any("\n\n" in p.text[s.start:s.end] for s in spans)  # without the rule it happens
    ruled = make_reader(tokenizer, PeakModel(tokenizer, "ottawa", "kuwait"), one_paragraph=True)
    for s in ruled.read("Where?", [p], top_k=3).spans:
        assert "\n" not in p.text[s.start:s.end]


def test_cross_sentence_factor_scales_spans_that_run_into_the_next_sentence(tokenizer):
    p = Passage(doc_id="d", doc_start=0, text="The ship sailed in May. It reached Lima in June.")
    model = PeakModel(tokenizer, "may", "lima")  # the best span "May. It reached Lima" crosses a sentence
    plain = make_reader(tokenizer, model).read("When?", [p], top_k=1).spans[0]
    assert p.text[plain.start:plain.end] == "May. It reached Lima"
    half = make_reader(tokenizer, model, cross_sentence_factor=0.5).read("When?", [p], top_k=1).spans[0]
    assert half.score == pytest.approx(plain.score * 0.5, rel=1e-6)
    never = make_reader(tokenizer, model, cross_sentence_factor=0.0).read("When?", [p], top_k=3).spans
    assert all(". " not in p.text[s.start:s.end] for s in never)


def test_decoding_rules_ship_with_the_weights(tmp_path, tokenizer):
    import json

    (tmp_path / "reader.json").write_text(json.dumps(
        {"min_score": 0.1, "decoding": {"max_answer_tokens": 12, "cross_sentence_factor": 0.2, "one_paragraph": True}}))
    r = SpanReader(weights_dir=tmp_path)
    assert (r.max_answer_tokens, r.cross_sentence_factor, r.one_paragraph) == (12, 0.2, True)
    r2 = SpanReader(weights_dir=tmp_path, max_answer_tokens=30, cross_sentence_factor=1.0, one_paragraph=False)
    assert (r2.max_answer_tokens, r2.cross_sentence_factor, r2.one_paragraph) == (30, 1.0, False)
