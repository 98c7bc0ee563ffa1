"""HTTP handlers of the notification settings; ``function_app`` binds each to its route.

Reading settings and previewing need the reader role; changing settings, uploading the
logo and sending a test message need settings_admin.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import wraps
from typing import Any

import azure.functions as func

from mailboxes import PermanentSendError, TransientSendError
from notifier.compose import (
    NotificationLogo,
    choose_language,
    choose_logo,
    choose_sender,
    mailbox_domains,
    mailbox_language,
    outbound_message,
    render_for,
)
from notifier.errors import (
    InvalidLogo,
    InvalidSettings,
    LogoTooLarge,
    SettingsConflict,
    UnsupportedImageType,
)
from notifier.language import normalize_tag
from notifier.logo import LogoStore, upload_logo
from notifier.render import (
    RenderedNotification,
    ReportSummary,
    inline_image_as_data_uri,
)
from notifier.settings import (
    NotificationSettings,
    SettingsStore,
    is_accepted_address,
    save_settings,
    settings_from_json,
)
from runtime import get_runtime
from verdicts.errors import ReportNotFound
from verdicts.http import (
    HttpProblem,
    Role,
    json_response,
    problem_response,
    read_json_object,
    require_role,
)
from verdicts.model import Report, Verdict
from verdicts.store import ReportStore

logger = logging.getLogger(__name__)

Handler = Callable[[func.HttpRequest], func.HttpResponse]

# Shown by preview and test-send when no report id is given.
SAMPLE_SUMMARY = ReportSummary(
    reporter_name="Alex Wilber",
    reporter_address="alex.wilber@example.com",
    subject="Action required: confirm your mailbox password",
    original_sender="it-support@mailbox-upgrade.example.net",
    reported_at=datetime(2026, 3, 2, 9, 15, tzinfo=timezone.utc),
)


@dataclass(frozen=True)
class Preview:
    """A rendered notification and what it was rendered from."""

    rendered: RenderedNotification
    settings: NotificationSettings
    language: str
    logo: NotificationLogo
    reply_to: str


def _problem_for(error: Exception) -> HttpProblem:
    if isinstance(error, InvalidSettings):
        field, detail = error.problems[0]
        return HttpProblem(
            422,
            "Invalid settings",
            detail if field == "sender" else f"{field} {detail}",
            field=field,
            errors=[{"field": f, "detail": d} for f, d in error.problems],
        )
    if isinstance(error, SettingsConflict):
        return HttpProblem(412, "Precondition failed", str(error))
    if isinstance(error, LogoTooLarge):
        return HttpProblem(413, "Payload too large", str(error), field="logo")
    if isinstance(error, UnsupportedImageType):
        return HttpProblem(415, "Unsupported media type", str(error), field="logo")
    if isinstance(error, InvalidLogo):
        return HttpProblem(422, "Invalid logo", str(error), field="logo")
    assert isinstance(error, ReportNotFound)
    return HttpProblem(404, "Not found", str(error), field="report_id")


def handles_problems(handler: Handler) -> Handler:
    """Turn the errors a settings handler raises into problem+json responses."""

    @wraps(handler)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        try:
            return handler(req)
        except HttpProblem as problem:
            return problem_response(problem)
        except (
            InvalidSettings,
            SettingsConflict,
            InvalidLogo,
            ReportNotFound,
        ) as error:
            return problem_response(_problem_for(error))
        except Exception:  # noqa: BLE001 - the one top-level catch of a request
            # Without it the Functions host returns a bare 500, not problem+json.
            logger.exception("%s %s failed", req.method, handler.__name__)
            return problem_response(
                HttpProblem(
                    500, "Internal server error", "the request failed; see the app log"
                )
            )

    return wrapper


def accepted_domains() -> tuple[str, ...]:
    """Return REPORTBACK_ACCEPTED_DOMAINS plus the mailbox's verified domains."""
    runtime = get_runtime()
    return (*runtime.config.accepted_domains, *mailbox_domains(runtime.mailbox))


def _settings_json(settings: NotificationSettings) -> dict[str, Any]:
    data = settings.to_json()
    logo = LogoStore(get_runtime().storage).current()
    data["logo"] = logo.to_json() if logo else None
    return data


@handles_problems
def get_notification_settings(req: func.HttpRequest) -> func.HttpResponse:
    require_role(req, Role.READER)
    stored = SettingsStore(get_runtime().storage).get()
    return json_response(_settings_json(stored.settings), headers={"ETag": stored.etag})


@handles_problems
def put_notification_settings(req: func.HttpRequest) -> func.HttpResponse:
    principal = require_role(req, Role.SETTINGS_ADMIN)
    if_match = req.headers.get("if-match")
    if not if_match:
        raise HttpProblem(
            428,
            "Precondition required",
            "send the ETag from GET /api/settings/notifications in If-Match",
        )
    runtime = get_runtime()
    stored = save_settings(
        runtime.storage,
        read_json_object(req),
        if_match=if_match,
        actor=principal.name,
        accepted_domains=accepted_domains(),
    )
    return json_response(_settings_json(stored.settings), headers={"ETag": stored.etag})


@handles_problems
def put_logo(req: func.HttpRequest) -> func.HttpResponse:
    principal = require_role(req, Role.SETTINGS_ADMIN)
    logo = upload_logo(
        get_runtime().storage, req.get_body() or b"", actor=principal.name
    )
    logger.info(
        "organization logo replaced: %s, %s bytes", logo.content_type, logo.size
    )
    return json_response(logo.to_json())


def _verdict(body: dict[str, Any]) -> Verdict:
    value = body.get("verdict", Verdict.PHISHING.value)
    try:
        return Verdict(value)
    except ValueError:
        allowed = ", ".join(v.value for v in Verdict)
        raise HttpProblem(
            422,
            "Invalid verdict",
            f"verdict {value!r} is invalid; expected one of: {allowed}",
            field="verdict",
        ) from None


def _preview_settings(body: dict[str, Any]) -> NotificationSettings:
    runtime = get_runtime()
    unsaved = body.get("settings")
    if unsaved is None:
        return SettingsStore(runtime.storage).read()
    if not isinstance(unsaved, dict):
        raise HttpProblem(
            422, "Invalid settings", "settings must be an object", field="settings"
        )
    try:
        return settings_from_json(
            unsaved,
            accepted_domains=accepted_domains(),
            logo_uploaded=LogoStore(runtime.storage).current() is not None,
        )
    except InvalidSettings as error:
        error.problems = [(f"settings.{f}", d) for f, d in error.problems]
        raise


def _language(
    body: dict[str, Any],
    settings: NotificationSettings,
    *,
    content_language: str,
    mailbox_locale: str | None,
) -> str:
    value = body.get("language")
    if value is None:
        return choose_language(
            settings,
            content_language=content_language,
            preferred_language=mailbox_locale,
        )
    tag = normalize_tag(value) if isinstance(value, str) else None
    if tag is None:
        raise HttpProblem(
            422,
            "Invalid language",
            f"language {value!r} is not a language tag such as de or fr-CA",
            field="language",
        )
    return choose_language(settings, preferred_language=tag)


def _corrected(body: dict[str, Any]) -> bool:
    value = body.get("corrected", False)
    if not isinstance(value, bool):
        raise HttpProblem(
            422,
            "Invalid corrected",
            "corrected must be true or false",
            field="corrected",
        )
    return value


def _preview_report(body: dict[str, Any]) -> Report | None:
    report_id = body.get("report_id")
    if report_id is None:
        return None
    if not isinstance(report_id, str):
        raise HttpProblem(
            422, "Invalid report id", "report_id must be a string", field="report_id"
        )
    return ReportStore(get_runtime().storage).get(report_id).report


def _render_preview(body: dict[str, Any]) -> Preview:
    """Render what a reporter would get, from a body shared by preview and test."""
    runtime = get_runtime()
    verdict = _verdict(body)
    settings = _preview_settings(body)
    report = _preview_report(body)
    if report is None:
        summary, content_language, mailbox_locale, reply_to = (
            SAMPLE_SUMMARY,
            "",
            None,
            "",
        )
    else:
        summary = ReportSummary.from_report(report)
        content_language, reply_to = report.language, report.wrapper_message_id
        mailbox_locale = mailbox_language(runtime.mailbox, report.reporter_address)
    language = _language(
        body,
        settings,
        content_language=content_language,
        mailbox_locale=mailbox_locale,
    )
    logo = choose_logo(settings, runtime.storage)
    rendered = render_for(
        summary,
        verdict,
        settings,
        language=language,
        logo=logo,
        corrected=_corrected(body),
    )
    return Preview(rendered, settings, language, logo, reply_to)


def _browser_html(html: str, logo: NotificationLogo) -> str:
    image = logo.image
    return inline_image_as_data_uri(
        html, image.content_id, image.content_type, image.data
    )


@handles_problems
def preview_notification(req: func.HttpRequest) -> func.HttpResponse:
    require_role(req, Role.READER)
    preview = _render_preview(read_json_object(req))
    rendered = preview.rendered
    config = get_runtime().config
    sender = choose_sender(
        preview.settings,
        default_sender=config.default_sender,
        accepted_domains=accepted_domains(),
    )
    return json_response(
        {
            "subject": rendered.subject,
            "html": _browser_html(rendered.html, preview.logo),
            "text": rendered.text,
            "language": preview.language,
            "sender": sender,
        }
    )


def _test_recipient(body: dict[str, Any]) -> str:
    to = body.get("to")
    accepted = accepted_domains()
    if not isinstance(to, str) or not is_accepted_address(to.strip(), accepted):
        raise HttpProblem(
            422,
            "Invalid recipient",
            "Specify an email address in your domain "
            f"({', '.join(accepted)}) to send the test message to",
            field="to",
        )
    return to.strip()


@handles_problems
def send_test_notification(req: func.HttpRequest) -> func.HttpResponse:
    principal = require_role(req, Role.SETTINGS_ADMIN)
    body = read_json_object(req)
    recipient = _test_recipient(body)
    preview = _render_preview(body)
    runtime = get_runtime()
    message = outbound_message(
        preview.rendered,
        sender=choose_sender(
            preview.settings,
            default_sender=runtime.config.default_sender,
            accepted_domains=accepted_domains(),
        ),
        recipient=recipient,
        logo=preview.logo,
        in_reply_to=preview.reply_to,
    )
    try:
        runtime.mailbox.send(message)
    except (TransientSendError, PermanentSendError) as error:
        logger.warning(
            "test notification %s failed: %s", message.message_id, type(error).__name__
        )
        if isinstance(error, PermanentSendError):
            raise HttpProblem(502, "Sending failed", str(error)) from None
        extra = {"retry_after": error.retry_after} if error.retry_after else {}
        raise HttpProblem(503, "Sending failed", str(error), **extra) from None
    ReportStore(runtime.storage).add_audit(
        subject="settings",
        action="test_notification",
        actor=principal.name,
        to=recipient,
        message_id=message.message_id,
    )
    logger.info("test notification %s sent", message.message_id)
    return json_response(
        {
            "to": recipient,
            "sender": message.sender,
            "message_id": message.message_id,
            "subject": message.subject,
            "language": preview.language,
        },
        status=202,
    )
