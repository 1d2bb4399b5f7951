"""Plain text and Markdown articles, optionally opened by a small front-matter block.

    ---
    title: Offshore wind farm off Nova Scotia wins federal approval
    date: 2023-11-15
    source: Dominion Press
    url: https://dominionpress.example/2023/11/15/offshore-wind-farm-approval
    ---
    OTTAWA – The federal government ...

The block must be the very first thing in the file, ``key: value`` lines between two ``---`` lines
(keys: title, date, source, url, author, and the aliases in ``base.ALIASES``). The indexed text is
what follows it, exactly as written. Without a block, today's rules hold: the title is the first
line, and nothing is known about outlet or date (unless a sidecar says so).
"""
from __future__ import annotations

import re

from .base import Extracted, LoadError, Metadata, first_line, metadata_from_mapping

EXTRACTOR = "text 1"  # bump when the reading of text files changes what is indexed
FRONT_MATTER_LINES = 30  # a block longer than this is not front matter
_KEY_VALUE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")


def decode_text(raw: bytes) -> str:
    """UTF-8 text with ``\\r\\n`` made ``\\n`` and a BOM dropped (before any offset exists)."""
    if b"\x00" in raw[:8192]:
        raise LoadError("file looks binary (contains NUL bytes); save the article as UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"file is not valid UTF-8 (byte {exc.start}); re-save it as UTF-8") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """(the front-matter values, the text after the block); ``({}, text)`` when there is none."""
    if not text.startswith("---\n"):
        return {}, text
    lines = text.split("\n")
    values: dict[str, str] = {}
    for n, line in enumerate(lines[1:FRONT_MATTER_LINES + 1], 1):
        if line.strip() == "---":
            body = "\n".join(lines[n + 1:])
            return values, body.lstrip("\n")
        m = _KEY_VALUE.match(line)
        if not m:
            if line.strip():
                return {}, text  # not a block of key: value lines: an article that opens with a rule
            continue
        value = m.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[m.group(1)] = value
    return {}, text


def extract_text(raw: bytes, markdown: bool = False) -> Extracted:
    text = decode_text(raw)
    values, body = split_front_matter(text)
    meta, problems = metadata_from_mapping(values, "front matter") if values else (Metadata(), [])
    if not body.strip():
        raise LoadError("file has no text" + (" after its front matter" if values else ""))
    if not meta.title:
        meta = Metadata(title=first_line(body, markdown)).over(meta)
    return Extracted(text=body, meta=meta, extractor=EXTRACTOR, problems=tuple(problems))
