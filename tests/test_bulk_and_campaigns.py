"""POST /api/verdicts and campaigns: many reports, one verdict, a result per report."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.conftest import http_request, response_json
from tests.review_helpers import (
    BASE_TIME,
    call,
    mark,
    queued_messages,
    store_report,
)
from verdicts.bulk import ItemStatus, mark_many
from verdicts.model import Eligibility, Kind, Verdict
from verdicts.store import ReportStore


def _bulk(body, role: str = "reviewer"):
    return call("mark_many", http_request("POST", "api/verdicts", body=body, role=role))


def test_bulk_gives_a_result_per_id(runtime):
    fresh = store_report(runtime)
    already = store_report(runtime)
    mark(already.id, {"verdict": "spam"})
    agrees = store_report(runtime, eligibility=Eligibility.AGREES)
    teams = store_report(runtime, kind=Kind.TEAMS, eligibility=Eligibility.UNKNOWN)
    ids = [fresh.id, already.id, agrees.id, teams.id, "missing"]
    response = _bulk({"ids": ids, "verdict": "spam", "comment": "newsletter wave"})
    assert response.status_code == 200
    data = response_json(response)
    assert [(r["id"], r["status"]) for r in data["results"]] == [
        (fresh.id, "marked"),
        (already.id, "unchanged"),
        (agrees.id, "ineligible"),
        (teams.id, "ineligible"),
        ("missing", "not_found"),
    ]
    assert data["counts"] == {
        "marked": 1,
        "unchanged": 1,
        "ineligible": 2,
        "not_found": 1,
        "conflict": 0,
    }
    assert data["results"][3]["detail"] == (
        "verdict 'spam' is not allowed for a teams report; expected one of: "
        "no_threats_found, phishing"
    )
    assert data["results"][0]["verdict_version"] == 1
    assert data["results"][0]["notification_queued"] is True
    # One notification from the earlier single mark, one from the bulk mark.
    assert len(queued_messages(runtime)) == 2
    stored = ReportStore(runtime.storage).get(fresh.id).report
    assert stored.verdict is Verdict.SPAM
    assert stored.verdict_by == "alex@example.com"
    audit = ReportStore(runtime.storage).audit_for(fresh.id)
    assert [e["comment"] for e in audit] == ["newsletter wave"]


def test_bulk_over_100_ids_uses_several_transactions(runtime):
    reports = [store_report(runtime) for _ in range(130)]
    response = _bulk(
        {"ids": [r.id for r in reports], "verdict": "phishing", "notify": False}
    )
    assert response_json(response)["counts"]["marked"] == 130
    assert queued_messages(runtime) == []
    stored = ReportStore(runtime.storage).get_many([r.id for r in reports])
    assert {s.report.verdict_version for s in stored.values()} == {1}


def test_bulk_report_changed_meanwhile_is_a_conflict(runtime):
    first, second = store_report(runtime), store_report(runtime)
    store = ReportStore(runtime.storage)
    read = store.get_many([first.id, second.id])
    # Another reviewer marks the second report after the bulk mark read it.
    assert mark(second.id, {"verdict": "phishing"}).status_code == 202
    results = mark_many(
        runtime.storage,
        [first.id, second.id],
        Verdict.SPAM,
        actor="bulk@example.com",
        reports=read,
    )
    assert [r.status for r in results] == [ItemStatus.MARKED, ItemStatus.CONFLICT]
    assert store.get(second.id).report.verdict is Verdict.PHISHING
    assert store.get(first.id).report.verdict is Verdict.SPAM


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        ({"verdict": "spam"}, "ids", "ids must be a non-empty array of report ids"),
        (
            {"ids": [], "verdict": "spam"},
            "ids",
            "ids must be a non-empty array of report ids",
        ),
        (
            {"ids": ["a", "b", "a"], "verdict": "spam"},
            "ids",
            "id 'a' appears more than once",
        ),
        (
            {"ids": [f"r{i}" for i in range(501)], "verdict": "spam"},
            "ids",
            "ids has 501 entries; the limit is 500",
        ),
        (
            {"ids": [7], "verdict": "spam"},
            "ids",
            "every id must be a string of 1 to 1024 characters",
        ),
        (
            {"ids": ["a"], "verdict": "junk"},
            "verdict",
            "verdict 'junk' is invalid; expected one of: no_threats_found, phishing, "
            "spam",
        ),
        (
            {"ids": ["a"], "verdict": "spam", "force": True},
            "force",
            "field 'force' is not supported; expected: verdict, notify, comment, ids",
        ),
    ],
)
def test_invalid_bulk_body_names_the_field(runtime, body, field, detail):
    response = _bulk(body)
    assert response.status_code == 400
    problem = response_json(response)
    assert problem["field"] == field
    assert problem["detail"] == detail


@pytest.fixture
def campaign(runtime):
    """Four reports of one original: dana reported it twice, one report agrees."""

    def at(minutes: int):
        return BASE_TIME + timedelta(minutes=minutes)

    return {
        "dana_old": store_report(
            runtime,
            campaign_key="wave1",
            reporter_address="dana@example.com",
            received_at=at(1),
        ),
        "dana_new": store_report(
            runtime,
            campaign_key="wave1",
            reporter_address="dana@example.com",
            received_at=at(5),
        ),
        "lee": store_report(
            runtime,
            campaign_key="wave1",
            reporter_address="lee@example.com",
            received_at=at(3),
        ),
        "kim": store_report(
            runtime,
            campaign_key="wave1",
            reporter_address="kim@example.com",
            received_at=at(4),
            eligibility=Eligibility.AGREES,
        ),
        "other": store_report(runtime, campaign_key="wave2", received_at=at(2)),
    }


def _campaign_verdict(key: str, body):
    return call(
        "mark_campaign",
        http_request(
            "POST", f"api/campaigns/{key}/verdict", route_params={"key": key}, body=body
        ),
    )


def test_campaign_lists_its_reports(runtime, campaign):
    response = call(
        "get_campaign",
        http_request("GET", "api/campaigns/wave1", route_params={"key": "wave1"}),
    )
    assert response.status_code == 200
    data = response_json(response)
    assert data["report_count"] == 4
    assert data["reporter_count"] == 3
    assert data["markable_count"] == 3
    assert data["verdicts"] == {"none": 4}
    assert data["first_reported_at"] == "2026-11-02T09:01:00+00:00"
    assert data["last_reported_at"] == "2026-11-02T09:05:00+00:00"
    assert [r["id"] for r in data["reports"]] == [
        campaign["dana_new"].id,
        campaign["kim"].id,
        campaign["lee"].id,
        campaign["dana_old"].id,
    ]


def test_campaign_verdict_notifies_each_reporter_once(runtime, campaign):
    response = _campaign_verdict("wave1", {"verdict": "phishing"})
    assert response.status_code == 200
    data = response_json(response)
    assert data["counts"] == {
        "marked": 3,
        "unchanged": 0,
        "ineligible": 1,
        "not_found": 0,
        "conflict": 0,
    }
    assert data["notifications_queued"] == 2
    notified = {r["id"] for r in data["results"] if r["notification_queued"]}
    assert notified == {campaign["dana_new"].id, campaign["lee"].id}
    queued = {json.loads(m)["report_id"] for m in queued_messages(runtime)}
    assert queued == notified
    other = ReportStore(runtime.storage).get(campaign["other"].id).report
    assert other.verdict is None


def test_campaign_verdict_again_notifies_only_new_reporters(runtime, campaign):
    _campaign_verdict("wave1", {"verdict": "phishing"})
    newcomer = store_report(
        runtime, campaign_key="wave1", reporter_address="ravi@example.com"
    )
    repeat = store_report(
        runtime, campaign_key="wave1", reporter_address="lee@example.com"
    )
    data = response_json(_campaign_verdict("wave1", {"verdict": "phishing"}))
    assert data["counts"]["marked"] == 2
    assert data["counts"]["unchanged"] == 3
    notified = {r["id"] for r in data["results"] if r["notification_queued"]}
    assert notified == {newcomer.id}
    assert repeat.id not in notified


def test_campaign_verdict_without_notify(runtime, campaign):
    data = response_json(
        _campaign_verdict("wave1", {"verdict": "spam", "notify": False})
    )
    assert data["notifications_queued"] == 0
    assert queued_messages(runtime) == []


def test_unknown_campaign_is_404(runtime):
    response = _campaign_verdict("nosuchwave", {"verdict": "spam"})
    assert response.status_code == 404
    assert response_json(response)["detail"] == "campaign 'nosuchwave' not found"
