"""HTTP handlers of the review API; ``function_app`` binds each to its route."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

import azure.functions as func

from runtime import get_runtime
from verdicts.errors import Conflict, NotAllowed, ReportNotFound
from verdicts.http import (
    HttpProblem,
    Role,
    json_response,
    problem_response,
    read_json_object,
    require_role,
)
from verdicts.model import Verdict
from verdicts.service import mark_report
from verdicts.store import ReportStore

Handler = Callable[[func.HttpRequest], func.HttpResponse]


def handles_problems(handler: Handler) -> Handler:
    """Turn the errors a handler raises into problem+json responses."""

    @wraps(handler)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        try:
            return handler(req)
        except HttpProblem as problem:
            return problem_response(problem)
        except ReportNotFound as error:
            return problem_response(HttpProblem(404, "Not found", str(error)))
        except NotAllowed as error:
            return problem_response(
                HttpProblem(422, "Verdict not allowed", str(error), field="verdict")
            )
        except Conflict as error:
            return problem_response(HttpProblem(409, "Conflict", str(error)))

    return wrapper


@handles_problems
def list_reports(req: func.HttpRequest) -> func.HttpResponse:
    require_role(req, Role.READER)
    reports = ReportStore(get_runtime().storage).iter_reports()
    items = sorted(reports, key=lambda r: r.received_at, reverse=True)
    return json_response({"items": [r.to_json() for r in items]})


@handles_problems
def get_report(req: func.HttpRequest) -> func.HttpResponse:
    require_role(req, Role.READER)
    stored = ReportStore(get_runtime().storage).get(req.route_params["id"])
    return json_response(stored.report.to_json(), headers={"ETag": stored.etag})


def _parse_verdict(body: dict) -> Verdict:
    value = body.get("verdict")
    try:
        return Verdict(value)
    except ValueError:
        allowed = ", ".join(v.value for v in Verdict)
        raise HttpProblem(
            400,
            "Invalid verdict",
            f"verdict {value!r} is invalid; expected one of: {allowed}",
            field="verdict",
        ) from None


@handles_problems
def mark_verdict(req: func.HttpRequest) -> func.HttpResponse:
    principal = require_role(req, Role.REVIEWER)
    body = read_json_object(req)
    verdict = _parse_verdict(body)
    notify = body.get("notify", True)
    if not isinstance(notify, bool):
        raise HttpProblem(
            400, "Invalid notify", "notify must be true or false", field="notify"
        )
    comment = body.get("comment", "")
    if not isinstance(comment, str) or len(comment) > 2000:
        raise HttpProblem(
            400,
            "Invalid comment",
            "comment must be a string of at most 2000 characters",
            field="comment",
        )
    result = mark_report(
        get_runtime().storage,
        req.route_params["id"],
        verdict,
        actor=principal.name,
        if_match=req.headers.get("if-match"),
        notify=notify,
        comment=comment,
    )
    data = result.report.to_json()
    data["changed"] = result.changed
    data["notification_queued"] = result.notified
    return json_response(data, status=202, headers={"ETag": result.etag})
