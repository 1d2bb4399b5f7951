"""The whole path on the seed articles with the real (packaged, offline) models."""
import json

import pytest

from qa import Pipeline
from qa.metrics import exact_match

from .conftest import BACKENDS

A = "000_a3f6d6e8970e0686"  # 2017: counter-IED training, Operation Impact
B = "001_01e182105e19d792"  # 2020: training paused after the Soleimani strike

# (question, article that answers it, acceptable short answers)
QUESTIONS = [
    ("How many Canadian army engineers were deployed to Besmaya?", A, ["Approximately 20", "20"]),
    ("Which base did the engineers sent to Besmaya come from?", A, ["CFB Petawawa"]),
    ("Who said improvised explosive devices are a very significant threat in Iraq?", A, ["Brigadier-General Dan MacIsaac", "Dan MacIsaac"]),
    ("From which base did the second Hercules aircraft deploy?", A, ["CFB Trenton"]),
    ("When will the last Aurora aircraft come home?", A, ["mid-December"]),
    ("How many troops did the government commit in June?", A, ["850", "up to 850 troops", "850 troops"]),
    ("What was the cost of the mission update?", A, ["$371 million"]),
    ("How many people were freed from the influence of ISIS?", A, ["7 million", "7 million people"]),
    ("How many missiles did Iran fire?", B, ["22", "22 missiles"]),
    ("Who commands the NATO mission in Iraq?", B, ["Major-General Jennie Carignan", "Jennie Carignan"]),
    ("How many militia fighters did the U.S. strikes kill?", B, ["25", "25 militia fighters"]),
    ("Where is Camp Canada?", B, ["inside Kuwaits Ali Al Salem air base", "Kuwaits Ali Al Salem air base"]),
    ("Who is the task force sergeant-major?", B, ["Chief Warrant Officer Jeff Aman", "Jeff Aman"]),
    ("How many troops are on the mission in all?", B, ["roughly 800", "roughly 800 troops"]),
    ("Where did the Dec. 27 rocket attack hit?", B, ["an air base in Kirkuk, Iraq", "Kirkuk, Iraq", "Kirkuk"]),
    ("What killed Iranian General Qassem Soleimani?", B, ["a U.S. drone", "U.S. drone"]),
    ("What training did Canadian reservists give Lebanese troops?", B, ["winter warfare training", "winter warfare"]),
    ("Who took office before the mission centred on advising Kurdish fighters?", B,
     ["Prime Minister Justin Trudeau", "Justin Trudeau"]),
]


@pytest.fixture(scope="module", params=BACKENDS)
def pipeline(request, tmp_path_factory):
    """The seed articles indexed by each backend (FAISS + bm25s, Milvus Lite, a Milvus server)."""
    import shutil

    from qa.backends import make_backend

    from .conftest import SEEDS

    root = tmp_path_factory.mktemp("e2e")
    shutil.copytree(SEEDS, root / "corpus")
    if request.param == "milvus-server":
        backend = make_backend("milvus", root / "index", request.getfixturevalue("milvus_server_uri"), "qa_test_e2e")
    else:
        backend = make_backend(request.param, root / "index")
    p = Pipeline(root / "corpus", root / "index", backend=backend)
    p.warm_up()
    yield p
    if request.param == "milvus-server":
        backend.drop()


@pytest.mark.slow
@pytest.mark.parametrize("question, doc_id, golds", QUESTIONS, ids=[q for q, _, _ in QUESTIONS])
def test_right_article_is_cited_with_an_exact_span(pipeline, question, doc_id, golds):
    # Abstention off: this checks what the best answer cites; how often the calibrated threshold
    # withholds answers to these answerable questions is bounded by the test below.
    answers = pipeline.ask(question, top_k=3, min_score=0.0)
    assert answers, f"no answer for {question!r}"
    top = answers[0]
    assert doc_id in {c.doc_id for c in top.citations}
    docs = {d.doc_id: d for d in pipeline.documents}
    for a in answers:
        for c in a.citations:
            assert docs[c.doc_id].text[c.start:c.end] == a.text


@pytest.mark.slow
def test_answerable_questions_are_answered_at_the_calibrated_threshold(pipeline):
    """The abstention threshold withholds unsure answers; it must not silence these answerable
    questions wholesale (measured with the stage-2 reader: 17 of 18 answered)."""
    unanswered = [q for q, _, _ in QUESTIONS if not pipeline.ask(q, top_k=1)]
    assert len(unanswered) <= 2, unanswered


@pytest.mark.slow
def test_unrelated_question_gets_no_answer(pipeline):
    assert pipeline.ask("What is the recipe for banana bread?") == []


@pytest.mark.slow
def test_exact_answers_are_counted(pipeline, capsys):
    """Not a pass/fail on each answer: records how many are exact, and fails only if the reader
    breaks down (fewer than a third exact)."""
    exact = sum(max(exact_match(a.text, g) for g in golds) for q, _, golds in QUESTIONS
                for a in pipeline.ask(q, top_k=1)[:1])
    with capsys.disabled():
        print(f"\n[e2e] {pipeline.reader.name} reader: {int(exact)}/{len(QUESTIONS)} exact answers")
    assert exact >= len(QUESTIONS) / 3, json.dumps({"exact": exact})
