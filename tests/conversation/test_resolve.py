"""The follow-up resolver on hand-made turns: one test per follow-up pattern, plus the cases where
it must not use the history (a new topic) or must say it could not tell."""
from __future__ import annotations

import pytest

from qa.conversation import Conversation, FollowUpResolver, Turn
from qa.conversation.resolve import ELLIPSIS, FIRST, PRONOUN, STANDALONE, UNDERSPECIFIED, WHAT_ABOUT
from qa.types import Answer, Citation


def answer(text: str, sentence: str | None = None) -> Answer:
    sentence = sentence or text
    start = sentence.index(text)
    return Answer(text, 0.9, [Citation("doc", "Title", "doc.txt", start, start + len(text), text, sentence, 0,
                                       len(sentence), "doc#0")])


def turns(*pairs) -> tuple[Turn, ...]:
    """(question, answer text or None[, sentence]) -> turns as the asker would record them."""
    r = FollowUpResolver()
    c = Conversation()
    for q, a, *sentence in pairs:
        res = r.resolve(q, c.turns)
        c = c.then(Turn(q, res.interpreted_as, (answer(a, *sentence),) if a else (), res.referent, res.cue))
    return c.turns


def resolve(question: str, *pairs, rarity=None):
    return FollowUpResolver(rarity=rarity).resolve(question, turns(*pairs))


def test_first_question_stands_alone_even_with_a_pronoun():
    r = FollowUpResolver().resolve("When did it begin?", ())
    assert (r.interpreted_as, r.depends, r.cue) == ("When did it begin?", False, FIRST)


def test_person_pronoun_takes_the_previous_answer():
    r = resolve("What nationality is she?", ("Who commands the NATO training mission?", "Jennie Carignan"))
    assert r.interpreted_as == "What nationality is Jennie Carignan?"
    assert (r.depends, r.confident, r.cue, r.referent) == (True, True, PRONOUN, "Jennie Carignan")
    assert r.explanation() == "Interpreted as: What nationality is Jennie Carignan?"


def test_a_descriptive_answer_is_widened_to_the_name_beside_it():
    sentence = "the NATO mission is itself under the command of a Canadian, Major-General Jennie Carignan and more."
    r = resolve("What rank does she hold?", ("Who commands the NATO mission?", "a Canadian", sentence))
    assert r.interpreted_as == "What rank does Major-General Jennie Carignan hold?"


def test_it_after_a_definitional_question_is_its_subject_not_the_answer():
    r = resolve("When did it begin?", ("What is Operation Impact?", "the U.S.-led coalition to defeat ISIS"))
    assert r.interpreted_as == "When did Operation Impact begin?"


def test_it_after_a_which_question_is_the_answer():
    r = resolve("How long has it been involved?", ("Which aircraft will come home in mid-December?",
                                                   "the one remaining Aurora intelligence aircraft"))
    assert r.interpreted_as == "How long has the one remaining Aurora intelligence aircraft been involved?"


def test_a_referent_carries_on_to_the_next_pronoun():
    r = resolve("What did it begin with?", ("What is Operation Impact?", "a coalition"),
                ("When did it begin?", "2014"))
    assert r.interpreted_as == "What did Operation Impact begin with?"


def test_they_after_how_many_is_the_counted_noun_and_possessives_keep_their_form():
    history = ("How many Canadian army engineers were deployed to Besmaya?", "Approximately 20")
    assert resolve("Which base are they from?", history).interpreted_as == \
        "Which base are the Canadian army engineers from?"
    assert resolve("What is their task?", history).interpreted_as == "What is the Canadian army engineers' task?"


def test_only_the_first_of_two_pronouns_for_one_person_is_replaced():
    r = resolve("Where did he give his interview?", ("Who commands Joint Task Force-Iraq?", "Brig.-Gen. Dan MacIsaac"))
    assert r.interpreted_as == "Where did Brig.-Gen. Dan MacIsaac give his interview?"


def test_ellipsis_completes_the_previous_question_with_its_answer():
    history = ("How many missiles did Iran fire?", "22")
    r = resolve("At how many bases?", history)
    assert r.interpreted_as == "At how many bases did Iran fire 22 missiles?"
    assert (r.cue, r.confident) == (ELLIPSIS, True)
    assert resolve("Why?", history).interpreted_as == "Why did Iran fire 22 missiles?"


def test_ellipsis_after_a_subject_question_puts_the_answer_first():
    r = resolve("Where?", ("Who carried out the Dec. 27 rocket attack?", "a Shia militia group"))
    assert r.interpreted_as == "Where a Shia militia group carried out the Dec. 27 rocket attack?"


def test_ellipsis_asking_the_same_thing_again_swaps_the_phrase():
    r = resolve("How many in Iraq?", ("How many troops does Operation Impact have in all?", "roughly 800 troops"))
    assert r.interpreted_as == "How many troops does Operation Impact have in Iraq?"


@pytest.mark.parametrize("follow_up", ["What about Joint Task Force Impact?", "And what about Joint Task Force Impact?",
                                       "How about Joint Task Force Impact?"])
def test_what_about_swaps_the_matching_phrase_of_the_question(follow_up):
    r = resolve(follow_up, ("Who commands the NATO training mission?", "Jennie Carignan"))
    assert r.interpreted_as == "Who commands Joint Task Force Impact?"
    assert (r.cue, r.referent) == (WHAT_ABOUT, "Joint Task Force Impact")


def test_what_about_never_puts_an_organisation_in_place_of_a_person():
    r = resolve("What about Joint Task Force Impact?", ("Who commands the NATO training mission?", "Jennie Carignan"),
                ("What nationality is she?", "Canadian"))
    assert r.interpreted_as == "Who commands Joint Task Force Impact?"  # from the turn before


def test_and_with_a_prepositional_phrase_replaces_the_same_preposition():
    r = resolve("What about in Lebanon?", ("What did three Canadian soldiers do in Jordan?", "mentored a platoon"))
    assert r.interpreted_as == "What did three Canadian soldiers do in Lebanon?"
    r = resolve("And of the NATO mission?", ("Who is the commander of Joint Task Force Impact?", "Gen. St-Louis"))
    assert r.interpreted_as == "Who is the commander of the NATO mission?"


def test_and_with_a_noun_phrase_prefers_the_object_of_the_same_kind():
    r = resolve("And Hercules transport planes?", ("Where do Canadians operate helicopters?", "in Baghdad"))
    assert r.interpreted_as == "Where do Canadians operate Hercules transport planes?"


@pytest.mark.parametrize("question", ["Who said so?", "Who said that?"])
def test_so_and_that_stand_for_the_previous_statement(question):
    r = resolve(question, ("Since when had Canadian troops been at higher alert?", "since about Dec. 28"))
    assert r.interpreted_as == "Who said that Canadian troops had been at higher alert since about Dec. 28?"


def test_demonstrative_with_a_noun_finds_the_phrase_with_that_noun():
    r = resolve("What were those troops unused to?", ("What about Lebanon?", None),
                ("What training did Canadians give?", "winter warfare training to Lebanese troops"))
    assert r.interpreted_as == "What were Lebanese troops unused to?"


@pytest.mark.parametrize("question", [
    "How many troops did Canada commit in June?",  # names its topic
    "Who is the task force sergeant-major?",  # long enough and with rare words of its own
    "How many soldiers did the Iraqi army say it lost?",  # the pronoun points inside the question
    "How many militias are there?",  # existential "there"
])
def test_a_new_topic_stands_alone_and_the_history_does_not_leak(question):
    r = resolve(question, ("Who commands the NATO training mission?", "Jennie Carignan"),
                rarity=lambda words: {w: 0.9 for w in words})
    assert (r.interpreted_as, r.depends, r.cue) == (question, False, STANDALONE)
    assert r.explanation() is None


def test_a_pronoun_object_is_not_bound_by_its_own_subject():
    r = resolve("How did the U.S. respond to it?", ("Who carried out the Dec. 27 rocket attack?", "a militia"))
    assert r.depends and r.interpreted_as == "How did the U.S. respond to the Dec. 27 rocket attack?"


def test_a_short_question_without_a_rare_word_is_read_as_about_the_topic():
    r = resolve("Who took the photograph?", ("In which city is the embassy where St-Louis was photographed?",
                                             "Kuwait City"), rarity=lambda words: {w: 0.1 for w in words})
    assert r.cue == UNDERSPECIFIED and r.depends
    assert "St-Louis" in r.interpreted_as and r.interpreted_as.startswith("Who took the photograph")


def test_no_referent_says_so_and_answers_as_asked():
    r = resolve("What is her position?", ("How many missiles did Iran fire?", "22"))
    assert (r.interpreted_as, r.depends, r.confident) == ("What is her position?", True, False)
    assert "“her”" in r.note and "as asked" in r.explanation()


def test_what_about_with_nothing_to_replace_says_so():
    r = resolve("What about Jennie Carignan?", ("How many missiles did Iran fire?", "22"))
    assert (r.interpreted_as, r.confident) == ("What about Jennie Carignan?", False)


def test_a_withheld_answer_is_not_a_referent():
    r = resolve("What nationality is she?", ("Who commands the NATO training mission?", None))
    assert not r.confident


def test_resolver_checks_its_settings():
    with pytest.raises(ValueError, match="rare"):
        FollowUpResolver(rare=2.0)
    with pytest.raises(ValueError, match="lookback"):
        FollowUpResolver(lookback=0)


def test_after_an_unanswered_who_is_question_he_is_the_person_described():
    r = resolve("Where was he interviewed?", ("Who is the commander of the Joint Task Force-Iraq?", None))
    assert r.interpreted_as == "Where was the commander of the Joint Task Force-Iraq interviewed?"
