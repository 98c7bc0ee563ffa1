"""GET /api/audit, GET /api/reports/{id}/audit and GET /api/stats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from azure.functions.queue import QueueMessage

import function_app
from tests.conftest import http_request, response_json
from tests.review_helpers import BASE_TIME, call, mark, store_report
from verdicts.audit import SETTINGS_SUBJECT, AuditLog
from verdicts.model import Verdict
from verdicts.stats import percentile, summarize_durations


def _audit(params=None):
    response = call("list_audit", http_request("GET", "api/audit", params=params))
    assert response.status_code == 200, response.get_body()
    return response_json(response)


def test_audit_lists_marks_and_settings_changes_newest_first(runtime):
    first, second = store_report(runtime), store_report(runtime)
    mark(first.id, {"verdict": "spam"})
    AuditLog(runtime.storage).add(
        subject=SETTINGS_SUBJECT,
        action="settings.notifications",
        actor="admin@example.com",
        etag="1",
    )
    mark(second.id, {"verdict": "phishing", "comment": "lookalike domain"})
    items = _audit()["items"]
    assert [(i["subject"], i["action"]) for i in items] == [
        (second.id, "verdict"),
        (SETTINGS_SUBJECT, "settings.notifications"),
        (first.id, "verdict"),
    ]
    assert items[0]["data"]["comment"] == "lookalike domain"
    assert items[1]["actor"] == "admin@example.com"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"subject": "settings"}, ["settings.notifications"]),
        ({"action": "verdict"}, ["verdict", "verdict"]),
        ({"actor": "admin@example.com"}, ["settings.notifications"]),
        ({"actor": "nobody@example.com"}, []),
    ],
)
def test_audit_filters(runtime, params, expected):
    for _ in range(2):
        mark(store_report(runtime).id, {"verdict": "spam"})
    AuditLog(runtime.storage).add(
        subject=SETTINGS_SUBJECT,
        action="settings.notifications",
        actor="admin@example.com",
    )
    assert [i["action"] for i in _audit(params)["items"]] == expected


def test_audit_pages_cover_every_entry_once(runtime):
    report = store_report(runtime)
    for verdict in ["spam", "phishing", "no_threats_found", "spam", "phishing"]:
        assert mark(report.id, {"verdict": verdict}).status_code == 202
    seen, token = [], None
    while True:
        params = {"limit": "2"} | ({"continuation": token} if token else {})
        page = _audit(params)
        seen += [i["data"]["version"] for i in page["items"]]
        token = page["continuation"]
        if token is None:
            break
    assert seen == [5, 4, 3, 2, 1]


def test_report_audit_of_unknown_report_is_404(runtime):
    response = call(
        "get_report_audit",
        http_request("GET", "api/reports/nope/audit", route_params={"id": "nope"}),
    )
    assert response.status_code == 404


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 50) == 5.0
    assert percentile(values, 90) == 9.0
    assert percentile(values, 99) == 10.0
    assert percentile([7.0], 50) == 7.0


def test_empty_durations_have_no_percentiles():
    assert summarize_durations([]) == {
        "count": 0,
        "p50": None,
        "p90": None,
        "p95": None,
        "p99": None,
        "max": None,
    }


def test_stats_count_states_and_time_reviews(runtime):
    for minutes in (10, 20, 30, 40):
        store_report(
            runtime,
            received_at=BASE_TIME,
            verdict=Verdict.PHISHING,
            verdict_version=1,
            verdict_at=BASE_TIME + timedelta(minutes=minutes),
        )
    store_report(runtime, received_at=BASE_TIME)
    marked = store_report(runtime)
    mark(marked.id, {"verdict": "spam"})
    queue = runtime.storage.queue("notifications")
    for message in queue.receive_messages():
        function_app.send_notification(
            QueueMessage(id=message.id, body=message.content.encode(), dequeue_count=1)
        )
        queue.delete_message(message)

    response = call("get_stats", http_request("GET", "api/stats"))
    assert response.status_code == 200
    stats = response_json(response)
    assert stats["reports"] == 6
    assert stats["by_verdict"] == {
        "no_threats_found": 0,
        "phishing": 4,
        "spam": 1,
        "none": 1,
    }
    assert stats["by_kind"] == {"email": 6, "teams": 0}
    assert stats["by_eligibility"]["false_negative"] == 6
    assert stats["by_delivery"]["sent"] == 1
    assert stats["by_delivery"]["none"] == 5
    to_verdict = stats["time_to_verdict_seconds"]
    assert to_verdict["count"] == 5
    # The four fixed reports took 600, 1200, 1800 and 2400 s; the fifth, marked
    # now, far longer, so it is the max and the p90.
    assert to_verdict["p50"] == 1800.0
    assert to_verdict["p90"] == to_verdict["max"]
    assert stats["time_to_notify_seconds"]["count"] == 1
    assert 0 <= stats["time_to_notify_seconds"]["p50"] < 60


def test_stats_range_counts_only_reports_received_in_it(runtime):
    store_report(runtime, received_at=BASE_TIME)
    store_report(runtime, received_at=BASE_TIME + timedelta(days=1))
    response = call(
        "get_stats",
        http_request(
            "GET",
            "api/stats",
            params={"received_from": "2026-11-03T00:00:00Z"},
        ),
    )
    stats = response_json(response)
    assert stats["reports"] == 1
    assert stats["received_from"] == "2026-11-03T00:00:00+00:00"
    assert stats["received_before"] is None
