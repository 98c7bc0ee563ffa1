"""Checks for Azure Table Storage limits that Azurite does not enforce.

Azure rejects keys with ``/ \\ # ?`` or control characters, string properties over
64 KiB (32K UTF-16 characters) and entities over 1 MiB; Azurite accepts some of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from storage.errors import TableLimitError

MAX_KEY_CHARS = 1024
MAX_STRING_CHARS = 32 * 1024
MAX_ENTITY_BYTES = 1024 * 1024
_FORBIDDEN_KEY = re.compile(r"[/\\#?\x00-\x1f\x7f-\x9f]")


def check_key(key: str) -> str:
    """Return ``key`` unchanged, or raise TableLimitError if Azure would reject it."""
    if not key or len(key) > MAX_KEY_CHARS or _FORBIDDEN_KEY.search(key):
        raise TableLimitError(
            f"table key {key[:80]!r} is invalid: expected 1 to {MAX_KEY_CHARS} "
            "characters without / \\ # ? or control characters"
        )
    return key


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_entity_limits(entity: Mapping[str, Any]) -> None:
    """Raise TableLimitError if a property or the whole entity is over Azure's limit."""
    total = 0
    for name, value in entity.items():
        if isinstance(value, str):
            units = _utf16_units(value)
            if units > MAX_STRING_CHARS:
                raise TableLimitError(
                    f"property {name!r} has {units} UTF-16 code units; "
                    f"the limit is {MAX_STRING_CHARS}"
                )
            total += 2 * units
        elif isinstance(value, bytes):
            total += len(value)
        else:
            total += 8
        total += 2 * len(name)
    if total > MAX_ENTITY_BYTES:
        raise TableLimitError(
            f"entity is about {total} bytes; the limit is {MAX_ENTITY_BYTES}"
        )


def truncate_utf16(text: str, max_units: int) -> str:
    """Cut ``text`` so that it takes at most ``max_units`` UTF-16 code units."""
    if _utf16_units(text) <= max_units:
        return text
    encoded = text.encode("utf-16-le")[: 2 * max_units]
    return encoded.decode("utf-16-le", errors="ignore")
