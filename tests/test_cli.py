import json

import pytest

from qa import cli

from .conftest import FakeEncoder


@pytest.fixture(autouse=True)
def fake_models(monkeypatch):
    monkeypatch.setattr("qa.pipeline.MiniLMEncoder", lambda batch_size=32: FakeEncoder())


def _run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_index_then_ask_json(capsys, small_corpus, tmp_path):
    base = ["--corpus", str(small_corpus), "--index-dir", str(tmp_path / "idx")]
    code, out, _ = _run(capsys, "index", *base, "--quiet")
    assert code == 0 and "3 added" in out
    code, out, _ = _run(capsys, "ask", "Who designed the Tay bridge?", *base, "--reader", "heuristic", "--json")
    payload = json.loads(out)
    assert code == 0 and payload["question"] == "Who designed the Tay bridge?"
    top = payload["answers"][0]
    assert top["text"] == "Anna Kowalski" and 0 <= top["score"] <= 1
    assert set(top["citations"][0]) >= {"doc_id", "title", "start", "end", "text", "sentence"}


def test_ask_text_output_and_no_answer(capsys, small_corpus, tmp_path):
    base = ["--corpus", str(small_corpus), "--index-dir", str(tmp_path / "idx"), "--reader", "heuristic"]
    code, out, _ = _run(capsys, "ask", "Who designed the Tay bridge?", *base)
    assert code == 0 and "Anna Kowalski" in out and "New bridge opens" in out
    code, out, _ = _run(capsys, "ask", "What is the boiling point of mercury?", *base)
    assert "could not find" in out


def test_ask_empty_question_is_a_usage_error(capsys, small_corpus, tmp_path):
    code, _, err = _run(capsys, "ask", "   ", "--corpus", str(small_corpus), "--index-dir", str(tmp_path / "i"),
                        "--reader", "heuristic")
    assert code == 2 and "type a question" in err


def test_predict_schema(capsys, small_corpus, tmp_path):
    questions = tmp_path / "q.jsonl"
    rows = [{"id": "q1", "question": "Who designed the Tay bridge?"},
            {"id": "q2", "question": "What is the boiling point of mercury?"},
            {"id": "q3", "question": "When was it founded?", "context": "It was founded in 1852."},
            {"id": "q4", "question": ""}]
    questions.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out_path = tmp_path / "out" / "pred.jsonl"
    code, _, err = _run(capsys, "predict", str(questions), "--out", str(out_path), "--corpus", str(small_corpus),
                        "--index-dir", str(tmp_path / "idx"), "--reader", "heuristic", "--quiet")
    assert code == 0 and "1 questions could not be asked" in err
    preds = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert [p["id"] for p in preds] == ["q1", "q2", "q3", "q4"]
    for p in preds:
        assert set(p) >= {"id", "question", "answer", "score", "citations", "dates", "question_time"}
        for c in p["citations"]:
            assert set(c) == {"doc_id", "title", "source", "published", "url", "page", "start", "end",
                              "text", "dates"} and c["text"] == p["answer"]
    assert preds[0]["answer"] == "Anna Kowalski" and preds[0]["citations"][0]["doc_id"] == "bridge"
    assert preds[1]["answer"] == "" and preds[1]["citations"] == []
    assert preds[2]["answer"] == "1852" and preds[2]["citations"][0]["doc_id"] == "context"
    assert preds[3]["answer"] == "" and "type a question" in preds[3]["error"]


def test_predict_rejects_malformed_input(capsys, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "question": "ok"}\nnot json\n', encoding="utf-8")
    code, _, err = _run(capsys, "predict", str(bad), "--out", str(tmp_path / "o.jsonl"))
    assert code == 2 and "bad.jsonl:2" in err and not (tmp_path / "o.jsonl").exists()


def test_every_command_has_help(capsys):
    for cmd in ([], ["index"], ["ask"], ["predict"], ["chat"]):
        with pytest.raises(SystemExit) as info:
            cli.main([*cmd, "--help"])
        assert info.value.code == 0
        assert "usage:" in capsys.readouterr().out


def test_predict_output_is_replaced_atomically(capsys, small_corpus, tmp_path, monkeypatch):
    """A failure while writing predictions leaves the previous file whole and no temp file behind."""
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "q1", "question": "Who designed the Tay bridge?"}\n', encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    out.write_text("previous\n", encoding="utf-8")

    def fail(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr("qa.fsutil.os.replace", fail)
    with pytest.raises(OSError, match="simulated"):
        cli.main(["predict", str(questions), "--out", str(out), "--corpus", str(small_corpus),
                  "--index-dir", str(tmp_path / "idx"), "--reader", "heuristic", "--quiet"])
    assert out.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pred")] == []



def test_output_cut_short_by_a_closed_pipe_is_not_a_traceback():
    # `qa ask ... --json | head -c 1`: the reader closes the pipe early; the command must end
    # quietly. A command printing far more than a pipe buffer stands in for a long JSON answer.
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys, qa.cli as c\n"
        "def flood(args):\n"
        "    for _ in range(20000):\n"
        "        print('x' * 100)\n"
        "    return 0\n"
        "c.cmd_index = flood\n"  # main() builds its parser after this, so `index` runs flood
        "sys.exit(c.main(['index']))\n"
    )
    proc = subprocess.run(f"{sys.executable} -c \"$QA_SCRIPT\" | head -c 1 >/dev/null",
                          shell=True, capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1], env={**__import__("os").environ, "QA_SCRIPT": script})
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "BrokenPipe" not in proc.stderr


def test_predict_resolves_conversations_in_file_order(capsys, small_corpus, tmp_path):
    rows = [{"id": "a1", "conversation": "c1", "question": "Who designed the new Tay bridge?"},
            {"id": "b1", "conversation": "c2", "question": "How many homes lost power in the storm named Fiona?"},
            {"id": "a2", "conversation": "c1", "question": "How much did it cost?"},
            {"id": "x", "question": "How much did it cost?"},  # no conversation: asked alone
            {"id": "b2", "conversation": "c2", "question": "How much did it cost?"}]
    questions = tmp_path / "q.jsonl"
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    code, _, _ = _run(capsys, "predict", str(questions), "--out", str(out), "--corpus", str(small_corpus),
                      "--index-dir", str(tmp_path / "idx"), "--reader", "heuristic", "--quiet")
    preds = {p["id"]: p for p in map(json.loads, out.read_text().splitlines())}
    assert code == 0 and all("interpreted_as" in p for p in preds.values())
    assert preds["a1"]["interpreted_as"] == preds["a1"]["question"]
    assert preds["a2"]["interpreted_as"] == "How much did the new Tay bridge cost?"
    assert preds["a2"]["answer"] == "$40 million"
    assert preds["x"]["interpreted_as"] == "How much did it cost?" and preds["x"]["answer"] == ""
    assert "bridge" not in preds["b2"]["interpreted_as"]  # another conversation's history never leaks in


CHAT_SCRIPT = (
    "import sys\n"
    "from tests.conftest import FakeEncoder\n"
    "import qa.pipeline, qa.cli\n"
    "qa.pipeline.MiniLMEncoder = lambda batch_size=32: FakeEncoder()\n"
    "sys.exit(qa.cli.main(sys.argv[1:]))\n"
)


def test_chat_in_a_terminal_answers_follow_ups_and_starts_over(small_corpus, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    typed = "Who designed the new Tay bridge?\nHow much did it cost?\n/new\nHow much did it cost?\n/bogus\n/quit\nnever read\n"
    proc = subprocess.run([sys.executable, "-c", CHAT_SCRIPT, "chat", "--corpus", str(small_corpus), "--index-dir",
                           str(tmp_path / "idx"), "--reader", "heuristic"], input=typed, capture_output=True,
                          text=True, cwd=root, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "/new starts over" in out
    assert "1. Anna Kowalski" in out and "[New bridge opens] bridge, characters" in out  # answer + citation
    first, _, after_new = out.partition("(new conversation)")
    assert "Interpreted as: How much did the new Tay bridge cost?" in first and "$40 million" in first
    assert "Interpreted as" not in after_new and "I could not find that in the articles." in after_new
    assert "unknown command /bogus" in after_new and "never read" not in out
