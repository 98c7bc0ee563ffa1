"""HTTP handlers of the review API; ``function_app`` binds each to its route.

Other packages' handlers reuse ``handles_problems`` (errors to problem+json) and
``verdicts.http.require_role``; ``verdicts.openapi`` documents every route.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

import azure.functions as func
from azure.core.exceptions import AzureError

from runtime import get_runtime
from storage import TableLimitError
from verdicts import openapi
from verdicts.audit import AuditLog
from verdicts.bulk import MAX_BULK_IDS, count_by_status
from verdicts.bulk import mark_many as mark_reports
from verdicts.campaigns import CampaignNotFound
from verdicts.campaigns import get_campaign as read_campaign
from verdicts.campaigns import mark_campaign as mark_campaign_reports
from verdicts.errors import Conflict, NotAllowed, ReportNotFound
from verdicts.http import (
    HttpProblem,
    Role,
    check_query_names,
    json_response,
    principal_from_request,
    problem_response,
    query_datetime,
    read_json_object,
    require_role,
)
from verdicts.inputs import (
    page_params,
    parse_audit_query,
    parse_mark,
    parse_report_filter,
    parse_report_ids,
)
from verdicts.listing import list_reports as list_report_page
from verdicts.paging import newest_first_page
from verdicts.service import mark_report
from verdicts.stats import compute_stats
from verdicts.store import ReportStore, read_raw_report
from verdicts.submissions import submit_report as store_submission

logger = logging.getLogger(__name__)

Handler = Callable[[func.HttpRequest], func.HttpResponse]


def _problem_for(error: Exception) -> HttpProblem | None:
    """Return the problem a known error becomes, or None for an unexpected one."""
    if isinstance(error, HttpProblem):
        return error
    if isinstance(error, ReportNotFound | CampaignNotFound):
        return HttpProblem(404, "Not found", str(error))
    if isinstance(error, NotAllowed):
        return HttpProblem(422, "Verdict not allowed", str(error), field="verdict")
    if isinstance(error, Conflict):
        return HttpProblem(409, "Conflict", str(error))
    if isinstance(error, TableLimitError):
        return HttpProblem(400, "Value too large to store", str(error))
    return None


def handles_problems(handler: Handler) -> Handler:
    """Turn the errors a handler raises into problem+json responses.

    An unexpected error is logged with its traceback and becomes a 500 problem, so
    clients get problem+json for every error.
    """

    @wraps(handler)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        try:
            return handler(req)
        except Exception as error:  # noqa: BLE001 - the one top-level catch of a request
            problem = _problem_for(error)
            if problem is None:
                logger.exception("%s %s failed", req.method, handler.__name__)
                problem = HttpProblem(
                    500, "Internal server error", "the request failed; see the app log"
                )
            else:
                # The detail may quote request values such as addresses, so only
                # the status, title and field are logged.
                logger.info(
                    "%s %s rejected: %s %s (field %s)",
                    req.method,
                    handler.__name__,
                    problem.status,
                    problem.title,
                    problem.field,
                )
            return problem_response(problem)

    return wrapper


def _storage():
    return get_runtime().storage


@handles_problems
def list_reports(req: func.HttpRequest) -> func.HttpResponse:
    require_role(req, Role.READER)
    report_filter = parse_report_filter(req)
    limit, after = page_params(req, key_size=2)
    items, token = list_report_page(_storage(), report_filter, limit=limit, after=after)
    return json_response({"items": items, "continuation": token})


@handles_problems
def get_report(req: func.HttpRequest) -> func.HttpResponse:
    require_role(req, Role.READER)
    check_query_names(req, ())
    stored = ReportStore(_storage()).get(req.route_params["id"])
    return json_response(stored.report.to_json(), headers={"ETag": stored.etag})


@handles_problems
def get_report_mime(req: func.HttpRequest) -> func.HttpResponse:
    """Return the report as it arrived: raw MIME, or the JSON that automation sent.

    The bytes may carry live malicious links and attachments, so they go out as a
    download that browsers do not render or sniff.
    """
    require_role(req, Role.READER)
    check_query_names(req, ())
    raw = read_raw_report(_storage(), req.route_params["id"])
    return func.HttpResponse(
        raw.data,
        status_code=200,
        mimetype=raw.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{raw.filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@handles_problems
def submit_report(req: func.HttpRequest) -> func.HttpResponse:
    require_role(req, Role.REVIEWER)
    check_query_names(req, ())
    result = store_submission(_storage(), read_json_object(req))
    report = result.stored.report
    headers = {"ETag": result.stored.etag}
    if not result.created:
        return json_response(report.to_json(), headers=headers)
    headers["Location"] = f"/api/reports/{report.id}"
    return json_response(report.to_json(), status=201, headers=headers)


@handles_problems
def mark_verdict(req: func.HttpRequest) -> func.HttpResponse:
    principal = require_role(req, Role.REVIEWER)
    check_query_names(req, ())
    mark = parse_mark(read_json_object(req))
    result = mark_report(
        _storage(),
        req.route_params["id"],
        mark.verdict,
        actor=principal.name,
        if_match=req.headers.get("if-match"),
        notify=mark.notify,
        comment=mark.comment,
    )
    data = result.report.to_json()
    data["changed"] = result.changed
    data["notification_queued"] = result.notified
    data["system_verdict_changed"] = False
    return json_response(data, status=202, headers={"ETag": result.etag})


@handles_problems
def mark_many(req: func.HttpRequest) -> func.HttpResponse:
    principal = require_role(req, Role.REVIEWER)
    check_query_names(req, ())
    body = read_json_object(req)
    mark = parse_mark(body, extra=("ids",))
    ids = parse_report_ids(body, max_ids=MAX_BULK_IDS)
    results = mark_reports(
        _storage(),
        ids,
        mark.verdict,
        actor=principal.name,
        comment=mark.comment,
        notify=mark.notify,
    )
    return json_response(
        {
            "verdict": mark.verdict.value,
            "counts": count_by_status(results),
            "results": [r.to_json() for r in results],
        }
    )


@handles_problems
def get_campaign(req: func.HttpRequest) -> func.HttpResponse:
    require_role(req, Role.READER)
    check_query_names(req, ())
    return json_response(read_campaign(_storage(), req.route_params["key"]))


@handles_problems
def mark_campaign(req: func.HttpRequest) -> func.HttpResponse:
    principal = require_role(req, Role.REVIEWER)
    check_query_names(req, ())
    mark = parse_mark(read_json_object(req))
    result = mark_campaign_reports(
        _storage(),
        req.route_params["key"],
        mark.verdict,
        actor=principal.name,
        notify=mark.notify,
        comment=mark.comment,
    )
    return json_response(result)


@handles_problems
def get_report_audit(req: func.HttpRequest) -> func.HttpResponse:
    require_role(req, Role.READER)
    check_query_names(req, ())
    storage = _storage()
    report_id = req.route_params["id"]
    ReportStore(storage).get(report_id)
    entries = AuditLog(storage).for_subject(report_id)
    return json_response({"items": [e.to_json() for e in entries]})


@handles_problems
def list_audit(req: func.HttpRequest) -> func.HttpResponse:
    require_role(req, Role.READER)
    query = parse_audit_query(req)
    limit, after = page_params(req, key_size=3)
    entries = AuditLog(_storage()).query(
        subject=query.subject,
        actor=query.actor,
        action=query.action,
        since=query.since,
        until=query.until,
    )
    page, token = newest_first_page(
        entries, lambda e: e.sort_key, limit=limit, after=after
    )
    return json_response({"items": [e.to_json() for e in page], "continuation": token})


@handles_problems
def get_stats(req: func.HttpRequest) -> func.HttpResponse:
    require_role(req, Role.READER)
    check_query_names(req, ("received_from", "received_before"))
    stats = compute_stats(
        _storage(),
        received_from=query_datetime(req, "received_from"),
        received_before=query_datetime(req, "received_before"),
    )
    return json_response(stats)


@handles_problems
def get_openapi(req: func.HttpRequest) -> func.HttpResponse:
    require_role(req, Role.READER)
    check_query_names(req, ())
    return json_response(openapi.document())


@handles_problems
def get_health(req: func.HttpRequest) -> func.HttpResponse:
    """Check that storage is reachable and return 503 when it is not."""
    require_role(req, Role.READER)
    check_query_names(req, ())
    runtime = get_runtime()
    try:
        runtime.storage.table("reports").query_entities(
            "PartitionKey eq 'health'", results_per_page=1
        ).next()
    except StopIteration:
        storage_state = "ok"
    except AzureError as error:
        logger.warning("health check: storage failed: %s", type(error).__name__)
        storage_state = "unreachable"
    else:
        storage_state = "ok"
    body = {
        "status": "ok" if storage_state == "ok" else "degraded",
        "storage": storage_state,
        "mailbox": "graph" if runtime.config.uses_graph else "folder",
    }
    return json_response(body, status=200 if storage_state == "ok" else 503)


@handles_problems
def no_such_route(req: func.HttpRequest) -> func.HttpResponse:
    """Reject a request that no other route took: 405 for a known path, else 404.

    Signed-in callers only, so the route table stays hidden from anonymous ones. No
    role or cross-site check applies, because the request changes nothing.
    """
    if principal_from_request(req) is None:
        raise HttpProblem(
            401,
            "Unauthorized",
            "sign in with a role of reader, reviewer or settings_admin",
        )
    path = "/" + req.route_params.get("path", "")
    methods = openapi.allowed_methods(path)
    if methods is None:
        raise HttpProblem(404, "Not found", f"no route matches {path[:200]}")
    raise HttpProblem(
        405,
        "Method not allowed",
        f"{req.method} is not allowed on {path[:200]}; allowed: {', '.join(methods)}",
        headers={"Allow": ", ".join(methods)},
    )
