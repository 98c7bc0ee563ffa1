"""A mailbox kept in a local folder: the embedded default for local runs and tests.

Reports are ``.eml`` files under ``<root>/inbox/``. Committing a poll moves them to
``<root>/processed/``. Every sent notification is written to ``<root>/outbox/``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from mailboxes.base import InboundMessage, OutboundMessage, PollBatch
from mailboxes.mime import build_mime

logger = logging.getLogger(__name__)


class FolderMailbox:
    """Reporting mailbox and sender backed by three folders under ``root``."""

    def __init__(self, root: Path, *, max_batch: int = 100) -> None:
        self.root = Path(root)
        self.inbox = self.root / "inbox"
        self.processed = self.root / "processed"
        self.outbox = self.root / "outbox"
        self.max_batch = max_batch
        for folder in (self.inbox, self.processed, self.outbox):
            folder.mkdir(parents=True, exist_ok=True)

    def poll(self) -> PollBatch:
        paths = sorted(p for p in self.inbox.iterdir() if p.is_file())
        paths = [p for p in paths if not p.name.startswith(".")][: self.max_batch]
        messages = [
            InboundMessage(mailbox_id=p.name, mime=p.read_bytes()) for p in paths
        ]
        logger.debug("folder inbox has %s new messages", len(messages))

        def commit() -> None:
            for path in paths:
                if path.exists():
                    os.replace(path, self.processed / path.name)

        return PollBatch(messages=messages, commit=commit)

    def _outbox_path(self, message_id: str) -> Path:
        digest = hashlib.sha256(message_id.encode()).hexdigest()[:16]
        return self.outbox / f"{digest}.eml"

    def was_sent(self, message_id: str) -> bool:
        """Return whether a message with this Message-ID is in the outbox."""
        return self._outbox_path(message_id).exists()

    def send(self, message: OutboundMessage) -> None:
        data = build_mime(message).as_bytes()
        target = self._outbox_path(message.message_id)
        digest = target.stem
        partial = target.with_suffix(".eml.part")
        partial.write_bytes(data)
        # Rename after the write so that a reader never sees half a message.
        os.replace(partial, target)
        logger.info("notification %s written to the outbox", digest)
