import random

import pytest

from qa.chunk import chunk_document, split_sentences
from qa.load import load_corpus
from qa.types import Document

from .conftest import SEEDS


def _doc(text: str) -> Document:
    return Document("d", "t", "d.txt", text, "")


def assert_chunks_exact(doc: Document, chunks) -> None:
    for c in chunks:
        assert doc.text[c.doc_start:c.doc_end] == c.text
        assert c.sentences[0][0] == c.doc_start and c.sentences[-1][1] == c.doc_end
        for s, e in c.sentences:
            assert c.doc_start <= s < e <= c.doc_end
            assert doc.text[s:e] == doc.text[s:e].strip()


def test_every_seed_chunk_and_sentence_slices_exactly():
    docs, skipped = load_corpus(SEEDS)
    assert len(docs) == 2 and not skipped
    for doc in docs:
        chunks = chunk_document(doc)
        assert chunks
        assert_chunks_exact(doc, chunks)
        # Every sentence of the article is in some chunk.
        covered = {s for c in chunks for s in c.sentences}
        assert covered == set(split_sentences(doc.text))


@pytest.mark.parametrize("text, expected", [
    ("Brig.-Gen. MacIsaac said it. He left.", ["Brig.-Gen. MacIsaac said it.", "He left."]),
    ("The U.S.-led coalition grew. Canada joined.", ["The U.S.-led coalition grew.", "Canada joined."]),
    ("A Dec. 27 rocket attack hit. Then calm.", ["A Dec. 27 rocket attack hit.", "Then calm."]),
    ('"They have lost many soldiers." He said so.', ['"They have lost many soldiers."', "He said so."]),
    ("Dr. J. Smith won. Mr. Li lost!", ["Dr. J. Smith won.", "Mr. Li lost!"]),
    ("It cost $3.5 million. Really?  Yes.", ["It cost $3.5 million.", "Really?", "Yes."]),
    ("Heading line\nFirst sentence here.", ["Heading line", "First sentence here."]),
    ("A long hard-wrapped sentence that goes on for quite a while and\ncontinues on the next line.",
     ["A long hard-wrapped sentence that goes on for quite a while and\ncontinues on the next line."]),
    ("Para one.\n\nPara two", ["Para one.", "Para two"]),
    ("approx. three people came. Fine.", ["approx. three people came.", "Fine."]),
])
def test_sentence_boundaries(text, expected):
    assert [text[s:e] for s, e in split_sentences(text)] == expected


@pytest.mark.parametrize("text", [
    "", "   \n\n  ", "no punctuation at all", "One.", "\n\nLeading blank lines. And trailing.\n\n\n",
    "Emoji 🇨🇦 sentence. Ünïcödé — dashes… ellipsis. 中文句子。", "x" * 5000,
    "word " * 3000, "Tabs\tand\tmore. \t Next.", "“Curly quotes.” ‘Single.’ (Parens.) [Brackets.]",
])
def test_nasty_inputs_keep_exact_offsets(text):
    doc = _doc(text)
    sents = split_sentences(text, max_chars=2000)
    prev_end = 0
    for s, e in sents:
        assert prev_end <= s < e <= len(text)
        assert text[s:e].strip() == text[s:e]
        assert e - s <= 2000
        prev_end = e
    # Nothing but whitespace is left out between sentences.
    joined = "".join(text[s:e] for s, e in sents)
    assert "".join(text.split()) == "".join(joined.split())
    assert_chunks_exact(doc, chunk_document(doc))


def test_random_texts_round_trip():
    rng = random.Random(7)
    pieces = ["Gen.", "U.S.", "Dec. 27", "said", "\n", "\n\n", ".", "!", "?", '"', "Hello", "world", "3.5",
              "  ", "Ottawa", "—", "e.g.", "troops"]
    for _ in range(300):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))
        doc = _doc(text)
        assert_chunks_exact(doc, chunk_document(doc, rng.randint(1, 4), 0, rng.choice([50, 200, 900])))


def test_overlap_and_size():
    doc = _doc("One. Two. Three. Four. Five.")
    chunks = chunk_document(doc, sentences_per_chunk=3, overlap=1)
    assert [c.text for c in chunks] == ["One. Two. Three.", "Three. Four. Five."]
    assert [c.chunk_id for c in chunks] == ["d#0", "d#1"]
    with pytest.raises(ValueError, match="overlap"):
        chunk_document(doc, sentences_per_chunk=2, overlap=2)


def test_max_chars_limits_chunk_growth():
    doc = _doc(" ".join(f"Sentence number {i} is here." for i in range(20)))
    for c in chunk_document(doc, sentences_per_chunk=5, overlap=1, max_chars=80):
        assert len(c.text) <= 80 or len(c.sentences) == 1


def test_units_with_a_lowercase_letter_before_the_period_end_sentences():
    text = "Winds reached 150 km/h. About 400,000 homes lost power."
    assert [text[s:e] for s, e in split_sentences(text)] == ["Winds reached 150 km/h.",
                                                             "About 400,000 homes lost power."]
