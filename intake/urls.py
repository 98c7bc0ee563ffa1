"""URLs of a message's text and HTML parts, deduplicated, with their hosts.

Only strings are read here: no URL is opened and no host is resolved.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

# Scheme-qualified http(s) URLs in text; stops at whitespace, quotes and brackets.
_TEXT_URL = re.compile(r"""\bhttps?://[^\s"'<>()\[\]{}\\^`|]+""", re.IGNORECASE)
# href/src/action attribute values in HTML, quoted or not.
_HTML_ATTRIBUTE = re.compile(
    r"""\b(?:href|src|action)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = ".,;:!?*'\")]}>"
# Microsoft Defender Safe Links wraps each URL as
# https://<region>.safelinks.protection.outlook.com/?url=<original>&data=...
_SAFE_LINKS_SUFFIX = ".safelinks.protection.outlook.com"


def _clean(url: str) -> str:
    url = url.strip().rstrip(_TRAILING_PUNCTUATION)
    return _unwrap_safe_links(url)


def _unwrap_safe_links(url: str) -> str:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return url
    if host.endswith(_SAFE_LINKS_SUFFIX):
        original = parse_qs(parts.query).get("url")
        if original and original[0].lower().startswith(("http://", "https://")):
            return original[0]
    return url


def host_of(url: str) -> str:
    """Return the lower-case host of ``url``, or "" if it has none or is invalid."""
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def urls_in_text(text: str) -> list[str]:
    return [_clean(match) for match in _TEXT_URL.findall(text)]


def urls_in_html(markup: str, visible_text: str) -> list[str]:
    """Return http(s) URLs of link attributes, then those in the visible text.

    Other attributes are skipped: their URLs (XML namespaces, for example) are
    neither shown nor followed.
    """
    found = []
    for match in _HTML_ATTRIBUTE.finditer(markup):
        value = html.unescape(
            next(group for group in match.groups() if group is not None)
        )
        if value.strip().lower().startswith(("http://", "https://")):
            found.append(_clean(value))
    found.extend(urls_in_text(visible_text))
    return found


def deduplicate(urls: list[str]) -> tuple[list[str], list[str]]:
    """Return URLs in order of first appearance and the hosts they name."""
    unique = [url for url in dict.fromkeys(urls) if host_of(url)]
    hosts = list(dict.fromkeys(host_of(url) for url in unique))
    return unique, hosts
