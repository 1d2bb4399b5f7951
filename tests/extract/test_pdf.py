"""PDFs: a two-column report (justified, hyphenated, running header, page numbers) and a
chromium print of a saved page (print date, title and URL on every page)."""
from qa.extract.pdf import assemble, extract_pdf

from ..news_helpers import GOLD, NEWS

REPORT = GOLD["report"]
CLIP = next(a for a in GOLD["articles"] if a["name"] == "prairie-rural-broadband")


def test_report_columns_in_reading_order_with_pages_and_hyphens_joined():
    x = extract_pdf((NEWS / "pdf" / "coastal-flood-review.pdf").read_bytes())
    assert (x.meta.title, x.meta.published, x.meta.author) == (REPORT["headline"], REPORT["published"], REPORT["author"])
    assert len(x.pages) == 3 and x.pages[0] == 0
    for n, (heading, *paragraphs) in enumerate(REPORT["pages"], 1):
        start, end = x.pages[n - 1], (x.pages[n] if n < 3 else len(x.text))
        page_text = x.text[start:end]
        assert heading in page_text.split("\n\n")[:3]
        for p in paragraphs:  # whole paragraphs: the columns are not interleaved, breaks are joined
            assert p in page_text, p
    assert "Page 1 of 3" not in x.text and "· Maritime Resilience Council" not in x.text
    assert "estimated" in x.text and "sea-level rise" in x.text and "nature-based" in x.text  # hyphen kept only there


def test_chromium_clipping_loses_its_print_header_and_footer_and_keeps_its_byline_date():
    x = extract_pdf((NEWS / "pdf" / "prairie-rural-broadband-clipping.pdf").read_bytes())
    assert x.meta.published == CLIP["published"]
    assert x.meta.title.startswith(CLIP["headline"])  # " – Prairie Ledger" goes once the outlet is known
    assert "127.0.0.1" not in x.text and " AM " not in x.text and "1/2" not in x.text
    text = " ".join(x.text.split())
    for p in CLIP["paragraphs"]:
        assert p in text, p
    second = x.text[x.pages[1]:]
    assert second.startswith("home would have access")  # page 2 starts mid-sentence, where the page does


def test_assemble_drops_running_lines_and_page_numbers_and_maps_pages():
    pages = ["Annual Report 2023\nThe first page has a sentence that runs on and on past the end of the\n"
             "line and ends here.\n1",
             "Annual Report 2023\n\n- 2 -",  # only running lines and a number: an empty page
             "Annual Report 2023\nThe third page starts a new paragraph.\nPage 3 of 3"]
    text, starts = assemble(pages)
    assert text == ("The first page has a sentence that runs on and on past the end of the line and ends here.\n\n"
                    "The third page starts a new paragraph.")
    assert starts == [0, text.index("The third"), text.index("The third")]


def test_a_hyphenated_break_keeps_the_hyphen_only_for_words_written_with_one():
    text, _ = assemble(["We studied long-term trends, then the long-\nterm ones again, and the infra-\nstructure budget.\n"
                        "Another long line so that the widths are typical for this page of text here."])
    assert "the long-term ones" in text and "the infrastructure budget" in text
