"""HTTP handlers for submissions to Microsoft; ``function_app`` binds each to a route.

Graph errors become problem+json with a ``graph_status`` and ``graph_code``; a missing
permission, throttling and a too large message each get their own title.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from typing import Any

import azure.functions as func

from mailboxes.errors import GraphRequestError
from runtime import get_runtime
from verdicts.api import handles_problems
from verdicts.errors import Conflict, ReportNotFound
from verdicts.http import (
    HttpProblem,
    Role,
    json_response,
    problem_response,
    read_json_object,
    require_role,
)
from verdicts.threat_submissions import (
    MAX_BULK_IDS,
    AlreadySubmitted,
    Category,
    ItemStatus,
    NothingToSubmit,
    NotSubmitted,
    refresh_submission,
    submit_report,
)

THROTTLED_STATUSES = (429, 503, 504)
Handler = Callable[[func.HttpRequest], func.HttpResponse]


def graph_problem(error: GraphRequestError) -> HttpProblem:
    """Describe a failed Graph call to the API caller, with what to do next."""
    extra: dict[str, Any] = {"graph_status": error.status, "graph_code": error.code}
    if error.status in (401, 403):
        return HttpProblem(
            502,
            "Missing Graph permission",
            f"Microsoft Graph denied the request ({error.status} {error.code}): grant "
            "the Function App's managed identity the application permission "
            "ThreatSubmission.ReadWrite.All",
            **extra,
        )
    if error.status in THROTTLED_STATUSES:
        seconds = math.ceil(error.retry_after) if error.retry_after else 60
        return HttpProblem(
            503,
            "Microsoft Graph is throttling",
            f"Microsoft Graph throttled the request ({error.status}); retry in "
            f"{seconds} s",
            retry_after=seconds,
            **extra,
        )
    if error.status == 413 or error.code.lower() in (
        "requestentitytoolarge",
        "errormessagesizeexceeded",
    ):
        return HttpProblem(
            413,
            "Message too large",
            "Microsoft Graph rejected the original as too large; submit it from the "
            f"Microsoft Defender portal instead ({error.detail})",
            **extra,
        )
    if error.status is None:
        return HttpProblem(504, "Microsoft Graph unreachable", str(error), **extra)
    return HttpProblem(502, "Microsoft Graph rejected the request", str(error), **extra)


def _respond(problem: HttpProblem) -> func.HttpResponse:
    response = problem_response(problem)
    retry_after = problem.extra.get("retry_after")
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def handles_submission_problems(handler: Handler) -> Handler:
    """Turn submission and Graph errors into problem+json responses."""

    @wraps(handler)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        try:
            return handler(req)
        except GraphRequestError as error:
            return _respond(graph_problem(error))
        except NothingToSubmit as error:
            return _respond(HttpProblem(422, "Nothing to submit", str(error)))
        except NotSubmitted as error:
            return _respond(HttpProblem(404, "Not submitted", str(error)))

    return handles_problems(wrapper)


def _graph_client():
    client = get_runtime().graph_client
    if client is None:
        raise HttpProblem(
            503,
            "Microsoft Graph not configured",
            "submitting to Microsoft needs Microsoft Graph: set "
            "REPORTBACK_REPORTING_MAILBOX (and REPORTBACK_GRAPH_BASE_URL for a "
            "local stand-in)",
        )
    return client


def _category(body: dict[str, Any]) -> Category | None:
    value = body.get("category")
    if value is None:
        return None
    try:
        return Category(value)
    except ValueError:
        allowed = ", ".join(c.value for c in Category)
        raise HttpProblem(
            400,
            "Invalid category",
            f"category {value!r} is invalid; expected one of: {allowed}",
            field="category",
        ) from None


def _force(body: dict[str, Any]) -> bool:
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise HttpProblem(
            400, "Invalid force", "force must be true or false", field="force"
        )
    return force


def _body(req: func.HttpRequest) -> dict[str, Any]:
    return read_json_object(req) if req.get_body() else {}


@handles_submission_problems
def submit(req: func.HttpRequest) -> func.HttpResponse:
    principal = require_role(req, Role.REVIEWER)
    body = _body(req)
    report_id = req.route_params["id"]
    submission = submit_report(
        get_runtime().storage,
        _graph_client,
        report_id,
        actor=principal.name,
        category=_category(body),
        force=_force(body),
    )
    return json_response({"report_id": report_id, **submission}, status=202)


@handles_submission_problems
def get_submission(req: func.HttpRequest) -> func.HttpResponse:
    require_role(req, Role.READER)
    report_id = req.route_params["id"]
    submission = refresh_submission(get_runtime().storage, _graph_client, report_id)
    return json_response({"report_id": report_id, **submission})


def _ids(body: dict[str, Any]) -> list[str]:
    ids = body.get("ids")
    valid = (
        isinstance(ids, list)
        and 1 <= len(ids) <= MAX_BULK_IDS
        and all(isinstance(i, str) and i for i in ids)
    )
    if not valid:
        raise HttpProblem(
            400,
            "Invalid ids",
            f"ids must be a list of 1 to {MAX_BULK_IDS} report ids",
            field="ids",
        )
    return list(dict.fromkeys(ids))


@handles_submission_problems
def submit_many(req: func.HttpRequest) -> func.HttpResponse:
    """Submit many reports, one result per id; stop calling Graph once throttled."""
    principal = require_role(req, Role.REVIEWER)
    body = read_json_object(req)
    ids = _ids(body)
    category, force = _category(body), _force(body)

    results: list[dict[str, Any]] = []
    throttled: str | None = None
    for report_id in ids:
        if throttled is not None:
            results.append(_item(report_id, ItemStatus.THROTTLED, throttled))
            continue
        result = _submit_one(report_id, principal.name, category, force)
        if result["status"] == ItemStatus.THROTTLED:
            throttled = f"not submitted: {result['detail']}"
        results.append(result)

    counts = {status.value: 0 for status in ItemStatus}
    for result in results:
        counts[result["status"]] += 1
    return json_response({"counts": counts, "results": results})


def _submit_one(
    report_id: str, actor: str, category: Category | None, force: bool
) -> dict[str, Any]:
    """Submit one report of a bulk request and describe the outcome."""
    try:
        submission = submit_report(
            get_runtime().storage,
            _graph_client,
            report_id,
            actor=actor,
            category=category,
            force=force,
        )
    except GraphRequestError as error:
        problem = graph_problem(error)
        status = ItemStatus.THROTTLED if problem.status == 503 else ItemStatus.FAILED
        return _item(report_id, status, problem.detail)
    except (ReportNotFound, Conflict, NothingToSubmit) as error:
        return _item(report_id, _status_for(error), str(error))
    return _item(report_id, ItemStatus.SUBMITTED, "", submission)


def _status_for(error: Exception) -> ItemStatus:
    if isinstance(error, ReportNotFound):
        return ItemStatus.NOT_FOUND
    if isinstance(error, AlreadySubmitted):
        return ItemStatus.ALREADY_SUBMITTED
    if isinstance(error, Conflict):
        return ItemStatus.CONFLICT
    return ItemStatus.NOTHING_TO_SUBMIT


def _item(
    report_id: str,
    status: ItemStatus,
    detail: str,
    submission: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": report_id,
        "status": status.value,
        "detail": detail,
        "submission": submission,
    }
