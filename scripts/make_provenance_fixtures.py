#!/usr/bin/env python
"""Build tests/fixtures/provenance/: saved pages whose metadata misleads, and their gold.

Each page is a story under the chrome of a real outlet's kind of page (navigation, a "most read"
list with other stories' dates, related links, a footer), and each misleads in the way real pages
were measured to (issue 23): a placeholder site name ("Hosted", "News", a JSON-LD publisher
"Home"), the outlet spelled as a domain or in capitals ("SpaceNews.com", "NYTimes", "USA TODAY",
"Pv Magazine International"), an og:title that differs from the visible <h1>, a headline that
rounds or names what the body does not, "Read more" / "RELATED" teasers inside the body (one
with another story's figure), an "Updated" date after the published one, and wire stories
carried by another outlet (a Times Union page whose JSON-LD publisher is "Associated Press").
The outlets' names are real so that their normalisation is tested; every story, person and figure
is invented. Two dated text articles (``changed/``) report a figure that changed.

    python scripts/make_provenance_fixtures.py      # rewrites tests/fixtures/provenance/

The gold (``gold.json``) says, per page, the outlet, headline, date and URL a reader would cite,
the wire service it carries, paragraphs that must be in the text and teasers that must not.
"""
from __future__ import annotations

import argparse
import html
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "provenance"
e = html.escape

PAGES = [
    {
        "name": "ap-hosted",
        "url": "https://apnews.com/article/harbor-dredging-contract-gulf-7f3a2c91",
        "site_name": "Hosted",
        "publisher": "",
        "title_tag": "Harbor dredging contract goes to Gulf firm | AP News",
        "og_title": "Harbor dredging contract goes to Gulf firm",
        "h1": "Harbor dredging contract goes to Gulf firm",
        "published": "2024-03-14", "modified": "2024-03-15",
        "byline": "By MARIA OKAFOR",
        "paragraphs": [
            "PORT CALDER, Texas (AP) — The Port Calder authority on Thursday awarded a $212 million contract to deepen its shipping channel to Meridian Marine Works, a dredging company based in Mobile, Alabama.",
            "The work will take the channel from 40 feet to 47 feet so that the largest container ships can reach the port's two terminals fully loaded, port director Lionel Abernathy said.",
            "Meridian beat three other bidders. Its offer was $31 million below the port engineers' own estimate, according to documents released at the board meeting.",
            "Dredging is to begin in October and finish by the end of 2026. About 9 million cubic yards of sediment will be moved to a disposal site offshore.",
            "Environmental groups asked the board to delay the vote until a study of the bay's oyster reefs is done. The board voted 6-1 to go ahead.",
        ],
        "teasers": [],
        "want": {"source": "AP", "via": ""},
    },
    {
        "name": "nyt-og-title",
        "url": "https://www.nytimes.com/2023/10/05/nyregion/harbor-bridge-toll-vote.html",
        "site_name": "NYTimes",
        "publisher": "",
        "title_tag": "Harbor Bridge Tolls: What to Know About the $4 Plan - The New York Times",
        "og_title": "Harbor Bridge Tolls: What to Know About the $4 Plan",
        "h1": "Council Approves a $4 Toll on the Harbor Bridge, Ending a Decade of Debate",
        "published": "2023-10-05", "modified": "",
        "byline": "By Ruth Castellano",
        "paragraphs": [
            "The City Council voted 31 to 18 on Wednesday to charge drivers a $4 toll to cross the Harbor Bridge, ending a debate that began when the span was first closed for repairs in 2013.",
            "Cars with a transponder will pay $4 each way; those without one will be billed $6.50 by mail. Buses and emergency vehicles will cross free.",
            "The toll is expected to raise about $96 million a year, which by law must be spent on the bridge and on the ferry routes beside it.",
            "Opponents, led by council member Andre Whitlock, said the charge would fall hardest on workers who commute from the outer neighborhoods and have no train to take instead.",
            "Tolling is to start next July, after cameras and readers are installed at both ends of the bridge.",
        ],
        "teasers": [],
        "want": {"source": "The New York Times", "via": ""},
    },
    {
        "name": "timesunion-ap-wire",
        "url": "https://www.timesunion.com/news/article/ferry-operator-fined-engine-fire-17394552.php",
        "site_name": "",
        "publisher": "Associated Press",
        "title_tag": "Ferry operator fined after engine fire - Times Union",
        "og_title": "Ferry operator fined after engine fire",
        "h1": "Ferry operator fined after engine fire",
        "published": "2022-08-09", "modified": "2022-08-10",
        "byline": "By DANIEL REYES, Associated Press",
        "paragraphs": [
            "BURLINGTON, Vt. (AP) — Federal regulators on Tuesday fined the operator of a Lake Champlain ferry $385,000 over an engine fire that forced 112 passengers to evacuate onto lifeboats last summer.",
            "The Coast Guard said the crew of the Northern Star had disabled a fuel-line alarm for weeks before the fire because it kept sounding falsely.",
            "Lakeline Transit, which runs the crossing between Vermont and New York, said it had replaced the alarm system and retrained its engineers.",
            "No one was seriously hurt. Two passengers were treated for smoke inhalation at a Burlington hospital and released the same day.",
            "The company has 30 days to pay the fine or appeal it.",
        ],
        "teasers": [],
        "want": {"source": "Times Union", "via": "AP"},
    },
    {
        "name": "spacenews-rounded-headline",
        "url": "https://spacenews.com/orbital-relay-constellation-cost-estimate/",
        "site_name": "SpaceNews.com",
        "publisher": "SpaceNews",
        "title_tag": "Orbital relay constellation to cost $9 billion - SpaceNews",
        "og_title": "Orbital relay constellation to cost $9 billion",
        "h1": "Orbital relay constellation to cost $9 billion",
        "published": "2025-02-11", "modified": "",
        "byline": "By Priya Raman",
        "paragraphs": [
            "WASHINGTON — Building and launching the Aldebaran data-relay constellation will cost $8.8 billion over eight years, according to an estimate the program office delivered to Congress on Monday.",
            "The network of 126 satellites would carry data from Earth-observation spacecraft to ground stations in minutes rather than hours.",
            "The estimate is 22 percent higher than the figure given when the program was approved in 2022. Program manager Colette Varga blamed higher launch prices and a redesign of the optical terminals.",
            "The first 18 satellites are to launch in 2027 on two rockets, with full service expected in 2030.",
            "Lawmakers on the House science committee have asked for an independent review of the estimate before the next budget request.",
        ],
        "teasers": [
            ("after", 1, "<p><strong>Read more:</strong> <a href=\"/rival-relay-network-bill/\">Rival relay network's bill climbs to $13.4bn</a></p>",
             "Read more: Rival relay network's bill climbs to $13.4bn"),
            ("inline", 3, " <a class=\"read-more\" href=\"/launch-prices-2025/\">Read more: Launch prices rise for a third year</a>",
             "Read more: Launch prices rise for a third year"),
        ],
        "question": {"question": "How much will building and launching the Aldebaran constellation cost?",
                     "answer": "$8.8 billion", "not": ["$9 billion", "$13.4bn"]},
        "want": {"source": "SpaceNews", "via": ""},
    },
    {
        "name": "usatoday-placeholder-publisher",
        "url": "https://www.usatoday.com/story/news/nation/2021/06/17/guards-charged-harlow-county-jail-escape/7712345/",
        "site_name": "USA TODAY",
        "publisher": "Home",
        "title_tag": "Guards charged after Victor Lang's escape from Harlow County jail",
        "og_title": "Guards charged after Victor Lang's escape from Harlow County jail",
        "h1": "Two guards charged after Victor Lang escaped from Harlow County jail",
        "published": "2021-06-17", "modified": "2021-06-18",
        "byline": "By Janelle Fortier",
        "paragraphs": [
            "Two jail guards in Harlow County, Kentucky, were charged Thursday with falsifying records on the night an inmate walked out of the county jail through a laundry door.",
            "Prosecutors said guards Tessa Morrow and Kyle Branson wrote that they had checked the cell block every 30 minutes when video shows no one entered it for more than five hours.",
            "Victor Lang, 41, who was awaiting trial on fraud charges, was caught two days later at a motel 60 miles away.",
            "Morrow and Branson each face one count of tampering with public records. Their lawyer said they were doing the work of four people on an understaffed shift.",
            "The county has since hired 11 more guards and installed an alarm on the laundry door.",
        ],
        "teasers": [
            ("after", 2, "<p>RELATED: <a href=\"/story/news/2021/05/02/harlow-jail-staffing/\">Harlow County jail has lost a third of its guards in a year</a></p>",
             "RELATED: Harlow County jail has lost a third of its guards in a year"),
            ("after", 4, "<p><em>See also:</em> <a href=\"/story/news/2021/06/01/kentucky-jails/\">Kentucky jails struggle to hire</a></p>",
             "See also: Kentucky jails struggle to hire"),
        ],
        "question": {"question": "Which guards were charged?", "answer": "Tessa Morrow and Kyle Branson",
                     "not": ["Victor Lang"]},
        "want": {"source": "USA Today", "via": ""},
    },
    {
        "name": "pv-magazine-og-title",
        "url": "https://www.pv-magazine.com/2024/05/20/province-awards-1-2-gw-in-solar-tender/",
        "site_name": "Pv Magazine International",
        "publisher": "pv magazine International",
        "title_tag": "Solar tender results: 1.2 GW awarded at record-low prices – pv magazine International",
        "og_title": "Solar tender results: 1.2 GW awarded at record-low prices",
        "h1": "Province awards 1.2 GW in its largest solar tender",
        "published": "2024-05-20", "modified": "2024-05-21",
        "byline": "By Tomas Lindqvist",
        "paragraphs": [
            "The province's energy agency has awarded contracts for 1.2 GW of solar capacity to 14 projects, the largest tender it has run.",
            "The average winning bid was CAD 0.061 per kWh, down from CAD 0.074 in the previous round two years ago.",
            "The projects must be connected to the grid by the end of 2027. Nine of them will be built on former farmland leased from their owners for 25 years.",
            "Developers said lower module prices and cheaper financing explained most of the drop.",
            "A second round, for 800 MW of storage, is to open in the autumn.",
        ],
        "teasers": [],
        "want": {"source": "pv magazine", "via": ""},
    },
    {
        "name": "riverbend-placeholder-site-name",
        "url": "https://www.riverbend-gazette.com/2023/04/11/mill-reopens-after-flood/",
        "site_name": "News",
        "publisher": "",
        "title_tag": "Mill reopens after flood | News",
        "og_title": "Mill reopens after flood",
        "h1": "Kessler paper mill reopens five months after the flood",
        "published": "2023-04-11", "modified": "2023-04-12",
        "byline": "By Owen Baptiste",
        "paragraphs": [
            "The Kessler paper mill on the Riverbend waterfront restarted its machines on Monday, five months after floodwater filled its basement and ruined two of its three pulp lines.",
            "About 240 of the mill's 310 workers are back on the job. The rest will return when the third line is rebuilt in the summer, plant manager Gloria Estevez said.",
            "Repairs cost $14 million, most of it covered by insurance. The company also built a flood wall around the electrical room.",
            "The mill is the town's largest employer and its property taxes pay for a quarter of the municipal budget.",
        ],
        "teasers": [
            ("after", 1, "<p>Read more: <a href=\"/2023/03/30/flood-relief-fund/\">Flood relief fund opens to small businesses</a></p>",
             "Read more: Flood relief fund opens to small businesses"),
        ],
        "want": {"source": "Riverbend Gazette", "via": ""},
    },
    {
        "name": "lakeshore-reuters-wire",
        "url": "https://lakeshorecourier.com/business/2024/09/03/grain-terminal-sale/",
        "site_name": "Lakeshore Courier",
        "publisher": "Reuters",
        "title_tag": "Grain terminal sold to Dutch trader for $610 million | Lakeshore Courier",
        "og_title": "Grain terminal sold to Dutch trader for $610 million",
        "h1": "Grain terminal sold to Dutch trader for $610 million",
        "published": "2024-09-03", "modified": "",
        "byline": "By Reuters staff",
        "paragraphs": [
            "(Reuters) — Harbourline Grain said on Tuesday it had agreed to sell its Lake Erie export terminal to the Dutch trading house Vandermeer for $610 million in cash.",
            "The terminal handles about 4 million tonnes of corn and soybeans a year and employs 180 people.",
            "Vandermeer said it would keep the staff and expand the terminal's rail yard to take longer unit trains.",
            "The deal needs approval from competition regulators and is expected to close in the first quarter of next year.",
        ],
        "teasers": [],
        "want": {"source": "Lakeshore Courier", "via": "Reuters"},
    },
]

# Two reports of one outlet a year apart: the figure changed (issue 23's buses).
CHANGED = [
    {"name": "harbour-electric-buses-2024", "title": "Harbour Transit orders its first electric buses",
     "published": "2024-05-02", "source": "The Harbour Times",
     "text": ("Harbour Transit's electric fleet will number two buses by the end of the year, the agency said "
              "on Thursday, when it signed an order for the battery-powered vehicles.\n\n"
              "The buses will run on the waterfront route, which is short enough for one charge a day. "
              "Chargers are being installed at the Mill Street garage.\n\n"
              "The agency said it would judge the buses over a full winter before it orders more.\n")},
    {"name": "harbour-electric-buses-2025", "title": "Harbour Transit expands its electric bus order",
     "published": "2025-03-10", "source": "The Harbour Times",
     "text": ("Harbour Transit's electric fleet will number seven buses by the autumn, after the agency added "
              "five to its order on Monday.\n\n"
              "The first two buses ran through the winter on the waterfront route without missing a trip, "
              "the agency said. The new ones will serve the hospital and university routes.\n\n"
              "Chargers for the new buses will go into the Mill Street garage in the summer.\n")},
]
CHANGED_QUESTION = {"question": "How many buses will Harbour Transit's electric fleet number?",
                    "newest": "seven buses", "earlier": "two buses"}


def page(p: dict) -> str:
    body = []
    for i, para in enumerate(p["paragraphs"]):
        inline = "".join(t[2] for t in p["teasers"] if t[0] == "inline" and t[1] == i)
        body.append(f"<p>{e(para)}{inline}</p>")
        body.extend(t[2] for t in p["teasers"] if t[0] == "after" and t[1] == i)
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": p["og_title"],
          "datePublished": f"{p['published']}T14:05:00Z", "mainEntityOfPage": p["url"],
          "author": [{"@type": "Person", "name": p["byline"].removeprefix("By ").split(",")[0].title()}]}
    if p["modified"]:
        ld["dateModified"] = f"{p['modified']}T08:40:00Z"
    if p["publisher"]:
        ld["publisher"] = {"@type": "Organization", "name": p["publisher"]}
    site = f'<meta property="og:site_name" content="{e(p["site_name"])}">\n' if p["site_name"] else ""
    updated = (f'<time class="updated" datetime="{p["modified"]}T08:40:00Z">Updated {p["modified"]}</time>'
               if p["modified"] else "")
    return f"""<!DOCTYPE html>
<!-- Test fixture (scripts/make_provenance_fixtures.py): an invented story under a real outlet's kind of page. -->
<html lang="en">
<head>
<meta charset="utf-8">
<title>{e(p['title_tag'])}</title>
{site}<meta property="og:type" content="article">
<meta property="og:title" content="{e(p['og_title'])}">
<meta property="og:url" content="{e(p['url'])}">
<meta property="article:published_time" content="{p['published']}T14:05:00Z">
<link rel="canonical" href="{e(p['url'])}">
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
</head>
<body>
<header class="site-header"><a class="logo" href="/">Home</a>
<nav><ul><li><a href="/news">News</a></li><li><a href="/business">Business</a></li><li><a href="/politics">Politics</a></li>
<li><a href="/sports">Sports</a></li><li><a href="/opinion">Opinion</a></li></ul></nav></header>
<main>
<article>
<h1 class="headline">{e(p['h1'])}</h1>
<div class="byline"><span class="author">{e(p['byline'])}</span>
<time datetime="{p['published']}T14:05:00Z">Published {p['published']}</time> {updated}</div>
<div class="article-body">
{chr(10).join(body)}
</div>
</article>
<aside class="most-read"><h2>Most read</h2><ol>
<li><a href="/a1">Storm knocks out power to 40,000 homes</a> <time datetime="2019-01-08">Jan. 8, 2019</time></li>
<li><a href="/a2">School board picks new superintendent</a> <time datetime="2018-11-20">Nov. 20, 2018</time></li>
<li><a href="/a3">Opinion: The bridge we can't afford</a> <time datetime="2018-12-02">Dec. 2, 2018</time></li>
</ol></aside>
</main>
<footer><p>Contact us · Terms of use · Privacy policy</p><p>© All rights reserved.</p></footer>
</body>
</html>
"""


def text_article(a: dict) -> str:
    return (f"---\ntitle: {a['title']}\ndate: {a['published']}\nsource: {a['source']}\n---\n"
            f"{a['title']}\n\n{a['text']}")


def gold() -> dict:
    return {
        "_about": "Pages whose metadata misleads (scripts/make_provenance_fixtures.py): what a reader would cite.",
        "pages": [{"name": p["name"], "headline": p["h1"], "source": p["want"]["source"], "via": p["want"]["via"],
                   "published": p["published"], "url": p["url"], "paragraphs": p["paragraphs"],
                   "teasers": [t[3] for t in p["teasers"]], "question": p.get("question")} for p in PAGES],
        "changed": {"articles": [{k: a[k] for k in ("name", "title", "published", "source")} for a in CHANGED],
                    **CHANGED_QUESTION},
    }


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    (OUT / "pages").mkdir(parents=True, exist_ok=True)
    (OUT / "changed").mkdir(parents=True, exist_ok=True)
    for p in PAGES:
        (OUT / "pages" / f"{p['name']}.html").write_text(page(p), encoding="utf-8")
    for a in CHANGED:
        (OUT / "changed" / f"{a['name']}.md").write_text(text_article(a), encoding="utf-8")
    (OUT / "gold.json").write_text(json.dumps(gold(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n".join(str(p.relative_to(ROOT)) for p in sorted(OUT.rglob("*")) if p.is_file()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
