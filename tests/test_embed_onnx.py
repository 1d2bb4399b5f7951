"""qa/embed_onnx.py: the ONNX Runtime sentence encoder gives sentence-transformers' vectors."""
from __future__ import annotations

import numpy as np
import pytest

from qa.embed import MiniLMEncoder

TEXTS = ["Which NFL team represented the AFC at Super Bowl 50?", "Oxygen?",
         "The committee met again and discussed the budget for roads. " * 60,  # past 256 tokens: cut
         "Ünïcode — “quotes” and émojis 🙂 in a sentence."]


@pytest.mark.slow
def test_same_vectors_as_sentence_transformers():
    onnx, torch = MiniLMEncoder(engine="onnx"), MiniLMEncoder(engine="torch")
    a, b = onnx.encode(TEXTS), torch.encode(TEXTS)
    assert onnx.engine == "onnx" and torch.engine == "torch"
    assert a.shape == b.shape == (len(TEXTS), 384) and a.dtype == np.float32
    assert np.abs(a - b).max() < 1e-5
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    # batching and order do not change a text's vector
    assert np.abs(onnx.encode(TEXTS[::-1])[::-1] - a).max() < 1e-5
    assert np.abs(onnx.encode([TEXTS[1]])[0] - a[1]).max() < 1e-5


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="engine"):
        MiniLMEncoder(engine="gpu")
