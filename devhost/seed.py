"""Seed the local folder mailbox with sample reports.

The project's own reports under ``devhost/seed/`` always go in. When the shared
corpus of real phishing and spam originals is beside the checkout, a few of them are
wrapped as reports too, the way a report add-in attaches an original unmodified.
"""

from __future__ import annotations

import logging
import shutil
import uuid
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
) -> bytes:
    """Return a report that attaches ``original`` byte for byte as message/rfc822.

    The wrapper is written by hand rather than with ``email`` so that not one byte of
    the original changes (no re-encoding, no re-folded headers).
    """
    boundary = "reportback-" + uuid.uuid4().hex
    sender = f"{reporter_name} <{reporter}>" if reporter_name else reporter
    head = (
        f"From: {sender}\r\n"
        "To: phishing-reports@example.com\r\n"
        f"Subject: {PREFIXES[reported_as]}reported message\r\n"
        f"Date: {format_datetime(localtime())}\r\n"
        f"Message-ID: {make_msgid(domain='example.com')}\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"{note}\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/rfc822\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        f'Content-Disposition: attachment; filename="{filename}"\r\n'
        "\r\n"
    )
    tail = f"\r\n--{boundary}--\r\n"
    return head.encode("utf-8") + original + tail.encode("ascii")


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
