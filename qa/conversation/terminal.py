"""``qa chat``: a conversation in the terminal. Reads questions line by line (typed, or piped in),
prints each answer with its citations and, for a follow-up, how it was interpreted.
``/new`` starts a new conversation, ``/quit`` (or end of input) leaves."""
from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from ..chat import answer_dates
from ..filters import Filter
from ..news.changed import timeline
from ..news.question_time import interpretation
from .asker import ConversationalAsker
from .turns import Conversation

NO_ANSWER = "I could not find that in the articles."
HELP = "Ask a question about the articles; follow-ups may refer back (\"When did it begin?\"). /new starts over, /quit leaves."


def answer_lines(answers: Sequence) -> list[str]:
    """An answer list as readable text: each answer, its score, and where each citation is."""
    if not answers:
        return [NO_ANSWER]
    lines = []
    for i, a in enumerate(answers, 1):
        when = answer_dates(a)  # "Saturday · Sat 16 Nov 2019": the date the words mean, beside them
        lines.append(f"{i}. {a.text}{' ' + when if when else ''}    ({100 * a.score:.0f}% likely right)")
        if getattr(a, "earlier_reports", ()):
            lines.append(f"   Reports over time: {timeline(a)}")
        for c in a.citations:
            lines.append(f"   [{c.credit()}] {c.doc_id}, characters {c.start}-{c.end}")
            lines.append(f"   \"{c.sentence}\"")
    return lines


def run_chat(asker: ConversationalAsker, stdin: IO[str], stdout: IO[str], top_k: int = 3,
             filter: Filter | None = None, prompt: bool = True) -> int:
    """The read-answer loop; returns the number of questions answered."""
    from ..pipeline import QuestionError

    conversation = Conversation()
    asked = 0
    print(HELP, file=stdout)
    while True:
        if prompt:
            print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:  # end of input
            print(file=stdout)
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in ("/quit", "/exit", "/q"):
            break
        if text.lower() == "/new":
            conversation = Conversation()
            print("(new conversation)", file=stdout, flush=True)
            continue
        if text.startswith("/"):
            print(f"unknown command {text.split()[0]}; {HELP}", file=stdout, flush=True)
            continue
        try:
            reply = asker.ask(text, conversation, top_k=top_k, filter=filter)
        except QuestionError as exc:
            print(f"error: {exc}", file=stdout, flush=True)
            continue
        conversation = reply.conversation
        asked += 1
        note = interpretation(reply.interpreted_as, reply.resolution.explanation())  # + time in the question
        if note:
            print(note, file=stdout)
        print("\n".join(answer_lines(reply.answers)), file=stdout, flush=True)
    return asked
