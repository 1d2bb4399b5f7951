#!/usr/bin/env python
"""Build the news fixture corpus in tests/fixtures/news/ from its gold, articles.json.

Each article is rendered into a saved web page of its outlet's layout (three layouts, each with
navigation, a cookie banner, ads, related links, comments and a footer around the story), and
the rest of the corpus is made from the same gold: an RSS and an Atom feed, a PDF clipping printed
by chromium from one page, a two-column PDF report (justified, hyphenated at line ends, running
header, page numbers), .txt/.md articles with front matter, and the bad inputs (a section front
with no article body, broken HTML, a scanned PDF with no text layer, an encrypted and a corrupt
PDF). All outlets, people and events are invented.

    python scripts/make_news_fixtures.py            # rewrite everything (chromium for the clipping)
    python scripts/make_news_fixtures.py --no-chromium

The outputs are committed, so tests do not need chromium or fpdf2; re-running rewrites them. The
text fixtures come out the same each time (tests/test_news_fixtures.py checks the committed ones
against ``text_fixtures``); the PDFs differ byte-wise between runs (print date, random file ids).
"""
from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "news"
CHROMIUM = Path("/usr/bin/chromium")

e = html.escape


def load_gold() -> dict:
    return json.loads((FIXTURES / "articles.json").read_text(encoding="utf-8"))


def long_date(iso: str) -> str:
    import datetime as dt

    d = dt.date.fromisoformat(iso)
    return f"{d.strftime('%B')} {d.day}, {d.year}"


def short_date(iso: str) -> str:
    import datetime as dt

    d = dt.date.fromisoformat(iso)
    month = d.strftime("%b") + ("." if d.month not in (5, 6, 7) else "")
    return f"{month} {d.day}, {d.year}"


# ------------------------------------------------------------------ layout 1: a daily newspaper

HARBOUR_RELATED = [
    ("Transit ridership slumps as strike drags on", "/news/2023/04/28/transit-ridership-slumps"),
    ("Opinion: The harbour needs a ferry plan, not a patch", "/opinion/2023/05/10/ferry-plan"),
    ("Bedford waterfront condo tower gets green light", "/news/2023/05/09/bedford-tower"),
    ("Weekend weather: fog, then sun for the long weekend", "/weather/2023/05/12/weekend"),
]
HARBOUR_COMMENTS = [
    ("harbourwatcher", "2 hours ago", "About time. I have been biking across the bridge in the rain for six weeks."),
    ("DartmouthDan", "1 hour ago", "Who pays for the lost fares? Not the union, that is for sure."),
    ("M. LeBlanc", "48 minutes ago", "Good luck to the crews on Monday. Thank you for keeping us safe."),
]


def harbour_page(a: dict) -> str:
    paras = a["paragraphs"]
    body = []
    for i, p in enumerate(paras):
        body.append(f"<p>{e(p)}</p>")
        if i == 2:
            body.append('<div class="ad ad-inline" data-slot="midarticle"><span class="ad-label">'
                        "Story continues below advertisement</span><div class=\"ad-frame\"></div></div>")
        if i == 4:
            body.append('<aside class="related-inline"><strong>Read more:</strong> '
                        f'<a href="{HARBOUR_RELATED[0][1]}">{e(HARBOUR_RELATED[0][0])}</a></aside>')
    related = "".join(f'<li><a href="{u}">{e(t)}</a><span class="teaser">Local news</span></li>'
                      for t, u in HARBOUR_RELATED)
    comments = "".join(
        f'<li class="comment"><div class="comment-meta"><b>{e(n)}</b> <span>{e(w)}</span></div>'
        f'<p>{e(t)}</p><a class="reply" href="#">Reply</a> <a href="#">Report</a></li>'
        for n, w, t in HARBOUR_COMMENTS)
    stamp = f"{a['published']}T09:30:00-03:00"
    return f"""<!DOCTYPE html>
<html lang="en-CA">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(a['headline'])} | The Harbour Times</title>
<meta name="description" content="{e(paras[0][:150])}">
<meta property="og:type" content="article">
<meta property="og:site_name" content="The Harbour Times">
<meta property="og:title" content="{e(a['headline'])}">
<meta property="og:url" content="{e(a['url'])}">
<meta property="article:published_time" content="{stamp}">
<meta property="article:section" content="Local">
<meta name="author" content="{e(a['author'])}">
<link rel="canonical" href="{e(a['url'])}">
<link rel="stylesheet" href="/static/css/site.4f2a9.css">
<script async src="/static/js/ads.js"></script>
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"section": "local", "paywall": "metered"}});</script>
</head>
<body class="article-page">
<a class="skip-link" href="#main">Skip to main content</a>
<div class="topbar"><a href="/subscribe">Subscribe</a> <a href="/account/login">Sign in</a> <a href="/epaper">Today's paper</a> <span class="weather">14°C Halifax</span></div>
<header class="masthead"><a class="logo" href="/">The Harbour Times</a>
<nav class="primary" aria-label="Sections"><ul>
<li><a href="/news">News</a></li><li><a href="/news/local">Local</a></li><li><a href="/politics">Politics</a></li>
<li><a href="/business">Business</a></li><li><a href="/sports">Sports</a></li><li><a href="/opinion">Opinion</a></li>
<li><a href="/life">Arts &amp; Life</a></li><li><a href="/obituaries">Obituaries</a></li><li><a href="/weather">Weather</a></li>
</ul></nav></header>
<div id="cookie-consent" class="consent-banner" role="region" aria-label="Cookie consent">
<p>We value your privacy. We and our 143 partners use cookies and similar technologies to personalise content and ads and to analyse our traffic. By clicking Accept all, you consent to our use of cookies.</p>
<button>Accept all</button> <button>Manage preferences</button></div>
<div class="ad ad-leaderboard" data-slot="top"><span class="ad-label">Advertisement</span></div>
<main id="main">
<nav class="breadcrumb"><a href="/news">News</a> › <a href="/news/local">Local</a></nav>
<article class="story">
<h1 class="story-headline">{e(a['headline'])}</h1>
<div class="byline">By <a href="/authors/{e(a['author'].lower().replace(' ', '-'))}">{e(a['author'])}</a>, Staff Reporter
<time datetime="{stamp}">Published {long_date(a['published'])} at 9:30 a.m.</time></div>
<div class="share">Share this article: <a href="#">Facebook</a> <a href="#">X</a> <a href="#">Email</a> <a href="#">Copy link</a></div>
<div class="story-body">
{chr(10).join(body)}
</div>
</article>
<section class="newsletter"><h2>Get the Morning Briefing</h2><p>The day's top local stories in your inbox at 6 a.m., every weekday.</p><form><input type="email" placeholder="Email address"><button>Sign up</button></form></section>
<section class="more"><h2>More from Local</h2><ul>{related}</ul></section>
<section class="comments" id="comments"><h2>Comments (3)</h2>
<p class="policy">Comments are moderated and may take up to an hour to appear. Please keep the conversation civil.</p>
<ol>{comments}</ol></section>
</main>
<footer class="site-footer"><ul><li><a href="/about">About us</a></li><li><a href="/contact">Contact</a></li>
<li><a href="/careers">Careers</a></li><li><a href="/advertise">Advertise with us</a></li><li><a href="/terms">Terms of use</a></li>
<li><a href="/privacy">Privacy policy</a></li></ul>
<p>© {a['published'][:4]} Harbour Times Media Inc. All rights reserved.</p></footer>
</body>
</html>
"""


def harbour_section_front(articles: list[dict]) -> str:
    """A section front: the same chrome, a list of headlines and teasers, no story."""
    teasers = [
        ("Harbour ferry service to resume after 40-day strike", "Workers accept a three-year deal."),
        ("Council approves seawall upgrade", "The vote was 9-4 after a long debate."),
        ("Library extends evening hours", "Five branches will stay open later."),
        ("Bedford waterfront condo tower gets green light", "A 22-storey tower is planned."),
        ("Police seek witnesses to Quinpool Road crash", "Two people were taken to hospital."),
        ("School board names new superintendent", "She starts in August."),
        ("Farmers' market moves indoors for the winter", "Vendors return to the old brewery."),
        ("Weekend weather: fog, then sun", "Highs of 18 degrees on Sunday."),
    ]
    items = "".join(f'<li class="card"><a href="/news/x{i}"><h3>{e(t)}</h3></a><p>{e(s)}</p></li>'
                    for i, (t, s) in enumerate(teasers))
    page = harbour_page(articles[0])
    start, end = page.index("<main"), page.index("</main>") + len("</main>")
    main = f'<main id="main"><h1>Local news</h1><ul class="river">{items}</ul></main>'
    page = page[:start] + main + page[end:]
    page = re.sub(r"<title>.*?</title>", "<title>Local news | The Harbour Times</title>", page)
    page = re.sub(r'<meta (property="(og:title|og:url|article:[a-z_]+)"|name="(author|description)")[^>]*>\n', "", page)
    page = re.sub(r'<link rel="canonical"[^>]*>', '<link rel="canonical" href="https://www.harbourtimes.example/news/local">', page)
    return page.replace('<meta property="og:type" content="article">', '<meta property="og:type" content="website">')


def broken_page(page: str) -> str:
    """The same page as a badly saved file: end tags dropped, tags mis-nested, cut off at the end."""
    page = page.replace("</p>", "", 4)
    page = page.replace('<div class="story-body">', '<div class="story-body"><b><i>', 1).replace(
        "</div>\n</article>", "</b></i>\n</article>", 1)
    page = page.replace("</section>", "", 2)
    return page[: page.index("<footer")]


# ------------------------------------------------------------------ layout 2: a WordPress-style site

PRAIRIE_SIDEBAR = ["Grain elevator fire in Kindersley under investigation", "Fall fair returns to Maple Creek",
                   "Opinion: Rural hospitals need more than promises", "Cattle prices climb for a third month",
                   "Photos: Harvest sunset over the Cypress Hills"]
PRAIRIE_COMMENTS = [
    ("Gerald K.", "Same story up by Kindersley. Best field we had was 30 bushels and the rest was worse."),
    ("prairiegirl88", "Thank you for covering this. The city papers never talk to actual farmers."),
    ("Wes", "The AgriStability advance helps but it will not cover input costs for most of us."),
    ("Donna Reimer", "My dad farmed through 1988 and says this is worse. Pray for rain next spring."),
]


def prairie_page(a: dict) -> str:
    stamp = f"{a['published']}T07:00:00-06:00"
    body = "\n".join(f"<p>{e(p)}</p>" for p in a["paragraphs"])
    sidebar = "".join(f'<li><a href="/{i}">{e(t)}</a></li>' for i, t in enumerate(PRAIRIE_SIDEBAR))
    comments = "".join(
        f'<li class="comment"><article class="comment-body"><footer class="comment-meta"><b class="fn">{e(n)}</b> '
        f'<span class="says">says:</span> <time>{long_date(a["published"])} at 4:1{i} pm</time></footer>'
        f'<div class="comment-content"><p>{e(t)}</p></div><a class="comment-reply-link" href="#">Reply</a></article></li>'
        for i, (n, t) in enumerate(PRAIRIE_COMMENTS))
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<title>{e(a['headline'])} – Prairie Ledger</title>
<meta name="description" content="{e(a['paragraphs'][0][:140])}">
<meta name="author" content="{e(a['author'])}">
<link rel="canonical" href="{e(a['url'])}">
<link rel="stylesheet" id="theme-css" href="/wp-content/themes/ledger/style.css?ver=6.4" media="all">
<style>@media print {{ .site-header nav, .cookie-notice, aside, .widget-area, .comments-area, .post-navigation,
 .donate-box, .site-footer, .sharedaddy {{ display: none; }} body {{ font-family: Georgia, serif; font-size: 15pt; line-height: 1.6; }} }}</style>
<script type="text/javascript">var ledger_ajax = {{"url": "/wp-admin/admin-ajax.php", "nonce": "a91f"}};</script>
</head>
<body class="post-template-default single single-post">
<div id="page" class="site">
<header class="site-header"><p class="site-title"><a href="/" rel="home">Prairie Ledger</a></p>
<p class="site-description">Independent news for the southern prairies</p>
<nav class="main-navigation"><ul class="menu"><li><a href="/farm/">Farm</a></li><li><a href="/rural-life/">Rural Life</a></li>
<li><a href="/markets/">Markets</a></li><li><a href="/weather/">Weather</a></li><li><a href="/opinion/">Opinion</a></li>
<li><a href="/events/">Events</a></li><li><a href="/donate/">Donate</a></li></ul></nav></header>
<div id="content" class="site-content">
<div id="primary" class="content-area"><main id="main" class="site-main">
<article class="post type-post status-publish format-standard category-farm">
<header class="entry-header"><h1 class="entry-title">{e(a['headline'])}</h1>
<div class="entry-meta"><span class="posted-on">Published <time class="entry-date published" datetime="{stamp}">{long_date(a['published'])}</time></span>
<span class="byline"> by <span class="author vcard"><a class="url fn n" href="/author/{e(a['author'].split()[0].lower())}/">{e(a['author'])}</a></span></span></div>
</header>
<div class="entry-content">
{body}
<div class="donate-box"><p><strong>Support independent rural journalism.</strong> The Prairie Ledger is a non-profit newsroom owned by its readers. Donate today and your gift will be matched up to $50.</p><p><a href="/donate/">Donate now</a></p></div>
<div class="sharedaddy"><h3>Share this:</h3><ul><li><a href="#">Facebook</a></li><li><a href="#">Twitter</a></li><li><a href="#">Print</a></li></ul></div>
</div>
<footer class="entry-footer"><span class="tags-links">Tagged <a href="/tag/farm/" rel="tag">farm</a>, <a href="/tag/prairies/" rel="tag">prairies</a></span></footer>
</article>
<nav class="navigation post-navigation"><div class="nav-links"><div class="nav-previous"><a href="/prev/">Previous: {e(PRAIRIE_SIDEBAR[0])}</a></div>
<div class="nav-next"><a href="/next/">Next: {e(PRAIRIE_SIDEBAR[1])}</a></div></div></nav>
<div id="comments" class="comments-area"><h2 class="comments-title">4 thoughts on “{e(a['headline'])}”</h2>
<ol class="comment-list">{comments}</ol>
<div id="respond" class="comment-respond"><h3 class="comment-reply-title">Leave a Reply</h3>
<p class="comment-notes">Your email address will not be published. Required fields are marked *</p>
<form><textarea name="comment"></textarea><input name="author" placeholder="Name *"><input name="email" placeholder="Email *"><input type="submit" value="Post Comment"></form></div></div>
</main></div>
<aside id="secondary" class="widget-area"><section class="widget"><h2 class="widget-title">Most read</h2><ol>{sidebar}</ol></section>
<section class="widget"><h2 class="widget-title">Markets</h2><p>Canola $842.10/t ▲ · Spring wheat $371.40/t ▼ · Feeder steers $3.21/lb ▲</p></section>
<section class="widget"><h2 class="widget-title">The Ledger Letter</h2><p>Our best reporting from the farm belt, every Friday.</p><form><input type="email"><button>Subscribe</button></form></section>
<section class="widget ad"><p>Sponsored: Fall seeding discounts at Prairie Co-op. Save up to 15% on inputs until October 31.</p></section></aside>
</div>
<footer class="site-footer"><p>© {a['published'][:4]} Prairie Ledger Cooperative · <a href="/about/">About</a> · <a href="/privacy/">Privacy</a> · Proudly powered by WordPress</p></footer>
<div class="cookie-notice"><p>This site uses cookies. By continuing to use it, you agree to their use. Read our <a href="/privacy/">cookie policy</a>.</p><button>OK</button></div>
</div>
</body>
</html>
"""


# ------------------------------------------------------------------ layout 3: a script-heavy news app

NORTHERN_CARDS = [("Territorial budget adds 40 nurses", "4 min read"), ("Caribou herd counts rise for first time in a decade", "6 min read"),
                  ("Listen: The North This Week podcast", "32 min"), ("Iqaluit water plant upgrade finished early", "3 min read")]


def northern_page(a: dict) -> str:
    stamp = f"{a['published']}T14:05:00-06:00"
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": a["headline"],
          "datePublished": stamp, "dateModified": f"{a['published']}T15:40:00-06:00",
          "author": [{"@type": "Person", "name": a["author"]}],
          "publisher": {"@type": "NewsMediaOrganization", "name": "Northern Wire",
                        "logo": {"@type": "ImageObject", "url": "https://www.northernwire.example/logo.png"}},
          "mainEntityOfPage": a["url"]}
    state = {"user": None, "recommended": [t for t, _ in NORTHERN_CARDS], "ab": "story-v3"}
    paras = a["paragraphs"]
    body = []
    for i, p in enumerate(paras):
        body.append(f'<p class="story-paragraph">{e(p)}</p>')
        if i == 1:
            body.append('<div class="newsletter-inline" data-component="Newsletter"><p class="nl-title">Sign up for '
                        "The North This Week</p><p>Our editors' picks from across the territories, every Sunday.</p>"
                        '<button type="button">Sign up</button></div>')
        if i == 3:
            t, m = NORTHERN_CARDS[0]
            body.append(f'<div class="inline-card" data-component="Related"><span>Related</span><a href="/r0">{e(t)}</a>'
                        f"<span>{m}</span></div>")
    cards = "".join(f'<a class="card" href="/r{i}"><div class="card-title">{e(t)}</div><div class="card-meta">{m}</div></a>'
                    for i, (t, m) in enumerate(NORTHERN_CARDS))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{e(a['headline'])}</title>
<meta property="og:title" content="{e(a['headline'])}">
<meta name="twitter:card" content="summary_large_image">
<link rel="canonical" href="{e(a['url'])}">
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
<script>window.__STATE__ = {json.dumps(state)};</script>
<script src="/_next/static/chunks/main-8c1e.js" defer></script>
</head>
<body>
<div id="app">
<div class="ticker"><span class="live">LIVE</span> <a href="/live/election">Territorial election results as they come in</a></div>
<header class="nw-header"><a href="/" aria-label="Northern Wire home"><svg class="logo" viewBox="0 0 10 10"><title>Northern Wire</title></svg></a>
<nav><a href="/">Top Stories</a><a href="/north">North</a><a href="/politics">Politics</a><a href="/environment">Environment</a>
<a href="/business">Business</a><a href="/culture">Culture</a><a href="/podcasts">Podcasts</a></nav>
<button class="menu" aria-label="Menu">☰</button><a class="cta" href="/support">Support our journalism</a></header>
<div class="consent-modal" role="dialog" aria-modal="true"><h2>Your choices about cookies</h2>
<p>We use cookies and data to deliver and maintain our services, measure audience engagement and show you relevant ads. Select Accept to agree or Customise to choose.</p>
<button>Accept</button><button>Reject</button><button>Customise</button></div>
<main>
<article data-testid="story">
<div class="kicker">North</div>
<h1 data-testid="headline">{e(a['headline'])}</h1>
<div class="meta"><span class="author">By {e(a['author'])}</span> · <span class="date">{short_date(a['published'])}</span> · <span class="read-time">4 min read</span></div>
<div class="story-body">
{chr(10).join(body)}
</div>
</article>
<section class="conversation"><h2>Join the conversation</h2><p>Conversations are open to subscribers. Be kind, be curious.</p>
<div class="c"><span class="who">tundra_tom</span><p>This was always going to happen. The territory needs a plan for after mining.</p></div>
<div class="c"><span class="who">S. Kaludjak</span><p>Thank you for including what people in the communities think.</p></div></section>
<section class="recommended"><h2>Recommended for you</h2>{cards}</section>
</main>
<footer class="nw-footer"><p>Northern Wire is published by Northern Wire Media Cooperative, Yellowknife.</p>
<p><a href="/about">About</a> · <a href="/ethics">Ethics policy</a> · <a href="/contact">Contact</a> · <a href="/privacy">Privacy</a></p><p>© {a['published'][:4]} Northern Wire</p></footer>
</div>
</body>
</html>
"""


LAYOUTS = {"harbour": harbour_page, "prairie": prairie_page, "northern": northern_page}


# ------------------------------------------------------------------ feeds

def rss_feed(gold: dict) -> str:
    pages = [a for a in gold["articles"] if a["layout"] == "harbour"]
    only = [a for a in gold["feed_only"] if a["feed"] == "harbour"]
    import email.utils
    import datetime as dt

    def rfc822(iso: str) -> str:
        d = dt.datetime.fromisoformat(iso + "T09:30:00-03:00")
        return email.utils.format_datetime(d)

    items = []
    for a in pages[1:]:  # the first is saved in the folder; the feed brings the others
        items.append(f"""<item><title>{e(a['headline'])}</title><link>/pages/{a['name']}.html</link>
<guid isPermaLink="false">harbourtimes-{a['name']}</guid><pubDate>{rfc822(a['published'])}</pubDate>
<dc:creator>{e(a['author'])}</dc:creator><description>{e(a['paragraphs'][0])}</description></item>""")
    for a in only:
        items.append(f"""<item><title>{e(a['headline'])}</title><link>{a['url']}</link>
<guid isPermaLink="false">harbourtimes-{a['name']}</guid><pubDate>{e(a['published'])}</pubDate>
<description>{e(''.join(f'<p>{e(p)}</p>' for p in a['paragraphs']))}</description></item>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>The Harbour Times</title>
<link>/</link>
<description>Local news from the harbour</description>
<language>en-ca</language>
{chr(10).join(items)}
</channel>
</rss>
"""


def atom_feed(gold: dict) -> str:
    pages = [a for a in gold["articles"] if a["layout"] == "northern"]
    only = [a for a in gold["feed_only"] if a["feed"] == "northern"]
    entries = []
    for a in pages[1:]:
        entries.append(f"""<entry><title>{e(a['headline'])}</title><link rel="alternate" type="text/html" href="/pages/{a['name']}.html"/>
<id>tag:northernwire.example,2024:{a['name']}</id><published>{a['published']}T14:05:00-06:00</published><updated>{a['published']}T15:40:00-06:00</updated>
<author><name>{e(a['author'])}</name></author><summary>{e(a['paragraphs'][0])}</summary></entry>""")
    for a in only:
        xhtml = "".join(f"<p>{e(p)}</p>" for p in a["paragraphs"])
        stamp = a["published"] + ("T08:00:00-07:00" if re.match(r"^\d{4}-\d{2}-\d{2}$", a["published"]) else "")
        entries.append(f"""<entry><title>{e(a['headline'])}</title><id>tag:northernwire.example,2024:{a['name']}</id>
<published>{e(stamp)}</published><updated>{e(stamp)}</updated>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{xhtml}</div></content></entry>""")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>Northern Wire</title>
<subtitle>News from the North</subtitle>
<link rel="self" href="/feeds/northern-wire.atom"/>
<id>tag:northernwire.example,2024:feed</id>
<updated>2024-11-29T08:00:00-07:00</updated>
{chr(10).join(entries)}
</feed>
"""


# ------------------------------------------------------------------ text files

def text_file(a: dict) -> str:
    lines = ["---", f"title: {a['headline']}", f"date: {a['published']}", f"source: {a['source']}"]
    if a["url"]:
        lines.append(f"url: {a['url']}")
    lines.append("---")
    body = "\n\n".join(a["paragraphs"])
    if a["suffix"] == ".md":
        body = f"# {a['headline']}\n\n{body}"
    return "\n".join(lines) + "\n" + body + "\n"


# ------------------------------------------------------------------ PDFs

def _soft_hyphens(text: str) -> str:
    """Mark break points inside long words (every 4 letters, not near either end), as a typesetter's
    hyphenation dictionary would; fpdf2 draws a "-" where it breaks a line at one."""
    def mark(m: re.Match) -> str:
        w = m.group(0)
        if len(w) < 9:
            return w
        cuts = range(4, len(w) - 3, 4)
        out, prev = [], 0
        for c in cuts:
            out.append(w[prev:c])
            prev = c
        out.append(w[prev:])
        return "\u00ad".join(out)
    return re.sub(r"[A-Za-z]+", mark, text)


def report_pdf(report: dict, path: Path) -> None:
    from fpdf import FPDF

    class Report(FPDF):
        def header(self):
            self.set_font("Helvetica", "I", 8)
            self.cell(0, 6, f"{report['headline']} · {report['source']}", align="L")
            self.ln(10)

        def footer(self):
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 8, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Report(format="A4")
    pdf.set_title(report["headline"])
    pdf.set_author(report["author"])
    pdf.set_creation_date(__import__("datetime").datetime(2023, 10, 16, 9, 0, tzinfo=__import__("datetime").timezone.utc))
    pdf.set_auto_page_break(True, 22)
    for n, (heading, *paras) in enumerate(report["pages"]):
        pdf.add_page()
        if n == 0:
            pdf.set_font("Helvetica", "B", 20)
            pdf.multi_cell(0, 10, report["headline"], new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", size=10)
            pdf.multi_cell(0, 6, "Published October 2023", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        pdf.set_font("Helvetica", "B", 13)
        pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font("Helvetica", size=10.5)
        with pdf.text_columns(ncols=2, gutter=8, text_align="J", balance=True, line_height=1.25) as cols:
            for p in paras:
                cols.write(text=_soft_hyphens(p))
                cols.ln()
                cols.ln()
    pdf.output(str(path))


def scanned_pdf(text: str, path: Path) -> None:
    """A page that is only a picture of text (as a scanner makes it): no text layer."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    img = Image.new("L", (1240, 1754), 250)
    draw = ImageDraw.Draw(img)
    y = 120
    for line in re.findall(r".{1,70}(?:\s|$)", text):
        draw.text((100, y), line.strip(), fill=20)
        y += 28
    tmp = path.with_suffix(".png")
    img.save(tmp)
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(str(tmp), x=0, y=0, w=210)
    pdf.output(str(path))
    tmp.unlink()


def encrypted_pdf(source: Path, path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password="harbour-secret", owner_password="owner", algorithm="AES-128")
    with open(path, "wb") as fh:
        writer.write(fh)


def clipping_pdf(page: Path, url_path: str, path: Path) -> bool:
    """The page printed to PDF by chromium, with its print header and footer (date, title, URL, page
    n/m). Served from a loopback server at the article's own path, so the footer shows a web address
    (and no folder of this machine)."""
    import functools
    import http.server
    import threading

    if not CHROMIUM.exists():
        print(f"chromium not found at {CHROMIUM}: {path.name} left as it is", file=sys.stderr)
        return False
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        target = site / url_path.strip("/") / "index.html"
        target.parent.mkdir(parents=True)
        target.write_bytes(page.read_bytes())
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):  # the print run is not a server log
                pass

        handler = functools.partial(Quiet, directory=str(site))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_port}/{url_path.strip('/')}/"
            subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            f"--user-data-dir={tmp}/profile", "--disable-background-networking",
                            f"--print-to-pdf={path}", url], check=True, capture_output=True, timeout=120)
        finally:
            server.shutdown()
    return True


# ------------------------------------------------------------------ all of it

def text_fixtures(gold: dict) -> dict[str, str]:
    """Every text fixture (pages, feeds, .txt/.md, the bad pages) by path under tests/fixtures/news/;
    tests check the committed files against this, so they cannot drift from articles.json."""
    by_name = {a["name"]: a for a in gold["articles"]}
    out = {f"pages/{a['name']}.html": LAYOUTS[a["layout"]](a) for a in gold["articles"]}
    out["feeds/harbour-times.rss"] = rss_feed(gold)
    out["feeds/northern-wire.atom"] = atom_feed(gold)
    out.update({f"text/{a['name']}{a['suffix']}": text_file(a) for a in gold["text_files"]})
    out["bad/harbour-section-front.html"] = harbour_section_front(gold["articles"])
    out["bad/harbour-ferry-broken.html"] = broken_page(harbour_page(by_name["harbour-ferry-strike"]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-chromium", action="store_true", help="keep the committed chromium clipping")
    args = parser.parse_args(argv)
    gold = load_gold()
    pages, feeds, pdfs, texts, bad = (FIXTURES / d for d in ("pages", "feeds", "pdf", "text", "bad"))
    for d in (pages, feeds, pdfs, texts, bad):
        d.mkdir(parents=True, exist_ok=True)
    by_name = {a["name"]: a for a in gold["articles"]}
    for rel, text in text_fixtures(gold).items():
        (FIXTURES / rel).write_text(text, encoding="utf-8")

    report = gold["report"]
    report_pdf(report, pdfs / f"{report['name']}.pdf")
    (pdfs / f"{report['name']}.meta.json").write_text(
        json.dumps({"source": report["source"]}, indent=1) + "\n", encoding="utf-8")
    clip = by_name["prairie-rural-broadband"]
    if not args.no_chromium:
        clipping_pdf(pages / f"{clip['name']}.html", clip["url"].split(".example", 1)[1], pdfs / f"{clip['name']}-clipping.pdf")
    (pdfs / f"{clip['name']}-clipping.meta.json").write_text(
        json.dumps({"source": clip["source"], "url": clip["url"]}, indent=1) + "\n", encoding="utf-8")

    scanned_pdf(" ".join(by_name["harbour-seawall-vote"]["paragraphs"]), bad / "scanned-page.pdf")
    encrypted_pdf(pdfs / f"{report['name']}.pdf", bad / "encrypted-report.pdf")
    (bad / "corrupt-report.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 8)
    written = sorted(p.relative_to(ROOT) for d in (pages, feeds, pdfs, texts, bad) for p in d.iterdir())
    print("\n".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
