"""Which reports can be marked, and with which verdicts."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from verdicts.errors import Conflict, NotAllowed
from verdicts.model import Eligibility, Kind, Report, SystemVerdict, Verdict
from verdicts.rules import check_can_mark


def _report(kind: Kind, eligibility: Eligibility) -> Report:
    return Report(
        id="r1",
        kind=kind,
        eligibility=eligibility,
        system_verdict=SystemVerdict.DELIVERED,
        received_at=datetime(2026, 12, 1, tzinfo=timezone.utc),
    )


@pytest.mark.parametrize("verdict", list(Verdict))
@pytest.mark.parametrize(
    "eligibility",
    [Eligibility.FALSE_NEGATIVE, Eligibility.FALSE_POSITIVE, Eligibility.UNKNOWN],
)
def test_email_report_that_disagrees_can_take_any_verdict(verdict, eligibility):
    check_can_mark(_report(Kind.EMAIL, eligibility), verdict)


def test_mark_teams_report_as_spam_is_rejected():
    with pytest.raises(NotAllowed) as error:
        check_can_mark(_report(Kind.TEAMS, Eligibility.FALSE_NEGATIVE), Verdict.SPAM)
    assert str(error.value) == (
        "verdict 'spam' is not allowed for a teams report; expected one of: "
        "no_threats_found, phishing"
    )


def test_report_that_agrees_with_the_system_is_a_conflict():
    with pytest.raises(Conflict) as error:
        check_can_mark(_report(Kind.EMAIL, Eligibility.AGREES), Verdict.PHISHING)
    assert "only false positives and false negatives can be marked" in str(error.value)
