"""scripts/decode_rules.py memoises the reader's logits: the same windows are computed once per
model, whatever extra argument the reader passes (its later-round model), and results come back
in the order asked."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from .scripts_helpers import load_script


@pytest.fixture(scope="module")
def decode_rules():
    return load_script("decode_rules")


class CountingReader:
    def __init__(self):
        self.computed = []

    def _logits(self, windows, model=None):
        self.computed.append((len(windows), model))
        tag = 100 if model is not None else 0
        return [tag + w.input_ids[0] for w in windows], [-(tag + w.input_ids[0]) for w in windows]


def test_memoised_logits_compute_each_window_once_per_model(decode_rules):
    reader = CountingReader()
    decode_rules.memoise_logits(reader)
    a, b = SimpleNamespace(input_ids=[1, 2]), SimpleNamespace(input_ids=[3, 4])
    assert reader._logits([a, b]) == ([1, 3], [-1, -3])
    assert reader._logits([b, a]) == ([3, 1], [-3, -1])  # cached, in the order asked
    assert reader.computed == [(2, None)]
    later = object()
    assert reader._logits([a], later) == ([101], [-101])  # another model: its own logits
    assert reader.computed == [(2, None), (1, later)]
