"""RSS and Atom feeds (``qa index --feed FILE_OR_URL``): each entry becomes an article file in the
corpus folder, so the folder stays the one source of truth and indexing stays incremental.

Where feed articles live: ``CORPUS/feeds/<feed>/`` (``<feed>`` from the feed's title), one article
per entry, named ``<headline>-<hash of the entry's id>`` so a re-run finds the same files:

- when the entry links to a page that can be fetched and holds an article, the page as it was
  served (``NAME.html``, never rewritten by us) and a sidecar ``NAME.meta.json`` with what the
  feed and the page say: the feed's date (it is machine-written), the page's headline, outlet and
  canonical URL where it has them, the feed's otherwise;
- otherwise the entry's own content or summary as ``NAME.txt`` with a front-matter block.

Both record a fingerprint of the entry, so an unchanged entry is neither fetched nor rewritten
again; a changed one is rewritten (atomically) and re-indexed. Entries that leave the feed keep
their files: feeds list only recent items, the corpus keeps what it has. Dates are read by
``dates.iso_date``: one that is not a date is reported and left out (feedparser alone would
turn "2024-13-45" into a real-looking day).

Fetching goes through one ``fetch.Fetcher`` per feed: public addresses only (unless
``allow_private_fetch``), one deadline and one byte budget for the feed and all its pages. When the
budget runs out, the remaining entries keep their feed summaries for now, recorded so that the next
run fetches their pages.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..fsutil import atomic_write_bytes
from .base import LoadError, Metadata
from .dates import iso_date
from .fetch import FEED_BUDGET_BYTES, FEED_DEADLINE_S, BudgetSpent, FetchError, Fetcher
from .html import extract_html, fragment_text
from .sidecar import SIDECAR_SUFFIX
from .text import split_front_matter

log = logging.getLogger(__name__)

FEEDS_FOLDER = "feeds"
MAX_FEED_BYTES = 10_000_000
MAX_PAGE_BYTES = 5_000_000  # as for any article file (load.MAX_FILE_BYTES)
MAX_ENTRIES = 500
NAME_CHARS = 60
RETRY_MARK = "retry"  # recorded instead of the fingerprint when the budget kept a page from being fetched


@dataclass(frozen=True)
class EntryOutcome:
    title: str
    status: str  # added | updated | unchanged | skipped
    path: str = ""  # the article file, relative to the corpus folder
    notes: tuple[str, ...] = ()


@dataclass
class FeedReport:
    source: str
    title: str = ""
    folder: str = ""
    entries: list[EntryOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(e.status == status for e in self.entries)

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(s)} {s}" for s in ("added", "updated", "unchanged", "skipped"))
        return f"feed {self.title or self.source}: {len(self.entries)} entries ({counts}) in {self.folder}"


def slug(text: str, limit: int = NAME_CHARS) -> str:
    """``text`` as a file-name part: ASCII letters, digits and hyphens."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:limit].rstrip("-")


def read_feed(source: str, fetcher: Fetcher | None = None) -> tuple[bytes, str | None]:
    """The feed's bytes and its URL (None for a local file: relative links then cannot be fetched)."""
    # A URL (http(s), or any other scheme: the fetcher refuses those with a reason); a file first if
    # one has that name. A one-letter "scheme" is a Windows drive.
    if not Path(source).is_file() and re.match(r"^[a-z][a-z0-9+.-]+:", source, re.IGNORECASE):
        try:
            data, final = (fetcher or Fetcher()).fetch(source, MAX_FEED_BYTES)
        except FetchError as exc:
            raise LoadError(f"feed {source}: {exc}") from None
        return data, final
    path = Path(source)
    if not path.is_file():
        raise LoadError(f"feed {source}: no such file (give a feed file or an http(s) URL)")
    if path.stat().st_size > MAX_FEED_BYTES:
        raise LoadError(f"feed {source}: larger than {MAX_FEED_BYTES:,} bytes")
    return path.read_bytes(), None


def ingest_feed(source: str, corpus_dir: str | Path, fetch_pages: bool = True,
                progress: bool = False, allow_private_fetch: bool = False,
                deadline_s: float = FEED_DEADLINE_S, max_fetch_bytes: int = FEED_BUDGET_BYTES,
                fetcher: Fetcher | None = None) -> FeedReport:
    """Write the entries of the feed at ``source`` into ``corpus_dir`` (see the module docstring).
    Raises ``LoadError`` when the feed itself cannot be read; an entry that cannot be used is
    reported in its ``EntryOutcome`` and the others go on. ``fetcher`` (tests) replaces the one
    made from ``allow_private_fetch``, ``deadline_s`` and ``max_fetch_bytes``."""
    import feedparser
    from tqdm import tqdm

    if fetcher is None:
        fetcher = Fetcher(allow_private=allow_private_fetch, deadline_s=deadline_s, max_total_bytes=max_fetch_bytes)
    data, url = read_feed(source, fetcher)
    parsed = feedparser.parse(data, response_headers={"content-location": url} if url else None)
    if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
        why = parsed.get("bozo_exception") or "no RSS or Atom elements in it"
        raise LoadError(f"feed {source}: not a readable RSS or Atom feed ({why})")
    feed_title = " ".join(fragment_text(parsed.feed.get("title", "")).split())
    name = slug(feed_title) or (slug(urlsplit(url).hostname or "") if url else slug(Path(source).stem))
    folder = Path(corpus_dir) / FEEDS_FOLDER / (name or "feed")
    report = FeedReport(source=source, title=feed_title, folder=str(folder.relative_to(corpus_dir)))
    entries = parsed.entries[:MAX_ENTRIES]
    for entry in tqdm(entries, desc="feed entries", unit="entry", disable=not progress):
        try:
            outcome = _ingest_entry(entry, feed_title, source, folder, Path(corpus_dir), fetch_pages, fetcher)
        except OSError as exc:  # the corpus folder refused a write: say so, keep going
            outcome = EntryOutcome(entry.get("title", "")[:120], "skipped", notes=(f"could not be written: {exc}",))
        report.entries.append(outcome)
    if len(parsed.entries) > MAX_ENTRIES:
        report.entries.append(EntryOutcome("", "skipped", notes=(
            f"{len(parsed.entries) - MAX_ENTRIES} more entries beyond the first {MAX_ENTRIES} were not read",)))
    return report


def _ingest_entry(entry, feed_title: str, feed_source: str, folder: Path, corpus: Path,
                  fetch_pages: bool, fetcher: Fetcher) -> EntryOutcome:
    title = " ".join(fragment_text(entry.get("title", "")).split())
    link = entry.get("link", "") or ""
    if urlsplit(link).scheme.lower() not in ("http", "https"):
        link = ""  # feedparser offers an Atom entry's id ("tag:…", "urn:…") as its link when it has none
    content = (entry.get("content") or [{}])[0].get("value") or entry.get("summary", "") or ""
    raw_date = entry.get("published") or entry.get("updated") or ""
    key = entry.get("id") or link or title
    if not key:
        return EntryOutcome(title, "skipped", notes=("the entry has no id, link or title",))
    name = f"{slug(title) or 'entry'}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:10]}"
    fingerprint = hashlib.sha256(json.dumps([title, raw_date, link, content]).encode("utf-8")).hexdigest()[:16]
    notes: list[str] = []
    published, bad_date = "", ""
    if raw_date:
        try:
            published = iso_date(raw_date)
        except ValueError as exc:
            bad_date = f"date {exc}"
    feed_meta = Metadata(title=title, source=feed_title, published=published, url=link,
                         author=" ".join(str(entry.get("author", "")).split()))
    files = {s: folder / f"{name}{s}" for s in (".html", SIDECAR_SUFFIX, ".txt")}
    previous = _previous_fingerprint(files)
    if previous == fingerprint:
        kept = files[".html"] if files[".html"].exists() else files[".txt"]
        return EntryOutcome(title, "unchanged", str(kept.relative_to(corpus)))
    status = "updated" if previous is not None else "added"

    recorded = fingerprint
    if fetch_pages and link:
        try:
            page, final = fetcher.fetch(link, MAX_PAGE_BYTES)
            extracted = extract_html(page)
        except BudgetSpent as exc:  # not the page's fault: the next run tries it again
            notes.append(f"page {link} not fetched: {exc}; the feed's summary is indexed for now and the "
                         "page is fetched when the feed is next indexed")
            recorded = RETRY_MARK
        except LoadError as exc:  # FetchError too: a missing page still leaves the feed's summary
            notes.append(f"page {link}: {exc}; the feed's summary is indexed instead")
        else:
            from_page = extracted.meta
            meta = Metadata(title=from_page.title, source=from_page.source, url=from_page.url,
                            author=from_page.author).over(feed_meta)
            meta = Metadata(published=published or from_page.published).over(meta)
            if bad_date:
                notes.append(f"{bad_date}; " + ("the page's date is used" if meta.published else "indexed without a date"))
            record = {k: v for k, v in vars(meta).items() if v}
            record.update({"feed": feed_source, "feed_entry": fingerprint, "fetched_from": final})
            atomic_write_bytes(files[".html"], page)
            atomic_write_bytes(files[SIDECAR_SUFFIX], (json.dumps(record, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
            files[".txt"].unlink(missing_ok=True)
            return EntryOutcome(title, status, str(files[".html"].relative_to(corpus)), tuple(notes))

    if bad_date:
        notes.append(f"{bad_date}; indexed without a date")
    text = fragment_text(content)
    if not text.strip():
        return EntryOutcome(title, "skipped", notes=(*notes, "the entry has no text of its own and no page "
                                                            "that could be fetched"))
    atomic_write_bytes(files[".txt"], _with_front_matter(feed_meta, recorded, title, text).encode("utf-8"))
    files[".html"].unlink(missing_ok=True)
    files[SIDECAR_SUFFIX].unlink(missing_ok=True)
    return EntryOutcome(title, status, str(files[".txt"].relative_to(corpus)), tuple(notes))


def _with_front_matter(meta: Metadata, fingerprint: str, title: str, text: str) -> str:
    lines = ["---"]
    for key, value in (("title", meta.title), ("date", meta.published), ("source", meta.source),
                       ("url", meta.url), ("author", meta.author), ("feed_entry", fingerprint)):
        if value:
            value = " ".join(value.split())
            if value[0] in "\"'" and value[-1] == value[0]:  # the parser strips one pair of quotes
                value = ("'" if value[0] == '"' else '"') + value + ("'" if value[0] == '"' else '"')
            lines.append(f"{key}: {value}")
    lines.append("---")
    body = text if not title or text.startswith(title) else f"{title}\n\n{text}"
    return "\n".join(lines) + "\n" + body + "\n"


def _previous_fingerprint(files: dict[str, Path]) -> str | None:
    """The fingerprint recorded by an earlier run for this entry, None when it has no file yet."""
    try:
        if files[SIDECAR_SUFFIX].is_file() and files[".html"].is_file():
            return str(json.loads(files[SIDECAR_SUFFIX].read_text(encoding="utf-8")).get("feed_entry", ""))
        if files[".txt"].is_file():
            values, _ = split_front_matter(files[".txt"].read_text(encoding="utf-8"))
            return values.get("feed_entry", "")
    except (OSError, ValueError):
        return ""  # unreadable: rewrite it
    return None
