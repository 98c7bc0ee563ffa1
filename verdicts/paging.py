"""Continuation tokens for newest-first listings.

A token contains the sort key of the last item a page returned, and the next page starts
right after it. Listings sort by time of arrival, so items that arrive while a client
pages sort before the token and never shift, repeat or hide the items still to come.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import TypeVar

from verdicts.http import HttpProblem

T = TypeVar("T")
SortKey = tuple[str, ...]
TOKEN_FIELD = "continuation"


def sortable_time(value: datetime) -> str:
    """Format ``value`` so that string order is time order (UTC, microseconds)."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode_token(key: SortKey) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, *, size: int) -> SortKey:
    """Return the sort key in ``token``, or raise a 400 problem naming the parameter."""
    try:
        padded = token + "=" * (-len(token) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError):
        key = None
    if (
        not isinstance(key, list)
        or len(key) != size
        or not all(isinstance(part, str) for part in key)
    ):
        raise HttpProblem(
            400,
            "Invalid continuation token",
            f"continuation {token[:80]!r} is invalid; pass the value of "
            "'continuation' from the previous page unchanged",
            field=TOKEN_FIELD,
        )
    return tuple(key)


def newest_first_page(
    items: Iterable[T],
    key: Callable[[T], SortKey],
    *,
    limit: int,
    after: SortKey | None,
) -> tuple[list[T], str | None]:
    """Return up to ``limit`` items sorting after ``after``, and the next page's token.

    The token is None on the last page.
    """
    remaining = [item for item in items if after is None or key(item) < after]
    remaining.sort(key=key, reverse=True)
    page = remaining[:limit]
    if len(remaining) <= limit:
        return page, None
    return page, encode_token(key(page[-1]))
