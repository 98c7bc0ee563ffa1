"""The Reportback Functions app: bindings only, each calling one package function."""

from __future__ import annotations

import logging

import azure.functions as func

from notifier import api as notifier_api
from notifier import settings_api
from portal import handlers as portal
from verdicts import api, threat_submissions_api

logger = logging.getLogger(__name__)

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

ALL_METHODS = [method.value for method in func.HttpMethod]


@app.timer_trigger(
    schedule="%REPORTBACK_POLL_SCHEDULE%", arg_name="timer", run_on_startup=False
)
def poll_reporting_mailbox(timer: func.TimerRequest) -> None:
    from intake.poller import poll_once
    from notifier.reconcile import enqueue_missing_notifications
    from runtime import get_runtime

    runtime = get_runtime()
    result = poll_once(runtime.mailbox, runtime.storage)
    enqueue_missing_notifications(runtime.storage)
    logger.info(
        "poll done: %s messages seen, %s new reports, skipped=%s, past_due=%s",
        result.seen,
        result.created,
        result.skipped,
        timer.past_due,
    )


@app.queue_trigger(
    arg_name="message", queue_name="notifications", connection="AzureWebJobsStorage"
)
def send_notification(message: func.QueueMessage) -> None:
    from notifier.service import QueueRun, handle_notification, parse_queue_message
    from runtime import get_runtime

    runtime = get_runtime()
    request = parse_queue_message(message.get_body())
    handle_notification(
        request,
        storage=runtime.storage,
        mailbox=runtime.mailbox,
        default_sender=runtime.config.default_sender,
        accepted_domains=runtime.config.accepted_domains,
        run=QueueRun(message.id or "", message.dequeue_count or 0),
    )


@app.queue_trigger(
    arg_name="message",
    queue_name="notifications-poison",
    connection="AzureWebJobsStorage",
)
def record_poisoned_notification(message: func.QueueMessage) -> None:
    from notifier.poison import handle_poison_message
    from runtime import get_runtime

    handle_poison_message(
        message.get_body(), storage=get_runtime().storage, message_id=message.id or ""
    )


# Every HTTP route below is documented in verdicts/openapi.py (a test checks it).
@app.route(route="api/reports", methods=["GET"])
def list_reports(req: func.HttpRequest) -> func.HttpResponse:
    return api.list_reports(req)


@app.route(route="api/reports", methods=["POST"])
def submit_report(req: func.HttpRequest) -> func.HttpResponse:
    return api.submit_report(req)


@app.route(route="api/reports/{id}", methods=["GET"])
def get_report(req: func.HttpRequest) -> func.HttpResponse:
    return api.get_report(req)


@app.route(route="api/reports/{id}/mime", methods=["GET"])
def get_report_mime(req: func.HttpRequest) -> func.HttpResponse:
    return api.get_report_mime(req)


@app.route(route="api/reports/{id}/verdict", methods=["POST"])
def mark_verdict(req: func.HttpRequest) -> func.HttpResponse:
    return api.mark_verdict(req)


@app.route(route="api/reports/{id}/audit", methods=["GET"])
def get_report_audit(req: func.HttpRequest) -> func.HttpResponse:
    return api.get_report_audit(req)


@app.route(route="api/verdicts", methods=["POST"])
def mark_many(req: func.HttpRequest) -> func.HttpResponse:
    return api.mark_many(req)


@app.route(route="api/campaigns/{key}", methods=["GET"])
def get_campaign(req: func.HttpRequest) -> func.HttpResponse:
    return api.get_campaign(req)


@app.route(route="api/campaigns/{key}/verdict", methods=["POST"])
def mark_campaign(req: func.HttpRequest) -> func.HttpResponse:
    return api.mark_campaign(req)


@app.route(route="api/audit", methods=["GET"])
def list_audit(req: func.HttpRequest) -> func.HttpResponse:
    return api.list_audit(req)


@app.route(route="api/stats", methods=["GET"])
def get_stats(req: func.HttpRequest) -> func.HttpResponse:
    return api.get_stats(req)


@app.route(route="api/reports/{id}/submission", methods=["POST"])
def submit_to_microsoft(req: func.HttpRequest) -> func.HttpResponse:
    return threat_submissions_api.submit(req)


@app.route(route="api/reports/{id}/submission", methods=["GET"])
def get_submission(req: func.HttpRequest) -> func.HttpResponse:
    return threat_submissions_api.get_submission(req)


@app.route(route="api/threat-submissions", methods=["POST"])
def submit_many_to_microsoft(req: func.HttpRequest) -> func.HttpResponse:
    return threat_submissions_api.submit_many(req)


@app.route(route="api/reports/{id}/notification/retry", methods=["POST"])
def retry_notification(req: func.HttpRequest) -> func.HttpResponse:
    return notifier_api.retry_notification(req)


@app.route(route="api/deliveries", methods=["GET"])
def list_deliveries(req: func.HttpRequest) -> func.HttpResponse:
    return notifier_api.list_deliveries(req)


@app.route(route="api/settings/notifications", methods=["GET"])
def get_notification_settings(req: func.HttpRequest) -> func.HttpResponse:
    return settings_api.get_notification_settings(req)


@app.route(route="api/settings/notifications", methods=["PUT"])
def put_notification_settings(req: func.HttpRequest) -> func.HttpResponse:
    return settings_api.put_notification_settings(req)


@app.route(route="api/settings/logo", methods=["PUT"])
def put_logo(req: func.HttpRequest) -> func.HttpResponse:
    return settings_api.put_logo(req)


@app.route(route="api/settings/notifications/preview", methods=["POST"])
def preview_notification(req: func.HttpRequest) -> func.HttpResponse:
    return settings_api.preview_notification(req)


@app.route(route="api/settings/notifications/test", methods=["POST"])
def send_test_notification(req: func.HttpRequest) -> func.HttpResponse:
    return settings_api.send_test_notification(req)


@app.route(route="api/openapi.json", methods=["GET"])
def get_openapi(req: func.HttpRequest) -> func.HttpResponse:
    return api.get_openapi(req)


@app.route(route="api/health", methods=["GET"])
def get_health(req: func.HttpRequest) -> func.HttpResponse:
    return api.get_health(req)


@app.route(route="api/me", methods=["GET"])
def who_am_i(req: func.HttpRequest) -> func.HttpResponse:
    return portal.who_am_i(req)


# A GET outside api/ gets a portal page or file. Whatever else no route above takes
# gets a problem+json 404, or 405 with Allow for a documented path. The Functions
# host tries routes in the alphabetical order of their function names, not by how
# specific they are (azure-functions-host issue 9876), so this catch-all's name must
# sort after every other function's name. The dev host tries catch-all templates
# last as well.
@app.route(route="{*path}", methods=ALL_METHODS)
def zz_catch_all(req: func.HttpRequest) -> func.HttpResponse:
    if portal.is_portal_request(req):
        return portal.serve_portal(req)
    return api.no_such_route(req)
