"""Who may use the chat and who may change its articles: users with hashed passwords and roles.

A users file is JSON: ``{"format": 1, "users": {NAME: {"role": "admin" | "user", "kdf": "scrypt",
"n": ..., "r": ..., "p": ..., "salt": HEX, "hash": HEX}}}``. Passwords are never stored: only a
salted scrypt hash (RFC 7914; n=2**14, r=8, p=1: ~16 MiB and tens of milliseconds per check, so
guessing is slow), compared in constant time. The file is written atomically and readable by its
owner only. ``qa users add NAME [--admin]`` creates or updates entries (the password is asked
twice, or read from stdin); ``$QA_USERS_FILE`` names the file when ``--users`` is not given.

Roles: "user" may ask; "admin" may also upload and remove articles.

>>> users = Users({}).with_user("ana", "correct horse", admin=True)   # doctest: +SKIP
>>> users.check("ana", "correct horse"), users.is_admin("ana")        # doctest: +SKIP
(True, True)
"""
from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

FORMAT = 1
ROLES = ("user", "admin")
ENV_FILE = "QA_USERS_FILE"
MIN_PASSWORD_CHARS = 8
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
# scrypt cost (RFC 7914 recommends n = 2**14 for interactive logins); memory = 128 * n * r bytes.
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}


class UsersError(ValueError):
    """A users file or entry that cannot be used; the message says what to do."""


def hash_password(password: str, salt: bytes | None = None, **cost: int) -> dict:
    """A stored form of ``password``: scrypt parameters, salt and hash (hex)."""
    params = {**SCRYPT, **cost}
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=params["n"], r=params["r"], p=params["p"],
                            maxmem=256 * params["n"] * params["r"], dklen=32)
    return {"kdf": "scrypt", **params, "salt": salt.hex(), "hash": digest.hex()}


def verify_password(password: str, stored: dict) -> bool:
    """True when ``password`` matches ``stored`` (constant-time comparison of the hashes)."""
    if stored.get("kdf") != "scrypt" or "\0" in password:  # scrypt would stop reading at a NUL
        return False
    try:
        again = hash_password(password, bytes.fromhex(stored["salt"]),
                              n=int(stored["n"]), r=int(stored["r"]), p=int(stored["p"]))
    except (KeyError, ValueError, TypeError):
        return False
    return hmac.compare_digest(again["hash"], str(stored.get("hash", "")))


# Checked when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY = hash_password("not a password", b"\0" * 16)


@dataclass(frozen=True)
class Users:
    """The users of one server, by name."""

    entries: dict

    @classmethod
    def load(cls, path: str | Path) -> "Users":
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UsersError(f"users file {path} not found; create it with: qa users add NAME --admin "
                             f"--file {path}") from None
        except (OSError, ValueError) as exc:
            raise UsersError(f"users file {path} cannot be read ({exc}); recreate it with qa users add") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("users"), dict):
            raise UsersError(f"users file {path} is not a qa users file (format {FORMAT}); recreate it with qa users add")
        for name, entry in data["users"].items():
            if not isinstance(entry, dict) or entry.get("role") not in ROLES or entry.get("kdf") != "scrypt":
                raise UsersError(f"users file {path}: the entry for {name!r} is damaged; run qa users add {name}")
        return cls(dict(data["users"]))

    def save(self, path: str | Path) -> None:
        """Write atomically (temp file + ``os.replace``), readable by the owner only."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"format": FORMAT, "users": self.entries}, fh, indent=2, sort_keys=True)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def with_user(self, name: str, password: str, admin: bool = False) -> "Users":
        if not NAME_PATTERN.fullmatch(name or ""):
            raise UsersError(f"user name {name!r} is not allowed: use 1-64 letters, digits, '.', '_', '@' or '-', "
                             "starting with a letter or digit")
        if len(password) < MIN_PASSWORD_CHARS:
            raise UsersError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
        if "\0" in password:  # hashlib.scrypt reads a password only up to its first NUL
            raise UsersError("the password must not contain a NUL character")
        return Users({**self.entries, name: {"role": "admin" if admin else "user", **hash_password(password)}})

    def without(self, name: str) -> "Users":
        if name not in self.entries:
            raise UsersError(f"no user named {name!r}")
        return Users({k: v for k, v in self.entries.items() if k != name})

    def with_sessions_ended(self, name: str) -> "Users":
        """The same users, with ``name``'s session generation raised: a running chat ends her
        sessions at once (qa.security.sessions)."""
        if name not in self.entries:
            raise UsersError(f"no user named {name!r}")
        entry = self.entries[name]
        return Users({**self.entries, name: {**entry, "sessions": int(entry.get("sessions", 0)) + 1}})

    def check(self, name: str, password: str) -> bool:
        """Gradio's ``auth`` callable: True when the name exists and the password is right."""
        entry = self.entries.get(name) if isinstance(name, str) else None
        ok = verify_password(password if isinstance(password, str) else "", entry or _DUMMY)
        return ok and entry is not None

    def is_admin(self, name: str | None) -> bool:
        return bool(name) and self.entries.get(name, {}).get("role") == "admin"

    @property
    def admins(self) -> list[str]:
        return sorted(n for n, e in self.entries.items() if e.get("role") == "admin")


def is_loopback(host: str, resolve=None) -> bool:
    """This machine only, by address: see ``qa.security.hosts.is_loopback`` (``resolve``: a hook)."""
    from .security import hosts

    return hosts.is_loopback(host, resolve or hosts.system_resolve)


def users_file(explicit: str | None) -> Path | None:
    """The users file to use: ``--users``, else ``$QA_USERS_FILE``, else none."""
    value = explicit or os.environ.get(ENV_FILE)
    return Path(value) if value else None


@dataclass(frozen=True)
class Access:
    """What a running chat allows: login (``users``), and who may change the articles."""

    users: Users | None  # None: no login (loopback only)
    read_only: bool

    def may_edit(self, username: str | None) -> bool:
        """Upload and remove articles: never when read-only; admins when there is a login; anyone
        on a loopback server without one (the machine's own user)."""
        if self.read_only:
            return False
        return self.users is None or self.users.is_admin(username)


def server_access(host: str, share: bool, users_path: Path | None, read_only: bool, resolve=None) -> Access:
    """The access rules for a server on ``host``, or ``UsersError`` saying why it must not start.

    Reachable from other machines (a non-loopback ``host`` or ``--share``) the chat requires a
    login; without a users file it refuses to start."""
    users = Users.load(users_path) if users_path is not None else None
    if users is not None and not users.entries:
        raise UsersError(f"users file {users_path} has no users; add one with: qa users add NAME --admin --file {users_path}")
    public = share or not is_loopback(host, resolve)
    if public and users is None:
        where = "a public share link" if share else f"--host {host!r}"
        if not share and isinstance(host, str) and host.lower() != "localhost" and not _is_ip(host):
            where += (" is a name, not a loopback address (a name can resolve to another machine), so it"
                      " counts as reachable from other machines; use --host 127.0.0.1 for this machine only. It")
        raise UsersError(f"{where} makes the chat reachable from other machines, so it needs a login: create "
                         "users with 'qa users add NAME --admin --file users.json' (passwords are stored hashed) "
                         f"and pass --users users.json (or set {ENV_FILE}); add --read-only to turn uploads off")
    return Access(users=users, read_only=read_only)


def _is_ip(host: str) -> bool:
    from .security.hosts import ip_literal

    return ip_literal(host) is not None


# ------------------------------------------------------------------ qa users (command line)

def _read_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != first:
        raise UsersError("the two passwords differ; nothing was changed")
    return first


def cmd_users(args) -> int:
    path = users_file(args.file)
    if path is None:
        print(f"error: name the users file with --file FILE (or set {ENV_FILE})", file=sys.stderr)
        return 2
    try:
        users = Users.load(path) if path.exists() else Users({})
        if args.action == "list":
            for name in sorted(users.entries):
                print(f"{name}\t{users.entries[name]['role']}")
            return 0
        if args.action == "remove":
            users.without(args.name).save(path)
            print(f"removed {args.name} from {path}; a running chat ends their sessions at once")
            return 0
        if args.action == "logout":
            users.with_sessions_ended(args.name).save(path)
            print(f"ended the sessions of {args.name} (a running chat notices at once)")
            return 0
        users = users.with_user(args.name, _read_password(args), admin=args.admin)
        users.save(path)
    except UsersError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.name} ({'admin' if args.admin else 'user'}) saved in {path}")
    return 0


def register(sub) -> None:
    """Add ``qa users add|remove|list`` to the ``qa`` command line."""
    p = sub.add_parser("users", help="manage the chat's users (hashed passwords, admin role)",
                       description="Create, remove or list the users who may log in to the chat "
                                   "(python app.py --users FILE). Passwords are stored as salted scrypt hashes.")
    p.add_argument("action", choices=("add", "remove", "list", "logout"),
                   help="add (or change the password), remove, list, or logout (end all of a user's sessions)")
    p.add_argument("name", nargs="?", help="user name (add, remove, logout)")
    p.add_argument("--file", metavar="FILE", help=f"users file (default: ${ENV_FILE})")
    p.add_argument("--admin", action="store_true", help="may upload and remove articles")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")

    def run(args) -> int:
        if args.action != "list" and not args.name:
            p.error(f"qa users {args.action} needs a NAME")
        return cmd_users(args)

    p.set_defaults(func=run)

