"""Tokenised (question, passage) windows: what the span model reads at run time.

A long passage becomes several overlapping windows (``stride`` tokens shared between neighbours)
so an answer cut by one window is whole in the next. Every context token keeps its character
range in the passage, which is how spans map back to exact offsets.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Window:
    """One tokenised (question, context slice) pair.

    ``offsets[i]`` is the (start, end) character range of token i in the context, or None for
    question / special tokens. ``start_position``/``end_position`` are the answer's token
    positions, 0 (the CLS token) when the window does not contain the answer; training alone sets
    them. ``alt_positions`` lists further (start, end) token pairs that are equally right (the
    answer text occurs there too and the data cannot say which occurrence was meant).
    """

    example_index: int
    input_ids: list[int]
    token_type_ids: list[int]
    offsets: list[tuple[int, int] | None]
    start_position: int = 0
    end_position: int = 0
    alt_positions: list[tuple[int, int]] = field(default_factory=list)

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
    of overlap between consecutive windows. Labels are left at 0."""
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
