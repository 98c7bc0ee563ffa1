"""The Exchange Online reporting mailbox, read and sent through Microsoft Graph.

Polling runs a delta query on the reporting mailbox's Inbox and fetches each new
message's MIME with ``$value``. The delta link is saved in the ``state`` table only
when the batch is committed, after intake stored every report. Sending uses
``sendMail`` as the sender mailbox, with the logo as an inline attachment, paced per
sender mailbox.

Graph application permissions needed: ``Mail.Read`` on the reporting mailbox and
``Mail.Send`` on the sender mailboxes (see the README for scoping them).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.file_attachment import FileAttachment
from msgraph.generated.models.internet_message_header import InternetMessageHeader
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.message import Message
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import (
    SendMailPostRequestBody,
)

from mailboxes.base import InboundMessage, OutboundMessage, PollBatch
from mailboxes.errors import (
    GraphRequestError,
    MailboxError,
    PermanentSendError,
    TransientSendError,
)
from mailboxes.graphclient import GraphClient
from mailboxes.graphstate import DeltaCursorStore, SendPacer

logger = logging.getLogger(__name__)

INBOX = "inbox"
# Exchange Online's sending limit per mailbox.
DEFAULT_SENDS_PER_MINUTE = 30
# Used when a 429, 503 or 504 response has no Retry-After header.
DEFAULT_RETRY_AFTER_SECONDS = 60.0
MAX_RETRY_AFTER_SECONDS = 3600.0
# The tenant's verified domains change rarely, so one lookup serves this long.
VERIFIED_DOMAINS_TTL_SECONDS = 900.0
TRANSIENT_STATUSES = (429, 503, 504)
# Graph rejects an expired or unknown delta token with 410 Gone, or with one of
# these error codes.
RESYNC_CODES = ("syncstatenotfound", "resyncrequired", "syncstateinvalid")


@dataclass(frozen=True)
class _Change:
    message_id: str
    has_attachments: bool


@dataclass(frozen=True)
class _Changes:
    items: list[_Change]
    cursor: str


class GraphMailbox:
    """The reporting mailbox in Exchange Online, and sending as any sender mailbox."""

    def __init__(
        self,
        *,
        reporting_mailbox: str,
        client: GraphClient,
        storage,
        sends_per_minute: int = DEFAULT_SENDS_PER_MINUTE,
        save_to_sent_items: bool = False,
        max_batch: int = 100,
        page_size: int = 25,
    ) -> None:
        self.reporting_mailbox = reporting_mailbox
        self.client = client
        self.save_to_sent_items = save_to_sent_items
        self.sends_per_minute = sends_per_minute
        self.max_batch = max_batch
        self.page_size = page_size
        state = storage.table("state")
        self._cursors = DeltaCursorStore(state, reporting_mailbox, INBOX)
        self._pacer = SendPacer(state, per_minute=sends_per_minute)
        self._verified_domains: tuple[str, ...] = ()
        self._verified_domains_at: float | None = None

    @classmethod
    def from_config(cls, config, storage) -> GraphMailbox:
        return cls(
            reporting_mailbox=config.reporting_mailbox,
            client=GraphClient(config.graph_base_url),
            storage=storage,
            sends_per_minute=config.sends_per_minute,
            save_to_sent_items=config.save_to_sent_items,
        )

    # -- polling -------------------------------------------------------------------

    def poll(self) -> PollBatch:
        cursor = self._cursors.load()
        if cursor is not None and not self.client.same_host(cursor):
            # REPORTBACK_GRAPH_BASE_URL changed since the link was saved.
            logger.warning(
                "saved delta link is for another Graph host; starting a full sync"
            )
            cursor = None
        try:
            changes = self._read_changes(cursor)
        except GraphRequestError as error:
            if cursor is None or not _needs_resync(error):
                raise
            logger.warning(
                "delta token of the reporting mailbox is no longer valid (%s %s); "
                "starting a full resync",
                error.status,
                error.code,
            )
            changes = self._read_changes(None)
        messages = [m for m in map(self._fetch, changes.items) if m is not None]
        logger.debug(
            "Graph poll: %s new messages, %s fetched", len(changes.items), len(messages)
        )
        return PollBatch(
            messages=messages, commit=lambda: self._cursors.save(changes.cursor)
        )

    def _read_changes(self, cursor: str | None) -> _Changes:
        """Page through the delta query from ``cursor`` (None: a full sync).

        Stops at the delta link, or at a next link once ``max_batch`` messages are
        collected, so that a large first sync spreads over several polls.
        """
        items: list[_Change] = []
        link = cursor
        while True:
            page = self._delta_page(link)
            for message in page.value or []:
                if "@removed" in (message.additional_data or {}):
                    continue
                items.append(_Change(message.id, bool(message.has_attachments)))
            if page.odata_delta_link:
                return _Changes(items, self._checked_link(page.odata_delta_link))
            if not page.odata_next_link:
                raise MailboxError(
                    "Graph delta response has neither @odata.nextLink nor "
                    "@odata.deltaLink"
                )
            link = self._checked_link(page.odata_next_link)
            if len(items) >= self.max_batch:
                return _Changes(items, link)

    def _delta_page(self, link: str | None):
        delta = (
            self.client.sdk.users.by_user_id(self.reporting_mailbox)
            .mail_folders.by_mail_folder_id(INBOX)
            .messages.delta
        )
        config = RequestConfiguration()
        config.headers.add("Prefer", f"odata.maxpagesize={self.page_size}")
        if link is None:
            # Only new messages matter; an update such as "read" must not refetch.
            config.query_parameters = delta.DeltaRequestBuilderGetQueryParameters(
                select=["id", "hasAttachments", "receivedDateTime"],
                change_type="created",
            )
            return self.client.call("delta query", lambda: delta.get(config))
        return self.client.call("delta query", lambda: delta.with_url(link).get(config))

    def _checked_link(self, link: str) -> str:
        if not self.client.same_host(link):
            raise MailboxError(
                f"Graph returned a link to another host ({link[:60]!r}); expected "
                f"one under {self.client.base_url}"
            )
        return link

    def _fetch(self, change: _Change) -> InboundMessage | None:
        """Return the message's MIME and its item attachments; None if it is gone."""
        message = self.client.sdk.users.by_user_id(
            self.reporting_mailbox
        ).messages.by_message_id(change.message_id)
        try:
            mime = self.client.call("message $value", lambda: message.content.get())
            originals = (
                tuple(self._item_attachments(change.message_id))
                if change.has_attachments
                else ()
            )
        except GraphRequestError as error:
            if error.status != 404:
                raise
            logger.warning(
                "message left the reporting mailbox before it was read: %s", error.code
            )
            return None
        return InboundMessage(
            mailbox_id=change.message_id, mime=mime or b"", attached_originals=originals
        )

    def _item_attachments(self, message_id: str) -> Iterator[bytes]:
        message = self.client.sdk.users.by_user_id(
            self.reporting_mailbox
        ).messages.by_message_id(message_id)
        config = RequestConfiguration(
            query_parameters=message.attachments.AttachmentsRequestBuilderGetQueryParameters(
                select=["id", "name", "contentType", "size"]
            )
        )
        listing = self.client.call(
            "attachment list", lambda: message.attachments.get(config)
        )
        for attachment in listing.value or []:
            if attachment.odata_type != "#microsoft.graph.itemAttachment":
                continue
            url = (
                f"{self.client.base_url}/users/{_segment(self.reporting_mailbox)}"
                f"/messages/{_segment(message_id)}"
                f"/attachments/{_segment(attachment.id)}/$value"
            )
            yield self.client.get_bytes("item attachment $value", url)

    # -- sending -------------------------------------------------------------------

    def send(self, message: OutboundMessage) -> None:
        wait = self._pacer.reserve(message.sender)
        if wait > 0:
            raise TransientSendError(
                f"sender mailbox {message.sender} reached its limit of "
                f"{self.sends_per_minute} messages a minute; retry in {wait:.0f} s",
                retry_after=float(math.ceil(wait)),
            )
        body = send_mail_body(message, save_to_sent_items=self.save_to_sent_items)
        request = self.client.sdk.users.by_user_id(message.sender).send_mail
        try:
            self.client.call("sendMail", lambda: request.post(body))
        except GraphRequestError as error:
            raise send_error(error, message.sender) from error
        logger.debug("sendMail accepted for message %s", message.message_id)

    # -- organization lookups for notifications ------------------------------------

    def reporter_language(self, address: str) -> str | None:
        """Return the locale of ``address``'s mailbox, such as ``de-DE``.

        Returns None when Graph cannot tell. Needs the MailboxSettings.Read
        application permission.
        """
        url = f"{self.client.base_url}/users/{_segment(address)}/mailboxSettings"
        try:
            data = self.client.get_json("mailboxSettings", url)
        except GraphRequestError as error:
            # The error detail may name the mailbox, so only its status is logged.
            logger.warning(
                "mailbox language lookup failed: %s %s", error.status, error.code
            )
            return None
        language = (data or {}).get("language") or {}
        locale = language.get("locale")
        return locale if isinstance(locale, str) and locale else None

    def verified_domains(self) -> tuple[str, ...]:
        """Return the tenant's verified domains, read at most every 15 minutes.

        Returns the last known list, or none, when Graph fails. Needs the
        Organization.Read.All application permission.
        """
        now = time.monotonic()
        fresh = self._verified_domains_at is not None and (
            now - self._verified_domains_at < VERIFIED_DOMAINS_TTL_SECONDS
        )
        if fresh:
            return self._verified_domains
        url = f"{self.client.base_url}/organization?$select=verifiedDomains"
        try:
            data = self.client.get_json("organization", url)
        except GraphRequestError as error:
            logger.warning("verified domains lookup failed: %s", error)
            return self._verified_domains
        names = [
            domain.get("name")
            for organization in (data or {}).get("value") or []
            for domain in organization.get("verifiedDomains") or []
        ]
        self._verified_domains = tuple(
            name.lower() for name in names if isinstance(name, str) and name
        )
        self._verified_domains_at = now
        return self._verified_domains


def _segment(value: str) -> str:
    """Percent-encode one path segment; Graph ids may contain ``/``, ``+`` and ``=``."""
    return quote(value, safe="")


def _needs_resync(error: GraphRequestError) -> bool:
    return error.status == 410 or error.code.lower() in RESYNC_CODES


def send_mail_body(
    message: OutboundMessage, *, save_to_sent_items: bool
) -> SendMailPostRequestBody:
    """Build the ``sendMail`` request: HTML body, inline images, one recipient.

    Graph accepts only ``X-`` headers in ``internetMessageHeaders``, so other extra
    headers (such as Auto-Submitted) are left out, and Exchange's own
    ``X-Auto-Response-Suppress`` requests that recipients' servers send no
    auto-replies.
    """
    headers = [
        InternetMessageHeader(name=name, value=value)
        for name, value in message.extra_headers
        if name.lower().startswith("x-")
    ]
    headers.append(InternetMessageHeader(name="X-Auto-Response-Suppress", value="All"))
    sender = Recipient(email_address=EmailAddress(address=message.sender))
    return SendMailPostRequestBody(
        message=Message(
            subject=message.subject,
            body=ItemBody(content_type=BodyType.Html, content=message.html),
            from_=sender,
            to_recipients=[
                Recipient(
                    email_address=EmailAddress(
                        address=message.recipient, name=message.recipient_name or None
                    )
                )
            ],
            attachments=[
                FileAttachment(
                    odata_type="#microsoft.graph.fileAttachment",
                    name=image.filename,
                    content_type=image.content_type,
                    content_bytes=image.data,
                    content_id=image.content_id,
                    is_inline=True,
                )
                for image in message.inline_images
            ],
            internet_message_headers=headers,
        ),
        save_to_sent_items=save_to_sent_items,
    )


def send_error(error: GraphRequestError, sender: str) -> Exception:
    """Map a failed ``sendMail`` to TransientSendError or PermanentSendError.

    Permanent errors name what an admin has to change.
    """
    code = error.code.lower()
    if error.status is None or error.status in TRANSIENT_STATUSES:
        retry_after = error.retry_after
        if retry_after is None and error.status is not None:
            retry_after = DEFAULT_RETRY_AFTER_SECONDS
        if retry_after is not None:
            retry_after = min(max(retry_after, 1.0), MAX_RETRY_AFTER_SECONDS)
        return TransientSendError(str(error), retry_after=retry_after)
    if code == "errorsendasdenied":
        return PermanentSendError(
            f"send-as denied for {sender}: give the app's identity the right to send "
            f"as {sender}, or choose another sender ({error})"
        )
    if error.status == 404 or code in (
        "errorinvaliduser",
        "mailboxnotenabledforrestapi",
    ):
        return PermanentSendError(
            f"sender mailbox {sender} not found: check the custom sender or "
            f"REPORTBACK_DEFAULT_SENDER, which must be an Exchange Online mailbox "
            f"({error})"
        )
    if error.status == 403:
        return PermanentSendError(
            f"access denied to sender mailbox {sender}: grant the app Mail.Send and "
            f"include the mailbox in its Exchange Online management scope ({error})"
        )
    if error.status == 401:
        return PermanentSendError(
            f"Graph rejected the app's token twice: check the Function App's managed "
            f"identity and its Mail.Send permission ({error})"
        )
    if error.status >= 500:
        return TransientSendError(str(error), retry_after=None)
    return PermanentSendError(f"Graph rejected the notification: {error}")
