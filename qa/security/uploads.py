"""Bounds on what logged-in users may put on the server's disk through Gradio's upload route,
and the clean-up of uploaded temporary files.

Gradio writes every upload under its upload folder (``GRADIO_TEMP_DIR``) and keeps it; a refused or
broken upload leaves a ``tmp*`` part file there. ``UploadBudget`` admits an upload only when its
declared size fits the per-request bound, the user's rolling hourly allowance and the folder's
total bound; ``sweep`` removes stale part files; ``discard`` removes an upload once the chat has
read it (only ever inside the upload folder).
"""
from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("qa.security")

MB = 1_000_000


def _mb(n: float) -> str:
    return f"{n / MB:.0f} MB" if n >= MB else f"{n / 1000:.0f} kB"


def folder_bytes(folder: str | Path, limit_files: int = 100_000) -> int:
    """Total size of the files under ``folder`` (links not followed; 0 when it does not exist)."""
    total, seen = 0, 0
    stack = [str(folder)]
    while stack and seen < limit_files:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    seen += 1
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            total += entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        continue
        except OSError:
            continue
    return total


def inside(path: str | Path, folder: str | Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(folder))
    except ValueError:
        return False
    return True


def discard(path: str | Path, upload_folder: str | Path | None) -> bool:
    """Delete an uploaded file and its (then empty) hash folder, only when both lie inside
    ``upload_folder``; True when something was deleted."""
    if not upload_folder or not inside(path, upload_folder) or Path(path).is_symlink():
        return False
    path = Path(path)
    try:
        path.unlink()
    except OSError:
        return False
    parent = path.parent
    if parent != Path(upload_folder) and inside(parent, upload_folder):
        try:
            parent.rmdir()  # only when empty
        except OSError:
            pass
    return True


# tempfile.NamedTemporaryFile's names: what Gradio's upload parser writes a part into
PART_FILE = re.compile(r"tmp[a-z0-9_]{8}")


def sweep(upload_folder: str | Path, stale_after: float = 600.0, now: float | None = None) -> int:
    """Remove part files (top-level ``tmpXXXXXXXX`` files, as Gradio's upload parser leaves behind
    when an upload is refused or broken off) untouched for ``stale_after`` seconds; returns how
    many. Never in the system's temporary folder itself (GRADIO_TEMP_DIR=/tmp would share it)."""
    now = time.time() if now is None else now
    if os.path.realpath(upload_folder) in (os.path.realpath(tempfile.gettempdir()), "/"):
        return 0
    removed = 0
    try:
        entries = list(os.scandir(upload_folder))
    except OSError:
        return 0
    for entry in entries:
        try:
            if (PART_FILE.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)
                    and now - entry.stat(follow_symlinks=False).st_mtime > stale_after):
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    if removed:
        log.info("removed %d stale partial uploads from %s", removed, upload_folder)
    return removed


@dataclass(frozen=True)
class UploadLimits:
    per_request_bytes: int = 60 * MB   # one request: a 50 MB PDF and its form overhead
    files_per_request: int = 20
    per_user_bytes_per_hour: int = 300 * MB
    total_bytes: int = 1_000 * MB      # everything in the upload folder at once
    in_flight_per_user: int = 2


class UploadBudget:
    """Admits uploads against ``UploadLimits``; thread-safe; the clock is a hook for tests."""

    WINDOW = 3600.0

    def __init__(self, limits: UploadLimits = UploadLimits(), clock: Callable[[], float] = time.monotonic) -> None:
        self.limits, self.clock = limits, clock
        self._history: dict[str, deque] = defaultdict(deque)  # who -> (time, bytes)
        self._in_flight: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def _used(self, who: str, now: float) -> int:
        history = self._history[who]
        while history and now - history[0][0] > self.WINDOW:
            history.popleft()
        return sum(n for _, n in history)

    def admit(self, who: str, declared: int | None, folder_used: int) -> str | None:
        """None and the upload is counted as started, or why it is refused."""
        lim = self.limits
        if declared is None:
            return "an upload must declare its size (Content-Length); send it as a normal file upload"
        if declared > lim.per_request_bytes:
            return (f"the upload is {_mb(declared)}, more than the {_mb(lim.per_request_bytes)} allowed at once; "
                    "send fewer or smaller files")
        with self._lock:
            now = self.clock()
            used = self._used(who, now)
            if used + declared > lim.per_user_bytes_per_hour:
                return (f"you have uploaded {_mb(used)} in the last hour, and {_mb(lim.per_user_bytes_per_hour)} "
                        "is the limit; try again later")
            if folder_used + declared > lim.total_bytes:
                return "the server's upload space is full; try again later or ask the operator"
            if self._in_flight[who] >= lim.in_flight_per_user:
                return "another upload of yours is still in progress; wait for it to finish"
            self._in_flight[who] += 1
            self._history[who].append((now, declared))
        return None

    def uploads_in_flight(self) -> int:
        with self._lock:
            return sum(self._in_flight.values())

    def finished(self, who: str) -> None:
        with self._lock:
            self._in_flight[who] = max(0, self._in_flight[who] - 1)
            if not self._in_flight[who]:
                del self._in_flight[who]
