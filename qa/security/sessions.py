"""Logged-in sessions that expire and end when their user is removed or changes password.

``LiveUsers`` re-reads the users file whenever it changes on disk (checked on every request: one
``stat``), so ``qa users remove alice`` or a new password takes effect in a running server at once.
Each session remembers its user's *stamp* (salt and hash of the password, and the user's session
generation, which ``qa users logout NAME`` raises); a session whose stamp no longer matches, or
that is older than its lifetime, is over.
"""
from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..auth import Users, UsersError

log = logging.getLogger("qa.security")


def user_stamp(entry: dict | None) -> str | None:
    """What must stay the same for a user's sessions to go on (None: no such user)."""
    if not entry:
        return None
    return f"{entry.get('salt')}:{entry.get('hash')}:{entry.get('sessions', 0)}"


class LiveUsers:
    """The users of a file as it is now; duck-types ``auth.Users`` (check, is_admin, entries).

    A file that becomes unreadable or damaged counts as having no users (nobody logs in, every
    session ends) until it is fixed; the error is logged once per change."""

    def __init__(self, path: str | Path, users: Users | None = None) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._seen: tuple | None = None
        self._users = users if users is not None else Users.load(self.path)
        self._seen = self._file_version()

    def _file_version(self) -> tuple | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns

    def current(self) -> Users:
        version = self._file_version()
        if version == self._seen:
            return self._users
        with self._lock:
            if version != self._seen:
                try:
                    self._users = Users.load(self.path)
                    log.warning("users file %s changed: %d users now", self.path, len(self._users.entries))
                except UsersError as exc:
                    self._users = Users({})
                    log.error("users file changed and cannot be used, so nobody may log in: %s", exc)
                self._seen = version
            return self._users

    @property
    def entries(self) -> dict:
        return self.current().entries

    def check(self, name: str, password: str) -> bool:
        return self.current().check(name, password)

    def is_admin(self, name: str | None) -> bool:
        return self.current().is_admin(name)

    @property
    def admins(self) -> list[str]:
        return self.current().admins

    def stamp(self, name: str) -> str | None:
        return user_stamp(self.current().entries.get(name))


@dataclass(frozen=True)
class Session:
    username: str
    stamp: str
    started: float


class SessionBook:
    """Session tokens → who, since when. ``lifetime`` seconds; at most ``per_user`` sessions each
    (the oldest ends first)."""

    def __init__(self, lifetime: float = 12 * 3600, per_user: int = 20,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if lifetime <= 0 or per_user < 1:
            raise ValueError("session lifetime must be > 0 seconds and per_user >= 1")
        self.lifetime, self.per_user, self.clock = lifetime, per_user, clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def start(self, username: str, stamp: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            mine = sorted((s.started, t) for t, s in self._sessions.items() if s.username == username)
            for _, old in mine[: max(0, len(mine) - self.per_user + 1)]:
                del self._sessions[old]
            self._sessions[token] = Session(username, stamp, self.clock())
        return token

    def user(self, token: str | None, stamp_of: Callable[[str], str | None]) -> str | None:
        """The user of a live session ``token``, or None (unknown, expired or revoked; then forgotten)."""
        if not token:
            return None
        session = self._sessions.get(token)
        if session is None:
            return None
        if self.clock() - session.started > self.lifetime:
            why = "expired"
        elif stamp_of(session.username) != session.stamp:
            why = "revoked (user removed, password changed or logged out)"
        else:
            return session.username
        self.end(token)
        log.warning("session of %r %s", session.username, why)
        return None

    def end(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    def tokens(self) -> list[str]:
        return list(self._sessions)
