"""The shipped encoder and span reader over the provenance fixtures (tests/fixtures/provenance/):
answers cite the outlet, headline and date a reader knows, none is taken from a headline the body
contradicts, and the newest report of a changed figure comes first with the earlier one listed."""
import json
import shutil
from pathlib import Path

import pytest

from qa import Pipeline
from qa.news.headline import headline_end

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "provenance"
GOLD = json.loads((FIXTURES / "gold.json").read_text(encoding="utf-8"))
PAGES = {p["name"]: p for p in GOLD["pages"]}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("provenance")
    corpus = root / "corpus"
    corpus.mkdir()
    for path in [*(FIXTURES / "pages").glob("*.html"), *(FIXTURES / "changed").glob("*.md")]:
        shutil.copy(path, corpus / path.name)
    p = Pipeline(corpus, root / "index")
    p.warm_up()
    return p


@pytest.mark.parametrize("name", [n for n, p in PAGES.items() if p["question"]])
def test_the_answer_is_the_bodys_and_cites_outlet_headline_and_date(pipeline, name):
    gold = PAGES[name]
    q = gold["question"]
    answers = pipeline.ask(q["question"], top_k=3)
    assert answers and answers[0].text.startswith(q["answer"]), [a.text for a in answers]
    c = answers[0].citations[0]
    assert (c.doc_id, c.title, c.source, c.published, c.url) == (
        name, gold["headline"], gold["source"], gold["published"], gold["url"])
    doc = next(d for d in pipeline.documents if d.doc_id == name)
    cut = headline_end(doc.text, doc.title)
    assert cut > 0
    for a in answers:  # no answer from the headline, none from a teaser
        assert a.text not in q["not"] and all(c.start >= cut for c in a.citations if c.doc_id == name), a.text


def test_the_newest_report_of_a_changed_figure_comes_first(pipeline):
    changed = GOLD["changed"]
    [answer] = pipeline.ask(changed["question"], top_k=1)
    newest, earlier = (a for a in sorted(changed["articles"], key=lambda a: a["published"], reverse=True))
    assert answer.text in changed["newest"] and answer.citations[0].published == newest["published"]
    assert [(r.answer in changed["earlier"], r.published, r.source) for r in answer.earlier_reports] == [
        (True, earlier["published"], earlier["source"])]
