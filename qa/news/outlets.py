"""The outlet of an article as readers name it, from what a page says about itself.

A page names its publisher in several places (JSON-LD ``publisher.name``, ``og:site_name``, the end
of its ``<title>``) and none of them is reliable on its own: AP's pages say "Hosted", the New York
Times says "NYTimes", others "SpaceNews.com", "USA TODAY" or "Pv Magazine International", and a
Times Union page carrying an AP story names "Associated Press" as its publisher. The page's own
address is the firmest evidence of whose page it is, so:

1. a well-known outlet's domain (``KNOWN_DOMAINS``) gives that outlet's usual name;
2. else the first publisher or site name that is a name (not a placeholder such as "Home" or
   "News", not a wire service when the page is not the wire's), tidied ("SpaceNews.com" ->
   "SpaceNews", "USA TODAY" -> "USA Today") and mapped to its usual form when well known;
3. else a tidy form of the registered domain ("harbour-times.com" -> "Harbour Times").

A wire service named by a page that is not the wire's own is kept as ``Outlet.via`` ("via AP").
The registered domain comes from ``tld``'s bundled copy of the Public Suffix List (a trafilatura
dependency); it never downloads the list (``update_tld_names`` is never called).
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

# Host (or a parent of it) -> the name readers use. Several hosts of one outlet may share a name.
KNOWN_DOMAINS = {
    "apnews.com": "AP", "ap.org": "AP",
    "reuters.com": "Reuters",
    "afp.com": "AFP",
    "thecanadianpress.com": "The Canadian Press",
    "bbc.co.uk": "BBC", "bbc.com": "BBC",
    "cnn.com": "CNN",
    "nytimes.com": "The New York Times",
    "washingtonpost.com": "The Washington Post",
    "theguardian.com": "The Guardian", "guardian.co.uk": "The Guardian",
    "usatoday.com": "USA Today",
    "aljazeera.com": "Al Jazeera", "aljazeera.net": "Al Jazeera",
    "cbc.ca": "CBC",
    "ctvnews.ca": "CTV News",
    "theglobeandmail.com": "The Globe and Mail",
    "globalnews.ca": "Global News",
    "thestar.com": "Toronto Star",
    "nationalpost.com": "National Post",
    "timesunion.com": "Times Union",
    "foxnews.com": "Fox News",
    "npr.org": "NPR",
    "bloomberg.com": "Bloomberg",
    "wsj.com": "The Wall Street Journal",
    "ft.com": "Financial Times",
    "nbcnews.com": "NBC News",
    "cbsnews.com": "CBS News",
    "abcnews.go.com": "ABC News",
    "cnbc.com": "CNBC",
    "latimes.com": "Los Angeles Times",
    "politico.com": "Politico",
    "axios.com": "Axios",
    "economist.com": "The Economist",
    "independent.co.uk": "The Independent",
    "telegraph.co.uk": "The Telegraph",
    "news.sky.com": "Sky News",
    "france24.com": "France 24",
    "dw.com": "DW",
    "spacenews.com": "SpaceNews",
    "pv-magazine.com": "pv magazine",
}
# Other spellings pages use for the same outlets (besides each name itself, with or without "The",
# and its domain's label, which are derived below).
EXTRA_ALIASES = {
    "associatedpress": "AP", "theassociatedpress": "AP", "apnews": "AP",
    "thomsonreuters": "Reuters",
    "agencefrancepresse": "AFP",
    "canadianpress": "The Canadian Press", "cp": "The Canadian Press",
    "bbcnews": "BBC",
    "cnninternational": "CNN",
    "nyt": "The New York Times",
    "wapo": "The Washington Post",
    "guardian": "The Guardian",
    "aljazeeraenglish": "Al Jazeera",
    "cbcnews": "CBC", "cbcradiocanada": "CBC",
    "globeandmail": "The Globe and Mail",
    "albanytimesunion": "Times Union",
    "bloombergnews": "Bloomberg",
    "wallstreetjournal": "The Wall Street Journal",
    "ft": "Financial Times",
    "pvmagazineinternational": "pv magazine",
}
# Whose stories other outlets carry: named by a page that is not theirs, they become ``via``.
WIRE_SERVICES = frozenset({"AP", "Reuters", "AFP", "The Canadian Press"})
# Values pages put where their name belongs: never an outlet.
PLACEHOLDERS = frozenset({
    "hosted", "home", "homepage", "home page", "news", "the news", "latest news", "breaking news", "top stories",
    "article", "articles", "story", "stories", "index", "website", "site", "web site", "blog", "untitled",
    "default", "wordpress", "null", "none", "undefined", "n/a", "na", "page", "main", "online", "digital",
    "media", "newsroom", "publisher", "the", "en", "en-us", "en-gb", "localhost",
})
# Short words of names written in capitals that are words, not initials ("NEW YORK POST").
_SHORT_WORDS = frozenset({"the", "of", "and", "new", "sun", "day", "for", "in", "on", "at", "a", "an", "now", "by"})
MAX_NAME_CHARS = 60  # longer than this is a slogan or a sentence, not a name


_GENERIC_LABELS = frozenset({"news", "www", "m", "edition", "amp"})  # "news.sky.com": not a name


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def _aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for host, name in KNOWN_DOMAINS.items():
        out.setdefault(_key(name), name)
        out.setdefault(_key(re.sub(r"^the\s+", "", name, flags=re.IGNORECASE)), name)
        label = host.split(".")[0]  # "nytimes" of nytimes.com, "abcnews" of abcnews.go.com
        if label not in _GENERIC_LABELS:
            out.setdefault(_key(label), name)
    out.update(EXTRA_ALIASES)
    return out


ALIASES = _aliases()


@dataclass(frozen=True)
class Outlet:
    """Who published the page: ``name`` as readers know it ("" when nothing says), ``via`` the
    wire service whose story it carries ("" when none), ``how`` where the name came from."""

    name: str
    via: str = ""
    how: str = ""  # "known domain" | "publisher" | "domain" | ""

    def credit(self) -> str:
        """"Times Union (via AP)"; the name alone when the story is the outlet's own."""
        return f"{self.name} (via {self.via})" if self.name and self.via else self.name


def host_of(url: str) -> str:
    """The host of ``url`` in lower case without "www." ("" for no URL, a bare path, an IP address
    or localhost: none of those says whose page it is)."""
    try:
        host = (urlsplit(url.strip()).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""
    if not host or host == "localhost" or "." not in host:
        return ""
    try:
        ipaddress.ip_address(host)
        return ""
    except ValueError:
        pass
    return host[4:] if host.startswith("www.") else host


def registered_domain(host: str) -> str:
    """"news.bbc.co.uk" -> "bbc.co.uk", by the Public Suffix List bundled with ``tld`` (offline);
    a host under a suffix the list does not know ("harbourtimes.example") keeps its last two labels."""
    if not host:
        return ""
    from tld import get_fld

    try:
        found = get_fld(host, fix_protocol=True, fail_silently=True)
    except Exception:  # tld raises its own errors for odd hosts; the fallback below serves
        found = None
    return found or ".".join(host.split(".")[-2:])


def known_outlet(host: str) -> str:
    """The usual name of the well-known outlet whose host (or parent domain) this is, else ""."""
    parts = host.split(".")
    for i in range(len(parts) - 1):
        name = KNOWN_DOMAINS.get(".".join(parts[i:]))
        if name:
            return name
    return ""


def domain_name(host: str) -> str:
    """A tidy name from a host's registered domain: "prairie-ledger.ca" -> "Prairie Ledger",
    "kcra.com" -> "KCRA" (four letters or fewer read as call letters or initials)."""
    domain = registered_domain(host)
    if not domain:
        return ""
    label = domain.split(".")[0]
    words = [w for w in re.split(r"[-_]+", label) if w]
    if len(words) == 1 and len(label) <= 4:
        return label.upper()
    return " ".join(w.capitalize() for w in words)


def reader_name(name: str) -> str:
    """A publisher or site name as readers write it, or "" when it is no name at all:
    "NYTimes" -> "The New York Times", "SpaceNews.com" -> "SpaceNews", "USA TODAY" -> "USA Today",
    "Hosted" -> ""."""
    name = " ".join((name or "").split()).strip(" |-–—·:,;")
    # "BBC News - Home", "Home | The Tribune": the parts that are not placeholders
    parts = [p for p in re.split(r"\s+[|–—·-]\s+", name) if p.casefold() not in PLACEHOLDERS]
    name = parts[0] if parts else ""
    if not name or len(name) > MAX_NAME_CHARS or name.casefold() in PLACEHOLDERS or not re.search(r"[^\W\d_]", name):
        return ""
    host = _as_host(name)
    if host:  # a host name, not a name
        known = known_outlet(host)
        if known:
            return known
        # "SpaceNews.com" keeps its own capitals; "prairieledger.example" is no better than the
        # page's address (``outlet_of`` falls back to it, after any real name).
        bare = re.sub(r"^www\.", "", name.split("://")[-1], flags=re.IGNORECASE).split(".")[0]
        if not host or bare == bare.lower():
            return ""
        name = bare
    alias = ALIASES.get(_key(name))
    if alias:
        return alias
    if name.isupper() and " " in name:  # "MIAMI HERALD" -> "Miami Herald", initials kept ("USA")
        name = " ".join(w if (len(w) <= 3 and w.casefold() not in _SHORT_WORDS) else w.capitalize()
                        for w in name.split())
    return name


def _as_host(name: str) -> str:
    """The host a name is written as ("prairieledger.example"), "" for a name."""
    name = " ".join(name.split())
    if not re.fullmatch(r"(?:https?://)?[\w-]+(?:\.[\w-]+)+/?", name, re.IGNORECASE):
        return ""
    return host_of(name if "://" in name else f"http://{name}")


def wire_in_byline(byline: str) -> str:
    """The wire service a byline credits ("By The Associated Press", "Reuters staff"), else ""."""
    text = re.sub(r"^\s*by\s+", "", " ".join((byline or "").split()), flags=re.IGNORECASE)
    for part in re.split(r"\s*(?:,|;|\band\b|&|\|)\s*", text):
        name = ALIASES.get(_key(re.sub(r"\s+(?:staff|writers?|reporters?)$", "", part, flags=re.IGNORECASE)))
        if name in WIRE_SERVICES:
            return name
    return ""


def outlet_of(names: Iterable[str], url: str = "", bylines: Iterable[str] = ()) -> Outlet:
    """The outlet of a page from the names it gives itself (best evidence first: JSON-LD
    publisher, og:site_name, the end of its <title>) and its canonical ``url``. ``bylines`` (the
    story's authors) count only as a wire service that ``via`` names ("By The Associated Press")."""
    names = [n for n in names if n]
    host = host_of(url) or next((h for h in (_as_host(n) for n in names) if h), "")
    cleaned = [n for n in (reader_name(n) for n in names) if n]
    known = known_outlet(host) if host else ""
    wires = [n for n in cleaned + [wire_in_byline(b) for b in bylines] if n in WIRE_SERVICES and n != known]
    wire = wires[0] if wires else ""
    if known:
        return Outlet(known, via=wire, how="known domain")
    own = next((n for n in cleaned if n not in WIRE_SERVICES), "")
    if own:
        return Outlet(own, via=wire, how="publisher")
    if host:
        return Outlet(domain_name(host), via=wire, how="domain")
    if wire:  # a wire's story with nothing else to go by: the wire is all we know
        return Outlet(wire, how="publisher")
    return Outlet("")
