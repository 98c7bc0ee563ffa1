"""Submitting a reported original to Microsoft for analysis, and reading the result.

The original goes to Graph's email threat submission API
(``POST /security/threatSubmission/emailThreats``, Graph beta, application permission
``ThreatSubmission.ReadWrite.All``) as base64 RFC 5322 content. The submission is
recorded on the report (``Report.submission``) and in the audit log. Microsoft
analyses it later, so ``refresh_submission`` reads its status and result again.

Graph calls go through a client with ``post_json`` and ``get_json`` (in the app,
``mailboxes.graphclient.GraphClient``); its errors arrive as GraphRequestError. The
functions take a callable that returns the client and call it only once every local
check has passed, so a missing Graph setup never hides a 404, 409 or 422.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Protocol

from mailboxes.errors import GraphRequestError
from storage import Storage
from verdicts.errors import Conflict, VerdictError
from verdicts.model import Report, Verdict
from verdicts.store import ReportStore

logger = logging.getLogger(__name__)

SUBMISSION_TYPE = "#microsoft.graph.security.emailContentThreatSubmission"
# Graph's longRunningOperationStatus values after which the status stays the same.
FINAL_STATUSES = ("succeeded", "failed")
# Status recorded while the request to Graph is in flight. A second submission of
# the same report then gets 409, even when both start at once.
SUBMITTING = "submitting"
# Formats of originals that are the reported message itself; an inline forward
# or a bare header section would misrepresent it to Microsoft.
SUBMITTABLE_FORMATS = ("eml", "msg", "graph_item")
MAX_WRITE_ATTEMPTS = 3
# Each id is one Graph request, made in turn within one HTTP call.
MAX_BULK_IDS = 100


class Category(StrEnum):
    """The category a reviewer submits the original as, in Reportback's words."""

    PHISHING = "phishing"
    SPAM = "spam"
    MALWARE = "malware"
    NOT_JUNK = "not_junk"


# Graph's submissionCategory values.
GRAPH_CATEGORIES = {
    Category.PHISHING: "phishing",
    Category.SPAM: "spam",
    Category.MALWARE: "malware",
    Category.NOT_JUNK: "notJunk",
}
CATEGORY_FOR_VERDICT = {
    Verdict.PHISHING: Category.PHISHING,
    Verdict.SPAM: Category.SPAM,
    Verdict.NO_THREATS_FOUND: Category.NOT_JUNK,
}


class ItemStatus(StrEnum):
    """Outcome of one report in a bulk submission."""

    SUBMITTED = "submitted"
    NOT_FOUND = "not_found"
    ALREADY_SUBMITTED = "already_submitted"
    CONFLICT = "conflict"
    NOTHING_TO_SUBMIT = "nothing_to_submit"
    THROTTLED = "throttled"
    FAILED = "failed"


class GraphJsonClient(Protocol):
    base_url: str

    def post_json(self, operation: str, url: str, data: dict[str, Any]) -> Any: ...

    def get_json(self, operation: str, url: str) -> Any: ...


class SubmissionError(VerdictError):
    """Base class of submission errors."""


class AlreadySubmitted(Conflict, SubmissionError):
    """The report was sent to Microsoft before, and ``force`` was not given."""


class NotSubmitted(SubmissionError):
    """The report has not been sent to Microsoft."""


class NothingToSubmit(SubmissionError):
    """The report has no original, or no category to submit it as."""


def beta_url(base_url: str) -> str:
    """Return the Graph beta endpoint beside ``base_url`` (``.../v1.0`` → ``.../beta``).

    Threat submission exists only in Graph beta.
    """
    root, _, version = base_url.rstrip("/").rpartition("/")
    if version.lower() in ("v1.0", "beta") and root:
        return f"{root}/beta"
    return f"{base_url.rstrip('/')}/beta"


def default_category(report: Report) -> Category:
    if report.verdict is None:
        raise NothingToSubmit(
            f"report {report.id!r} has no verdict to take the category from; send "
            "a category: phishing, spam, malware or not_junk"
        )
    return CATEGORY_FOR_VERDICT[report.verdict]


def submit_report(
    storage: Storage,
    graph: Callable[[], GraphJsonClient],
    report_id: str,
    *,
    actor: str,
    category: Category | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Submit the report's original to Microsoft; return the recorded submission.

    Raises ReportNotFound, AlreadySubmitted, NothingToSubmit, Conflict, or
    GraphRequestError when Graph rejects the submission (the report then keeps its
    earlier submission).
    """
    reports = ReportStore(storage)
    stored = reports.get(report_id)
    report = stored.report
    previous = dict(report.submission)
    if previous and not force:
        raise AlreadySubmitted(
            f"report {report_id!r} was already submitted to Microsoft "
            f"(submission {previous.get('id') or previous.get('status')!r} on "
            f"{previous.get('requested_at')}); send force=true to submit it again"
        )
    chosen = category or default_category(report)
    content = original_mime(storage, report)
    client = graph()
    now = _now()
    report.submission = {
        "status": SUBMITTING,
        "category": chosen.value,
        "requested_by": actor,
        "requested_at": now,
    }
    reports.replace(report, etag=stored.etag)
    body = {
        "@odata.type": SUBMISSION_TYPE,
        "category": GRAPH_CATEGORIES[chosen],
        "recipientEmailAddress": report.reporter_address,
        "fileContent": base64.b64encode(content).decode("ascii"),
    }
    url = f"{beta_url(client.base_url)}/security/threatSubmission/emailThreats"
    try:
        created = client.post_json("threat submission", url, body)
    except GraphRequestError:
        _write_submission(reports, report_id, previous)
        raise
    submission = {
        "id": str(created.get("id") or ""),
        "category": chosen.value,
        "status": str(created.get("status") or "notStarted"),
        "result": created.get("result"),
        "requested_by": actor,
        "requested_at": now,
        "refreshed_at": now,
    }
    _write_submission(reports, report_id, submission)
    reports.add_audit(
        subject=report_id,
        action="submission",
        actor=actor,
        submission_id=submission["id"],
        category=chosen.value,
        force=force,
    )
    logger.info(
        "report %s submitted to Microsoft as %s (submission %s)",
        report_id,
        chosen.value,
        submission["id"],
    )
    return submission


def refresh_submission(
    storage: Storage, graph: Callable[[], GraphJsonClient], report_id: str
) -> dict[str, Any]:
    """Read the submission's status and result from Graph unless it is final."""
    reports = ReportStore(storage)
    stored = reports.get(report_id)
    submission = dict(stored.report.submission)
    if not submission.get("id"):
        raise NotSubmitted(f"report {report_id!r} has not been submitted to Microsoft")
    if submission.get("status") in FINAL_STATUSES:
        return submission
    client = graph()
    url = (
        f"{beta_url(client.base_url)}/security/threatSubmission/emailThreats/"
        f"{submission['id']}"
    )
    current = client.get_json("threat submission status", url)
    submission["status"] = str(current.get("status") or submission["status"])
    submission["result"] = current.get("result")
    submission["refreshed_at"] = _now()
    _write_submission(reports, report_id, submission)
    return submission


def _write_submission(
    reports: ReportStore, report_id: str, submission: dict[str, Any]
) -> None:
    """Store ``submission`` on the report, reading it again if a verdict wrote first."""
    for _ in range(MAX_WRITE_ATTEMPTS):
        stored = reports.get(report_id)
        stored.report.submission = submission
        try:
            reports.replace(stored.report, etag=stored.etag)
            return
        except Conflict:
            continue
    raise Conflict(
        f"report {report_id!r} kept changing while its submission was recorded; "
        "read it again"
    )


def original_mime(storage: Storage, report: Report) -> bytes:
    """Return the reported original as RFC 5322 bytes, read from the raw report.

    Raises NothingToSubmit when the report has no attached original.
    """
    # NOTE: Graph also takes a messageUrl for an original in a user's mailbox. The
    # app cannot read users' mailboxes, so it always sends the content.
    from intake.mime import load
    from intake.originals import attached_originals

    if report.original_format not in SUBMITTABLE_FORMATS or not report.raw_blob:
        raise NothingToSubmit(
            f"report {report.id!r} has no attached original to submit (original "
            f"format {report.original_format or 'none'!r}); submit the message from "
            "the Microsoft Defender portal instead"
        )
    blob = storage.container("raw-reports").download_blob(report.raw_blob)
    problems: list[str] = []
    originals = attached_originals(load(blob.readall(), problems), problems)
    if not originals:
        raise NothingToSubmit(
            f"report {report.id!r}: no attached original found in its raw MIME"
        )
    try:
        return originals[0].message.as_bytes()
    except (ValueError, LookupError, UnicodeError) as error:
        raise NothingToSubmit(
            f"report {report.id!r}: its original cannot be written as MIME: {error}"
        ) from None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()
