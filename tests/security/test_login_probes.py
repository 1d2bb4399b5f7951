"""Login and session probes against the serving guard (qa/security), in-process (no socket, no model).

Each probe sends one odd login or session and asserts: a clear answer (a status and a sentence, never
a 500), nothing lost (the users file is byte for byte the same; the right password still works once any
throttle wait has passed), and no hang (a time bound)."""
from __future__ import annotations

import hashlib
import time

import pytest

from ..security_helpers import PASSWORD, guarded

BOUND_S = 10.0


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return guarded(tmp_path_factory.mktemp("login-probes"))


@pytest.fixture
def g(base, tmp_path):
    return base.reset(tmp_path)


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _still_works(g, before: str) -> None:
    """Nothing lost: the users file is unchanged and ana can still log in (after any wait)."""
    assert _digest(g.users_path) == before
    g.clock.now += 3600
    assert g.login().status_code == 200


def _detail(r) -> str:
    return r.json().get("detail", "")


WRONG_LOGINS = [
    pytest.param({"username": "ana", "password": ""}, id="empty-password"),
    pytest.param({"username": "", "password": PASSWORD}, id="empty-name"),
    pytest.param({"username": "ana", "password": PASSWORD + " "}, id="trailing-space"),
    pytest.param({"username": "ANA", "password": PASSWORD}, id="name-case"),
    pytest.param({"username": "ana", "password": "x" * 10_000}, id="10k-password"),
    pytest.param({"username": "a" * 5_000, "password": PASSWORD}, id="5k-name"),
    pytest.param({"username": "ana\nWARNING forged log line", "password": "x"}, id="log-injection-name"),
    pytest.param({"username": "ana", "password": "correct horse battery\x00"}, id="nul-in-password"),
    pytest.param({"username": "' OR 1=1 --", "password": "' OR 1=1 --"}, id="sql-ish"),
    pytest.param({"username": "../../etc/passwd", "password": "x"}, id="path-name"),
    pytest.param({"username": "анна", "password": "пароль пароль"}, id="cyrillic"),
    pytest.param({"username": "ana", "password": "😀" * 8}, id="emoji-password"),
    pytest.param({"username": "__proto__", "password": "x"}, id="proto-name"),
    pytest.param({"username": "ana"}, id="no-password-field"),
    pytest.param({"password": PASSWORD}, id="no-name-field"),
]


@pytest.mark.parametrize("form", WRONG_LOGINS)
def test_a_wrong_login_is_refused_clearly(g, form):
    before = _digest(g.users_path)
    started = time.monotonic()
    r = g.client.post("/login", data=form)
    assert time.monotonic() - started < BOUND_S
    assert r.status_code == 400 and _detail(r) == "Incorrect credentials."
    assert not any(k.startswith("access-token") for k in r.cookies)
    assert g.client.get("/config").status_code == 401
    _still_works(g, before)


@pytest.mark.parametrize("body, content_type, status", [
    pytest.param(b"username=ana&password=" + b"x" * 20_000, "application/x-www-form-urlencoded", 413, id="oversized-form"),
    pytest.param(b'{"username": "ana", "password": "correct horse battery"}', "application/json", 400, id="json-body"),
    pytest.param(b"--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nana\r\n", "multipart/form-data; boundary=x",
                 400, id="truncated-multipart"),
    pytest.param(b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded", 400, id="binary-form"),
    pytest.param(b"&".join(b"f%d=1" % i for i in range(50)), "application/x-www-form-urlencoded", 400, id="50-fields"),
    pytest.param(b"username=ana&username=ben&password=x", "application/x-www-form-urlencoded", 400, id="repeated-name"),
])
def test_a_malformed_login_form_gets_a_clear_refusal(g, body, content_type, status):
    before = _digest(g.users_path)
    r = g.client.post("/login", content=body, headers={"Content-Type": content_type})
    assert r.status_code == status and _detail(r)
    _still_works(g, before)


def test_a_multipart_login_as_the_browser_sends_it_works(g):
    r = g.client.post("/login", files={"username": (None, "ana"), "password": (None, PASSWORD)})
    assert r.status_code == 200 and r.json() == {"success": True}


@pytest.mark.parametrize("cookie", [
    pytest.param("forged-token", id="forged"),
    pytest.param("", id="empty"),
    pytest.param("x" * 4000, id="long"),
    pytest.param("' OR 1=1", id="quote"),
])
def test_a_forged_session_cookie_is_not_a_session(g, cookie):
    app = g.app
    g.client.cookies.set(f"access-token-{app.cookie_id}", cookie)
    g.client.cookies.set(f"access-token-unsecure-{app.cookie_id}", cookie)
    assert g.client.get("/config").status_code == 401
    assert g.client.post("/gradio_api/upload", files={"files": ("a.txt", b"x")}).status_code == 401
    assert list(g.upload_folder.iterdir()) == []


def test_a_token_gradio_knows_but_the_guard_never_issued_is_dropped(g):
    g.app.tokens["planted"] = "ana"  # e.g. put there by a route that bypassed the guard
    g.client.cookies.set(f"access-token-{g.app.cookie_id}", "planted")
    assert g.client.get("/config").status_code == 401 and "planted" not in g.app.tokens


def test_a_session_ends_at_its_lifetime(base, tmp_path):
    g = base.reset(tmp_path, lifetime=60)
    assert g.login().status_code == 200
    g.clock.now += 59
    assert g.client.get("/config").status_code == 200
    g.clock.now += 2
    assert g.client.get("/config").status_code == 401


def test_logout_ends_the_session(g):
    assert g.login().status_code == 200
    g.client.get("/logout", follow_redirects=False)
    assert g.client.get("/config").status_code == 401


def test_a_damaged_users_file_ends_every_session_and_every_login(g):
    assert g.login().status_code == 200
    g.users_path.write_text("{ not json")
    assert g.client.get("/config").status_code == 401
    assert g.login().status_code == 400


def test_sessions_per_user_are_bounded(g):
    for _ in range(25):
        assert g.login().status_code == 200
    assert len(g.guard.sessions) <= g.guard.sessions.per_user


def test_parallel_guesses_for_one_name_run_at_most_the_free_attempts(g):
    statuses = [g.login("ana", f"guess {i}").status_code for i in range(12)]
    assert statuses.count(400) == 5 and statuses.count(429) == 7


def test_guessing_many_names_from_one_address_is_throttled_too(g):
    statuses = []
    for i in range(25):
        statuses.append(g.login(f"user{i}", "guess").status_code)
    assert statuses[:20] == [400] * 20 and 429 in statuses[20:]


def test_the_throttle_does_not_lock_out_other_addresses_for_a_name_s_typo_free_quota(g):
    for i in range(3):
        assert g.login("ana", f"typo {i}").status_code == 400
    assert g.login().status_code == 200  # 3 typos, then the right password: in at once
    assert g.login("ana", "typo again").status_code == 400  # the count started again


def test_a_throttled_answer_has_retry_after_and_is_fast(g):
    for i in range(5):
        g.login("ana", f"guess {i}")
    started = time.monotonic()
    r = g.login()
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert "try again in" in _detail(r) and time.monotonic() - started < 1.0  # no scrypt for a refused attempt


@pytest.mark.parametrize("name", ["ana\nWARNING qa.security: login of 'ana' ok", "ana\r\nforged", "ana\x1b[2Jclear"])
def test_a_name_cannot_forge_log_lines(g, caplog, name):
    caplog.set_level("INFO", logger="qa.security")
    g.login(name, "guess")
    g.client.get("/x%0Aforged", headers={"host": "evil.example"})
    for record in caplog.records:
        text = record.getMessage()
        assert "\n" not in text and "\r" not in text and "\x1b" not in text, text
