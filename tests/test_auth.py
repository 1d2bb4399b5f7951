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
    assert not users.check("ana", PASSWORD + "\0")  # hashlib.scrypt stops at a NUL: found by a probe
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
    ("ana", PASSWORD + "\0tail", "NUL"),
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
    out = qa("logout", "ana")  # ends ana's sessions in a running chat (her session generation goes up)
    assert out.returncode == 0 and auth.Users.load(path).entries["ana"]["sessions"] == 1
    assert auth.Users.load(path).check("ana", PASSWORD)


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


# ------------------------------------------------------------------ issue 22: logins, sessions, serving

from qa.security import uploads  # noqa: E402
from qa.security.uploads import UploadLimits  # noqa: E402

from .security_helpers import files_under, guarded  # noqa: E402


def _fail_until(g, failures: int, name: str = "ana") -> list[int]:
    """Wrong passwords until ``failures`` were checked, waiting (on the test clock) when told to."""
    statuses = []
    while len(statuses) < failures:
        r = g.login(name, "wrong password!")
        if r.status_code == 429:
            g.clock.now += float(r.headers["Retry-After"])
            continue
        statuses.append(r.status_code)
    return statuses


def test_twenty_wrong_passwords_delay_further_attempts_for_at_least_a_minute(tmp_path, caplog):
    g = guarded(tmp_path)
    caplog.set_level("WARNING", logger="qa.security")
    assert _fail_until(g, 20) == [400] * 20
    r = g.login()  # even the right password waits
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 60
    assert "too many failed logins" in r.json()["detail"]
    g.clock.now += 59
    assert g.login().status_code == 429
    assert "failed login for user name 'ana' from testclient (20 failures" in caplog.text
    g.clock.now += 900
    assert g.login().status_code == 200  # the wait ends; a success clears the name's count


def test_the_wait_grows_exponentially_and_parallel_guesses_cannot_slip_through():
    from qa.security.throttle import LoginThrottle

    t = LoginThrottle(free_per_name=5)
    assert [t.wait_after("name", n) for n in (4, 5, 6, 7, 10)] == [0, 1, 2, 4, 32]
    assert t.wait_after("name", 20) == 900
    allowed = [t.attempt("ana", f"10.0.0.{i}").allowed for i in range(8)]  # 8 at once, none answered yet
    assert allowed == [True] * 5 + [False] * 3


def test_the_password_check_runs_off_the_event_loop(tmp_path):
    import threading

    g = guarded(tmp_path)
    threads = []
    real = g.guard.users.check

    def check(name, password):
        threads.append(threading.get_ident())
        return real(name, password)

    g.guard.users.check = check
    with g.client:
        loop_thread = g.client.portal.call(_thread_id)
        assert g.login().status_code == 200
    assert threads and threads[0] != loop_thread


async def _thread_id():
    import threading

    return threading.get_ident()


def test_sessions_expire(tmp_path):
    g = guarded(tmp_path, lifetime=600)
    assert g.login().status_code == 200
    assert g.client.get("/config").status_code == 200
    g.clock.now += 601
    assert g.client.get("/config").status_code == 401


def test_removing_a_user_or_changing_her_password_ends_her_sessions_at_once(tmp_path):
    import argparse

    g = guarded(tmp_path)
    assert g.login("ben").status_code == 200 and g.client.get("/config").status_code == 200
    args = argparse.Namespace(file=str(g.users_path), action="remove", name="ben", admin=False, password_stdin=False)
    assert auth.cmd_users(args) == 0  # what `qa users remove ben` does, while the server runs
    assert g.client.get("/config").status_code == 401
    assert g.login("ben").status_code == 400  # and she cannot log in again
    (tmp_path / "b").mkdir()
    other = guarded(tmp_path / "b")
    assert other.login("ana").status_code == 200
    auth.Users.load(other.users_path).with_user("ana", "a new password here", admin=True).save(other.users_path)
    assert other.client.get("/config").status_code == 401
    assert other.login("ana").status_code == 400 and other.login("ana", "a new password here").status_code == 200
    auth.Users.load(other.users_path).with_sessions_ended("ana").save(other.users_path)  # qa users logout ana
    assert other.client.get("/config").status_code == 401


@pytest.mark.parametrize("host, resolved, loopback", [
    ("127.0.0.1", None, True), ("::1", None, True), ("[::1]", None, True), ("127.1.2.3", None, True),
    ("::ffff:127.0.0.1", None, True), ("localhost", ["127.0.0.1", "::1"], True),
    ("127.evil.example", ["127.0.0.1"], False), ("127.0.0.1.nip.io", ["127.0.0.1"], False),
    ("localhost", ["127.0.0.1", "192.168.1.9"], False), ("localhost", [], False), ("0.0.0.0", None, False),
    ("10.0.0.1", None, False), ("127.0.0.1 ", None, False), ("", None, False),
])
def test_loopback_is_decided_by_address_not_spelling(host, resolved, loopback):
    def resolve(name):
        assert resolved is not None, f"{name} must not be looked up"
        return resolved

    assert auth.is_loopback(host, resolve) is loopback


@pytest.mark.parametrize("host", ["127.evil.example", "127.0.0.1.nip.io"])
def test_a_name_that_looks_like_loopback_needs_a_login(host):
    with pytest.raises(auth.UsersError, match="needs a login") as err:
        auth.server_access(host, False, None, read_only=False, resolve=lambda name: ["127.0.0.1"])
    assert "--host 127.0.0.1" in str(err.value)


def test_a_foreign_host_or_a_cross_origin_upload_is_refused(tmp_path):
    g = guarded(tmp_path, login=False)
    page = g.client.get("/", headers={"host": "evil.example:7860"})  # DNS rebinding
    assert page.status_code == 403 and "--allowed-host evil.example" in page.json()["detail"]
    files = {"files": ("a.txt", b"Cross news\n\nSomething happened.")}
    r = g.client.post("/gradio_api/upload", files=files, headers={"origin": "http://evil.example"})
    assert r.status_code == 403 and "cross-origin" in r.json()["detail"]
    r = g.client.post("/gradio_api/upload", files=files,
                      headers={"host": "evil.example", "origin": "http://evil.example"})
    assert r.status_code == 403
    assert files_under(g.upload_folder) == []
    r = g.client.post("/gradio_api/upload", files=files, headers={"origin": "http://127.0.0.1:7860"})
    assert r.status_code == 200 and len(files_under(g.upload_folder)) == 1


def test_uploads_are_bounded_per_user_and_in_total_and_leave_nothing_when_refused(tmp_path):
    limits = UploadLimits(per_request_bytes=5000, files_per_request=2, per_user_bytes_per_hour=8000,
                          total_bytes=12_000)
    g = guarded(tmp_path, limits=limits, lifetime=10 ** 6)
    assert g.login("ben").status_code == 200
    one = {"files": ("a.txt", b"x" * 100)}
    r = g.client.post("/gradio_api/upload", files=one)
    assert r.status_code == 403 and "only administrators" in r.json()["detail"]
    assert g.login("ana").status_code == 200
    r = g.client.post("/gradio_api/upload", files={"files": ("big.txt", b"x" * 6000)})
    assert r.status_code == 413 and "more than the 5 kB allowed at once" in r.json()["detail"]
    many = [("files", (f"{i}.txt", f"file {i}".encode())) for i in range(3)]
    r = g.client.post("/gradio_api/upload", files=many)
    assert r.status_code == 413 and "at most 2" in r.json()["detail"]
    assert files_under(g.upload_folder) == []  # refused: nothing left behind
    for _ in range(2):
        assert g.client.post("/gradio_api/upload", files={"files": ("c.txt", b"y" * 3000)}).status_code == 200
    r = g.client.post("/gradio_api/upload", files={"files": ("d.txt", b"z" * 3000)})
    assert r.status_code == 413 and "in the last hour" in r.json()["detail"]
    g.clock.now += 3601  # a new hour, but the folder's total is the bound now
    (g.upload_folder / "other").mkdir()
    (g.upload_folder / "other" / "left.bin").write_bytes(b"0" * 7000)
    r = g.client.post("/gradio_api/upload", files={"files": ("e.txt", b"w" * 3000)})
    assert r.status_code == 413 and "upload space is full" in r.json()["detail"]


def test_stale_partial_uploads_are_swept_and_discard_stays_inside_the_folder(tmp_path):
    folder = tmp_path / "up"
    (folder / "abc").mkdir(parents=True)
    part = folder / "tmpab12_xyz"
    part.write_bytes(b"partial")
    os_time = part.stat().st_mtime
    assert uploads.sweep(folder, stale_after=600, now=os_time + 10) == 0
    (folder / "notes.txt").write_text("not a part file")
    assert uploads.sweep(folder, stale_after=600, now=os_time + 601) == 1 and not part.exists()
    assert (folder / "notes.txt").exists()
    kept = tmp_path / "outside.txt"
    kept.write_text("mine")
    assert not uploads.discard(kept, folder) and kept.exists()
    inner = folder / "abc" / "a.txt"
    inner.write_text("upload")
    assert uploads.discard(inner, folder) and not (folder / "abc").exists()


def test_the_chat_deletes_an_upload_once_read_added_or_refused(app_with_users, tmp_path):
    app = app_with_users
    folder = tmp_path / "gradio"
    app.upload_folder = str(folder)
    good, bad = folder / "h1" / "ferry.txt", folder / "h2" / "empty.txt"
    for path, text in ((good, "Ferry news\n\nThe ferry Bluenose Spirit was launched by Mara Quint."), (bad, "")):
        path.parent.mkdir(parents=True)
        path.write_text(text)
    status, _, _ = app.upload([str(good), str(bad)], username="ana")
    assert "ferry.txt: added" in status and "empty.txt: not added" in status
    assert files_under(folder) == []
    assert (app.pipeline.corpus_dir / "ferry.txt").is_file()  # the article itself is kept


def test_the_anonymous_login_page_reveals_nothing_about_the_corpus(news_app_for_login, tmp_path):
    app, titles = news_app_for_login
    demo = chat_app.build_ui(app, ["How many bushels per acre are canola farmers reporting?"])
    g = guarded(tmp_path, demo=demo)
    page = g.client.get("/")
    assert page.status_code == 200 and "auth_required" in page.text
    for secret in app.outlets() + titles + ["canola"]:
        assert secret not in page.text, secret
    assert g.login().status_code == 200  # once logged in, the outlets arrive (on load)
    assert g.client.get("/config").status_code == 200


@pytest.fixture
def news_app_for_login(tmp_path):
    from .news_helpers import copy_folder_files

    p = Pipeline(copy_folder_files(tmp_path / "news"), tmp_path / "news-index", reader="heuristic",
                 encoder=FakeEncoder())
    p.warm_up()
    return chat_app.ChatApp(p), [d.title for d in p.documents]


@pytest.mark.parametrize("argv, message", [
    (["--allowed-host", "*"], "needs a login"),
    (["--session-hours", "0"], "--session-hours"),
    (["--upload-space-mb", "0"], "--upload-space-mb"),
    (["--host", "127.0.0.1.nip.io"], "is a name, not a loopback address"),
])
def test_the_app_refuses_unsafe_serving_options_before_loading_anything(tmp_path, capsys, argv, message):
    code = chat_app.main([*argv, "--corpus", str(tmp_path), "--index-dir", str(tmp_path / "i"), "--reader", "heuristic"])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "i").exists()


def test_the_page_answers_while_password_checks_are_still_running(tmp_path):
    """Deterministic form of "guessing does not slow the page": with every check held in its thread,
    the page still answers (before issue 22 the check ran on the event loop and the page waited)."""
    import threading
    import time

    g = guarded(tmp_path)
    release = threading.Event()
    real = g.guard.users.check

    def held_check(name, password):
        release.wait(20)
        return real(name, password)

    g.guard.users.check = held_check
    with g.client:
        logins = [threading.Thread(target=g.login, args=(f"user{i}", "guess")) for i in range(4)]
        for t in logins:
            t.start()
        time.sleep(0.3)  # the logins are in, their checks held
        started = time.monotonic()
        assert g.client.get("/").status_code == 200
        assert time.monotonic() - started < 5 and not release.is_set()
        release.set()
        for t in logins:
            t.join(20)


def test_the_app_s_options_reach_the_guard(tmp_path):
    from qa.security import serving
    from qa.security.sessions import LiveUsers

    path = tmp_path / "users.json"
    auth.Users({}).with_user("ana", PASSWORD, admin=True).save(path)
    args = chat_app.build_parser().parse_args(["--host", "0.0.0.0", "--users", str(path), "--session-hours", "2",
                                               "--allowed-host", "qa.newsroom.example", "--upload-mb-per-hour", "7"])
    access, guard = serving.guard_for(args, auth.server_access(args.host, False, path, False), path)
    assert isinstance(access.users, LiveUsers) and guard.users is access.users and access.may_edit("ana")
    assert guard.sessions.lifetime == 7200 and guard.budget.limits.per_user_bytes_per_hour == 7_000_000
    assert guard.names.refusal("qa.newsroom.example", None) is None
    assert guard.names.refusal("evil.example", None) is not None
    kwargs = serving.launch_kwargs(guard)
    assert kwargs["auth"] == guard.gradio_auth and "wait" in kwargs["auth_message"]
