"""Turn an OutboundMessage into an RFC 5322 message."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, localtime


def _address(address: str, name: str = "") -> Address:
    username, _, domain = address.rpartition("@")
    return Address(display_name=name, username=username, domain=domain)


def build_mime(message) -> EmailMessage:
    """Build a multipart/alternative message: plain text, then HTML with its images.

    Images go into a multipart/related part beside the HTML (RFC 2387) so that mail
    clients resolve ``cid:`` references.
    """
    mime = EmailMessage()
    mime["From"] = _address(message.sender)
    mime["To"] = _address(message.recipient, message.recipient_name)
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(localtime())
    mime["Message-ID"] = message.message_id
    if message.in_reply_to:
        mime["In-Reply-To"] = message.in_reply_to
        mime["References"] = message.in_reply_to
    for name, value in message.extra_headers:
        mime[name] = value
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    if message.inline_images:
        html_part = mime.get_payload()[1]
        for image in message.inline_images:
            maintype, _, subtype = image.content_type.partition("/")
            html_part.add_related(
                image.data,
                maintype=maintype,
                subtype=subtype,
                cid=f"<{image.content_id}>",
                filename=image.filename,
                disposition="inline",
            )
    return mime
