"""Seed the local folder mailbox with sample reports.

The project's own reports under ``devhost/seed/`` always go in. When the shared
corpus of real phishing and spam originals is beside the checkout, a few of them are
wrapped as reports too, the way a report add-in attaches an original unmodified.
"""

from __future__ import annotations

import base64
import email
import email.policy
import logging
import shutil
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, localtime, make_msgid
from pathlib import Path

logger = logging.getLogger(__name__)

SEED_DIR = Path(__file__).resolve().parent / "seed"
SAMPLES_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "samples"
PREFIXES = {"phishing": "3|Phishing: ", "junk": "1|Junk: ", "not_junk": "2|Not junk: "}


def wrap_original(
    original: bytes,
    *,
    reporter: str,
    reporter_name: str = "",
    reported_as: str = "phishing",
    note: str = "Reported from Outlook.",
    filename: str = "reported message.eml",
    attach_as: str = "rfc822",
    subject: str | None = None,
    message_id: str | None = None,
) -> bytes:
    """Return a report that attaches ``original`` the way a report add-in does.

    ``attach_as`` picks the attachment: ``rfc822`` (message/rfc822, byte for byte),
    ``rfc822_base64`` (message/rfc822 sent base64-encoded), ``octet_stream`` (an
    application/octet-stream ``.eml`` part, base64) or ``msg`` (``original`` is an
    Outlook file, sent as application/vnd.ms-outlook, base64). ``subject`` replaces
    the wrapper's subject, prefix included; ``message_id`` its Message-ID (a new
    one by default).

    The wrapper is written by hand rather than with ``email`` so that not one byte of
    the original changes (no re-encoding, no re-folded headers).
    """
    boundary = "reportback-" + uuid.uuid4().hex
    sender = f"{reporter_name} <{reporter}>" if reporter_name else reporter
    if subject is None:
        subject = f"{PREFIXES[reported_as]}reported message"
    part_headers, body = _attachment(original, attach_as)
    head = (
        f"From: {sender}\r\n"
        "To: phishing-reports@example.com\r\n"
        f"Subject: {subject}\r\n"
        f"Date: {format_datetime(localtime())}\r\n"
        f"Message-ID: {message_id or make_msgid(domain='example.com')}\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"{note}\r\n"
        f"--{boundary}\r\n"
        f"{part_headers}"
        f'Content-Disposition: attachment; filename="{filename}"\r\n'
        "\r\n"
    )
    tail = f"\r\n--{boundary}--\r\n"
    return head.encode("utf-8") + body + tail.encode("ascii")


_ATTACHMENT_TYPES = {
    "rfc822": ("message/rfc822", "8bit"),
    "rfc822_base64": ("message/rfc822", "base64"),
    "octet_stream": ("application/octet-stream", "base64"),
    "msg": ("application/vnd.ms-outlook", "base64"),
}


def _attachment(original: bytes, attach_as: str) -> tuple[str, bytes]:
    if attach_as not in _ATTACHMENT_TYPES:
        expected = ", ".join(_ATTACHMENT_TYPES)
        raise ValueError(
            f"attach_as {attach_as!r} is invalid; expected one of: {expected}"
        )
    content_type, encoding = _ATTACHMENT_TYPES[attach_as]
    headers = (
        f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: {encoding}\r\n"
    )
    if encoding == "base64":
        return headers, base64.encodebytes(original).replace(b"\n", b"\r\n")
    return headers, original


def forward_inline(
    original: bytes,
    *,
    reporter: str,
    reporter_name: str = "",
    note: str = "Is this real?",
) -> bytes:
    """Return a report that quotes ``original`` in its body, as Outlook's Forward does.

    Only From, Sent, To, Subject and the plain text (or HTML) body survive, as in a
    real inline forward.
    """
    message = email.message_from_bytes(original, policy=email.policy.default)
    sender = f"{reporter_name} <{reporter}>" if reporter_name else reporter
    quoted = (
        f"{note}\n\n-----Original Message-----\n"
        f"From: {_quoted_header(message, 'From')}\n"
        f"Sent: {_quoted_header(message, 'Date')}\n"
        f"To: {_quoted_header(message, 'To')}\n"
        f"Subject: {_quoted_header(message, 'Subject')}\n\n"
        f"{_quoted_body(message)}\n"
    )
    forward = EmailMessage()
    forward["From"] = sender
    forward["To"] = "phishing-reports@example.com"
    forward["Subject"] = "FW: " + _quoted_header(message, "Subject")
    forward["Date"] = format_datetime(localtime())
    forward["Message-ID"] = make_msgid(domain="example.com")
    forward.set_content(quoted)
    return forward.as_bytes()


def _quoted_header(message: EmailMessage, name: str) -> str:
    try:
        value = str(message.get(name) or "")
    except (IndexError, ValueError, TypeError):
        value = ""
    return " ".join(value.split())


def _quoted_body(message: EmailMessage) -> str:
    try:
        body = message.get_body(("plain", "html"))
        return body.get_content() if body is not None else ""
    except (LookupError, ValueError, AttributeError):
        return ""


def seed_mailbox(
    root: Path, *, samples_dir: Path = SAMPLES_DIR, real_samples: int = 6
) -> int:
    """Fill ``root/inbox`` when the mailbox has never held a report; return the count."""
    inbox, processed = root / "inbox", root / "processed"
    inbox.mkdir(parents=True, exist_ok=True)
    processed.mkdir(parents=True, exist_ok=True)
    if any(inbox.iterdir()) or any(processed.iterdir()):
        return 0
    count = 0
    for path in sorted(SEED_DIR.glob("*.eml")):
        shutil.copyfile(path, inbox / path.name)
        count += 1
    originals = sorted((samples_dir / "eml").glob("*.eml"))[:real_samples]
    kinds = ("phishing", "junk", "phishing")
    for index, path in enumerate(originals):
        report = wrap_original(
            path.read_bytes(),
            reporter=f"user{index + 1}@example.com",
            reporter_name=f"Sample User {index + 1}",
            reported_as=kinds[index % len(kinds)],
            filename=path.name,
        )
        (inbox / f"50-sample-{index + 1:02d}.eml").write_bytes(report)
        count += 1
    logger.info("seeded the local mailbox with %s reports", count)
    return count
