"""Review rules: which reports can be marked, and with which verdicts."""

from __future__ import annotations

from verdicts.errors import Conflict, NotAllowed
from verdicts.model import (
    Eligibility,
    Kind,
    Report,
    ReportedAs,
    SystemVerdict,
    Verdict,
)

ALLOWED_VERDICTS: dict[Kind, tuple[Verdict, ...]] = {
    Kind.EMAIL: (Verdict.NO_THREATS_FOUND, Verdict.PHISHING, Verdict.SPAM),
    Kind.TEAMS: (Verdict.NO_THREATS_FOUND, Verdict.PHISHING),
}

# A report is markable when it disagrees with the mail system, or when the system's
# verdict cannot be read from the original's headers (so a reviewer decides).
MARKABLE = (Eligibility.FALSE_NEGATIVE, Eligibility.FALSE_POSITIVE, Eligibility.UNKNOWN)


def check_can_mark(report: Report, verdict: Verdict) -> None:
    """Raise NotAllowed or Conflict unless ``verdict`` may be recorded on ``report``."""
    allowed = ALLOWED_VERDICTS[report.kind]
    if verdict not in allowed:
        names = ", ".join(v.value for v in allowed)
        raise NotAllowed(
            f"verdict {verdict.value!r} is not allowed for a {report.kind.value} "
            f"report; expected one of: {names}"
        )
    if report.eligibility not in MARKABLE:
        raise Conflict(
            f"report {report.id!r} agrees with the mail system's verdict "
            f"({report.system_verdict.value}); only false positives and false "
            "negatives can be marked"
        )


def eligibility_for(
    reported_as: ReportedAs, system_verdict: SystemVerdict
) -> Eligibility:
    """Compare the reporter's claim with where the mail system put the original.

    An original delivered to the inbox but reported as junk or phishing is a false
    negative. One put in junk or quarantine but reported as not junk is a false
    positive.
    """
    if system_verdict is SystemVerdict.UNKNOWN:
        return Eligibility.UNKNOWN
    delivered = system_verdict is SystemVerdict.DELIVERED
    reported_unwanted = reported_as is not ReportedAs.NOT_JUNK
    if delivered and reported_unwanted:
        return Eligibility.FALSE_NEGATIVE
    if not delivered and not reported_unwanted:
        return Eligibility.FALSE_POSITIVE
    return Eligibility.AGREES
