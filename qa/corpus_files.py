"""Which files of a corpus folder are read, and reading them without leaving the folder.

The corpus folder is what the operator chose to share. So:

- a symbolic link is followed only when what it points to is a file inside the folder (and not in
  a hidden part of it); a link out of the folder (``ln -s /etc/passwd corpus/passwd.txt``), a link
  to a folder (inside or out: its files, if inside, are read where they are) and a link that loops
  are skipped with a reason;
- a name that cannot be written as UTF-8 (bytes such as ``b"bad\\xff\\xfename.txt"`` that the file
  system allows) is skipped with a reason, shown with its odd bytes escaped; so is a folder whose
  name cannot, with everything in it;
- FIFOs, sockets and devices are never opened;
- reading opens the resolved file without following links, checks that the open file is a regular
  file inside the folder (``/proc/self/fd`` where there is one: a folder swapped for a link between
  the walk and the read is caught), and reads at most the size limit plus one byte.

Hidden files and folders (a name starting with ".") are left out, as before.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CorpusFile:
    """A file to read: ``path`` as found (a link's own path), ``real`` the file it is, ``rel`` the
    path shown and recorded (relative to the corpus folder)."""

    path: Path
    real: Path
    rel: str


def shown_name(name: str) -> str:
    """``name`` printable as UTF-8: bytes that are not UTF-8 shown as ``\\xff``."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _encodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _inside(real: Path, real_root: Path) -> bool:
    try:
        parts = real.relative_to(real_root).parts
    except ValueError:
        return False
    return not any(p.startswith(".") for p in parts)


def walk_corpus(root: str | Path) -> tuple[list[CorpusFile], list[tuple[str, str]]]:
    """Every file of ``root`` that may be read, in sorted path order, and (path, reason) for what
    was passed over (see the module docstring)."""
    root = Path(root)
    real_root = root.resolve()
    files: list[CorpusFile] = []
    problems: list[tuple[str, str]] = []

    def listing(folder: Path, rel: tuple[str, ...]) -> list[os.DirEntry] | None:
        try:
            with os.scandir(folder) as it:
                return sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problems.append((shown_name(os.path.join(*rel)) if rel else ".",
                             f"folder cannot be read ({exc.strerror or exc}); its files are not indexed"))
            return None

    def linked(path: Path, shown: str, parts: tuple[str, ...]) -> None:
        try:
            real = path.resolve(strict=True)
        except FileNotFoundError:
            problems.append((shown, "a link to nothing (its target does not exist); it is not read"))
            return
        except (RuntimeError, OSError):  # RuntimeError: a loop of links (Python 3.11)
            problems.append((shown, "a link that loops or cannot be resolved; it is not followed"))
            return
        if not _inside(real, real_root):
            problems.append((shown, "a link to a place outside the corpus folder (or in a hidden part of it); "
                                    "links are never followed out of the folder: copy the file in if it is "
                                    "meant to be shared"))
            return
        mode = real.stat().st_mode
        if stat.S_ISDIR(mode):
            problems.append((shown, "a link to a folder; it is not followed (the folder's files are indexed "
                                    "where they are)"))
        elif stat.S_ISREG(mode):
            files.append(CorpusFile(path, real, "/".join(parts)))
        else:
            problems.append((shown, "a link to something that is not a regular file; it is not read"))

    # Depth first in sorted order (= sorted path order), with a stack rather than recursion: a
    # folder nested thousands deep must not exhaust Python's recursion limit.
    stack = [(root, (), iter(listing(root, ()) or []))]
    while stack:
        folder, rel, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue
        parts = (*rel, entry.name)
        shown = shown_name(os.path.join(*parts))
        path = folder / entry.name
        if not _encodable(entry.name):
            what = "folder" if entry.is_dir(follow_symlinks=False) else "file"
            problems.append((shown, f"the {what} name is not valid UTF-8, so it cannot be indexed or cited"
                                    + ("; nothing in it is indexed" if what == "folder" else "")
                                    + "; rename it with a UTF-8 name (e.g. `convmv -f latin1 -t utf-8 -r "
                                      "--notest FOLDER`)"))
            continue
        try:
            if entry.is_symlink():
                linked(path, shown, parts)
            elif entry.is_dir(follow_symlinks=False):
                below = listing(path, parts)
                if below is not None:
                    stack.append((path, parts, iter(below)))
            elif entry.is_file(follow_symlinks=False):
                files.append(CorpusFile(path, path, "/".join(parts)))
            else:
                problems.append((shown, "not a regular file (a FIFO, socket or device); it is not read"))
        except OSError as exc:
            problems.append((shown, f"cannot be read ({exc.strerror or exc})"))
    return files, problems


def read_inside(file: CorpusFile, root: str | Path, limit: int) -> bytes:
    """The bytes of ``file`` (at most ``limit`` + 1 of them), opened without following links and
    checked to be a regular file inside ``root``; ``OSError`` or ``PermissionError`` otherwise."""
    real_root = Path(root).resolve()
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(file.real, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise PermissionError(f"{file.rel} is not a regular file")
        opened = f"/proc/self/fd/{fd}"
        if os.path.islink(opened) and not _inside(Path(os.readlink(opened)), real_root):
            raise PermissionError(f"{file.rel} now leads outside the corpus folder")
        chunks, size = [], 0
        while size <= limit:
            part = os.read(fd, min(1 << 20, limit + 1 - size))
            if not part:
                break
            chunks.append(part)
            size += len(part)
        return b"".join(chunks)
    finally:
        os.close(fd)
