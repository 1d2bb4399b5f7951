"""Feed probes (issue 22, finding 1 and the feed deadline of finding 9): a feed and the pages it
links to come from outside, so none may reach an internal address, by any spelling, redirect or
DNS answer; only http(s) is fetched; every feed has a deadline and a byte budget.

Each probe asserts a clear message, that nothing is lost (the feed's other entries are written,
their summaries at least), that the internal page was never requested, and a time bound. All
traffic stays on 127.0.0.1: made-up names resolve from a table (``feed_site.names``) and the one
"public" address is answered from loopback (``feed_site.connector``).
"""
from __future__ import annotations

import contextlib
import io
import re

import pytest

from qa import cli
from qa.extract import feed as feed_module
from qa.extract.base import LoadError
from qa.extract.feed import ingest_feed
from qa.extract.fetch import AddressRefused, BudgetSpent, Fetcher, FetchError
from qa.load import load_corpus

from ..conftest import FakeEncoder
from .feed_site import PUBLIC, SECRET, connector, names, rss, serve_site, timed

FEEDS = {
    "plain": rss([("Harbour reopens", "http://news.example/article", "The harbour reopened on Monday.")]),
}


@pytest.fixture(scope="module")
def site():
    with serve_site(FEEDS) as s:
        yield s


@pytest.fixture
def fresh(site):
    """The site with its request log emptied, and the addresses the connector was asked for."""
    site.requests.clear()
    return site, []


def _fetcher(site, seen, **kwargs) -> Fetcher:
    return Fetcher(resolve=kwargs.pop("resolve", names()), connect=connector(site.port, seen), **kwargs)


def _corpus_with_a_kept_article(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kept.txt").write_text("Kept article\n\nThe library opens at nine on weekdays.", encoding="utf-8")
    return corpus


def _texts(corpus) -> dict[str, str]:
    docs, _ = load_corpus(corpus)
    return {d.path: d.text for d in docs}


# ------------------------------------------------------------------ the feed URL itself

INTERNAL_FEED_URLS = [
    "http://127.0.0.1:{port}/feed/plain", "http://localhost:{port}/feed/plain", "http://LOCALHOST:{port}/feed/plain",
    "HTTP://127.0.0.1:{port}/feed/plain", "http://127.1:{port}/feed/plain", "http://127.0.1:{port}/feed/plain",
    "http://2130706433:{port}/feed/plain", "http://0x7f000001:{port}/feed/plain", "http://0x7f.0.0.1:{port}/feed/plain",
    "http://0x7f.1:{port}/feed/plain", "http://0177.0.0.1:{port}/feed/plain", "http://017700000001:{port}/feed/plain",
    "http://[::1]:{port}/feed/plain", "http://[::ffff:127.0.0.1]:{port}/feed/plain",
    "http://[::ffff:7f00:1]:{port}/feed/plain", "http://[0:0:0:0:0:ffff:7f00:1]:{port}/feed/plain",
    "http://0.0.0.0:{port}/feed/plain", "http://0:{port}/feed/plain", "http://[::]:{port}/feed/plain",
    "http://user:pw@127.0.0.1:{port}/feed/plain", "http://news.example@127.0.0.1:{port}/feed/plain",
    "http://rebind.example:{port}/feed/plain", "http://v6loop.example:{port}/feed/plain",
    "http://mapped.example:{port}/feed/plain", "http://nat64.example:{port}/feed/plain",
    "http://sixtofour.example:{port}/feed/plain", "http://mixed.example:{port}/feed/plain",
    "http://intranet.example/feed/plain", "http://router.example/feed/plain", "http://metadata.example/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/", "http://cgnat.example/feed/plain", "http://multicast.example/feed/plain",
    "http://broadcast.example/feed/plain", "http://zero.example:{port}/feed/plain", "http://ula.example/feed/plain",
    "http://linklocal6.example/feed/plain", "http://10.0.0.1/feed/plain", "http://172.16.0.1/feed/plain",
    "http://192.168.0.1/feed/plain", "http://[fc00::1]/feed/plain", "http://[fe80::1]/feed/plain",
    "http://[::127.0.0.1]:{port}/feed/plain", "http://224.0.0.1/feed/plain", "http://240.0.0.1/feed/plain",
    "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ:{port}/feed/plain", "http://①②⑦.0.0.1:{port}/feed/plain", "http://127。0。0。1:{port}/feed/plain",
    "http://[64:ff9b::127.0.0.1]:{port}/feed/plain",
]

NOT_HTTP_FEED_URLS = [
    "ftp://127.0.0.1:{port}/feed/plain", "file:///etc/passwd", "gopher://127.0.0.1:{port}/_GET%20/secret",
    "dict://127.0.0.1:{port}/", "sftp://127.0.0.1/feed", "ldap://127.0.0.1/", "jar:http://127.0.0.1:{port}/!/",
    "ws://127.0.0.1:{port}/feed/plain",
]

UNUSABLE_FEED_URLS = [
    "http://%31%32%37.0.0.1:{port}/feed/plain", "http://127.0.0.1.:{port}/feed/plain", "http:///feed/plain",
    "http://[::1:{port}/feed/plain", "http://127.0.0.1:99999/feed/plain", "http://nowhere.invalid/feed/plain",
    "http://" + "a" * 300 + ".example/feed", "http://[::1%25lo]:{port}/feed/plain",
]


@pytest.mark.parametrize("template", INTERNAL_FEED_URLS)
def test_a_feed_on_an_internal_address_is_refused_however_it_is_spelled(tmp_path, fresh, template):
    site, seen = fresh
    corpus = _corpus_with_a_kept_article(tmp_path)
    url = template.format(port=site.port)
    out, seconds = timed(ingest_feed, url, corpus, fetcher=_fetcher(site, seen))
    assert isinstance(out, LoadError), out
    assert re.search(r"refused .*(loopback|private|link-local|unspecified|multicast|reserved|broadcast|"
                     r"not publicly routable) address", str(out)), str(out)
    assert "--allow-private-fetch" in str(out) or "never fetched" in str(out)
    assert site.requests == [] and seen == []  # refused before any connection
    assert list(_texts(corpus)) == ["kept.txt"] and not (corpus / "feeds").exists()
    assert seconds < 5


@pytest.mark.parametrize("template", NOT_HTTP_FEED_URLS)
def test_a_feed_url_that_is_not_http_is_refused(tmp_path, fresh, template):
    site, seen = fresh
    corpus = _corpus_with_a_kept_article(tmp_path)
    out, seconds = timed(ingest_feed, template.format(port=site.port), corpus, fetcher=_fetcher(site, seen))
    assert isinstance(out, LoadError) and "only http(s) is fetched" in str(out), out
    assert site.requests == [] and seen == [] and list(_texts(corpus)) == ["kept.txt"] and seconds < 5


@pytest.mark.parametrize("template", UNUSABLE_FEED_URLS)
def test_a_feed_url_that_cannot_be_used_is_a_clear_error(tmp_path, fresh, template):
    site, seen = fresh
    corpus = _corpus_with_a_kept_article(tmp_path)
    out, seconds = timed(ingest_feed, template.format(port=site.port), corpus, fetcher=_fetcher(site, seen))
    assert isinstance(out, LoadError), out
    assert re.search(r"cannot look up|not a valid URL|names no host|cannot be looked up|no address", str(out)), out
    assert site.requests == [] and seen == [] and list(_texts(corpus)) == ["kept.txt"] and seconds < 5


def test_the_cli_refuses_a_loopback_feed_and_allow_private_fetch_admits_it(tmp_path, site, monkeypatch):
    """The finding as reported: `qa index --feed http://127.0.0.1/...` fetched it."""
    monkeypatch.setattr("qa.pipeline.MiniLMEncoder", lambda batch_size=32: FakeEncoder())
    corpus = _corpus_with_a_kept_article(tmp_path)
    feed = rss([("Local", f"{site.url}/article", "A summary.")])
    with serve_site({"local": feed}) as local:
        args = ["index", "--corpus", str(corpus), "--index-dir", str(tmp_path / "index"), "--quiet",
                "--feed", f"{local.url}/feed/local"]
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(args)
        assert code == 1 and "refused 127.0.0.1" in err.getvalue() and "--allow-private-fetch" in err.getvalue()
        assert local.requests == [] and list(_texts(corpus)) == ["kept.txt"]  # the rest is still indexed
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            assert cli.main(args + ["--allow-private-fetch"]) == 0
        assert local.paths() == ["/feed/local"]
    written = [t for p, t in _texts(corpus).items() if p.startswith("feeds/")]
    assert len(written) == 1 and "breakwater" in written[0]  # fetched from 127.0.0.1: the operator said so


# ------------------------------------------------------------------ links in a public feed

INTERNAL_LINKS = [
    "http://127.0.0.1:{port}/secret", "http://localhost:{port}/secret", "http://[::1]:{port}/secret",
    "http://2130706433:{port}/secret", "http://0x7f.1:{port}/secret", "http://0177.0.0.1:{port}/secret",
    "http://0.0.0.0:{port}/secret", "http://[::ffff:127.0.0.1]:{port}/secret", "http://rebind.example:{port}/secret",
    "http://mixed.example/secret", "http://169.254.169.254/latest/meta-data/iam/", "http://10.0.0.1/secret",
    "http://nat64.example:{port}/secret", "file:///etc/passwd", "ftp://127.0.0.1:{port}/secret",
    "gopher://127.0.0.1:{port}/_secret", "javascript:alert(1)", "data:text/html,<p>secret</p>",
    "//127.0.0.1:{port}/secret",
]


@pytest.mark.parametrize("template", INTERNAL_LINKS)
def test_a_public_feed_cannot_link_us_into_the_network(tmp_path, fresh, template):
    site, seen = fresh
    corpus = _corpus_with_a_kept_article(tmp_path)
    link = template.format(port=site.port)
    feed = rss([("Inside job", link, "Only the summary of the inside job."),
                ("Harbour reopens", "http://news.example/article", "The harbour reopened.")])
    with serve_site({"probe": feed}) as public:
        fetcher = Fetcher(resolve=names(), connect=connector(public.port, seen))
        report, seconds = timed(ingest_feed, "http://news.example/feed/probe", corpus, fetcher=fetcher)
        assert not isinstance(report, Exception), report
        assert public.paths() == ["/feed/probe", "/article"] and not site.reached_secret()
    inside, harbour = report.entries
    assert inside.path.endswith(".txt") and harbour.path.endswith(".html")  # nothing lost
    if link.startswith(("http", "//")):
        assert any(re.search(r"refused .*address", n) for n in inside.notes), inside.notes
    texts = _texts(corpus)
    assert "kept.txt" in texts and not any(SECRET in t for t in texts.values())
    assert "Only the summary of the inside job." in texts[inside.path]
    assert all(ip in (PUBLIC,) for ip, _ in seen) and seconds < 10


REDIRECT_TARGETS = [
    ("http://127.0.0.1:{port}/secret", "refused"), ("http://localhost:{port}/secret", "refused"),
    ("http://[::1]:{port}/secret", "refused"), ("http://0x7f000001:{port}/secret", "refused"),
    ("http://rebind.example:{port}/secret", "refused"), ("http://169.254.169.254/latest/", "refused"),
    ("http://intranet.example/secret", "refused"), ("ftp://127.0.0.1:{port}/secret", "only http"),
    ("file:///etc/passwd", "only http"), ("gopher://127.0.0.1:{port}/_secret", "only http"),
    ("javascript:alert(1)", "only http"), ("data:text/plain,secret", "only http"),
    ("//127.0.0.1:{port}/secret", "refused"), ("/loop", "more than 5 redirects"),
    ("http://news.example/redirect?to=http://127.0.0.1:{port}/secret", "refused"),
]


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("target, says", REDIRECT_TARGETS[:3])
def test_every_redirect_code_is_checked(tmp_path, fresh, code, target, says):
    site, seen = fresh
    fetcher = _fetcher(site, seen)
    url = f"http://news.example/redirect?code={code}&to={target.format(port=site.port)}"
    out, seconds = timed(fetcher.fetch, url, 100_000)
    assert isinstance(out, AddressRefused) and says in str(out) and "redirect" in str(out), out
    assert not site.reached_secret() and seconds < 5


@pytest.mark.parametrize("target, says", REDIRECT_TARGETS)
def test_a_redirect_out_of_the_public_web_is_refused_and_the_summary_stands_in(tmp_path, fresh, target, says):
    site, seen = fresh
    corpus = _corpus_with_a_kept_article(tmp_path)
    from urllib.parse import quote

    link = "http://news.example/redirect?to=" + quote(target.format(port=site.port), safe="")
    feed = rss([("Redirected", link, "The summary of the redirected story."),
                ("Harbour reopens", "http://news.example/article", "The harbour reopened.")])
    with serve_site({"probe": feed}) as public:
        fetcher = Fetcher(resolve=names(), connect=connector(public.port, seen))
        report, seconds = timed(ingest_feed, "http://news.example/feed/probe", corpus, fetcher=fetcher)
        assert not isinstance(report, Exception), report
        assert not site.reached_secret() and not public.reached_secret()
    redirected, harbour = report.entries
    assert any(says in n for n in redirected.notes), redirected.notes
    assert redirected.path.endswith(".txt") and harbour.path.endswith(".html")
    texts = _texts(corpus)
    assert "The summary of the redirected story." in texts[redirected.path] and "kept.txt" in texts
    assert not any(SECRET in t for t in texts.values()) and seconds < 10


# ------------------------------------------------------------------ DNS rebinding


def test_a_name_is_looked_up_once_and_the_connection_goes_to_that_address(fresh):
    """Rebinding: the second answer would be 127.0.0.1, but there is no second question."""
    site, seen = fresh
    answers = iter([[PUBLIC], ["127.0.0.1"], ["127.0.0.1"]])
    asked = []

    def rebinding(host, port):
        asked.append(host)
        return next(answers)

    body, final = _fetcher(site, seen, resolve=rebinding).fetch("http://news.example/article", 100_000)
    assert b"Harbour reopens" in body and asked == ["news.example"] and seen == [(PUBLIC, 80)]
    assert [r.host for r in site.requests] == ["news.example"]  # the Host header names the URL's host


def test_a_connection_that_lands_on_an_internal_address_is_dropped_before_a_request(fresh):
    """Whatever the resolver said, the peer the socket reached is checked (a rebinding resolver
    below us, a NAT, a transparent proxy)."""
    site, seen = fresh
    import socket

    def lands_on_loopback(address, timeout):
        seen.append(address)
        return socket.create_connection(("127.0.0.1", site.port), timeout)

    fetcher = Fetcher(resolve=names(), connect=lands_on_loopback)
    out, seconds = timed(fetcher.fetch, "http://news.example/secret", 100_000)
    assert isinstance(out, AddressRefused) and "reached 127.0.0.1" in str(out), out
    assert site.requests == [] and seconds < 5


def test_a_name_with_one_internal_answer_among_public_ones_is_refused(fresh):
    site, seen = fresh
    out, _ = timed(_fetcher(site, seen).fetch, "http://mixed.example/article", 100_000)
    assert isinstance(out, AddressRefused) and "127.0.0.1" in str(out) and seen == []


# ------------------------------------------------------------------ intranet feeds, on purpose


def test_allow_private_admits_loopback_but_never_link_local_or_unspecified(fresh):
    site, seen = fresh
    fetcher = _fetcher(site, seen, allow_private=True)
    body, _ = fetcher.fetch(f"{site.url}/article", 100_000)
    assert b"Harbour reopens" in body
    for url in ("http://169.254.169.254/latest/meta-data/", f"http://0.0.0.0:{site.port}/secret",
                "http://metadata.example/", "http://multicast.example/"):
        out, _ = timed(fetcher.fetch, url, 100_000)
        assert isinstance(out, AddressRefused) and "never fetched" in str(out), (url, out)
    assert not site.reached_secret()


# ------------------------------------------------------------------ sizes


def test_a_feed_over_its_size_limit_is_a_clear_error(tmp_path, fresh, monkeypatch):
    site, seen = fresh
    monkeypatch.setattr(feed_module, "MAX_FEED_BYTES", 100)
    corpus = _corpus_with_a_kept_article(tmp_path)
    out, seconds = timed(ingest_feed, "http://news.example/feed/plain", corpus, fetcher=_fetcher(site, seen))
    assert isinstance(out, LoadError) and "larger than 100 bytes" in str(out), out
    assert list(_texts(corpus)) == ["kept.txt"] and seconds < 5


@pytest.mark.parametrize("path, says", [("/big?n=50000000", "larger than 200,000 bytes"),
                                        ("/gzipbomb", "larger than 200,000 bytes")])
def test_an_endless_or_bomb_page_stops_at_the_limit(fresh, path, says):
    site, seen = fresh
    out, seconds = timed(_fetcher(site, seen).fetch, f"http://news.example{path}", 200_000)
    assert isinstance(out, FetchError) and says in str(out), out
    assert seconds < 5


def test_the_byte_budget_of_a_feed_is_shared_by_its_pages_and_the_rest_waits_for_the_next_run(tmp_path, fresh):
    site, seen = fresh
    corpus = _corpus_with_a_kept_article(tmp_path)
    feed = rss([(f"Story {i}", f"http://news.example/big?n={300_000}&i={i}", f"Summary of story {i}.")
                for i in range(4)])
    with serve_site({"heavy": feed}) as public:
        fetcher = Fetcher(resolve=names(), connect=connector(public.port, seen), max_total_bytes=700_000)
        report, seconds = timed(ingest_feed, "http://news.example/feed/heavy", corpus, fetcher=fetcher)
    assert not isinstance(report, Exception), report
    notes = [" ".join(e.notes) for e in report.entries]
    assert any("budget of 700,000 bytes was spent" in n and "next indexed" in n for n in notes), notes
    assert all(e.path for e in report.entries) and seconds < 20  # every entry kept, summaries at least
    texts = _texts(corpus)
    assert all(any(f"Summary of story {i}." in t or "aaaa" in t for t in texts.values()) for i in range(4))


# ------------------------------------------------------------------ slow servers


@pytest.mark.parametrize("path", ["/slow?delay=0.3", "/hang"])
def test_a_slow_feed_ends_at_the_feed_deadline(tmp_path, fresh, path):
    site, seen = fresh
    corpus = _corpus_with_a_kept_article(tmp_path)
    fetcher = _fetcher(site, seen, deadline_s=1.5)
    out, seconds = timed(ingest_feed, f"http://news.example{path}", corpus, fetcher=fetcher)
    assert isinstance(out, LoadError) and "deadline of 1.5 s passed" in str(out), out
    assert seconds < 4 and list(_texts(corpus)) == ["kept.txt"]


def test_a_slow_page_costs_the_feed_its_deadline_once_and_the_next_run_fetches_it(tmp_path, fresh):
    site, seen = fresh
    corpus = _corpus_with_a_kept_article(tmp_path)
    feed = rss([("Slow one", "http://news.example/slow?delay=0.3", "Summary of the slow one."),
                ("Another", "http://news.example/slow?delay=0.3&b=1", "Summary of another.")])
    with serve_site({"slow": feed}) as public:
        fetcher = Fetcher(resolve=names(), connect=connector(public.port, seen), deadline_s=1.5)
        report, seconds = timed(ingest_feed, "http://news.example/feed/slow", corpus, fetcher=fetcher)
        assert not isinstance(report, Exception), report
        assert seconds < 4  # one deadline for the whole feed, not one per link
        assert all(e.path.endswith(".txt") for e in report.entries)
        assert all(any("deadline of 1.5 s passed" in n and "next indexed" in n for n in e.notes)
                   for e in report.entries), [e.notes for e in report.entries]
        texts = _texts(corpus)
        assert "Summary of the slow one." in texts[report.entries[0].path]
        again = ingest_feed("http://news.example/feed/slow", corpus, fetch_pages=False,
                            fetcher=Fetcher(resolve=names(), connect=connector(public.port, seen)))
    assert [e.status for e in again.entries] == ["updated", "updated"]  # retried, not "unchanged"


def test_a_budget_spent_fetcher_refuses_at_once(fresh):
    site, seen = fresh
    fetcher = _fetcher(site, seen, deadline_s=0.2)
    import time

    time.sleep(0.3)
    out, seconds = timed(fetcher.fetch, "http://news.example/article", 1000)
    assert isinstance(out, BudgetSpent) and seen == [] and seconds < 1


@pytest.mark.parametrize("code", [404, 500, 503])
def test_an_http_error_page_leaves_the_summary(tmp_path, fresh, code):
    site, seen = fresh
    corpus = _corpus_with_a_kept_article(tmp_path)
    feed = rss([("Broken", f"http://news.example/status?code={code}", "Summary of the broken one.")])
    with serve_site({"err": feed}) as public:
        fetcher = Fetcher(resolve=names(), connect=connector(public.port, seen))
        report = ingest_feed("http://news.example/feed/err", corpus, fetcher=fetcher)
    assert any(f"HTTP {code}" in n for n in report.entries[0].notes)
    assert "Summary of the broken one." in _texts(corpus)[report.entries[0].path]


# ------------------------------------------------------------------ TLS to a pinned address


def _self_signed(tmp_path, name: str):
    """(cert.pem, key.pem) for ``name``, made with cryptography (pypdf[crypto] brings it)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.mark.parametrize("url, ok", [("https://news.example/article", True), ("https://other.example/article", False)])
def test_tls_to_the_pinned_address_is_verified_against_the_urls_name(tmp_path, monkeypatch, url, ok):
    """Connecting to the checked IP must not weaken TLS: the certificate is checked for the name in
    the URL (SNI and host name), so a pinned connection to the wrong server fails."""
    import ssl

    cert, key = _self_signed(tmp_path, "news.example")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust this one certificate, nothing else
    with serve_site({}) as site:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        seen: list = []
        fetcher = Fetcher(resolve=names(), connect=_tls_connector(site.port, seen, context))
        out, seconds = timed(fetcher.fetch, url, 100_000)
    if ok:
        assert not isinstance(out, Exception), out
        assert b"Harbour reopens" in out[0] and seen == [(PUBLIC, 443)]
    else:
        assert isinstance(out, FetchError) and "doesn't match" in str(out), out
    assert seconds < 5


def _tls_connector(port: int, seen: list, context):
    """Like ``connector``, but the loopback site is reached through a TLS-terminating relay thread."""
    import socket
    import threading

    from .feed_site import _PublicLooking

    def connect(address, timeout):
        seen.append((address[0], address[1]))
        assert address[0] == PUBLIC
        ours, theirs = socket.socketpair()

        def relay():
            with context.wrap_socket(theirs, server_side=True) as tls, \
                    socket.create_connection(("127.0.0.1", port), 5) as plain:
                plain.settimeout(5)
                tls.settimeout(5)
                request = b""
                while b"\r\n\r\n" not in request:
                    part = tls.recv(4096)
                    if not part:
                        return
                    request += part
                plain.sendall(request)
                while part := plain.recv(65536):
                    tls.sendall(part)
                    if b"</html>" in part:
                        break

        threading.Thread(target=_quietly(relay), daemon=True).start()
        return _PublicLooking(ours, (PUBLIC, address[1]))

    return connect


def _quietly(fn):
    def run():
        try:
            fn()
        except OSError:  # the client gave up (a refused certificate): nothing to relay
            pass
    return run
