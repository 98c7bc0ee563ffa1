"""Language tags: checking them and choosing the reporter's language.

Tags are BCP 47 (RFC 5646) in the common ``language[-script][-region]`` form, and the
choice follows the lookup scheme of RFC 4647 section 3.4: ``fr-CA`` falls back to
``fr``, then to the default language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Language, optional script, optional region, optional variants: enough for mail
# clients' and Graph's tags such as "de", "fr-CA", "zh-Hant-TW" or "sr-Latn".
_TAG = re.compile(
    r"[a-z]{2,3}(-[a-z]{4})?(-([a-z]{2}|[0-9]{3}))?(-([a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*",
    re.IGNORECASE,
)
MAX_TAG_CHARS = 35


def normalize_tag(tag: str) -> str | None:
    """Return ``tag`` in its conventional case (``fr-CA``), or None if it is invalid."""
    tag = tag.strip().replace("_", "-")
    if len(tag) > MAX_TAG_CHARS or not _TAG.fullmatch(tag):
        return None
    parts = tag.split("-")
    normalized = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            normalized.append(part.title())
        elif len(part) == 2:
            normalized.append(part.upper())
        else:
            normalized.append(part.lower())
    return "-".join(normalized)


def content_language_tags(header: str) -> list[str]:
    """Return the valid tags of a Content-Language value (RFC 3282), in order."""
    tags = (normalize_tag(item) for item in header.split(","))
    return [tag for tag in tags if tag]


def lookup_language(
    candidates: Iterable[str], available: Iterable[str], default: str
) -> str:
    """Return the first available tag that matches a candidate, else ``default``.

    Each candidate is tried whole, then with its last subtag removed, until one
    matches an available tag without regard to case.
    """
    by_key = {tag.lower(): tag for tag in available}
    for candidate in candidates:
        parts = candidate.lower().split("-")
        while parts:
            found = by_key.get("-".join(parts))
            if found:
                return found
            parts.pop()
    return default
