"""The dates shown in the web chat, in a real browser (headless Debian chromium, as tests/test_browser.py):
an answer that is a relative date ("Saturday") has the day it means beside it, and the answer's own
words stay as the article wrote them."""
from __future__ import annotations

import pytest

from ..chat_helpers import running_app
from ..test_browser import CHROMIUM, LAUNCH_ARGS, ask
from .test_dates_index import WALTER_REED

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed: apt-get install -y chromium"),
]


@pytest.fixture(scope="module")
def dated_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("dates-browser")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "walter.txt").write_text(WALTER_REED.format(date="2019-11-18"), encoding="utf-8")
    with running_app(root, corpus=corpus) as app:
        yield app


def test_a_relative_date_in_the_answer_is_shown_resolved_beside_it(dated_server):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            off_machine = []
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(dated_server.url)
                       else (off_machine.append(route.request.url), route.abort()))
            page.goto(dated_server.url)
            page.wait_for_selector("#question textarea", timeout=60_000)
            reply = ask(page, "When did Trump go to Walter Reed?")
            assert reply.locator(".qa-span").first.inner_text() == "Saturday"  # verbatim, not rewritten
            when = reply.locator(".qa-when").first
            assert when.inner_text() == "· Sat 16 Nov 2019"
            # beside the words, on the same line as the answer
            line = reply.locator(".qa-answer p").first.inner_text()
            assert line.startswith("Saturday · Sat 16 Nov 2019")
            assert not off_machine
        finally:
            browser.close()
