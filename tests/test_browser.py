"""The web chat in a real browser: headless Debian chromium driven by Playwright.

One app process (tmp copy of seeds, tmp index, real encoder, a login: an admin and a plain user)
serves the whole module; the tests run in order on one page, like a person would: log in, ask seed
questions, upload an article and ask about it, try to inject script through an article and through
a question, look at it on a phone-sized screen; a second person, not an admin, sees no upload.
Every request the page makes off 127.0.0.1 is aborted and recorded, so the page is shown to work
with no internet (no fonts or scripts from CDNs).
"""
from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .chat_helpers import ROOT, SEED_CASES, running_app, seed_credit, seed_title

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ANSWER_TIMEOUT_MS = 60_000
SCREENSHOT = ROOT / "reports" / "chat.png"

# An article that only the upload brings in; its title and body try to run script three ways.
XSS_ARTICLE = ("<script>window.__xss=1</script>Harbour news <img src=x onerror=\"window.__xss=2\">\n\n"
               "The Quillon Glass Festival in Tarrowby was founded by Marisol Vantree in 1987. "
               "Visitors admired <img src=x onerror=\"window.__xss=3\"> glass boats on the river.\n")
XSS_QUESTION = "<script>window.__xss=4</script>When was the Quillon Glass Festival founded?"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed: apt-get install -y chromium"),
]


ADMIN = ("editor", "browser-test-admin")
READER = ("visitor", "browser-test-reader")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("browser"), login=ADMIN, readers=[READER]) as app:
        yield app


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.off_machine = []  # requests the page tried to make beyond this machine

    def only_loopback(route):
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            page.off_machine.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    log_in(page, server.url, *ADMIN)
    yield page
    context.close()


def log_in(page, url: str, name: str, password: str) -> None:
    """Gradio's login form, filled in as a person would; then the chat page."""
    page.goto(url)
    page.get_by_label("username").fill(name)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#question textarea", timeout=60_000)


def ask(page, question: str):
    """Type the question and press Enter (keyboard only); return the new bot message's locator."""
    bots = page.locator('#chatbot [data-testid="bot"]')
    before = bots.count()
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#chatbot [data-testid=\"bot\"]').length > n", arg=before,
        timeout=ANSWER_TIMEOUT_MS)
    reply = bots.nth(before)
    reply.locator(".qa-answer, .qa-none, .qa-error").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    return reply


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def upload(page, name: str, text: str) -> str:
    open_tab(page, "Articles")
    status = page.locator("#article-status")
    page.locator("#upload input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "text/plain", "buffer": text.encode("utf-8")}])
    page.wait_for_function(
        "() => /added|not added/.test(document.querySelector('#article-status')?.innerText || '')",
        timeout=ANSWER_TIMEOUT_MS)
    message = status.inner_text()
    open_tab(page, "Chat")
    return message


@pytest.mark.parametrize("question, answer, doc_id", SEED_CASES, ids=["engineers", "commander", "missiles"])
def test_seed_question_answered_with_cited_title(page, question, answer, doc_id):
    reply = ask(page, question)
    span = reply.locator(".qa-span").first
    assert answer in span.inner_text()
    outlet, date = seed_credit(doc_id)  # headline · outlet · date, from the seed's sidecar
    assert f"{seed_title(doc_id)} · {outlet} · {date}" in reply.locator(".qa-cite-title").first.inner_text()
    # The sentence quoted under the answer highlights the span, and the whole article is one click away.
    assert answer in reply.locator(".qa-sentence mark").first.inner_text()
    details = reply.locator("details.qa-article").first
    details.locator("summary").click()
    assert details.evaluate("d => d.open")
    assert answer in details.locator("mark").first.inner_text()


def test_controls_have_accessible_names(page):
    """A screen reader announces what each control is: the question box has a name although its
    label is not shown, and no visible button or text field is nameless."""
    for tab in ("Articles", "Chat"):
        open_tab(page, tab)
        nameless = page.evaluate("""() => [...document.querySelectorAll('button, textarea, input:not([type=hidden])')]
            .filter(e => e.offsetParent !== null)
            .filter(e => !(e.getAttribute('aria-label') || e.labels?.[0]?.innerText.trim() || e.innerText.trim()
                           || e.getAttribute('title') || e.getAttribute('aria-labelledby')))
            .map(e => e.outerHTML.slice(0, 120))""")
        assert nameless == [], tab
    assert page.get_by_role("textbox", name="Question").count() == 1
    assert page.get_by_role("button", name="Ask").count() == 1
    assert page.get_by_role("button", name="New conversation").count() == 1


def test_a_three_turn_conversation_answers_follow_ups_and_starts_over(page):
    """A person's conversation: a question, a follow-up with a pronoun, one with an ellipsis; each
    follow-up says how it was read. "New conversation" clears the chat and the history."""
    ask(page, "Who is the commander of Joint Task Force Impact?")
    reply = ask(page, "Where was he interviewed?")
    assert "Kuwait" in reply.locator(".qa-span").first.inner_text()
    interpreted = reply.locator(".qa-interpreted").inner_text()
    assert interpreted.startswith("Interpreted as: Where was") and "St-Louis" in interpreted
    ask(page, "How many troops did Canada commit in June?")
    reply = ask(page, "Until when?")
    assert "March 2019" in reply.locator(".qa-span").first.inner_text()
    assert "Interpreted as: Until when did Canada commit" in reply.locator(".qa-interpreted").inner_text()
    page.get_by_role("button", name="New conversation").click()
    page.wait_for_function("() => document.querySelectorAll('#chatbot [data-testid=\"bot\"]').length === 0",
                           timeout=ANSWER_TIMEOUT_MS)
    reply = ask(page, "Until when?")  # nothing to follow on from now: asked as it stands
    assert reply.locator(".qa-interpreted").count() == 0


def test_no_answer_says_so_and_shows_closest_passages(page):
    reply = ask(page, "Who painted the Mona Lisa?")
    text = reply.inner_text()
    assert "I could not find that in the articles" in text
    assert "the articles may not say" in text


def test_uploaded_article_is_answerable_at_once_and_injection_shows_as_text(page):
    message = upload(page, "quillon festival (2024).txt", XSS_ARTICLE)
    assert "quillon_festival_2024.txt: added" in message, message

    reply = ask(page, "Who founded the Quillon Glass Festival in Tarrowby?")
    assert "Marisol Vantree" in reply.locator(".qa-span").first.inner_text()
    # The title (first line of the file) is shown literally, tags and all, as text.
    assert "<script>window.__xss=1</script>Harbour news" in reply.inner_text()

    reply = ask(page, XSS_QUESTION)
    assert "1987" in reply.locator(".qa-span").first.inner_text()
    user_bubbles = page.locator('#chatbot [data-testid="user"]')
    assert XSS_QUESTION in user_bubbles.last.inner_text()

    reply.locator("details.qa-article summary").first.click()  # the article body holds the <img> tags
    assert 'onerror="window.__xss=3"' in reply.inner_text()
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#chatbot script, #chatbot img, #article-table img").count() == 0

    open_tab(page, "Articles")
    assert "<script>window.__xss=1</script>Harbour news" in page.locator("#article-table").inner_text()
    assert page.evaluate("() => window.__xss") is None
    open_tab(page, "Chat")


def test_screenshot_and_narrow_window(page):
    # The report's picture: a seed answer at the bottom of the conversation so far.
    ask(page, SEED_CASES[0][0])
    SCREENSHOT.parent.mkdir(exist_ok=True)
    tmp = SCREENSHOT.with_suffix(".tmp")
    page.screenshot(path=str(tmp), type="png")
    tmp.replace(SCREENSHOT)
    # A phone-sized window: nothing wider than the screen, the question box still usable.
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page is {overflow}px wider than a 390px window"
    assert page.locator("#question textarea").is_visible()
    page.set_viewport_size({"width": 1280, "height": 900})


def test_remove_asks_for_confirmation_then_the_article_is_gone(page, server):
    open_tab(page, "Articles")
    page.locator("#remove-choice input").click()
    option = page.get_by_role("option", name="quillon_festival_2024.txt", exact=False)
    assert "<script>window.__xss=1</script>Harbour news" in option.inner_text()  # the title, as text
    option.click()
    assert page.evaluate("() => window.__xss") is None
    page.locator("#remove").click()
    confirm = page.locator("#remove-confirm")
    confirm.wait_for(state="visible")
    assert (server.corpus / "quillon_festival_2024.txt").exists()  # nothing deleted before confirming
    confirm.click()
    page.wait_for_function("() => /removed/.test(document.querySelector('#article-status')?.innerText || '')",
                           timeout=ANSWER_TIMEOUT_MS)
    assert not (server.corpus / "quillon_festival_2024.txt").exists()
    assert "Harbour news" not in page.locator("#article-table").inner_text()
    open_tab(page, "Chat")
    reply = ask(page, "Who founded the Quillon Glass Festival in Tarrowby?")
    assert "Marisol Vantree" not in reply.inner_text()


def test_filters_in_the_chat_restrict_the_articles_searched(page):
    """A date range and an outlet picker under "Filter the articles": the question about the 2017
    article is not answered from it when only 2020 is searched, and is again with its outlet picked."""
    question = SEED_CASES[0][0]  # engineers deployed to Besmaya: CTV News, 2017
    page.locator("#filters").get_by_text("Filter the articles").click()
    since = page.locator("#since textarea, #since input").first
    since.fill("2020-01")
    reply = ask(page, question)
    text = reply.inner_text()
    assert "CTV News" not in text and "published since 2020-01" in text
    since.fill("")
    page.locator("#outlets input").click()
    page.get_by_role("option", name="CTV News").click()
    page.keyboard.press("Escape")
    reply = ask(page, question)
    assert "20" in reply.locator(".qa-span").first.inner_text()
    assert "CTV News" in reply.locator(".qa-cite-title").first.inner_text()
    assert "The Globe and Mail" not in reply.inner_text()
    open_tab(page, "Articles")
    table = page.locator("#article-table").inner_text()
    assert "CTV News" in table and "January 2020" in table
    open_tab(page, "Chat")


def test_page_never_reached_off_machine(page):
    assert page.off_machine == [], page.off_machine


def test_requests_without_a_session_are_refused(server):
    """The page and its API need the login: no answer, no config, no queue without a session."""
    for method, path in (("GET", "/config"), ("GET", "/gradio_api/info"), ("POST", "/gradio_api/queue/join"),
                         ("POST", "/gradio_api/call/ask")):
        request = urllib.request.Request(server.url + path, method=method, data=b"{}" if method == "POST" else None,
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 401, path


def test_a_user_who_is_not_an_admin_can_ask_but_not_upload(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        log_in(page, server.url, *READER)
        reply = ask(page, SEED_CASES[0][0])
        assert SEED_CASES[0][1] in reply.locator(".qa-span").first.inner_text()
        open_tab(page, "Articles")
        page.wait_for_function("() => /indexed/.test(document.querySelector('#article-table')?.innerText || '')",
                               timeout=ANSWER_TIMEOUT_MS)
        assert page.locator("#upload").count() == 0 or not page.locator("#upload").is_visible()
        assert page.locator("#remove").count() == 0 or not page.locator("#remove").is_visible()
    finally:
        context.close()
