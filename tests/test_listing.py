"""GET /api/reports: filters, newest-first order and continuation paging."""

from __future__ import annotations

from datetime import timedelta

import pytest
from azure.functions.queue import QueueMessage

import function_app
from tests.conftest import http_request, response_json
from tests.review_helpers import BASE_TIME, call, list_ids, mark, store_report
from verdicts.model import (
    Eligibility,
    Kind,
    ParseStatus,
    ReportedAs,
    SystemVerdict,
    Verdict,
)
from verdicts.paging import encode_token


@pytest.fixture
def reports(runtime):
    """Six reports received one hour apart, a first, each set apart by some field."""

    def at(hours: int):
        return BASE_TIME + timedelta(hours=hours)

    stored = {
        "a": store_report(runtime, id="a", received_at=at(0)),
        "b": store_report(
            runtime,
            id="b",
            received_at=at(1),
            kind=Kind.TEAMS,
            system_verdict=SystemVerdict.UNKNOWN,
            eligibility=Eligibility.UNKNOWN,
            reporter_address="sam@example.com",
        ),
        "c": store_report(
            runtime,
            id="c",
            received_at=at(2),
            reported_as=ReportedAs.NOT_JUNK,
            system_verdict=SystemVerdict.JUNK,
            eligibility=Eligibility.FALSE_POSITIVE,
            campaign_key="shared",
        ),
        "d": store_report(
            runtime,
            id="d",
            received_at=at(3),
            eligibility=Eligibility.AGREES,
            parse_status=ParseStatus.NEEDS_ATTENTION,
            problems=["expected one attached original message, found 0"],
            campaign_key="shared",
            reporter_address="sam@example.com",
        ),
        "e": store_report(
            runtime, id="e", received_at=at(4), reported_as=ReportedAs.JUNK
        ),
        "f": store_report(runtime, id="f", received_at=at(5)),
    }
    assert mark("a", {"verdict": "phishing"}).status_code == 202
    assert mark("e", {"verdict": "spam", "notify": False}).status_code == 202
    return stored


def test_list_is_newest_first(reports):
    assert list_ids() == ["f", "e", "d", "c", "b", "a"]


def test_list_items_are_summaries(reports):
    response = call("list_reports", http_request("GET", "api/reports"))
    item = response_json(response)["items"][-1]
    assert item["id"] == "a"
    assert item["verdict"] == "phishing"
    assert item["received_at"] == "2026-11-02T09:00:00+00:00"
    assert "urls" not in item
    assert "problems" not in item


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "teams"}, ["b"]),
        ({"kind": "email"}, ["f", "e", "d", "c", "a"]),
        ({"reported_as": "not_junk"}, ["c"]),
        ({"reported_as": "junk"}, ["e"]),
        ({"eligibility": "false_positive"}, ["c"]),
        ({"eligibility": "agrees"}, ["d"]),
        ({"eligibility": "unknown"}, ["b"]),
        ({"verdict": "phishing"}, ["a"]),
        ({"verdict": "none"}, ["f", "d", "c", "b"]),
        ({"parse_status": "needs_attention"}, ["d"]),
        ({"reporter": "SAM@example.com"}, ["d", "b"]),
        ({"campaign": "shared"}, ["d", "c"]),
        ({"received_from": "2026-11-02T11:00:00Z"}, ["f", "e", "d", "c"]),
        ({"received_before": "2026-11-02T11:00:00+00:00"}, ["b", "a"]),
        ({"received_from": "2026-11-02T10:00:00+00:00"}, ["f", "e", "d", "c", "b"]),
        (
            {
                "received_from": "2026-11-02T10:00:00Z",
                "received_before": "2026-11-02T13:00:00Z",
                "kind": "email",
            },
            ["d", "c"],
        ),
        ({"kind": "teams", "verdict": "phishing"}, []),
    ],
)
def test_list_filters(reports, params, expected):
    assert list_ids(params) == expected


def test_delivery_filter_follows_the_current_version(runtime, reports):
    queue = runtime.storage.queue("notifications")
    (message,) = queue.receive_messages()
    function_app.send_notification(
        QueueMessage(id=message.id, body=message.content.encode(), dequeue_count=1)
    )
    queue.delete_message(message)
    assert list_ids({"delivery": "sent"}) == ["a"]
    # e was marked without notification; the others are not marked.
    assert list_ids({"delivery": "none"}) == ["f", "e", "d", "c", "b"]
    assert mark("a", {"verdict": "spam"}).status_code == 202
    assert list_ids({"delivery": "sent"}) == []


def test_paging_is_stable_while_reports_arrive(runtime, reports):
    first = response_json(
        call("list_reports", http_request("GET", "api/reports", params={"limit": "2"}))
    )
    assert [i["id"] for i in first["items"]] == ["f", "e"]
    store_report(runtime, id="g", received_at=BASE_TIME + timedelta(hours=6))
    seen = [i["id"] for i in first["items"]]
    token = first["continuation"]
    while token:
        page = response_json(
            call(
                "list_reports",
                http_request(
                    "GET", "api/reports", params={"limit": "2", "continuation": token}
                ),
            )
        )
        seen += [i["id"] for i in page["items"]]
        token = page["continuation"]
    assert seen == ["f", "e", "d", "c", "b", "a"]
    assert list_ids() == ["g", "f", "e", "d", "c", "b", "a"]


def test_last_page_has_no_continuation(reports):
    page = response_json(
        call("list_reports", http_request("GET", "api/reports", params={"limit": "6"}))
    )
    assert len(page["items"]) == 6
    assert page["continuation"] is None


@pytest.mark.parametrize(
    ("params", "field", "detail"),
    [
        (
            {"kind": "fax"},
            "kind",
            "kind 'fax' is invalid; expected one of: email, teams",
        ),
        (
            {"limit": "0"},
            "limit",
            "limit '0' is invalid; expected an integer from 1 to 200",
        ),
        (
            {"limit": "abc"},
            "limit",
            "limit 'abc' is invalid; expected an integer from 1 to 200",
        ),
        (
            {"received_from": "yesterday"},
            "received_from",
            "received_from 'yesterday' is invalid; expected an RFC 3339 date-time "
            "with a "
            "time zone, such as 2026-01-31T09:00:00Z",
        ),
        (
            {"received_from": "2026-11-02T10:00:00"},
            "received_from",
            "received_from '2026-11-02T10:00:00' is invalid; expected an RFC 3339 "
            "date-time with a time zone, such as 2026-01-31T09:00:00Z",
        ),
        (
            {"continuation": "bm90IGEgdG9rZW4"},
            "continuation",
            "continuation 'bm90IGEgdG9rZW4' is invalid; pass the value of "
            "'continuation' "
            "from the previous page unchanged",
        ),
        (
            {"verdcit": "spam"},
            "verdcit",
            "query parameter 'verdcit' is not supported; "
            "expected: campaign, continuation, delivery, eligibility, kind, limit, "
            "parse_status, received_before, received_from, reported_as, reporter, "
            "verdict",
        ),
    ],
)
def test_invalid_query_names_the_parameter(runtime, params, field, detail):
    response = call("list_reports", http_request("GET", "api/reports", params=params))
    assert response.status_code == 400
    problem = response_json(response)
    assert problem["field"] == field
    assert problem["detail"] == detail


def test_verdict_filter_accepts_every_verdict(runtime):
    for verdict in Verdict:
        assert list_ids({"verdict": verdict.value}) == []


def test_token_with_invalid_time_is_rejected(runtime):
    token = encode_token(("yesterday", "a"))
    response = call(
        "list_reports",
        http_request("GET", "api/reports", params={"continuation": token}),
    )
    assert response.status_code == 400
    problem = response_json(response)
    assert problem["field"] == "continuation"
    assert problem["detail"] == (
        "continuation token time 'yesterday' is invalid; pass the value of "
        "'continuation' from the previous page unchanged"
    )
