"""ConversationalAsker over a real index (fake encoder, heuristic reader): a question that stands
alone is answered exactly as Pipeline.ask answers it; a follow-up is retrieved with the history and
read as its rewrite; filters reach the conversational path too."""
from __future__ import annotations

import pytest

from qa.conversation import Conversation, ConversationalAsker, HistorySearch
from qa.conversation.search import HISTORY_LIST
from qa.filters import Filter
from qa.pipeline import Pipeline, QuestionError

from ..conftest import FakeEncoder


@pytest.fixture
def asker(small_corpus, tmp_path):
    p = Pipeline(small_corpus, tmp_path / "index", reader="heuristic", encoder=FakeEncoder())
    p.warm_up()
    return ConversationalAsker(p)


def test_a_standalone_question_is_asked_exactly_as_the_pipeline_asks_it(asker):
    first = asker.ask("Who designed the new Tay bridge?")
    follow = asker.ask("How many homes lost power in the storm named Fiona?", first.conversation)
    assert not follow.resolution.depends and follow.interpreted_as == follow.resolution.question
    plain = asker.pipeline.ask("How many homes lost power in the storm named Fiona?")
    assert [(a.text, a.score) for a in follow.answers] == [(a.text, a.score) for a in plain]


def test_a_follow_up_is_rewritten_and_retrieved_with_the_previous_passage(asker, monkeypatch):
    first = asker.ask("Who designed the new Tay bridge?")
    assert first.answers[0].text == "Anna Kowalski"
    seen = {}
    original = HistorySearch.__call__

    def spy(self, retriever, question, **kw):
        hits = original(self, retriever, question, **kw)
        seen["hits"], seen["question"] = hits, question
        return hits

    monkeypatch.setattr(HistorySearch, "__call__", spy)
    reply = asker.ask("How much did it cost?", first.conversation)
    assert reply.resolution.depends and reply.resolution.confident
    assert reply.interpreted_as == "How much did the new Tay bridge cost?"
    assert seen["question"] == reply.interpreted_as  # the dense side embeds the rewrite
    cited = first.answers[0].citations[0].chunk_id
    assert any(h.chunk.chunk_id == cited and HISTORY_LIST in h.ranks for h in seen["hits"])
    top = reply.answers[0]
    assert top.text == "$40 million"
    assert asker.pipeline.ask("How much did it cost?") == []  # asked alone, it finds nothing
    doc = next(d for d in asker.pipeline.documents if d.doc_id == top.citations[0].doc_id)
    assert doc.text[top.citations[0].start:top.citations[0].end] == top.text
    assert reply.timings["resolve"] < 0.5 and len(reply.conversation) == 2
    assert len(first.conversation) == 1  # the conversation passed in is not changed


def test_the_filter_applies_to_follow_ups_and_to_their_previous_passages(asker):
    first = asker.ask("Who designed the new Tay bridge?")
    nobody = Filter.of(sources=["no such outlet"])
    assert asker.ask("When did it open?", first.conversation, filter=nobody).answers == []
    search = HistorySearch({"open": 1.0}, (first.answers[0].citations[0].doc_id,
                                           first.answers[0].citations[0].chunk_id))
    retriever = asker.pipeline._require_index()
    assert search.evidence_rows(retriever, None) != []
    assert search.evidence_rows(retriever, nobody) == []


def test_a_bad_question_raises_like_the_pipeline(asker):
    with pytest.raises(QuestionError):
        asker.ask("   ", Conversation())
