"""qa/chat.py: the chat's HTML is escaped exactly once, highlights land on the right characters,
and the replies say what people expect (answer in bold, confidence, citations, "not found")."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from qa import chat
from qa.chat import ArticleView, confidence, esc, mark
from qa.types import Answer, Chunk, Citation, Hit

# Text that must come out as text: tags, entities, quotes, a lone surrogate, Markdown and LaTeX.
NASTY = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "AT&amp;T & Co. say \"hi\" and 'bye'",
    "*bold* _it_ [link](javascript:alert(1)) $$x^2$$ `code`",
    "line one\nline two\r\nline three",
    "caf\u00e9 \U0001F600 \u202e reversed",
]

ALLOWED_TAGS = {"p", "div", "b", "span", "mark", "blockquote", "details", "summary", "br", "i", "ul", "li",
                "table", "thead", "tbody", "tr", "th", "td"}
ALLOWED_ATTRS = {"class", "title"}


class Parsed(HTMLParser):
    """Collects tags, attributes and the visible text (entities decoded) of a rendered fragment."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []
        self.text: list[str] = []
        self.marked: list[str] = []
        self._in_mark = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        if tag == "br":
            self.handle_data("\n")
        if tag == "mark":
            self._in_mark += 1
            self.marked.append("")

    def handle_endtag(self, tag):
        if tag == "mark":
            self._in_mark -= 1

    def handle_data(self, data):
        self.text.append(data)
        if self._in_mark:
            self.marked[-1] += data

    @property
    def visible(self) -> str:
        return "".join(self.text)


def assert_safe(html: str) -> Parsed:
    """Only our fixed tags and attributes, no newline characters (Gradio re-indents multi-line text)."""
    parsed = Parsed(html)
    for tag, attrs in parsed.tags:
        assert tag in ALLOWED_TAGS, (tag, html[:200])
        assert {name for name, _ in attrs} <= ALLOWED_ATTRS, (tag, attrs)
    assert "\n" not in html and "\r" not in html
    return parsed


def citation(text: str, start: int, end: int, doc_id: str = "doc", title: str = "Title") -> Citation:
    return Citation(doc_id=doc_id, title=title, path=f"{doc_id}.txt", start=start, end=end, text=text[start:end],
                    sentence=text, sentence_start=0, sentence_end=len(text), chunk_id=f"{doc_id}#0")


@pytest.mark.parametrize("text", NASTY)
def test_esc_shows_text_as_text(text):
    parsed = assert_safe(esc(text))
    assert parsed.visible == text.replace("\r\n", "\n")


@pytest.mark.parametrize("text", NASTY)
def test_mark_highlights_the_raw_slice_and_escapes_each_piece_once(text):
    start, end = 2, len(text) - 3
    parsed = assert_safe(mark(text, start, end))
    assert parsed.visible.replace("\n", "") == text.replace("\r\n", "\n").replace("\n", "")
    assert parsed.marked == [text[start:end].replace("\r\n", "\n")]


def test_entities_in_the_source_are_not_decoded_nor_double_escaped():
    out = mark("AT&amp;T <b>", 0, 2)
    assert out == "<mark>AT</mark>&amp;amp;T &lt;b&gt;"  # shows literally: AT&amp;T <b>
    assert "&amp;lt;" not in out


@pytest.mark.parametrize("start, end", [(-1, 3), (3, 3), (5, 2), (0, 99)])
def test_mark_with_bad_offsets_shows_plain_text(start, end):
    assert mark("<abc>", start, end) == "&lt;abc&gt;"


def test_lone_surrogate_becomes_printable():
    out = esc("bad \udcff byte")
    out.encode("utf-8")  # would raise if the surrogate were kept (and the JSON reply would fail)
    assert "bad" in out and "byte" in out


@pytest.mark.parametrize("score, level", [
    (0.95, "high"), (0.8, "high"), (0.79, "medium"), (0.5, "medium"), (0.49, "low"), (0.1, "low"),
])
def test_confidence_bands_are_stated_probabilities(score, level):
    # the shown score is a calibrated P(right): "low" only when an answer is more likely wrong than right
    assert confidence(score) == level


def test_answer_reply_has_bold_span_confidence_title_marked_sentence_and_whole_article():
    text = "Intro line.\n\nThe <new> bridge was designed by Anna Kowalski. More & more."
    start = text.index("Anna Kowalski")
    article = ArticleView(title="Bridge <opens>", path="bridge.txt", text=text)
    c = Citation(doc_id="bridge", title=article.title, path="bridge.txt", start=start, end=start + 13,
                 text="Anna Kowalski", sentence=text[13:start + 14], sentence_start=13,
                 sentence_end=start + 14, chunk_id="bridge#0")
    html = chat.render_answers([Answer("Anna Kowalski", 0.9, [c])], {"bridge": article})
    parsed = assert_safe(html)
    assert '<b class="qa-span">Anna Kowalski</b>' in html
    assert "high confidence" in parsed.visible and "90% likely right" in parsed.visible
    assert "Bridge <opens>" in parsed.visible and "&lt;opens&gt;" in html
    assert "The <new> bridge was designed by" in parsed.visible
    assert parsed.marked == ["Anna Kowalski", "Anna Kowalski"]  # in the sentence and in the article
    assert "<details" in html and "<summary>" in html
    assert "Intro line.\n\nThe <new> bridge" in parsed.visible  # the whole article, line breaks kept
    assert "1. " not in parsed.visible  # one answer: no numbering


def test_several_answers_are_numbered_and_each_cited():
    text = "Alpha met Beta. Gamma met Delta."
    articles = {"doc": ArticleView("T", "doc.txt", text)}
    answers = [Answer("Alpha", 0.8, [citation(text, 0, 5)]), Answer("Gamma", 0.4, [citation(text, 16, 21)])]
    parsed = assert_safe(chat.render_answers(answers, articles))
    assert "several possible answers" in parsed.visible
    assert "1. Alpha" in parsed.visible and "2. Gamma" in parsed.visible
    assert parsed.marked.count("Alpha") == 2 and parsed.marked.count("Gamma") == 2


def test_many_citations_of_one_answer_are_capped():
    text = "Paris. Paris. Paris. Paris. Paris."
    cites = [citation(text, i * 7, i * 7 + 5) for i in range(5)]
    parsed = assert_safe(chat.render_answers([Answer("Paris", 0.9, cites)], {}))
    assert parsed.visible.count("Title") == chat.MAX_CITATIONS_SHOWN
    assert "2 more places" in parsed.visible


def test_long_article_is_cut_to_a_window_around_the_answer():
    text = "x " * 50_000 + "THE ANSWER" + " y" * 50_000
    start = text.index("THE ANSWER")
    html = chat.render_citation(citation(text, start, start + 10), ArticleView("T", "t.txt", text))
    parsed = assert_safe(html)
    assert len(html) < 3 * chat.ARTICLE_WINDOW
    assert "THE ANSWER" in parsed.marked
    assert "characters before" in parsed.visible and "characters after" in parsed.visible


def test_no_answer_says_so_and_lists_closest_passages_escaped():
    chunk = Chunk("doc#0", "doc", 0, 30, "<script>alert(1)</script> Near", ((0, 30),))
    html = chat.render_no_answer([Hit(chunk, 0.5)], {"doc": ArticleView("<T>", "doc.txt", chunk.text)})
    parsed = assert_safe(html)
    assert chat.NO_ANSWER in parsed.visible
    assert "the articles may not say" in parsed.visible
    assert "<script>alert(1)</script> Near" in parsed.visible and "<T>" in parsed.visible


def test_no_answer_without_passages_still_says_so():
    assert chat.NO_ANSWER in assert_safe(chat.render_no_answer([], {})).visible


def test_question_is_escaped_and_long_ones_shortened():
    assert assert_safe(chat.render_question("<b>hi</b>\nthere")).visible == "<b>hi</b>\nthere"
    long = chat.render_question("w " * 5000)
    assert len(long) < chat.QUESTION_DISPLAY_CHARS + 100 and "10,000 characters" in long


def test_article_table_and_status_escape_titles_and_file_names():
    from qa.corpus_admin import ArticleRow

    rows = [ArticleRow("a", "<img src=x onerror=alert(1)>", "a&b.txt", 1234, "2026-01-01 10:00 UTC")]
    parsed = assert_safe(chat.render_article_table(rows))
    assert "<img src=x onerror=alert(1)>" in parsed.visible and "a&b.txt" in parsed.visible
    assert "1.2 kB" in parsed.visible and "1 article indexed" in parsed.visible
    assert "No articles" in assert_safe(chat.render_article_table([])).visible
    status = assert_safe(chat.render_status([(True, "<ok>"), (False, "x.txt: not added: bad")]))
    assert "✓ <ok>" in status.visible and "✗ x.txt: not added: bad" in status.visible


def test_article_table_says_added_when_the_index_has_no_per_article_time():
    from qa.corpus_admin import ArticleRow

    from_index = ArticleRow("a", "A", "a.txt", 10, "2026-01-01 10:00 UTC", from_index=True)
    from_file = ArticleRow("b", "B", "b.txt", 10, "2026-01-01 09:00 UTC", from_index=False)
    assert "<th>Indexed</th>" in chat.render_article_table([from_index])
    assert "<th>Added</th>" in chat.render_article_table([from_index, from_file])


def test_error_reply_is_escaped():
    assert assert_safe(chat.render_error("<b>no</b>")).visible == "<b>no</b>"


def test_citation_shows_headline_outlet_date_and_page_escaped():
    text = "The fund would be $250 million."
    c = Citation(doc_id="r", title="Review <2023>", path="r.pdf", start=18, end=30, text="$250 million",
                 sentence=text, sentence_start=0, sentence_end=len(text), chunk_id="r#0",
                 source="Council & Co", published="2023-10", page=3)
    parsed = assert_safe(chat.render_citation(c, None))
    assert "Review <2023> · Council & Co · October 2023 · page 3 (r.pdf)" in parsed.visible
    bare = Citation(doc_id="s", title="Story", path="s.txt", start=0, end=3, text="The", sentence=text,
                    sentence_start=0, sentence_end=len(text), chunk_id="s#0")
    assert "Story (s.txt)" in assert_safe(chat.render_citation(bare, None)).visible  # nothing unknown is shown


def test_no_answer_names_the_filter_and_each_passages_outlet_and_date():
    chunk = Chunk("doc#0", "doc", 0, 4, "Near", ((0, 4),))
    article = ArticleView("Ice story", "doc.html", "Near", source="Northern Wire", published="2024-09-20")
    parsed = assert_safe(chat.render_no_answer([Hit(chunk, 0.5)], {"doc": article},
                                               scope=chat.scope_text("2024", None, ["Northern Wire"])))
    assert "I could not find that in the articles published since 2024, from Northern Wire." in parsed.visible
    assert "Ice story · Northern Wire · September 20, 2024" in parsed.visible


def test_scope_text():
    assert chat.scope_text("2023-01", "2023-12", None) == "published from 2023-01 to 2023-12"
    assert chat.scope_text(None, "2020", ["A", "B", "C"]) == "published until 2020, from A, B or C"
    assert chat.scope_text(None, None, []) == ""


def test_article_table_lists_outlet_and_date_then_what_was_not_indexed_and_why():
    from qa.corpus_admin import ArticleRow
    from qa.load import Skipped

    rows = [ArticleRow("a", "A story", "a.html", 10, "2026-01-01 10:00 UTC", source="The <Harbour> Times",
                       published="2023-05-12")]
    problems = [Skipped("front.html", "no article body: a section front"),
                Skipped("scan.pdf", "the PDF has no text layer <img>"),
                Skipped("feed.txt", "date 'soon' is not a date; indexed without a date", note=True)]
    parsed = assert_safe(chat.render_article_table(rows, problems))
    assert "<th>Outlet</th><th>Published</th>" in chat.render_article_table(rows)
    assert "The <Harbour> Times" in parsed.visible and "May 12, 2023" in parsed.visible
    assert "2 files not indexed" in parsed.visible and "front.html: no article body" in parsed.visible
    assert "scan.pdf: the PDF has no text layer <img>" in parsed.visible
    assert "1 note on indexed articles" in parsed.visible and "feed.txt: date 'soon'" in parsed.visible
    assert "1 file not indexed" in assert_safe(chat.render_article_table([], problems[:1])).visible


def test_interpretation_line_is_escaped_and_only_for_follow_ups():
    from qa.conversation.resolve import Resolution

    alone = Resolution("Who?", "Who?", False, True, "standalone")
    assert chat.render_interpretation(alone) == "" and chat.render_interpretation(None) == ""
    sure = Resolution("And <b>it</b>?", "When did <b>Impact</b> begin?", True, True, "pronoun", "x")
    assert chat.render_interpretation(sure) == ('<p class="qa-interpreted">Interpreted as: When did '
                                                "&lt;b&gt;Impact&lt;/b&gt; begin?</p>")
    unsure = Resolution("What is her job?", "What is her job?", True, False, "pronoun", None,
                        "I could not tell who or what “her” refers to, so I answered the question as asked.")
    assert "qa-unsure" in chat.render_interpretation(unsure) and "as asked" in chat.render_interpretation(unsure)
