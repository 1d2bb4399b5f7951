"""The thin hook between ``app.py`` and the guard: command-line options and launch arguments."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from ..auth import Access
from .guard import Guard
from .hosts import ServedNames
from .sessions import LiveUsers, SessionBook
from .uploads import MB, UploadBudget, UploadLimits

AUTH_MESSAGE = ("Log in to ask the news articles. After several wrong passwords, logins for that name "
                "wait a while (up to 15 minutes).")


def add_arguments(group) -> None:
    group.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                       help="a name this server answers to besides this machine's (e.g. the public name behind "
                            "a reverse proxy); requests with another Host header are refused. Repeatable")
    group.add_argument("--session-hours", type=float, default=12.0, metavar="H",
                       help="a login lasts this long (default: %(default)s); removing a user or changing a "
                            "password ends their sessions at once")
    group.add_argument("--upload-mb-per-hour", type=int, default=UploadLimits.per_user_bytes_per_hour // MB,
                       metavar="MB", help="uploads allowed per user per hour (default: %(default)s)")
    group.add_argument("--upload-space-mb", type=int, default=UploadLimits.total_bytes // MB, metavar="MB",
                       help="upload temporary space for everyone together (default: %(default)s)")


def check_arguments(args) -> str | None:
    """Why these options cannot be used, or None."""
    if not 0 < args.session_hours <= 24 * 90:
        return "--session-hours must be more than 0 and at most 2160 (90 days)"
    if args.upload_mb_per_hour < 1 or args.upload_space_mb < 1:
        return "--upload-mb-per-hour and --upload-space-mb must be at least 1"
    return None


def guard_for(args, access: Access, users_path: Path | None) -> tuple[Access, Guard]:
    """(the access rules with a users file that is re-read when it changes, the guard enforcing them)."""
    if access.users is not None:
        access = dataclasses.replace(access, users=LiveUsers(users_path, access.users))
    names = ServedNames.for_server(args.host, args.allowed_host, share=args.share)
    if names.any_name and access.users is None:
        raise ValueError("--allowed-host '*' needs a login (--users): a server without one must check the Host")
    limits = dataclasses.replace(UploadLimits(), per_user_bytes_per_hour=args.upload_mb_per_hour * MB,
                                 total_bytes=args.upload_space_mb * MB)
    guard = Guard(names=names, users=access.users, may_upload=access.may_edit,
                  sessions=SessionBook(lifetime=args.session_hours * 3600), budget=UploadBudget(limits))
    return access, guard


def launch_kwargs(guard: Guard) -> dict:
    """Arguments for ``Blocks.launch``: the login (through the guard) and the guard middleware."""
    login = guard.users is not None
    return {"auth": guard.gradio_auth if login else None, "auth_message": AUTH_MESSAGE if login else None,
            "app_kwargs": {"middleware": [guard.middleware()]}}
