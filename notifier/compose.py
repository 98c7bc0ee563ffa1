"""Build a reporter's notification from the settings: sender, language, logo, text.

``handle_notification`` calls ``compose_notification`` once per send; the preview and
test-send routes use the same steps, so a preview shows what a reporter gets.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mailboxes import InlineImage, OutboundMessage
from notifier.deliveries import DeliveryStatus, DeliveryStore
from notifier.language import content_language_tags, lookup_language
from notifier.logo import LogoStore
from notifier.render import (
    TEMPLATES_DIR,
    LogoReference,
    RenderedNotification,
    ReportSummary,
    render_notification,
    single_line,
)
from notifier.settings import (
    NotificationSettings,
    SettingsStore,
    is_accepted_address,
    resolve_texts,
)
from storage import Storage
from verdicts.model import Report, Verdict
from verdicts.store import ReportStore

logger = logging.getLogger(__name__)

DEFAULT_LOGO_CID = "reportback-logo"
DEFAULT_LOGO_SIZE = (96, 96)
MAX_RECIPIENT_NAME_CHARS = 100

_MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,250}@[!-;=?-~]{1,250}>")


@dataclass(frozen=True)
class NotificationLogo:
    """The image a notification shows, with the reference the HTML uses."""

    image: InlineImage
    reference: LogoReference


def default_logo() -> NotificationLogo:
    data = (TEMPLATES_DIR / "logo.png").read_bytes()
    width, height = DEFAULT_LOGO_SIZE
    return NotificationLogo(
        InlineImage(DEFAULT_LOGO_CID, "image/png", data, "logo.png"),
        LogoReference(content_id=DEFAULT_LOGO_CID, width=width, height=height),
    )


def choose_logo(settings: NotificationSettings, storage: Storage) -> NotificationLogo:
    """Return the uploaded logo when the settings ask for it and it exists."""
    if not settings.use_organization_logo:
        return default_logo()
    logos = LogoStore(storage)
    stored = logos.current()
    data = logos.read(stored) if stored else None
    if stored is None or data is None:
        logger.warning("organization logo is missing from storage; using the default")
        return default_logo()
    # A new content id per image keeps clients from showing a cached older logo.
    content_id = f"organization-logo-{stored.sha256[:16]}"
    extension = stored.content_type.rpartition("/")[2]
    return NotificationLogo(
        InlineImage(content_id, stored.content_type, data, f"logo.{extension}"),
        LogoReference(content_id=content_id, width=stored.width, height=stored.height),
    )


def choose_sender(
    settings: NotificationSettings,
    *,
    default_sender: str,
    accepted_domains: Iterable[str],
) -> str:
    """Return the custom sender if it is still in an accepted domain, else the default.

    The domain is checked again at send time because the accepted domains may have
    changed since the settings were saved.
    """
    if settings.sender and is_accepted_address(settings.sender, accepted_domains):
        return settings.sender
    if settings.sender:
        logger.warning(
            "custom sender's domain is no longer accepted; using the default sender"
        )
    return default_sender


def mailbox_domains(mailbox: object) -> tuple[str, ...]:
    """Return the organization's verified domains as the mailbox reads them, if any.

    ``verified_domains`` is an optional mailbox method: the Graph mailbox reads the
    tenant's verified domains, and the folder mailbox has none.
    """
    lookup = getattr(mailbox, "verified_domains", None)
    return tuple(lookup()) if lookup is not None else ()


def mailbox_language(mailbox: object, address: str) -> str | None:
    """Return the language of ``address``'s mailbox when the mailbox can tell.

    ``reporter_language`` is an optional mailbox method, as with ``mailbox_domains``.
    """
    lookup = getattr(mailbox, "reporter_language", None)
    if lookup is None or not address:
        return None
    return lookup(address)


def choose_language(
    settings: NotificationSettings,
    *,
    content_language: str = "",
    preferred_language: str | None = None,
) -> str:
    """Pick the reporter's language among the configured ones, else the default.

    The mailbox's language setting, when known, comes before the report's
    Content-Language header.
    """
    candidates = content_language_tags(preferred_language or "")
    candidates += content_language_tags(content_language)
    return lookup_language(
        candidates, settings.available_languages, settings.default_language
    )


def _sent_verdict(storage: Storage, report: Report) -> Verdict | None:
    """Return the verdict of the latest notification sent for an older version."""
    sent = [
        delivery.verdict_version
        for delivery in DeliveryStore(storage).for_report(report.id)
        if delivery is not None
        and delivery.status == DeliveryStatus.SENT
        and delivery.verdict_version < report.verdict_version
    ]
    if not sent:
        return None
    version = max(sent)
    for entry in ReportStore(storage).audit_for(report.id):
        if entry.get("action") == "verdict" and entry.get("version") == version:
            return Verdict(entry["new"])
    return None


def is_correction(storage: Storage, report: Report) -> bool:
    """Tell whether the reporter already got a different result for ``report``."""
    # NOTE: a verdict changed back to the one already sent (phishing, then spam with
    # notify false, then phishing) is sent again as an ordinary result.
    previous = _sent_verdict(storage, report)
    return previous is not None and previous != report.verdict


def message_reference(message_id: str) -> str | None:
    """Return ``message_id`` if it is a plain RFC 5322 msg-id, safe for a header."""
    return message_id if _MESSAGE_ID.fullmatch(message_id) else None


def new_message_id(sender: str) -> str:
    domain = sender.rpartition("@")[2] or "reportback.invalid"
    return f"<{uuid.uuid4().hex}@{domain}>"


def render_for(
    summary: ReportSummary,
    verdict: Verdict,
    settings: NotificationSettings,
    *,
    language: str,
    logo: NotificationLogo,
    corrected: bool = False,
) -> RenderedNotification:
    return render_notification(
        summary,
        verdict,
        texts=resolve_texts(settings, language),
        language=language,
        logo=logo.reference,
        corrected=corrected,
    )


def outbound_message(
    rendered: RenderedNotification,
    *,
    sender: str,
    recipient: str,
    recipient_name: str = "",
    logo: NotificationLogo,
    in_reply_to: str = "",
) -> OutboundMessage:
    return OutboundMessage(
        sender=sender,
        recipient=recipient,
        recipient_name=single_line(recipient_name, MAX_RECIPIENT_NAME_CHARS),
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        message_id=new_message_id(sender),
        in_reply_to=message_reference(in_reply_to),
        inline_images=(logo.image,),
        extra_headers=(("Auto-Submitted", "auto-generated"),),
    )


def compose_notification(
    report: Report,
    *,
    storage: Storage,
    default_sender: str,
    accepted_domains: Sequence[str],
    mailbox: object = None,
) -> OutboundMessage:
    """Build the notification of ``report``'s current verdict from the settings.

    ``mailbox``, when given, adds the reporter's mailbox language and the tenant's
    verified domains (see ``mailbox_language`` and ``mailbox_domains``).
    """
    settings = SettingsStore(storage).read()
    language = choose_language(
        settings,
        content_language=report.language,
        preferred_language=mailbox_language(mailbox, report.reporter_address),
    )
    logo = choose_logo(settings, storage)
    corrected = is_correction(storage, report)
    rendered = render_for(
        ReportSummary.from_report(report),
        report.verdict,
        settings,
        language=language,
        logo=logo,
        corrected=corrected,
    )
    logger.debug(
        "report %s rendered in %s, corrected=%s", report.id, language, corrected
    )
    return outbound_message(
        rendered,
        sender=choose_sender(
            settings,
            default_sender=default_sender,
            accepted_domains=(*accepted_domains, *mailbox_domains(mailbox)),
        ),
        recipient=report.reporter_address,
        recipient_name=report.reporter_name,
        logo=logo,
        in_reply_to=report.wrapper_message_id,
    )
