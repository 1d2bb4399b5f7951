"""Scoring follow-up questions: a conversation set asked turn by turn with the history (each turn
resolved against the earlier questions and the product's own answers to them, as ``qa predict``
does), and every follow-up asked again alone, without history, for comparison.

Set format (``qa/eval/conversations.jsonl``): one turn per line, in conversation order::

    {"id": "conv-01-2", "conversation": "conv-01", "question": "What nationality is she?",
     "answers": ["Canadian", "a Canadian"], "doc_id": "001_...", "category": "factoid", "qtype": "what",
     "follow_up": "pronoun", "mentions": ["Carignan"]}

``follow_up``: ``first`` (a conversation's opening question), ``pronoun``, ``ellipsis``, ``what-about``
(the question depends on the history) or ``switch`` (a new topic: it must be answered as if asked
alone). ``mentions``: words the standalone interpretation of a dependent turn must contain (the
referent); the interpretation of a switch is right when it is the question itself. Unanswerable
turns have ``"answers": []`` and ``"doc_id": null``: only withholding an answer is right.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..metrics import exact_match, max_over_golds, token_f1

CONVERSATIONS = Path(__file__).parent / "conversations.jsonl"
FOLLOW_UPS = ("pronoun", "ellipsis", "what-about", "switch")
KINDS = ("first", *FOLLOW_UPS)


@dataclass(frozen=True)
class ConversationTurn:
    id: str
    conversation: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None
    follow_up: str
    mentions: tuple[str, ...] = ()
    standalone: str = ""  # a hand-written standalone form of a follow-up (what a perfect rewrite would ask)
    category: str = ""
    qtype: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_conversations(path: str | Path = CONVERSATIONS) -> list[ConversationTurn]:
    """The turns of a conversation set, in file order; errors name the line."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    out = []
    for n, line in ((n, line) for n, line in enumerate(lines, 1) if line.strip()):
        try:
            turn = _turn(json.loads(line))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a conversation turn ({exc!r}); each line needs \"id\", "
                             '"conversation", "question", "answers", "doc_id" and "follow_up"') from None
        if turn.follow_up not in KINDS:
            raise ValueError(f"{path}:{n}: follow_up {turn.follow_up!r} is not one of {', '.join(KINDS)}")
        out.append(turn)
    return out


def _turn(row: dict) -> ConversationTurn:
    return ConversationTurn(
        id=str(row["id"]), conversation=str(row["conversation"]), question=row["question"],
        answers=tuple(row.get("answers") or ()), doc_id=row.get("doc_id"), follow_up=row["follow_up"],
        mentions=tuple(row.get("mentions") or ()), standalone=row.get("standalone", ""),
        category=row.get("category", ""), qtype=row.get("qtype", ""))


def interpretation_right(turn: ConversationTurn, resolution) -> bool | None:
    """Whether a follow-up was read as meant (None for a first turn)."""
    if turn.follow_up == "first":
        return None
    if turn.follow_up == "switch":
        return not resolution.depends
    text = resolution.interpreted_as.lower()
    return resolution.depends and resolution.confident and all(m.lower() in text for m in turn.mentions)


def _scored(turn: ConversationTurn, answers) -> dict:
    prediction = answers[0].text if answers else ""
    return {"prediction": prediction, "em": max_over_golds(exact_match, prediction, turn.answers),
            "f1": max_over_golds(token_f1, prediction, turn.answers),
            "cited_doc": answers[0].citations[0].doc_id if answers and answers[0].citations else None}


def run_conversations(asker, turns: Sequence[ConversationTurn], *, alone: bool = True, hand_rewrites: bool = True,
                      top_k: int = 3, progress: bool = True) -> list[dict]:
    """One record per turn: the reply with the history (``with``), and for follow-ups the same
    question asked alone (``alone``) and its hand-written standalone form asked alone
    (``hand_rewrite``), each with EM/F1; the interpretation and whether it was right."""
    from tqdm import tqdm

    from ..conversation import Conversation
    from ..pipeline import QuestionError

    conversations: dict[str, Conversation] = {}
    records = []
    for turn in tqdm(turns, desc="conversation turns", unit="turn", disable=not progress):
        conversation = conversations.get(turn.conversation, Conversation())
        rec = {"id": turn.id, "conversation": turn.conversation, "question": turn.question,
               "golds": list(turn.answers), "follow_up": turn.follow_up, "mentions": list(turn.mentions)}
        try:
            reply = asker.ask(turn.question, conversation, top_k=top_k)
        except QuestionError as exc:
            rec.update({"error": str(exc), "with": _scored(turn, []), "interpreted_as": turn.question})
            records.append(rec)
            continue
        conversations[turn.conversation] = reply.conversation
        r = reply.resolution
        rec.update({"with": _scored(turn, reply.answers), "interpreted_as": r.interpreted_as, "cue": r.cue,
                    "depends": r.depends, "confident": r.confident, "note": r.note,
                    "interpretation_right": interpretation_right(turn, r), "timings": reply.timings})
        if alone and turn.follow_up != "first":
            answers = asker.pipeline.ask(turn.question, top_k=top_k)
            rec["alone"] = _scored(turn, answers)
            rec["alone_timings"] = dict(asker.pipeline.last_timings)
            if hand_rewrites and turn.standalone:
                rec["hand_rewrite"] = _scored(turn, asker.pipeline.ask(turn.standalone, top_k=top_k))
        records.append(rec)
    return records


def _pct(values) -> float | None:
    values = list(values)
    return 100.0 * sum(values) / len(values) if values else None


def summarize(records: Sequence[dict]) -> dict:
    """EM/F1 with and without history, abstention on unanswerable follow-ups, interpretation
    accuracy: for all follow-ups, and by kind; the first turns' EM/F1 on their own."""
    follow = [r for r in records if r["follow_up"] != "first"]
    first = [r for r in records if r["follow_up"] == "first"]

    def block(rs: Sequence[dict]) -> dict:
        answerable = [r for r in rs if r["golds"]]
        unanswerable = [r for r in rs if not r["golds"]]
        out = {"count": len(rs), "answerable": len(answerable), "unanswerable": len(unanswerable)}
        for side in ("with", "alone", "hand_rewrite"):
            have = [r for r in rs if side in r]
            if not have:
                continue
            out[side] = {
                "exact_match": _pct(r[side]["em"] for r in have),
                "f1": _pct(r[side]["f1"] for r in have),
                "answerable_exact_match": _pct(r[side]["em"] for r in have if r["golds"]),
                "answered_answerable": sum(1 for r in have if r["golds"] and r[side]["prediction"]),
                "withheld_unanswerable": sum(1 for r in have if not r["golds"] and not r[side]["prediction"]),
            }
        rights = [r["interpretation_right"] for r in rs if r.get("interpretation_right") is not None]
        out["interpretation_right"] = _pct(rights)
        out["not_confident"] = sum(1 for r in rs if r.get("depends") and not r.get("confident"))
        return out

    return {
        "conversations": len({r["conversation"] for r in records}),
        "first": block(first),
        "follow_ups": block(follow),
        "by_kind": {k: block([r for r in follow if r["follow_up"] == k]) for k in FOLLOW_UPS},
        "unanswerable_follow_ups": block([r for r in follow if not r["golds"]]),
    }


def latency(records: Sequence[dict]) -> dict:
    """p50 of the follow-ups' total ask time with and without history, and of the resolution step, ms."""
    import numpy as np

    follow = [r for r in records if r["follow_up"] != "first" and "alone_timings" in r]
    if not follow:
        return {}
    with_total = [1000 * r["timings"]["total"] + 1000 * r["timings"].get("resolve", 0.0) for r in follow]
    alone_total = [1000 * r["alone_timings"]["total"] for r in follow]
    return {"count": len(follow),
            "with_p50_ms": float(np.percentile(with_total, 50)), "alone_p50_ms": float(np.percentile(alone_total, 50)),
            "resolve_p50_ms": float(np.percentile([1000 * r["timings"].get("resolve", 0.0) for r in follow], 50))}


def report_lines(summary: dict, records: Sequence[dict], lat: dict | None = None, source: str = "") -> list[str]:
    """The Markdown section of reports/eval.md about follow-up questions."""
    from . import report as R

    f = summary["follow_ups"]

    def row(name: str, b: dict) -> list:
        w, a, h = b.get("with", {}), b.get("alone", {}), b.get("hand_rewrite", {})
        return [name, b["count"], w.get("exact_match"), a.get("exact_match"), h.get("exact_match"), w.get("f1"),
                a.get("f1"), b.get("interpretation_right")]

    kinds = [row(k, summary["by_kind"][k]) for k in FOLLOW_UPS if summary["by_kind"][k]["count"]]
    un = summary["unanswerable_follow_ups"]
    first = summary["first"]
    misses = [r for r in records if r["follow_up"] != "first" and r["with"]["f1"] < 1.0]
    lines = [
        f"## Follow-up questions ({summary['conversations']} conversations, {f['count']} follow-ups"
        + (f"; `{source}`" if source else "") + ")",
        "",
        "Each conversation is asked in order; a follow-up is resolved against the earlier questions and the "
        "product's own answers (not the gold ones). *With history* = the conversational path "
        "(`qa.conversation.ConversationalAsker`); *alone* = the same question asked on its own (`Pipeline.ask`). "
        "*Hand rewrite* = the set's hand-written standalone form of each follow-up asked alone: what a perfect "
        "rewrite would score with this reader, the reader's ceiling on these turns. "
        "*Interpretation right* = a dependent follow-up was rewritten with confidence and its standalone "
        "form names the referent; a topic switch was left as asked.",
        "",
        R.md_table(["follow-ups", "n", "EM with history", "EM alone", "EM hand rewrite", "F1 with history",
                    "F1 alone", "interpretation right %"], [row("all", f)] + kinds),
        "",
        f"- Unanswerable follow-ups withheld: {un.get('with', {}).get('withheld_unanswerable', 0)} of {un['count']} "
        f"with history, {un.get('alone', {}).get('withheld_unanswerable', 0)} alone.",
        f"- Answerable follow-ups answered: {f.get('with', {}).get('answered_answerable', 0)} of {f['answerable']} "
        f"with history, {f.get('alone', {}).get('answered_answerable', 0)} alone.",
        f"- Follow-ups the resolver was not confident about (answered as asked, with a note): {f['not_confident']}.",
        f"- First turns ({first['count']}): EM {R.fmt(first['with']['exact_match'])}, "
        f"F1 {R.fmt(first['with']['f1'])} (they stand alone: the same as `Pipeline.ask`).",
    ]
    if lat:
        lines.append(f"- Latency over the {lat['count']} follow-ups (this run; see README for the paused "
                     f"measurement): p50 {lat['with_p50_ms']:.0f} ms with history vs {lat['alone_p50_ms']:.0f} ms "
                     f"alone; resolution step p50 {lat['resolve_p50_ms']:.2f} ms.")
    lines += [
        "",
        f"### Follow-ups not answered exactly with history ({len(misses)})",
        "",
        R.md_table(["id", "kind", "question", "interpreted as", "gold", "prediction", "alone"],
                   [[r["id"], r["follow_up"], _cell(r["question"]), _cell(r["interpreted_as"])
                     + ("" if r.get("confident", True) else " (not confident)"),
                     _cell(" / ".join(r["golds"]) or "(unanswerable)"), _cell(r["with"]["prediction"] or "(none)"),
                     _cell(r.get("alone", {}).get("prediction") or "(none)")] for r in misses]),
        "",
    ]
    return lines


def _cell(text: str) -> str:
    return " ".join(str(text).replace("|", "/").split())[:120]
