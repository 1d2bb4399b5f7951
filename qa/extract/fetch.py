"""Getting a feed or a linked page over HTTP(S): a size limit, a timeout, no other schemes.

Only ``qa index --feed`` fetches anything, and only the feed it is given and the pages its entries
link to. A URL that is not http(s) (``file:``, ``ftp:``, ``javascript:``) is refused: a feed from the
web must not make us read this machine's files.
"""
from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

from .base import LoadError

TIMEOUT_S = 20.0


class FetchError(LoadError):
    """The URL could not be fetched; the message says why."""


def fetch(url: str, max_bytes: int, timeout: float = TIMEOUT_S) -> tuple[bytes, str]:
    """(body, final URL after redirects) of ``url``, or ``FetchError``."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise FetchError(f"{url[:200]!r} is not an http(s) address")
    request = urllib.request.Request(url, headers={
        "User-Agent": "qa-news (feed reader)",
        "Accept": "application/rss+xml, application/atom+xml, application/xml, text/html;q=0.9, */*;q=0.5"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(max_bytes + 1)
            final = response.geturl()
    except urllib.error.HTTPError as exc:
        raise FetchError(f"the server answered HTTP {exc.code} ({exc.reason})") from None
    except urllib.error.URLError as exc:
        raise FetchError(f"cannot reach it ({exc.reason})") from None
    except (OSError, ValueError) as exc:  # timeouts, resets, malformed responses
        raise FetchError(f"fetching failed ({type(exc).__name__}: {exc})") from None
    if len(body) > max_bytes:
        raise FetchError(f"it is larger than {max_bytes:,} bytes")
    return body, final
