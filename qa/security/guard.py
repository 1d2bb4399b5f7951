"""The serving guard: an ASGI middleware placed inside Gradio's app (``launch(app_kwargs=...)``).

For every request it
- refuses a ``Host`` the server does not answer to and a cross-origin ``Origin`` (403),
- answers ``POST /login`` itself: throttled per user name and per client address, the scrypt
  check run in a worker thread (never on the event loop), at most ``checks_at_once`` at a time
  (half the cores),
- ends sessions that expired or whose user was removed or changed (``sessions.SessionBook``),
  by dropping the token from Gradio's token table before Gradio looks at it,
- bounds ``POST /gradio_api/upload`` (``uploads.UploadBudget``): who may upload, how much, how
  many files; refused uploads never reach Gradio, so they leave no file behind.
"""
from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import anyio

from . import uploads
from .hosts import ServedNames
from .sessions import SessionBook
from .throttle import LoginThrottle

log = logging.getLogger("qa.security")

LOGIN_BODY_BYTES = 16_384
UPLOAD_PATH = "/gradio_api/upload"
# Any other request body (a question with its chat history, at most ~20 messages): far below this.
OTHER_BODY_BYTES = 8_000_000


@dataclass
class Guard:
    """What the middleware enforces. ``users``: ``sessions.LiveUsers`` (None: no login, loopback);
    ``may_upload(username)``: the chat's editing rule."""

    names: ServedNames
    users: object | None = None
    may_upload: Callable[[str | None], bool] = lambda username: True
    sessions: SessionBook = field(default_factory=SessionBook)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    budget: uploads.UploadBudget = field(default_factory=uploads.UploadBudget)
    # scrypt checks running at once: half the cores, so guessing never takes the whole machine
    checks_at_once: int = field(default_factory=lambda: max(1, (os.cpu_count() or 2) // 2))
    sweep_every: float = 60.0
    _limiter: object = None
    _last_sweep: float = 0.0

    def middleware(self):
        """For ``launch(app_kwargs={"middleware": [guard.middleware()]})``."""
        from starlette.middleware import Middleware

        return Middleware(GuardMiddleware, guard=self)

    def limiter(self):
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.checks_at_once)
        return self._limiter

    async def check_password(self, name: str, password: str) -> bool:
        return await anyio.to_thread.run_sync(self.users.check, name, password, limiter=self.limiter())

    async def gradio_auth(self, name: str, password: str) -> bool:
        """Gradio's own ``auth`` hook, used only if a login ever bypasses the middleware: throttled
        by name, checked off the event loop."""
        if self.users is None or not self.throttle.attempt(name, "(no address)").allowed:
            return False
        ok = await self.check_password(name, password)
        (self.throttle.succeeded if ok else self.throttle.failed)(name, "(no address)")
        return ok


def _respond(status: int, message: str, headers: dict | None = None):
    from starlette.responses import JSONResponse

    return JSONResponse({"detail": message, "error": message}, status_code=status, headers=headers)


class GuardMiddleware:
    def __init__(self, app, guard: Guard) -> None:
        self.app, self.guard = app, guard

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        from starlette.datastructures import Headers

        g = self.guard
        headers = Headers(scope=scope)
        method = scope.get("method", "GET")
        server = scope.get("server") or (None, None)
        client = (scope.get("client") or ("unknown", 0))[0]
        if len(headers.getlist("host")) > 1 or len(headers.getlist("origin")) > 1:
            refusal = "the request has more than one Host or Origin header"
        else:
            refusal = g.names.refusal(headers.get("host"), headers.get("origin"), server[0],
                                      headers.get("sec-fetch-site"), method)
        if refusal:
            log.warning("refused %s %r from %s: %s", method, scope.get("path", "")[:200], client, refusal)
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await _respond(403, refusal)(scope, receive, send)
            return
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        username = None
        if g.users is not None:
            if scope["type"] == "http" and method == "POST" and path.rstrip("/") == "/login":
                await self.login(scope, receive, send, client)
                return
            username = self.session_user(scope, headers)
        if scope["type"] == "http" and method == "POST" and path.rstrip("/") == UPLOAD_PATH:
            await self.upload(scope, receive, send, username, client)
            return
        if scope["type"] == "http" and method not in ("GET", "HEAD", "OPTIONS"):
            # Gradio parses multipart bodies into temporary files on other routes too
            # (component_server, process_recording): files come in through the upload route only.
            if headers.get("content-type", "").lower().startswith("multipart/"):
                log.warning("refused a multipart %s %r from %s", method, path[:200], client)
                await _respond(415, "files can only be sent to the upload route")(scope, receive, send)
                return
            length = _content_length(scope)
            if length is not None and length > OTHER_BODY_BYTES:
                await _respond(413, f"the request body is larger than {OTHER_BODY_BYTES // 1_000_000} MB")(
                    scope, receive, send)
                return
            receive = _bounded(receive, OTHER_BODY_BYTES)
        await self.app(scope, receive, send)

    # ------------------------------------------------------------------ sessions

    def session_user(self, scope, headers) -> str | None:
        """The user of this request's live session (None: none); a dead session's token is removed
        from Gradio's table, so Gradio treats the request as not logged in."""
        from starlette.requests import HTTPConnection

        app = scope.get("app")
        tokens = getattr(app, "tokens", None)
        cookie_id = getattr(app, "cookie_id", None)
        if tokens is None or cookie_id is None:
            return None
        cookies = HTTPConnection(scope).cookies
        user = None
        for key in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"):
            token = cookies.get(key)
            if not token or token not in tokens:
                continue
            live = self.guard.sessions.user(token, self.guard.users.stamp)
            if live is None or live != tokens.get(token):
                tokens.pop(token, None)
            else:
                user = live
        return user

    # ------------------------------------------------------------------ login

    async def login(self, scope, receive, send, client: str) -> None:
        g = self.guard
        body = await _read_body(receive, LOGIN_BODY_BYTES)
        if body is None:
            await _respond(413, "the login form is too large")(scope, receive, send)
            return
        name, password = await _login_fields(scope, body)
        verdict = g.throttle.attempt(name, client)
        if not verdict.allowed:
            log.warning("login refused for user name %r from %s: %s", name[:64], client, verdict.reason)
            await _respond(429, verdict.reason, {"Retry-After": str(max(1, round(verdict.wait)))})(scope, receive, send)
            return
        try:
            ok = await g.check_password(name, password)
        except BaseException:
            g.throttle.failed(name, client)
            raise
        if not ok:
            g.throttle.failed(name, client)
            await _respond(400, "Incorrect credentials.")(scope, receive, send)
            return
        g.throttle.succeeded(name, client)
        stamp = g.users.stamp(name)
        app = scope.get("app")
        token = g.sessions.start(name, stamp)
        app.tokens[token] = name
        from starlette.responses import JSONResponse

        response = JSONResponse({"success": True})
        # Browser-session cookies (gone when the browser closes, e.g. on a shared newsroom PC); the
        # server ends the session at its lifetime whatever the browser keeps.
        response.set_cookie(f"access-token-{app.cookie_id}", token, httponly=True, samesite="lax", secure=True)
        response.set_cookie(f"access-token-unsecure-{app.cookie_id}", token, httponly=True, samesite="lax")
        await response(scope, receive, send)

    # ------------------------------------------------------------------ uploads

    async def upload(self, scope, receive, send, username: str | None, client: str) -> None:
        g = self.guard
        if g.users is not None and username is None:
            await self.app(scope, receive, send)  # Gradio answers 401 without reading the body
            return
        if not g.may_upload(username):
            log.warning("refused an upload by %r from %s: not allowed to add articles", username, client)
            await _respond(403, "only administrators may upload articles")(scope, receive, send)
            return
        app = scope.get("app")
        folder = getattr(app, "uploaded_file_dir", None)
        now = time.monotonic()
        if folder and now - g._last_sweep > g.sweep_every:
            g._last_sweep = now
            await anyio.to_thread.run_sync(uploads.sweep, folder)
        used = await anyio.to_thread.run_sync(uploads.folder_bytes, folder) if folder else 0
        length = _content_length(scope)
        who = username or f"address {client}"
        refusal = g.budget.admit(who, length, used)
        if refusal:
            log.warning("refused an upload of %s bytes by %s: %s", length, who, refusal)
            await _respond(413, refusal)(scope, receive, send)
            return
        started: dict = {}
        body = bytearray()

        async def capture(message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        try:
            await self.app(scope, receive, capture)
        finally:
            g.budget.finished(who)
            if folder and not g.budget.uploads_in_flight():
                # Gradio leaves the part file of a broken upload behind (even when it answers 200
                # with no file); with no upload running, every part file is a leftover.
                await anyio.to_thread.run_sync(lambda: uploads.sweep(folder, stale_after=-1))
        status = started.get("status", 500)
        if status == 200:
            try:
                paths = json.loads(bytes(body))
            except ValueError:
                paths = []
            if isinstance(paths, list) and len(paths) > g.budget.limits.files_per_request:
                for p in paths:
                    if isinstance(p, str):
                        uploads.discard(p, folder)
                message = (f"{len(paths)} files in one upload; at most {g.budget.limits.files_per_request} "
                           "are accepted at once")
                log.warning("refused an upload by %s: %s", who, message)
                await _respond(413, message)(scope, receive, send)
                return
        await send({**started, "type": "http.response.start"})
        await send({"type": "http.response.body", "body": bytes(body)})


def _content_length(scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                n = int(value)
            except ValueError:
                return None
            return n if n >= 0 else None
    return None


def _bounded(receive, limit: int):
    """``receive`` that reports a disconnect once more than ``limit`` body bytes arrived (a body
    sent without a Content-Length cannot grow without end)."""
    seen = 0

    async def bounded():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return bounded


async def _read_body(receive, limit: int) -> bytes | None:
    """The request body, or None when it is longer than ``limit`` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _login_fields(scope, body: bytes) -> tuple[str, str]:
    """(user name, password) from a urlencoded or multipart login form; "" for what is missing."""
    from starlette.requests import Request

    content_type = dict(scope.get("headers", [])).get(b"content-type", b"").decode("latin-1").lower()
    if content_type.startswith("application/x-www-form-urlencoded") or not content_type:
        try:
            fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
        except ValueError:  # too many fields
            return "", ""
        get = lambda k: (fields.get(k) or [""])[0]  # noqa: E731
        return get("username").strip(), get("password")
    sent = False

    async def replay():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(scope, replay).form(max_files=0, max_fields=10)
    except Exception:  # malformed multipart: treated as an empty (wrong) login
        return "", ""
    name, password = form.get("username"), form.get("password")
    return (name.strip() if isinstance(name, str) else ""), (password if isinstance(password, str) else "")
