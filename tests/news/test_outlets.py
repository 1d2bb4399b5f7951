"""Outlets as readers name them: the known-outlet map, placeholders, domain-spelled and capitalised
names, wire stories carried by another outlet, and the tidy domain fallback."""
import pytest

from qa.news.outlets import (KNOWN_DOMAINS, Outlet, domain_name, host_of, outlet_of, reader_name,
                             registered_domain, wire_in_byline)


@pytest.mark.parametrize("names, url, want", [
    (["Hosted"], "https://apnews.com/article/harbor-dredging-7f3a2c", Outlet("AP", "", "known domain")),
    (["NYTimes"], "https://www.nytimes.com/2023/10/05/nyregion/x.html", Outlet("The New York Times", "", "known domain")),
    (["Associated Press"], "https://www.timesunion.com/news/article/x.php", Outlet("Times Union", "AP", "known domain")),
    (["Pv Magazine International"], "https://www.pv-magazine.com/2024/05/20/x/", Outlet("pv magazine", "", "known domain")),
    (["News"], "https://www.riverbend-gazette.com/2023/04/11/x/", Outlet("Riverbend Gazette", "", "domain")),
    (["Reuters", "Lakeshore Courier"], "https://lakeshorecourier.com/x/", Outlet("Lakeshore Courier", "Reuters", "publisher")),
    (["The Harbour Times"], "https://www.harbourtimes.example/news/x", Outlet("The Harbour Times", "", "publisher")),
    (["prairieledger.example", "Prairie Ledger"], "", Outlet("Prairie Ledger", "", "publisher")),
    (["prairieledger.example"], "", Outlet("Prairieledger", "", "domain")),
    (["Home", "USA TODAY"], "", Outlet("USA Today", "", "publisher")),
    (["Associated Press"], "", Outlet("AP", "", "publisher")),  # the wire's own page, saved without its address
    ([], "http://127.0.0.1:8000/pages/x.html", Outlet("")),
    (["", "Hosted", "News"], "", Outlet("")),
])
def test_the_outlet_is_the_name_readers_use(names, url, want):
    assert outlet_of(names, url) == want


def test_a_wire_byline_on_another_outlets_page_is_noted_as_via():
    got = outlet_of([], "https://www.timesunion.com/news/article/x.php", ["By DANIEL REYES, Associated Press"])
    assert got == Outlet("Times Union", "AP", "known domain") and got.credit() == "Times Union (via AP)"
    assert outlet_of([], "https://www.timesunion.com/x", ["Daniel Reyes"]).via == ""
    assert outlet_of(["AP"], "https://apnews.com/article/x", ["By The Associated Press"]).via == ""  # its own story


@pytest.mark.parametrize("name, want", [
    ("SpaceNews.com", "SpaceNews"), ("NYTimes", "The New York Times"), ("USA TODAY", "USA Today"),
    ("Pv Magazine International", "pv magazine"), ("nytimes.com", "The New York Times"),
    ("The Associated Press", "AP"), ("BBC News", "BBC"), ("MIAMI HERALD", "Miami Herald"),
    ("Hosted", ""), ("Home", ""), ("News", ""), ("  ", ""), ("12345", ""), ("x" * 80, ""),
    ("Northern Wire", "Northern Wire"), ("pv magazine", "pv magazine"),
    ("BBC News - Home", "BBC"), ("Home | The Tribune", "The Tribune"), ("News | Home", ""),
])
def test_reader_name(name, want):
    assert reader_name(name) == want


@pytest.mark.parametrize("byline, want", [
    ("By The Associated Press", "AP"), ("By JANE DOE, Associated Press", "AP"), ("Reuters staff", "Reuters"),
    ("By Jane Doe and Agence France-Presse", "AFP"), ("By Jane Doe", ""), ("", ""),
])
def test_wire_in_byline(byline, want):
    assert wire_in_byline(byline) == want


def test_registered_domain_uses_the_bundled_suffix_list_offline(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the suffix list must not be downloaded")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert registered_domain("news.bbc.co.uk") == "bbc.co.uk"
    assert registered_domain("abcnews.go.com") == "go.com"
    assert registered_domain("www.harbourtimes.example") == "harbourtimes.example"  # not a public suffix
    assert host_of("https://www.BBC.co.uk/news") == "bbc.co.uk" and host_of("/pages/x.html") == ""


def test_known_hosts_below_a_shared_domain_and_the_tidy_fallback():
    assert outlet_of([], "https://abcnews.go.com/US/story").name == "ABC News"
    assert outlet_of([], "https://news.sky.com/story/x").name == "Sky News"
    assert domain_name("kcra.com") == "KCRA" and domain_name("www.prairie-ledger.ca") == "Prairie Ledger"


def test_every_known_outlet_is_found_by_its_domain_and_its_own_name():
    for host, name in KNOWN_DOMAINS.items():
        assert outlet_of([], f"https://www.{host}/story").name == name, host
        assert reader_name(name) == name, name


def test_aliases_come_from_names_and_domain_labels_not_from_suffixes():
    from qa.news.outlets import ALIASES

    assert "co" not in ALIASES and "go" not in ALIASES and "news" not in ALIASES
    assert reader_name("Co") == "Co" and reader_name("abcnews") == "ABC News"
