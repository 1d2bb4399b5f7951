"""The unanswerable-question generator: each kind makes what it says, and every question it
returns passes the automatic checks (the swapped-in term absent, no gold answer in a sibling)."""
from __future__ import annotations

import random

import pytest

from qa.training.data import SquadRecord
from qa.training.unanswerable import (
    KINDS, TermPools, antonym_edit, entity_swap, generate_unanswerable, negation_edit, passes_checks,
    sibling_question,
)

P1 = ("Tesla moved to Prague in 1880 to study at the university. He was hired by the Budapest "
      "Telephone Exchange in 1881, where he became the chief electrician.")
P2 = "Later he emigrated to the United States and worked for Thomas Edison in New York."


def rec(q, ctx=P1, answer=("1880", None), qid="q1", title="Nikola"):
    text, _ = answer
    start = ctx.index(text)
    return SquadRecord(qid, "test", title, ctx, q, ((text, start),))


POOL_RECORDS = [
    rec("When?", answer=("1880", None)),
    SquadRecord("p2", "test", "Other", "Vienna is a city. It had 1,900 people in 1750.", "Which city?",
                (("Vienna", 0),)),
    SquadRecord("p3", "test", "Other", "Vienna is a city. It had 1,900 people in 1750.", "When?",
                (("1750", 31),)),
    SquadRecord("p4", "test", "Other", "Madrid and Lisbon.", "Which?", (("Lisbon", 11),)),
]


def test_entity_swap_replaces_a_term_the_paragraph_has_with_one_it_lacks():
    pools = TermPools(POOL_RECORDS)
    g = entity_swap(rec("What city did Tesla move to in 1880?", answer=("Prague", None)), pools, random.Random(0))
    assert g is not None and g.kind == "entity_swap"
    old, new = g.edit
    assert old in ("Tesla", "1880") and old not in g.record.question
    assert new.casefold() not in P1.casefold()
    assert g.record.answers == () and passes_checks(g)


def test_entity_swap_needs_a_term_the_paragraph_contains():
    pools = TermPools(POOL_RECORDS)
    assert entity_swap(rec("What city did Marconi visit?", answer=("Prague", None)), pools, random.Random(0)) is None


def test_antonym_edit_uses_an_opposite_absent_from_the_paragraph():
    g = antonym_edit(rec("Who was the first chief electrician?", answer=("Tesla", None)), random.Random(0))
    assert g is not None and g.record.question == "Who was the last chief electrician?"
    # "first" -> "last" is refused when the paragraph says "last"
    ctx = P1 + " He was the last to leave."
    assert antonym_edit(rec("Who was the first chief electrician?", ctx=ctx, answer=("Tesla", None)),
                        random.Random(0)) is None


def test_negation_only_where_the_answer_sentence_is_not_negated():
    g = negation_edit(rec("Who was hired by the Budapest Telephone Exchange?", answer=("he", None)))
    assert g is not None and g.record.question == "Who was not hired by the Budapest Telephone Exchange?"
    negated = "Tesla was not hired by Edison in 1880."
    assert negation_edit(rec("Who was hired by Edison?", ctx=negated, answer=("Tesla", None))) is None
    # an auxiliary before the subject would make it ungrammatical: left alone
    assert negation_edit(rec("What year did Tesla move?", answer=("1880", None))) is None


def test_sibling_question_needs_a_paragraph_without_the_answer():
    r = rec("When did Tesla move to Prague?")
    g = sibling_question(r, [P1, P2], random.Random(0))
    assert g is not None and g.record.context == P2 and passes_checks(g)
    with_answer = "In 1880 he also visited Graz."
    assert sibling_question(r, [P1, with_answer], random.Random(0)) is None


def test_generate_counts_every_kind_and_all_pass_checks():
    records = [rec("Who was the first chief electrician hired in 1881?", answer=("Tesla", None), qid=f"a{i}")
               if i % 2 else SquadRecord(f"b{i}", "test", "Nikola", P2, "Who did Tesla work for in New York?",
                                         (("Thomas Edison", P2.index("Thomas Edison")),))
               for i in range(40)] + [SquadRecord("c", "test", "Nikola", P1, "When did he move?", (("1880", 22),))]
    # "Tesla" in P1? no: the first record type's answer must be in its context
    records = [r for r in records if r.answers[0][0] in r.context] + POOL_RECORDS
    gen, stats = generate_unanswerable(records, {k: 1.0 for k in KINDS}, seed=3)
    assert gen and all(passes_checks(g) for g in gen)
    assert {g.kind for g in gen} >= {"antonym", "sibling", "entity_swap"}
    for kind in KINDS:
        assert stats.get(kind, 0) == sum(g.kind == kind for g in gen)
    assert all(not g.record.answers for g in gen)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        generate_unanswerable(POOL_RECORDS, {"paraphrase": 1.0})
