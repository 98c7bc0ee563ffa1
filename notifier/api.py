"""HTTP handlers for deliveries; ``function_app`` binds each to its route."""

from __future__ import annotations

import azure.functions as func

from notifier.deliveries import Delivery, DeliveryStatus, DeliveryStore
from notifier.errors import DeliveryConflict, NotRetryable
from notifier.replay import retry_delivery
from runtime import get_runtime
from verdicts.api import handles_problems
from verdicts.http import HttpProblem, Role, json_response, require_role

MAX_LIMIT = 1000


def _status_param(req: func.HttpRequest) -> DeliveryStatus:
    value = req.params.get("status", DeliveryStatus.FAILED.value)
    try:
        return DeliveryStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in DeliveryStatus)
        raise HttpProblem(
            400,
            "Invalid status",
            f"status {value!r} is invalid; expected one of: {allowed}",
            field="status",
        ) from None


def _limit_param(req: func.HttpRequest) -> int:
    value = req.params.get("limit", "100")
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise HttpProblem(
            400,
            "Invalid limit",
            f"limit {value!r} is invalid; expected an integer from 1 to {MAX_LIMIT}",
            field="limit",
        )
    return int(value)


def _updated_key(delivery: Delivery) -> str:
    return delivery.updated_at.isoformat() if delivery.updated_at else ""


@handles_problems
def list_deliveries(req: func.HttpRequest) -> func.HttpResponse:
    require_role(req, Role.READER)
    status = _status_param(req)
    limit = _limit_param(req)
    # NOTE: this reads every delivery in the status before sorting. That is fine
    # for failed deliveries but slow for "sent" on a large table.
    found = DeliveryStore(get_runtime().storage).with_status(status)
    items = sorted(found, key=_updated_key, reverse=True)[:limit]
    return json_response({"items": [d.to_json() for d in items]})


@handles_problems
def retry_notification(req: func.HttpRequest) -> func.HttpResponse:
    principal = require_role(req, Role.REVIEWER)
    try:
        delivery = retry_delivery(
            get_runtime().storage, req.route_params["id"], actor=principal.name
        )
    except (NotRetryable, DeliveryConflict) as error:
        raise HttpProblem(409, "Conflict", str(error)) from None
    return json_response(delivery.to_json(), status=202)
