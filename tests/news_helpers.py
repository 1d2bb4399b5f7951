"""The news fixture corpus (tests/fixtures/news/, from scripts/make_news_fixtures.py) for tests:
a loopback web server that serves its pages and feeds, a mixed corpus folder built from it, and
questions whose answers sit in its articles, with the headline, outlet, date and page each
answer's citation must carry."""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

NEWS = Path(__file__).resolve().parent / "fixtures" / "news"
GOLD = json.loads((NEWS / "articles.json").read_text(encoding="utf-8"))
FEEDS = ("feeds/harbour-times.rss", "feeds/northern-wire.atom")

# What goes into the mixed folder besides the two feeds (which bring the other pages).
FOLDER_FILES = ["pages/harbour-ferry-strike.html", "pages/prairie-canola-drought.html",
                "pages/northern-diamond-mine.html", "pdf/prairie-rural-broadband-clipping.pdf",
                "pdf/prairie-rural-broadband-clipping.meta.json", "pdf/coastal-flood-review.pdf",
                "pdf/coastal-flood-review.meta.json", "text/dominion-offshore-wind.txt",
                "text/lakeside-lake-levels.md"]


@dataclass
class NewsServer:
    """The fixture folder over HTTP on 127.0.0.1; ``requests`` lists every path asked for."""

    url: str
    requests: list[str] = field(default_factory=list)


@contextlib.contextmanager
def serve_news() -> Iterator[NewsServer]:
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # the test reads ``requests``, not a log
            pass

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(NEWS)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield NewsServer(f"http://127.0.0.1:{server.server_port}", requests)
    finally:
        server.shutdown()
        server.server_close()


def copy_folder_files(dest: Path) -> Path:
    """The saved pages, PDFs (with their sidecars) and text files of the mixed corpus, in ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel in FOLDER_FILES:
        shutil.copy(NEWS / rel, dest / Path(rel).name)
    return dest


@dataclass(frozen=True)
class NewsQuestion:
    question: str
    answer: str  # the gold span (each occurs verbatim in its article)
    title: str
    source: str
    published: str  # "" where the feed's date was not a date
    page: int | None = None
    also: tuple[str, ...] = ()  # other spans that answer it as well


def _article(name: str) -> dict:
    pools = GOLD["articles"] + GOLD["feed_only"] + GOLD["text_files"] + [GOLD["report"]]
    return next(a for a in pools if a["name"] == name)


def _q(question, answer, name, page=None, published=None, also=()) -> NewsQuestion:
    a = _article(name)
    return NewsQuestion(question, answer, a["headline"], a["source"],
                        a["published"] if published is None else published, page, tuple(also))


QUESTIONS = [
    _q("How many deckhands, engineers and terminal staff walked off the job?", "About 1,400", "harbour-ferry-strike",
       also=["1,400"]),
    _q("By how much does the ferry deal raise wages?", "11.5 per cent", "harbour-ferry-strike"),
    _q("What was the council vote on the seawall upgrade?", "9-4", "harbour-seawall-vote"),
    _q("How many bushels per acre are canola farmers in the region reporting?", "28", "prairie-canola-drought"),
    _q("How many kilometres of fibre-optic cable does the NorthLink network run?", "2,300",
       "prairie-rural-broadband", page=1, also=["2,300 kilometres"]),
    _q("How large is the fund the council recommends for repairing dikes and sea walls?", "$250 million",
       "coastal-flood-review", page=3),
    _q("How many people does Boreal Gems employ at the Kestrel Lake site?", "about 1,150", "northern-diamond-mine",
       also=["1,150", "about 1,150 people", "1,150 people"]),
    _q("To what area did Arctic sea ice shrink this month?", "4.28 million square kilometres", "northern-sea-ice"),
    _q("To what depth did lakes freeze along the winter road to Whati?", "60 centimetres", "northern-winter-road"),
    _q("How many turbines does Atlantic Breeze Energy plan to install?", "65", "dominion-offshore-wind"),
    _q("How far has Lake Winnimac dropped since 2019?", "1.8 metres", "lakeside-lake-levels"),
    _q("How many municipal staff will try a four-day work week?", "120", "northern-four-day-week", published=""),
    _q("Who is the chief librarian?", "Asha Nwosu", "harbour-library-hours", published=""),
]
