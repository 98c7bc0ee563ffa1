"""Reports with values over Table Storage limits are stored cut, and flagged."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from storage.keys import MAX_ENTITY_BYTES, MAX_STRING_CHARS
from verdicts.model import Report, report_to_entity
from verdicts.store import ReportStore, fit_entity


def _report(**values) -> Report:
    return Report(
        id="r" + "0" * 31, received_at=datetime(2026, 12, 1, tzinfo=UTC), **values
    )


def test_long_subject_is_truncated_and_flagged():
    entity = fit_entity(report_to_entity(_report(original_subject="x" * 40_000)))
    assert len(entity["original_subject"]) == MAX_STRING_CHARS
    assert json.loads(entity["truncated_fields"]) == ["original_subject"]


def test_long_url_list_keeps_leading_items_as_valid_json():
    urls = [f"https://host{i}.example.net/{'p' * 100}" for i in range(1000)]
    entity = fit_entity(report_to_entity(_report(urls=urls)))
    kept = json.loads(entity["urls"])
    assert 0 < len(kept) < len(urls)
    assert kept == urls[: len(kept)]
    assert json.loads(entity["truncated_fields"]) == ["urls"]


def test_oversized_object_becomes_marker():
    entity = fit_entity(report_to_entity(_report(details={"text": "d" * 40_000})))
    assert json.loads(entity["details"]) == {"truncated": True}


def test_entity_over_one_mebibyte_is_cut_to_fit():
    values = {
        name: "y" * 30_000
        for name in (
            "original_subject",
            "original_date",
            "original_message_id",
            "original_sender_name",
            "original_network_message_id",
            "body_preview",
            "reporter_name",
            "original_return_path",
            "original_sender_header",
            "wrapper_message_id",
            "language",
            "original_sender",
            "mailbox_id",
            "raw_blob",
            "antispam_sfv",
            "antispam_cat",
            "antispam_dest",
            "attention_reason",
        )
    }
    entity = fit_entity(report_to_entity(_report(**values)))
    encoded = sum(
        2 * len(k) + (2 * len(v) if isinstance(v, str) else 8)
        for k, v in entity.items()
    )
    assert encoded <= MAX_ENTITY_BYTES
    assert len(json.loads(entity["truncated_fields"])) >= 1


def test_short_report_is_unchanged():
    entity = report_to_entity(_report(original_subject="Invoice"))
    assert fit_entity(entity) == entity


def test_truncated_report_round_trips_through_azurite(runtime):
    store = ReportStore(runtime.storage)
    runtime.storage.create_all()
    report = _report(original_subject="s" * 50_000, urls=["https://a.example.net/"])
    assert store.add(report)
    stored = store.get(report.id).report
    assert stored.original_subject == "s" * MAX_STRING_CHARS
    assert stored.urls == ["https://a.example.net/"]
    assert stored.truncated_fields == ["original_subject"]
