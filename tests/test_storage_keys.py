"""Table limits that Azure enforces and Azurite does not."""

from __future__ import annotations

import pytest

from storage import TableLimitError, check_entity_limits, check_key
from storage.keys import truncate_utf16


@pytest.mark.parametrize("key", ["a/b", "a\\b", "a#b", "a?b", "a\nb", "", "x" * 1025])
def test_check_key_rejects_what_azure_rejects(key):
    with pytest.raises(TableLimitError):
        check_key(key)


def test_check_key_accepts_hex_ids():
    assert check_key("0f" * 16) == "0f" * 16


def test_string_property_over_64_kib_is_rejected():
    with pytest.raises(TableLimitError) as error:
        check_entity_limits({"subject": "a" * (32 * 1024 + 1)})
    assert (
        str(error.value)
        == "property 'subject' has 32769 UTF-16 code units; the limit is 32768"
    )


def test_truncate_counts_utf16_units_and_keeps_pairs_whole():
    text = "😀" * 10  # each emoji is two UTF-16 code units
    assert truncate_utf16(text, 5) == "😀😀"
    assert truncate_utf16("short", 10) == "short"
