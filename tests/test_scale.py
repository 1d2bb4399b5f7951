"""scripts/scale.py helpers that need no model: synthetic passages are real sentences recombined,
with the normalised sum of their source chunks' vectors, the same for the same seed."""
from __future__ import annotations


import numpy as np
import pytest

from qa.chunk import chunk_document
from qa.types import Document

from .scripts_helpers import load_script


@pytest.fixture(scope="module")
def scale():
    return load_script("scale")


def test_synthetic_passages_recombine_real_sentences(scale, fake_encoder):
    from .conftest import ARTICLES

    chunks = [c for name, text in ARTICLES.items() for c in chunk_document(Document(name, name, "", text, ""), 3, 1, 900)]
    vectors = fake_encoder.encode([c.text for c in chunks])
    texts, synthetic = scale.synthetic_passages(chunks, vectors, 50, seed=3)
    sentences = {c.text[s - c.doc_start:e - c.doc_start].strip() for c in chunks for s, e in c.sentences}
    for text in texts:
        assert sum(s in text for s in sentences) >= 2  # made of real sentences (three, some may repeat)
    assert synthetic.shape == (50, 64) and np.allclose(np.linalg.norm(synthetic, axis=1), 1.0, atol=1e-5)
    again, again_vectors = scale.synthetic_passages(chunks, vectors, 50, seed=3)
    assert again == texts and np.array_equal(again_vectors, synthetic)


def test_recall_counts_only_real_rows(scale):
    owner = np.array([0, 0, 1, 2])  # rows 0-3 real (paragraphs 0, 0, 1, 2); rows 4+ synthetic
    recall = scale._gold_recall([[5, 2, 0], [4, 6, 7], [3]], owner, np.array([1, 0, 2]), ks=(1, 3))
    assert recall == {"1": pytest.approx(100 / 3), "3": pytest.approx(200 / 3)}
