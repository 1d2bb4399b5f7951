"""Span decoding (shared by training-time evaluation) and the ``SpanReader`` inference component.

Scoring choice: each window is scored on its own. Start and end logits are softmax-normalised over
the window's CLS token plus its context tokens (question and special tokens are masked), exactly
the distribution the training loss fits, so ``p_start(i) * p_end(j)`` is the window's probability
that (i, j) is the answer and ``p_start(CLS) * p_end(CLS)`` its no-answer probability. These are
comparable across windows and passages because they do not depend on how many passages were
retrieved (a softmax over all windows' candidates would shrink every score as more passages are
added, which would make a fixed ``min_score`` meaningless).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.types import Passage, ReaderOutput, ReadSpan

NEG = -1e9
ENGINES = ("auto", "onnx", "torch")
log = logging.getLogger(__name__)


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def masked_softmax(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Softmax over the positions where ``allowed`` is True (others get probability 0)."""
    x = np.where(allowed, logits.astype(np.float64), NEG)
    x = x - x.max()
    e = np.exp(x) * allowed
    return e / e.sum()


def decode_window(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    context_mask: np.ndarray,
    max_answer_tokens: int = 30,
    top_n: int = 20,
    n_best: int = 5,
    token_sentence: np.ndarray | None = None,
    token_paragraph: np.ndarray | None = None,
    cross_sentence_factor: float = 1.0,
) -> tuple[float, list[tuple[float, int, int]]]:
    """Best spans of one window.

    ``context_mask[i]`` is True for context tokens. Position 0 is the CLS (no-answer) token.
    Returns (no-answer probability, [(score, start_token, end_token), ...] best first) where every
    span lies inside the context, ``start <= end`` and ``end - start + 1 <= max_answer_tokens``.

    Clean-span rules (``SpanReader`` passes them from the text's sentences and paragraphs): with
    ``token_paragraph`` (paragraph index per token) no span crosses a paragraph break; with
    ``token_sentence`` a span running from one sentence into the next has its score multiplied by
    ``cross_sentence_factor`` (0 forbids it, 1 leaves it alone).
    """
    n = len(start_logits)
    context_mask = np.asarray(context_mask, dtype=bool)[:n]
    allowed = context_mask.copy()
    allowed[0] = True
    ps = masked_softmax(np.asarray(start_logits), allowed)
    pe = masked_softmax(np.asarray(end_logits), allowed)
    null = float(ps[0] * pe[0])
    ctx_idx = np.flatnonzero(context_mask)
    if len(ctx_idx) == 0:
        return null, []
    k = min(top_n, len(ctx_idx))
    starts = ctx_idx[np.argsort(-ps[ctx_idx], kind="stable")[:k]]
    ends = ctx_idx[np.argsort(-pe[ctx_idx], kind="stable")[:k]]
    # All (start, end) pairs of the top-k starts and ends at once (a Python double loop was ~0.5 ms
    # per window, a tenth of the fast reader's budget); best first, ties by position.
    length = ends[None, :] - starts[:, None] + 1
    ok = (length >= 1) & (length <= max_answer_tokens)
    if token_paragraph is not None:
        ok &= token_paragraph[starts][:, None] == token_paragraph[ends][None, :]
    si, ei = np.nonzero(ok)
    s_tok, e_tok = starts[si], ends[ei]
    score = ps[s_tok] * pe[e_tok]
    if token_sentence is not None and cross_sentence_factor != 1.0:
        score = np.where(token_sentence[s_tok] == token_sentence[e_tok], score, score * cross_sentence_factor)
        keep = score > 0
        s_tok, e_tok, score = s_tok[keep], e_tok[keep], score[keep]
    best = np.lexsort((e_tok, s_tok, -score))[:n_best]
    return null, [(float(score[i]), int(s_tok[i]), int(e_tok[i])) for i in best]


def token_units(offsets, starts: Sequence[int], base: int = 0) -> np.ndarray:
    """For each token of a window, the index of the unit (sentence or paragraph, given by their
    sorted character ``starts`` in the passage) its first character falls in; -1 for tokens that
    are not context. ``base`` shifts window offsets into passage offsets (focus windows)."""
    first = np.array([o[0] + base if o is not None else -1 for o in offsets], dtype=np.int64)
    unit = np.searchsorted(np.asarray(starts, dtype=np.int64), first, side="right") - 1
    return np.where(first >= 0, unit, -1)


# ---------------------------------------------------------------------------------------------
# Exact character spans
# ---------------------------------------------------------------------------------------------

_EDGE_PUNCT = set(".,;:!?\"'`“”‘’«»()[]{}-–—/\\|*")
_PAIRS = {")": "(", "]": "[", "}": "{", "”": "“", "’": "‘", "»": "«"}


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) of ``text`` past surrounding whitespace and stray punctuation.

    Kept on purpose: a closing bracket/quote whose opener is inside the span ("(born 1856)"), a
    final "." ending an abbreviation with an inner dot ("U.S."), and any punctuation when removing
    it would leave nothing. Offsets stay exact: only the bounds move.
    """
    s, e = start, end
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if all(ch in _EDGE_PUNCT or ch.isspace() for ch in text[s:e]):
        return s, e  # nothing but punctuation: leave it for the caller to judge
    changed = True
    while changed and e - s > 1:
        changed = False
        last = text[e - 1]
        if last in _EDGE_PUNCT:
            span = text[s:e]
            opener = _PAIRS.get(last)
            keep = (opener is not None and opener in span[:-1]) or (
                last in "\"'" and span[:-1].count(last) % 2 == 1
            )
            if last == ".":
                word = span.split()[-1] if span.split() else ""
                keep = keep or word.count(".") >= 2  # "U.S.", "a.m."
            if not keep:
                e -= 1
                changed = True
        first = text[s]
        if e - s > 1 and first in _EDGE_PUNCT:
            span = text[s:e]
            closer = {v: k for k, v in _PAIRS.items()}.get(first)
            keep = (closer is not None and closer in span[1:]) or (
                first in "\"'" and span[1:].count(first) % 2 == 1
            )
            if first in "$£€-" and len(span) > 1 and span[1].isdigit():
                keep = True  # "$5", "-3"
            if not keep:
                s += 1
                changed = True
        while s < e and text[s].isspace():
            s += 1
            changed = True
        while e > s and text[e - 1].isspace():
            e -= 1
            changed = True
    return s, e


# ---------------------------------------------------------------------------------------------
# The inference component
# ---------------------------------------------------------------------------------------------

DEFAULT_MIN_SCORE = 0.5


class SpanReader:
    """Extractive span reader: MiniLM-L6 fine-tuned with a start/end head (``qa/reader/weights``).

    ``read`` windows every passage (``max_seq_len`` tokens, ``stride`` tokens of overlap), runs all
    windows of all passages in one forward pass, decodes each window's best spans (inside the
    passage text, at most ``max_answer_tokens`` tokens), scores them by per-window probability
    (module docstring), maps them to exact character offsets, merges spans that overlap in the
    same document, and returns the ``top_k`` best. ``min_score`` is the abstention threshold
    chosen on the tuning split: callers answer only spans with ``score >= min_score``.
    """

    name = "span"

    def __init__(
        self,
        weights_dir: str | Path | None = None,
        max_seq_len: int | None = None,
        stride: int | None = None,
        max_answer_tokens: int | None = None,
        batch_size: int = 32,
        quantize: bool | str = False,
        num_threads: int | None = None,
        min_score: float | None = None,
        max_question_tokens: int = 48,
        focus_chars: int | None = None,
        engine: str = "auto",
        name: str | None = None,
        later_quantize: bool | str = False,
        later_focus_chars: int | None = None,
        cross_sentence_factor: float | None = None,
        one_paragraph: bool | None = None,
    ):
        from qa.reader.model import META_FILE, WEIGHTS_DIR

        self.weights_dir = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
        if name:  # a variant reading these weights differently (make_reader: span-fast, span-tiny)
            self.name = name
        meta: dict = {}
        meta_path = self.weights_dir / META_FILE
        if meta_path.exists():  # a small JSON: the threshold and windowing ship with the weights
            import json

            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        self.max_seq_len = int(max_seq_len or meta.get("max_seq_len", 192))
        self.stride = int(stride if stride is not None else meta.get("stride", 64))
        # Clean-span rules, measured per weights on the tuning split (scripts/decode_rules.py) and
        # shipped in reader.json's "decoding"; without one, the rules the reader was first built with.
        decoding = meta.get("decoding", {})
        self.max_answer_tokens = int(max_answer_tokens or decoding.get("max_answer_tokens")
                                     or meta.get("max_answer_tokens", 30))
        self.cross_sentence_factor = float(cross_sentence_factor if cross_sentence_factor is not None
                                           else decoding.get("cross_sentence_factor", 1.0))
        self.one_paragraph = bool(one_paragraph if one_paragraph is not None else decoding.get("one_paragraph", False))
        self.batch_size = int(batch_size)
        from qa.reader.onnx_engine import quantization

        # "" (fp32), "per-tensor" or "per-channel" int8 (qa/reader/onnx_engine.py; True = per-tensor)
        self.quantize = quantization(quantize)
        # Passages read after the first round of adaptive reading (qa/adaptive.py: find_batch with
        # later=True) may run quantised: the first passage decides most answers and stays exact.
        self.later_quantize = quantization(later_quantize)
        self.later_focus_chars = int(later_focus_chars) if later_focus_chars else None  # and/or read less of them
        self.num_threads = num_threads
        self.max_question_tokens = int(max_question_tokens)
        # Fast mode: read only each passage's best-matching sentences (qa/reader/focus.py), at
        # most this many characters per passage; None reads whole passages.
        self.focus_chars = int(focus_chars) if focus_chars else None
        self.min_score: float = float(min_score if min_score is not None else meta.get("min_score", DEFAULT_MIN_SCORE))
        if engine not in ENGINES:
            raise ValueError(f"unknown reader engine {engine!r}; choose one of {', '.join(ENGINES)}")
        # "auto": ONNX Runtime when installed (faster, same logits to ~1e-5), else torch.
        self.engine = engine
        self.meta = meta
        from qa.rank import load_ranker

        # Scores answers found through retrieval (reader score + passage ranks); qa/rank.py. A
        # variant's own ranker when one was fitted for it, else the one of the weights' own reader.
        self.ranker = load_ranker(meta, self.name)
        from qa.reader.verify import load_verifier

        # The second opinion on answerability, fitted on this reader's behaviour (qa/reader/verify.py).
        self.verifier = load_verifier(meta, self.name)
        self._model = None
        self._later_model = None
        self._tokenizer = None

    # -- loading ---------------------------------------------------------------------------
    def warm_up(self) -> "SpanReader":
        """Load tokenizer and weights once (idempotent) and run one tiny forward pass."""
        if self._model is not None:
            return self
        import torch

        from qa.reader.model import load_shipped, load_tokenizer, read_meta

        if self.num_threads:
            torch.set_num_threads(int(self.num_threads))
        tok = load_tokenizer()
        meta = read_meta(self.weights_dir)
        loaded: list = []

        def torch_model():
            # Built only when needed (torch engine, or a graph to export): ~3 s of every cold start.
            if not loaded:
                loaded.append(load_shipped(self.weights_dir)[0])
            return loaded[0]

        self._tokenizer, self._model = tok, self._engine_model(torch_model, meta, self.quantize)
        if self.later_quantize and self.later_quantize != self.quantize:
            self._later_model = self._engine_model(torch_model, meta, self.later_quantize)

        self.read("warm up?", [Passage(doc_id="_", doc_start=0, text="Warm up text.")])
        return self

    def _engine_model(self, torch_model, meta: dict, quantize: str):
        """The model ``read`` will call: an ONNX Runtime session over the exported graph, or the
        torch module (int8 Linear layers when ``quantize``). ``torch_model()`` builds the torch
        module; with the ONNX graph already cached it is never called."""
        from qa.reader import onnx_engine
        from qa.reader.model import WEIGHTS_FILE

        if self.engine in ("auto", "onnx"):
            if onnx_engine.available():
                try:
                    session = onnx_engine.load_session(
                        torch_model, self.weights_dir / meta.get("weights_file", WEIGHTS_FILE), quantize,
                        self.num_threads or torch_threads())
                    self.engine = "onnx"
                    return session
                except Exception as e:  # noqa: BLE001 - any export/runtime failure: torch still works
                    if self.engine == "onnx":
                        raise
                    log.warning("ONNX Runtime unavailable for the reader (%s); using torch", e)
            elif self.engine == "onnx":
                raise RuntimeError("engine='onnx' needs onnxruntime and onnx: pip install onnx onnxruntime")
        self.engine = "torch"
        return quantize_dynamic_int8(torch_model(), quantize == "per-channel") if quantize else torch_model()

    def _set_model(self, model, tokenizer, later_model=None) -> None:
        """Use an in-memory model (evaluation of checkpoints, tests with fixed logits)."""
        self._model, self._tokenizer, self._later_model = model, tokenizer, later_model
        self.engine = "torch"

    # -- inference -------------------------------------------------------------------------
    def _logits(self, windows, model=None):
        """Start/end logits of every window (each cut to its own length), in ``windows`` order.

        Windows are run longest first in batches of at most ``batch_size`` whose padding stays
        small: a batch closes early when padding to its first (longest) window would waste more
        than ``PAD_WASTE`` of its tokens. Windows of many questions share one pass this way."""
        import torch

        from qa.reader.model import collate

        order = sorted(range(len(windows)), key=lambda i: -len(windows[i].input_ids))
        model = model or self._model
        starts: list = [None] * len(windows)
        ends: list = [None] * len(windows)
        with torch.inference_mode():
            for group in _length_batches([len(windows[i].input_ids) for i in order], self.batch_size):
                ids = [order[k] for k in group]
                batch = collate([windows[i] for i in ids])
                sl, el = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
                if isinstance(sl, torch.Tensor):
                    sl, el = sl.float().numpy(), el.float().numpy()
                for k, i in enumerate(ids):
                    L = len(windows[i].input_ids)
                    starts[i] = sl[k, :L]
                    ends[i] = el[k, :L]
        return starts, ends

    def read(self, question: str, passages: Sequence[Passage], top_k: int = 3) -> ReaderOutput:
        """Top ``top_k`` distinct answer spans for ``question`` over ``passages`` (best first) and
        the probability that none of them answers it."""
        return self.read_batch([(question, passages)], top_k)[0]

    def read_batch(self, requests: Sequence[tuple[str, Sequence[Passage]]], top_k: int = 3) -> list[ReaderOutput]:
        """``read`` for several (question, passages) pairs at once: all their windows go through
        the model together (fewer, fuller forward passes), each answered as ``read`` would."""
        found = self.find_batch([(q, ps, range(len(ps))) for q, ps in requests], top_k)
        return [f.select(ps, top_k) for f, (_, ps) in zip(found, requests)]

    def find_batch(self, requests: Sequence[tuple[str, Sequence[Passage], Sequence[int]]],
                   top_k: int = 3, later: bool = False) -> list[Candidates]:
        """Every candidate span in the passages ``indices`` of each (question, passages, indices)
        request, before de-duplication: ``Candidates`` of several calls over disjoint passages of
        one question add up (``Candidates.merge``) to what one call over all of them finds. This is
        how adaptive reading (qa/adaptive.py) reads the best passages first and the rest later;
        ``later`` reads through the ``later_quantize`` model when there is one, and only each
        passage's best sentences when ``later_focus_chars`` is set."""
        from qa.reader.windows import tokenize_windows

        if self._model is None:
            self.warm_up()
        n_best = max(5, 3 * top_k)
        jobs: list[tuple[int, int, int]] = []  # (request, passage index, offset of the text read)
        questions: list[str] = []
        texts: list[str] = []
        for r, (question, passages, indices) in enumerate(requests):
            idx = [i for i in indices if passages[i].text.strip()]
            if not question.strip() or not idx or top_k <= 0:
                continue
            chosen = [passages[i].text for i in idx]
            bases = [0] * len(idx)  # where each text read starts inside its passage
            focus = self.later_focus_chars if later and self.later_focus_chars else self.focus_chars
            if focus:
                from qa.reader.focus import focus_spans

                # Weighed over all the question's passages, so a passage gets the same window
                # whichever round reads it.
                every = focus_spans(question, [p.text for p in passages], focus)
                ranges = [every[i] for i in idx]
                chosen = [t[a:b] for t, (a, b) in zip(chosen, ranges)]
                bases = [a for a, _ in ranges]
            jobs += [(r, i, b) for i, b in zip(idx, bases)]
            questions += [question] * len(idx)
            texts += chosen
        spans: list[list[tuple[float, int, int, int]]] = [[] for _ in requests]
        no_answer: list[dict[int, float]] = [{} for _ in requests]
        if jobs:
            windows = tokenize_windows(self._tokenizer, questions, texts, self.max_seq_len, self.stride,
                                       self.max_question_tokens)
            starts, ends = self._logits(windows, self._later_model if later else None)
            units = self._units(texts)
            for w, sl, el in zip(windows, starts, ends):
                r, pi, base = jobs[w.example_index]
                text = requests[r][1][pi].text
                ctx = np.array([o is not None for o in w.offsets])
                sent_starts, para_starts = units[w.example_index]
                null, found = decode_window(
                    sl, el, ctx, self.max_answer_tokens, n_best=n_best,
                    token_sentence=token_units(w.offsets, sent_starts) if sent_starts is not None else None,
                    token_paragraph=token_units(w.offsets, para_starts) if para_starts is not None else None,
                    cross_sentence_factor=self.cross_sentence_factor)
                no_answer[r][pi] = min(no_answer[r].get(pi, 1.0), null)
                for score, ts, te in found:
                    cs, ce = trim_span(text, base + w.offsets[ts][0], base + w.offsets[te][1])
                    if ce > cs:
                        spans[r].append((score, pi, cs, ce))
        return [Candidates(tuple(s), n) for s, n in zip(spans, no_answer)]

    def _units(self, texts: Sequence[str]) -> list[tuple[list[int] | None, list[int] | None]]:
        """Sentence and paragraph starts of each text read, for the clean-span rules in use."""
        from qa.chunk import paragraph_starts, split_sentences

        out = []
        for t in texts:
            sents = [a for a, _ in split_sentences(t)] or [0] if self.cross_sentence_factor != 1.0 else None
            paras = paragraph_starts(t) if self.one_paragraph else None
            out.append((sents, paras))
        return out


# Padding a batch to its longest window may waste at most this share of the batch's tokens.
PAD_WASTE = 0.15


def _length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Positions of ``lengths`` (sorted longest first) cut into consecutive batches of at most
    ``batch_size`` whose padded size stays within ``PAD_WASTE`` of their real tokens."""
    out: list[list[int]] = []
    group: list[int] = []
    real = 0
    for k, n in enumerate(lengths):
        if group and (len(group) >= batch_size
                      or lengths[group[0]] * (len(group) + 1) > (real + n) * (1 + PAD_WASTE)):
            out.append(group)
            group, real = [], 0
        group.append(k)
        real += n
    if group:
        out.append(group)
    return out


@dataclass(frozen=True)
class Candidates:
    """What the reader found in some passages of one question, before de-duplication.

    ``spans``: (score, passage index, start, end) in passage offsets, in no particular order;
    ``no_answer``: passage index -> the lowest no-answer probability of its windows (only the
    passages read are keys)."""

    spans: tuple[tuple[float, int, int, int], ...] = ()
    no_answer: Mapping[int, float] = field(default_factory=dict)

    @property
    def no_answer_score(self) -> float:
        return float(min(self.no_answer.values(), default=1.0))

    def merge(self, other: "Candidates") -> "Candidates":
        return Candidates(self.spans + other.spans, {**self.no_answer, **other.no_answer})

    def select(self, passages: Sequence[Passage], top_k: int) -> ReaderOutput:
        """The ``top_k`` best spans, a span overlapping a better one of the same document dropped
        (the same text seen through another window or an overlapping chunk)."""
        cands = sorted(self.spans, key=lambda c: (-c[0], c[1], c[2]))
        chosen: list[ReadSpan] = []
        taken: list[tuple[str, int, int]] = []  # document coordinates of accepted spans
        for score, pi, cs, ce in cands:
            if len(chosen) >= top_k:
                break
            p = passages[pi]
            ds, de = p.doc_start + cs, p.doc_start + ce
            if any(d == p.doc_id and ds < b and a < de for d, a, b in taken):
                continue
            taken.append((p.doc_id, ds, de))
            chosen.append(ReadSpan(passage_index=pi, start=cs, end=ce, score=float(min(1.0, max(0.0, score)))))
        return ReaderOutput(spans=chosen, no_answer_score=float(min(1.0, max(0.0, self.no_answer_score))))


def quantize_dynamic_int8(model, per_channel: bool = False):
    """Dynamic int8 quantisation of the Linear layers (weights int8, activations quantised on the
    fly; one weight scale per output channel when ``per_channel``); the model stays on CPU in eval mode."""
    import torch

    try:
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic
    except ImportError:  # pragma: no cover - older layouts
        from torch.quantization import per_channel_dynamic_qconfig, quantize_dynamic
    import warnings

    with warnings.catch_warnings():  # torch.ao.quantization deprecation notices; still works in 2.13
        warnings.simplefilter("ignore")
        if per_channel:
            return quantize_dynamic(model.eval(), {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
        return quantize_dynamic(model.eval(), {torch.nn.Linear}, dtype=torch.qint8)
