"""qa/auth.py and its use by the chat: hashed passwords, roles, and a public server needs a login."""
from __future__ import annotations

import json
import stat
import subprocess

import pytest

import app as chat_app
from qa import auth
from qa.pipeline import Pipeline

from .chat_helpers import PYTHON, ROOT
from .conftest import FakeEncoder

PASSWORD = "correct horse battery"


def test_passwords_are_stored_salted_and_hashed_never_in_clear(tmp_path):
    users = auth.Users({}).with_user("ana", PASSWORD, admin=True).with_user("ben", PASSWORD)
    path = tmp_path / "users.json"
    users.save(path)
    text = path.read_text()
    assert PASSWORD not in text
    entries = json.loads(text)["users"]
    assert entries["ana"]["salt"] != entries["ben"]["salt"]  # same password, different salts...
    assert entries["ana"]["hash"] != entries["ben"]["hash"]  # ...so different hashes
    assert entries["ana"]["kdf"] == "scrypt" and entries["ana"]["n"] >= 2 ** 14
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["users.json"]  # no temp file left


def test_check_accepts_only_the_right_name_and_password(tmp_path):
    path = tmp_path / "users.json"
    auth.Users({}).with_user("ana", PASSWORD, admin=True).save(path)
    users = auth.Users.load(path)
    assert users.check("ana", PASSWORD)
    assert not users.check("ana", PASSWORD + "!")
    assert not users.check("bob", PASSWORD)
    assert not users.check("ana", "")
    assert not users.check(None, None)


def test_roles():
    users = auth.Users({}).with_user("ana", PASSWORD, admin=True).with_user("ben", PASSWORD)
    assert users.is_admin("ana") and not users.is_admin("ben") and not users.is_admin(None)
    assert users.admins == ["ana"]
    assert auth.Access(users, read_only=False).may_edit("ana")
    assert not auth.Access(users, read_only=False).may_edit("ben")
    assert not auth.Access(users, read_only=True).may_edit("ana")
    assert auth.Access(None, read_only=False).may_edit(None)  # loopback, no login: the machine's user
    assert not auth.Access(None, read_only=True).may_edit(None)


@pytest.mark.parametrize("name, password, message", [
    ("", PASSWORD, "not allowed"), ("../etc", PASSWORD, "not allowed"), ("ana", "short", "at least"),
])
def test_bad_names_and_short_passwords_are_refused(name, password, message):
    with pytest.raises(auth.UsersError, match=message):
        auth.Users({}).with_user(name, password)


@pytest.mark.parametrize("content", ["not json", "[]", '{"format": 1, "users": {"a": {"role": "root"}}}'])
def test_a_damaged_users_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "users.json"
    path.write_text(content)
    with pytest.raises(auth.UsersError, match="qa users add"):
        auth.Users.load(path)


def test_a_public_server_needs_a_login(tmp_path):
    with pytest.raises(auth.UsersError, match="needs a login"):
        auth.server_access("0.0.0.0", False, None, read_only=True)
    with pytest.raises(auth.UsersError, match="share"):
        auth.server_access("127.0.0.1", True, None, read_only=False)
    assert auth.server_access("127.0.0.1", False, None, read_only=False).users is None
    path = tmp_path / "users.json"
    auth.Users({}).save(path)
    with pytest.raises(auth.UsersError, match="no users"):
        auth.server_access("0.0.0.0", False, path, read_only=False)
    auth.Users({}).with_user("ana", PASSWORD, admin=True).save(path)
    access = auth.server_access("0.0.0.0", False, path, read_only=False)
    assert access.users.check("ana", PASSWORD) and access.may_edit("ana")


def test_users_file_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(auth.ENV_FILE, str(tmp_path / "env.json"))
    assert auth.users_file(None) == tmp_path / "env.json"
    assert auth.users_file(str(tmp_path / "flag.json")) == tmp_path / "flag.json"


def test_qa_users_command_adds_lists_and_removes(tmp_path):
    path = tmp_path / "users.json"

    def qa(*args, stdin=""):
        return subprocess.run([PYTHON, "-m", "qa", "users", *args, "--file", str(path)], input=stdin,
                              capture_output=True, text=True, cwd=ROOT, timeout=120)

    out = qa("add", "ana", "--admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert out.returncode == 0, out.stderr
    assert qa("add", "ben", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    assert qa("list").stdout.split("\n")[:2] == ["ana\tadmin", "ben\tuser"]
    assert auth.Users.load(path).check("ben", PASSWORD)
    short = qa("add", "cy", "--password-stdin", stdin="abc\n")
    assert short.returncode == 2 and "at least" in short.stderr
    assert qa("remove", "ben").returncode == 0
    assert list(auth.Users.load(path).entries) == ["ana"]


def test_the_app_refuses_a_public_interface_without_users(tmp_path, capsys):
    code = chat_app.main(["--host", "0.0.0.0", "--corpus", str(tmp_path), "--index-dir", str(tmp_path / "i"),
                          "--reader", "heuristic"])
    assert code == 2
    err = capsys.readouterr().err
    assert "needs a login" in err and "qa users add" in err


@pytest.fixture
def app_with_users(small_corpus, tmp_path):
    p = Pipeline(small_corpus, tmp_path / "index", reader="heuristic", encoder=FakeEncoder())
    p.warm_up()
    users = auth.Users({}).with_user("ana", PASSWORD, admin=True).with_user("ben", PASSWORD)
    return chat_app.ChatApp(p, access=auth.Access(users, read_only=False))


def test_only_admins_may_upload_and_remove(app_with_users, tmp_path):
    app = app_with_users
    path = tmp_path / "up" / "ferry.txt"
    path.parent.mkdir()
    path.write_text("Ferry news\n\nThe ferry Bluenose Spirit was launched by Mara Quint.")
    status, _, _ = app.upload([str(path)], username="ben")
    assert chat_app.NOT_ALLOWED in status and not (app.pipeline.corpus_dir / "ferry.txt").exists()
    status, *_ = app.remove("storm", username="ben")
    assert chat_app.NOT_ALLOWED in status and (app.pipeline.corpus_dir / "storm.txt").exists()
    status, _, _ = app.upload([str(path)], username="ana")
    assert "ferry.txt: added" in status
    status, *_ = app.remove("storm", username="ana")
    assert "removed" in status


def test_read_only_refuses_even_admins(app_with_users, tmp_path):
    app = app_with_users
    app.access = auth.Access(app.access.users, read_only=True)
    status, *_ = app.remove("storm", username="ana")
    assert chat_app.NOT_ALLOWED in status and (app.pipeline.corpus_dir / "storm.txt").exists()
