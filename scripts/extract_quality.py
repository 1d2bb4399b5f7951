#!/usr/bin/env python
"""How well the extractors read the news fixtures (tests/fixtures/news/, gold in articles.json).

Saved pages, per extractor setting (and the old "all visible text" reduction as the baseline):
the share of the article's words kept, the share of the page's other words (navigation, banners,
ads, related links, comments, footer) dropped, and whether headline, outlet, date, author and
canonical URL came out right. PDFs, pypdf against pdfplumber, each through the same line assembly
(qa/extract/pdf.py ``assemble``): words kept, paragraphs found whole and in order (reading order,
hyphenated breaks joined), words that a line-end hyphen had split and came out whole, and the time
per page (median of repeats; run it with scripts/with_training_paused.sh on a shared machine).
Provenance (tests/fixtures/provenance/, pages whose metadata misleads): outlet, headline, date and
URL right and teasers left in the text, trafilatura's metadata as it came against qa/news/.

    python scripts/extract_quality.py                      # table on stdout, reports/extract.md + .json
    python scripts/extract_quality.py --provenance-only    # only the provenance section (no timings)
    scripts/with_training_paused.sh python scripts/extract_quality.py
"""
from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import sys
import time
from collections import Counter
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.eval.report import atomic_write_text, machine_info, machine_line, md_table  # noqa: E402
from qa.extract.base import LoadError  # noqa: E402
from qa.extract.html import extract_html, fragment_text, page_title  # noqa: E402
from qa.extract.pdf import assemble  # noqa: E402

NEWS = ROOT / "tests" / "fixtures" / "news"
GOLD = json.loads((NEWS / "articles.json").read_text(encoding="utf-8"))
FIELDS = ("title", "source", "published", "author", "url")
GOLD_FIELD = {"title": "headline", "source": "source", "published": "published", "author": "author", "url": "url"}


def words(text: str) -> Counter:
    return Counter(re.findall(r"\w+", text.lower()))


def page_cases() -> list[tuple[str, Path, dict]]:
    cases = [(a["name"], NEWS / "pages" / f"{a['name']}.html", a) for a in GOLD["articles"]]
    ferry = next(a for a in GOLD["articles"] if a["name"] == "harbour-ferry-strike")
    return cases + [("harbour-ferry-broken (damaged markup)", NEWS / "bad" / "harbour-ferry-broken.html", ferry)]


def baseline(raw: bytes):
    """What indexing did before: every visible word of the page, the <title> as headline."""
    class Meta:
        pass

    meta = Meta()
    html = raw.decode("utf-8", "replace")
    meta.title, meta.source, meta.published, meta.author, meta.url = page_title(html), "", "", "", ""

    class Out:
        pass

    out = Out()
    out.text, out.meta = fragment_text(html), meta
    return out


SETTINGS = {
    "visible text (before)": baseline,
    "trafilatura, default": lambda raw: extract_html(raw, favor_precision=False),
    "trafilatura, favor_precision (shipped)": lambda raw: extract_html(raw, favor_precision=True),
    "trafilatura, favor_recall": lambda raw: extract_html(raw, favor_precision=False, favor_recall=True),
}


def measure_pages() -> dict:
    results = {}
    for setting, extract in SETTINGS.items():
        rows, totals = [], Counter()
        for name, path, gold in page_cases():
            raw = path.read_bytes()
            gold_words = words(" ".join([gold["headline"], *gold["paragraphs"]]))
            boiler = words(fragment_text(raw.decode("utf-8", "replace"))) - gold_words
            try:
                out = extract(raw)
                got = words(out.text)
                right = {f: getattr(out.meta, f) == gold[GOLD_FIELD[f]] for f in FIELDS}
            except LoadError:
                got, right = Counter(), {f: False for f in FIELDS}
            kept = sum((got & gold_words).values())
            boiler_kept = sum(((got - gold_words) & boiler).values())
            rows.append({"page": name, "article_words": sum(gold_words.values()), "kept": kept,
                         "boilerplate_words": sum(boiler.values()), "boilerplate_kept": boiler_kept, **right})
            totals.update({"article": sum(gold_words.values()), "kept": kept, "boiler": sum(boiler.values()),
                           "boiler_kept": boiler_kept, **{f: int(v) for f, v in right.items()}})
        results[setting] = {
            "pages": rows,
            "article_words_kept": 100 * totals["kept"] / totals["article"],
            "boilerplate_dropped": 100 * (1 - totals["boiler_kept"] / totals["boiler"]),
            **{f"{f}_right": totals[f] for f in FIELDS},
            "count": len(rows),
        }
    return results


def markup_variants(html: str):
    """The same page with its story marked up the ways older sites do it."""
    yield "<div> paragraphs", re.sub(r"<p( class=\"[^\"]*\")?>", "<div>", html).replace("</p>", "</div>")
    body = re.search(r'<div class="(story-body|entry-content)">(.*?)</div>', html, re.S)
    if body:
        yield "<br>-separated paragraphs", html.replace(body.group(2), re.sub(r"</p>\s*<p[^>]*>", "<br><br>", body.group(2)))
    yield "no <article> element", html.replace("<article", "<div").replace("</article>", "</div>")


def measure_variants() -> dict:
    """Article words kept and other words kept, per setting, over the pages in other markup."""
    out = {}
    for setting in ("trafilatura, default", "trafilatura, favor_precision (shipped)"):
        totals = Counter()
        for name, path, gold in page_cases()[:len(GOLD["articles"])]:
            gold_words = words(" ".join([gold["headline"], *gold["paragraphs"]]))
            for _, html in markup_variants(path.read_text(encoding="utf-8")):
                try:
                    got = words(SETTINGS[setting](html.encode("utf-8")).text)
                except LoadError:
                    got = Counter()
                totals.update({"pages": 1, "article": sum(gold_words.values()), "kept": sum((got & gold_words).values()),
                               "extra": sum((got - gold_words).values())})
        out[setting] = {"pages": totals["pages"], "article_words_kept": 100 * totals["kept"] / totals["article"],
                        "other_words_kept": totals["extra"]}
    return out


# ------------------------------------------------------------------ provenance (qa/news/)

PROVENANCE = ROOT / "tests" / "fixtures" / "provenance"  # scripts/make_provenance_fixtures.py
PROVENANCE_FIELDS = ("source", "title", "published", "url")


def page_metadata_alone(raw: bytes):
    """What indexing took before qa/news/: trafilatura's own reading of the page's metadata (its
    site name, else the <title> suffix when the site name is a host name; its og:title) and its
    paragraphs as they came."""
    import trafilatura
    from types import SimpleNamespace

    from qa.extract.base import clean_title
    from qa.extract.html import outlet_from_title

    found = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False, include_tables=True,
                                        include_images=False, favor_precision=True)
    site = " ".join((found.sitename or "").split())
    if not site or re.fullmatch(r"[\w.-]+\.[a-z]{2,}", site):
        site = outlet_from_title(page_title(raw), " ".join((found.title or "").split())) or site
    meta = SimpleNamespace(source=site, title=clean_title(found.title or "", site), published=found.date or "",
                           url=found.url or "")
    return SimpleNamespace(meta=meta, text=found.text or "")


def measure_provenance() -> dict:
    """Outlet, headline, date and URL right, wire stories credited (shipped only), and teasers left
    in the indexed text, on the pages whose metadata misleads: before (trafilatura's metadata as
    it came) and now (qa/news/)."""
    from qa.news.headline import page_facts
    from qa.news.outlets import outlet_of

    gold = json.loads((PROVENANCE / "gold.json").read_text(encoding="utf-8"))
    out = {}
    for setting, extract in (("trafilatura's metadata (before)", page_metadata_alone),
                             ("with qa/news/ (shipped)", lambda raw: extract_html(raw))):
        rows, totals = [], Counter()
        for g in gold["pages"]:
            raw = (PROVENANCE / "pages" / f"{g['name']}.html").read_bytes()
            x = extract(raw)
            want = {"source": g["source"], "title": g["headline"], "published": g["published"], "url": g["url"]}
            got = {f: getattr(x.meta, f) for f in PROVENANCE_FIELDS}
            left = [t for t in g["teasers"] if t.split(": ", 1)[1] in x.text]
            rows.append({"page": g["name"], **{f: got[f] for f in PROVENANCE_FIELDS},
                         **{f"{f}_right": got[f] == want[f] for f in PROVENANCE_FIELDS},
                         "teasers": len(g["teasers"]), "teasers_left": len(left)})
            totals.update({f: int(got[f] == want[f]) for f in PROVENANCE_FIELDS})
            totals.update({"teasers": len(g["teasers"]), "teasers_left": len(left)})
        out[setting] = {"pages": rows, "count": len(rows), **{f"{f}_right": totals[f] for f in PROVENANCE_FIELDS},
                        "teasers": totals["teasers"], "teasers_left": totals["teasers_left"]}
    # What reading provenance costs per page: both readings over the provenance and news pages,
    # interleaved (so machine load falls on both alike), median of the repeats.
    raws = [p.read_bytes() for p in sorted((PROVENANCE / "pages").glob("*.html"))]
    raws += [(NEWS / "pages" / f"{a['name']}.html").read_bytes() for a in GOLD["articles"]]
    times: dict[str, list[float]] = {k: [] for k in out}
    for _ in range(5):
        for setting, extract in (("trafilatura's metadata (before)", page_metadata_alone),
                                 ("with qa/news/ (shipped)", lambda raw: extract_html(raw))):
            t0 = time.perf_counter()
            for raw in raws:
                extract(raw)
            times[setting].append(1000 * (time.perf_counter() - t0) / len(raws))
    for setting, ts in times.items():
        out[setting]["ms_per_page"] = round(statistics.median(ts), 1)
    via = []
    for g in gold["pages"]:
        facts = page_facts((PROVENANCE / "pages" / f"{g['name']}.html").read_bytes())
        via.append(outlet_of([*facts.publishers, facts.site_name], facts.url, facts.bylines).via == g["via"])
    out["with qa/news/ (shipped)"]["wire_credit_right"] = sum(via)
    return out


# ------------------------------------------------------------------ PDFs

def pypdf_pages(raw: bytes) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(raw)).pages]


def pdfplumber_pages(raw: bytes) -> list[str]:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(raw)) as pdf:
        return [p.extract_text() or "" for p in pdf.pages]


LIBRARIES = {f"pypdf {version('pypdf')} (shipped)": pypdf_pages, f"pdfplumber {version('pdfplumber')}": pdfplumber_pages}


def pdf_cases() -> list[tuple[str, Path, list[str]]]:
    report = GOLD["report"]
    report_parts = [report["headline"], "Published October 2023"] + [x for page in report["pages"] for x in page]
    clip = next(a for a in GOLD["articles"] if a["name"] == "prairie-rural-broadband")
    return [("two-column report, 3 pages (fpdf2)", NEWS / "pdf" / "coastal-flood-review.pdf", report_parts),
            ("page printed by chromium, 2 pages", NEWS / "pdf" / "prairie-rural-broadband-clipping.pdf",
             [clip["headline"], *clip["paragraphs"]])]


def split_words(raw_pages: list[str], gold_words: set[str]) -> set[str]:
    """Gold words that a line-end hyphen split in the library's raw output."""
    out = set()
    for text in raw_pages:
        for m in re.finditer(r"([A-Za-z]+)[-\u00ad]\n([a-z]+)", text):
            for joined in (m.group(1) + m.group(2), f"{m.group(1)}-{m.group(2)}"):
                if joined.lower() in gold_words:
                    out.add(joined.lower())
    return out


def in_order(parts: list[str], text: str) -> int:
    """How many of ``parts`` occur whole in ``text``, each after the one before."""
    flat, at, found = " ".join(text.split()), 0, 0
    for p in parts:
        i = flat.find(" ".join(p.split()), at)
        if i >= 0:
            found, at = found + 1, i + len(p)
    return found


def measure_pdfs(repeats: int) -> dict:
    results = {}
    for library, read in LIBRARIES.items():
        rows = []
        for name, path, parts in pdf_cases():
            raw = path.read_bytes()
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                pages = read(raw)
                text, _ = assemble(pages)
                times.append(time.perf_counter() - t0)
            gold = words(" ".join(parts))
            got = words(text)
            vocabulary = {w.lower() for p in parts for w in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)?", p)}
            broken = split_words(pages, vocabulary)
            whole = {w for w in broken if re.search(rf"\b{re.escape(w)}\b", text.lower())}
            rows.append({"pdf": name, "pages": len(pages), "words_kept": 100 * sum((got & gold).values()) / sum(gold.values()),
                         "extra_words": sum((got - gold).values()),
                         "paragraphs_in_order": in_order(parts, text), "paragraphs": len(parts),
                         "hyphen_splits": len(broken), "hyphen_joined": len(whole),
                         "ms_per_page": 1000 * statistics.median(times) / max(len(pages), 1)})
        bad = {}
        for name in ("scanned-page.pdf", "encrypted-report.pdf", "corrupt-report.pdf"):
            try:
                pages = read((NEWS / "bad" / name).read_bytes())
                bad[name] = f"{sum(len(t.strip()) for t in pages)} characters of text"
            except Exception as exc:
                bad[name] = f"raises {type(exc).__name__}"
        results[library] = {"pdfs": rows, "bad": bad}
    return results


# ------------------------------------------------------------------ report

def provenance_lines(prov: dict) -> list[str]:
    n = next(iter(prov.values()))["count"]
    rows = [[s, *(f"{r[f + '_right']}/{n}" for f in PROVENANCE_FIELDS), f"{r['teasers_left']}/{r['teasers']}",
             r["ms_per_page"]] for s, r in prov.items()]
    shipped = prov["with qa/news/ (shipped)"]
    before = {r["page"]: r for r in prov["trafilatura's metadata (before)"]["pages"]}
    per_page = [[r["page"], before[r["page"]]["source"] or "–", r["source"],
                 "✓" if r["title"] == before[r["page"]]["title"] else "h1", f"{r['teasers_left']}/{r['teasers']}"]
                for r in shipped["pages"]]
    return [
        "## Provenance: outlet, headline and teasers (qa/news/)",
        "",
        f"Pages whose metadata misleads (`tests/fixtures/provenance/`, built by `scripts/make_provenance_fixtures.py`): "
        f"{n} invented stories under real outlets' kinds of page, each with what a reader would cite as gold. "
        "They carry a placeholder site name (“Hosted”, “News”, a JSON-LD publisher “Home”), the outlet spelled "
        "as a domain or in capitals (“SpaceNews.com”, “NYTimes”, “USA TODAY”, “Pv Magazine International”), an "
        "og:title that differs from the visible `<h1>`, “Read more” / “RELATED” / “See also” teasers inside the "
        "body (one with another story's $13.4bn), an “Updated” date after the published one, other stories' "
        "dates in a “Most read” list, and wire stories carried by another outlet (a Times Union page whose "
        "JSON-LD publisher is “Associated Press”; a local page of a Reuters story).",
        "",
        md_table(["reading", "outlet", "headline", "date", "URL", "teasers left", "ms / page"], rows),
        "",
        f"*ms / page*: extraction time per saved page over these {n} and the {len(GOLD['articles'])} news fixture "
        "pages, the two readings interleaved in one run, median of 5 (the load average above says how busy the "
        "machine was: compare the two rows, not across runs). The difference is the page's second parse (lxml, "
        "for its `<h1>`s, JSON-LD and bylines) and the teaser rules.",
        "",
        f"Wire stories credited right (the page's outlet, “via” the wire): {shipped['wire_credit_right']}/{n}.",
        "",
        md_table(["page", "outlet before", "outlet now", "headline now", "teasers left now"], per_page),
        "",
        "*h1*: the visible headline replaced the og:title. The outlet comes from the page's address when it is a "
        "well-known outlet's (`qa/news/outlets.py` `KNOWN_DOMAINS`, registered domain from `tld`'s bundled Public "
        "Suffix List, never downloaded), else from the first publisher or site name that is a name, else from "
        "the domain tidied. Eight pages test the rules, not how often real pages need them; the "
        "answers-from-headline rule and the reports-over-time order are tested with the shipped models in "
        "`tests/news/test_real_models.py`.",
        "",
    ]


def write(pages: dict, variants: dict, pdfs: dict, out: Path, command: str, prov: dict | None = None) -> None:
    n = next(iter(pages.values()))["count"]
    page_rows = [[s, r["article_words_kept"], r["boilerplate_dropped"]] + [f"{r[f + '_right']}/{n}" for f in FIELDS]
                 for s, r in pages.items()]
    shipped = pages["trafilatura, favor_precision (shipped)"]["pages"]
    per_page = [[r["page"], r["article_words"], f"{100 * r['kept'] / r['article_words']:.1f}",
                 r["boilerplate_words"], f"{100 * (1 - r['boilerplate_kept'] / r['boilerplate_words']):.1f}",
                 " ".join("✓" if r[f] else "✗" for f in FIELDS)] for r in shipped]
    pdf_rows = [[lib, row["pdf"], row["words_kept"], row["extra_words"],
                 f"{row['paragraphs_in_order']}/{row['paragraphs']}", f"{row['hyphen_joined']}/{row['hyphen_splits']}",
                 row["ms_per_page"]] for lib, r in pdfs.items() for row in r["pdfs"]]
    bad_rows = [[lib, *r["bad"].values()] for lib, r in pdfs.items()]
    lines = [
        "# Extraction quality on the news fixtures",
        "",
        f"- **Date / machine:** {machine_line(machine_info())}",
        f"- **Command:** `{command}`",
        f"- **Fixtures:** `tests/fixtures/news/` (built by `scripts/make_news_fixtures.py` from `articles.json`): "
        f"{n - 1} saved pages of three site layouts (a daily newspaper with a cookie banner, ads, related links "
        "and comments; a WordPress-style site with sidebars, a donation box and a comment form; a script-heavy "
        "news app with a consent dialog, newsletter box and recommendation cards), the first page again with "
        "damaged markup, a two-column PDF report and a chromium print of one page. All outlets and events are invented.",
        "- Words are lowercased `\\w+` tokens counted with repeats. *Article words kept*: of the headline and "
        "paragraphs. *Boilerplate dropped*: of the page's other visible words. Metadata columns count the pages "
        "where the field equals the gold exactly.",
        "",
        "## Saved pages",
        "",
        md_table(["extractor", "article words kept %", "boilerplate dropped %", "headline", "outlet", "date",
                  "author", "URL"], page_rows),
        "",
        "Per page, the shipped setting (fields: headline outlet date author URL):",
        "",
        md_table(["page", "article words", "kept %", "other words", "dropped %", "metadata"], per_page),
        "",
        "trafilatura's default and `favor_recall` keep the WordPress-style pages' in-article donation box "
        "(“Support independent rural journalism…”): all of the boilerplate they keep. `favor_precision` drops it "
        "too and loses no article word here, so it is shipped. The same pages with their story marked up as "
        "older sites do (`<div>` paragraphs, `<br>`-separated paragraphs, no `<article>` element):",
        "",
        md_table(["setting", "pages", "article words kept %", "other words kept"],
                 [[k, v["pages"], v["article_words_kept"], v["other_words_kept"]] for k, v in variants.items()]),
        "",
        "Six pages of three layouts are a small sample: the figures say the extractor works on these layouts, "
        "not how it fares on every site. The WordPress-style pages' outlet comes from the `<title>` suffix "
        "(“Headline – Prairie Ledger”) because they name no `og:site_name`.",
        "",
        *(provenance_lines(prov) if prov else []),
        "## PDFs: pypdf against pdfplumber",
        "",
        "Both libraries' page texts go through the same line assembly (`qa/extract/pdf.py`: running headers, "
        "footers and page numbers dropped, line-end hyphens joined, lines made paragraphs).",
        "",
        md_table(["library", "PDF", "words kept %", "extra words", "paragraphs whole, in order",
                  "hyphen-split words joined", "ms / page"], pdf_rows),
        "",
        "*Paragraphs whole, in order* counts the gold paragraphs (and headings) found verbatim, each after the "
        "one before: a reader that interleaves the two columns line by line breaks every paragraph of the "
        "report. *Extra words* are words in the output that the gold does not have (print headers and "
        "footers that survived, the print's site banner).",
        "",
        "Times are medians of the repeats within this one run, with the training runs paused but other jobs "
        "sharing the machine (see the load average above): compare the two libraries within the run.",
        "",
        md_table(["library", "scanned page", "encrypted (user password)", "corrupt"], bad_rows),
        "",
        "pypdf is shipped: it keeps the report's columns in reading order, where pdfplumber (which orders "
        "text by position) interleaves them, and it reads the single-column print as well; on the report it is "
        "also several times faster. In the product a PDF with no text layer, a password or damage is skipped with "
        "that reason (tests/test_load.py).",
        "",
    ]
    atomic_write_text(out, "\n".join(lines))
    atomic_write_text(out.with_suffix(".json"), json.dumps({"pages": pages, "markup_variants": variants, "pdfs": pdfs,
                                                            "provenance": prov}, indent=1))


def update_provenance(out: Path, command: str) -> int:
    """Re-measure the provenance pages and replace that section of an existing report."""
    if not out.is_file():
        print(f"error: {out} does not exist; run without --provenance-only first", file=sys.stderr)
        return 2
    prov = measure_provenance()
    section = provenance_lines(prov)
    section[1:1] = ["", f"- **Date / machine:** {machine_line(machine_info())}", f"- **Command:** `{command}`"]
    text = out.read_text(encoding="utf-8")
    start = text.find("## Provenance")
    end = text.find("\n## ", start + 1) + 1 if start >= 0 else text.find("## PDFs")
    if start < 0:
        start = end
    atomic_write_text(out, text[:start] + "\n".join(section) + text[end:])
    data_path = out.with_suffix(".json")
    data = json.loads(data_path.read_text(encoding="utf-8")) if data_path.is_file() else {}
    atomic_write_text(data_path, json.dumps({**data, "provenance": prov}, indent=1))
    for setting, r in prov.items():
        print(f"{setting:34s} provenance pages: " + "  ".join(f"{f} {r[f + '_right']}/{r['count']}" for f in PROVENANCE_FIELDS)
              + f"  teasers left {r['teasers_left']}/{r['teasers']}")
    print(f"wrote {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "reports" / "extract.md"), metavar="MD")
    parser.add_argument("--repeats", type=int, default=15, help="timing repeats per PDF (default: %(default)s)")
    parser.add_argument("--provenance-only", action="store_true",
                        help="measure the provenance pages only and replace just that section of --out (and its "
                             "key in the .json): the PDF timings of a quieter run stay as they were")
    args = parser.parse_args(argv)
    command = " ".join(["python", "scripts/extract_quality.py", *(argv if argv is not None else sys.argv[1:])])
    if args.provenance_only:
        return update_provenance(Path(args.out), command)
    pages = measure_pages()
    variants = measure_variants()
    pdfs = measure_pdfs(args.repeats)
    prov = measure_provenance()
    for setting, r in prov.items():
        print(f"{setting:34s} provenance pages: " + "  ".join(f"{f} {r[f + '_right']}/{r['count']}" for f in PROVENANCE_FIELDS)
              + f"  teasers left {r['teasers_left']}/{r['teasers']}")
    for setting, r in pages.items():
        print(f"{setting:34s} kept {r['article_words_kept']:5.1f}%  dropped {r['boilerplate_dropped']:5.1f}%  "
              + "  ".join(f"{f} {r[f + '_right']}/{r['count']}" for f in FIELDS))
    for lib, r in pdfs.items():
        for row in r["pdfs"]:
            print(f"{lib:28s} {row['pdf']:36s} kept {row['words_kept']:5.1f}%  extra {row['extra_words']:3d}  "
                  f"in order {row['paragraphs_in_order']}/{row['paragraphs']}  hyphens {row['hyphen_joined']}/"
                  f"{row['hyphen_splits']}  {row['ms_per_page']:.1f} ms/page")
    for setting, r in variants.items():
        print(f"{setting:34s} other markup ({r['pages']} pages): kept {r['article_words_kept']:5.1f}%, "
              f"{r['other_words_kept']} other words kept")
    write(pages, variants, pdfs, Path(args.out), command, prov)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
