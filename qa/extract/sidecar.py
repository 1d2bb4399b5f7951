"""Metadata kept beside articles, for files that cannot carry their own (PDFs, saved pages, or plain
text one would rather not edit because its offsets are cited elsewhere).

Two forms, both in the article's folder; the article file itself is never touched:

- ``NAME.meta.json`` beside ``NAME.pdf`` (or ``NAME.html``, ``NAME.txt``…)::

      {"title": "…", "source": "The Globe and Mail", "published": "2020-01", "url": "…"}

- one ``metadata.jsonl`` per folder, a line per article, naming its file::

      {"file": "report.pdf", "source": "Maritime Resilience Council", "published": "2023-10"}

Keys are those of ``base.Metadata`` (title, source, published, url, author) or their aliases
(date, outlet, headline, link…); other keys are ignored. A sidecar's values win over what the
extractor read from the file (a person wrote them), ``NAME.meta.json`` over ``metadata.jsonl``.
A sidecar that cannot be read, or a bad value in it, is reported and the article indexed without it.
"""
from __future__ import annotations

import json
from pathlib import Path

from .base import Metadata, metadata_from_mapping

SIDECAR_SUFFIX = ".meta.json"
FOLDER_FILE = "metadata.jsonl"
MAX_SIDECAR_BYTES = 1_000_000


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(SIDECAR_SUFFIX) or path.name == FOLDER_FILE


def sidecar_stem(path: Path) -> str:
    """``x.meta.json`` -> ``x``: the stem of the article it describes."""
    return path.name[: -len(SIDECAR_SUFFIX)]


def read_sidecars(root: Path, paths: list[Path]) -> tuple[dict[tuple[str, str], tuple[Metadata, str]],
                                                          list[tuple[str, str]]]:
    """Metadata by (folder relative to ``root``, article stem), with the sidecar it came from,
    and the problems found as (sidecar path, reason)."""
    found: dict[tuple[str, str], tuple[Metadata, str]] = {}
    problems: list[tuple[str, str]] = []
    for path in sorted(p for p in paths if p.name == FOLDER_FILE):  # the per-folder file first: NAME.meta.json wins
        rel = str(path.relative_to(root))
        folder = str(path.parent.relative_to(root))
        for n, record in _records(path, problems, rel):
            name = record.get("file")
            if not isinstance(name, str) or not name.strip() or "/" in name:
                problems.append((rel, f"line {n} names no \"file\" in this folder; it is not used"))
                continue
            meta, bad = metadata_from_mapping(record, f"line {n}")
            problems.extend((rel, b) for b in bad)
            found[(folder, Path(name.strip()).stem)] = (meta, rel)
    for path in sorted(p for p in paths if p.name.endswith(SIDECAR_SUFFIX)):
        rel = str(path.relative_to(root))
        for _, record in _records(path, problems, rel, whole=True):
            meta, bad = metadata_from_mapping(record, path.name)
            problems.extend((rel, b) for b in bad)
            found[(str(path.parent.relative_to(root)), sidecar_stem(path))] = (meta, rel)
    return found, problems


def _records(path: Path, problems: list, rel: str, whole: bool = False):
    try:
        if path.stat().st_size > MAX_SIDECAR_BYTES:
            problems.append((rel, f"larger than {MAX_SIDECAR_BYTES:,} bytes; not read"))
            return
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append((rel, f"cannot be read ({exc}); the metadata in it is not used"))
        return
    lines = [text] if whole else text.split("\n")
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            where = "" if whole else f"line {n} "
            problems.append((rel, f"{where}is not valid JSON ({exc}); the metadata in it is not used"))
            continue
        if not isinstance(record, dict):
            problems.append((rel, f"{'' if whole else f'line {n} '}must be a JSON object; it is not used"))
            continue
        yield n, record
