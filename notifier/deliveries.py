"""Delivery state per report and verdict version, in the ``deliveries`` table.

A delivery moves ``queued`` -> ``sending`` -> ``sent``, or to ``failed`` (until a
reviewer retries it) or ``superseded`` (a newer verdict replaced it). Every write
after the first is ETag-checked, so two workers never both claim one delivery.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)

from notifier.errors import DeliveryConflict
from storage import Storage, check_key
from storage.keys import truncate_utf16

MAX_TEXT_CHARS = 2000


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPERSEDED = "superseded"


FINAL_STATUSES = (DeliveryStatus.SENT, DeliveryStatus.SUPERSEDED, DeliveryStatus.FAILED)


@dataclass(kw_only=True)
class Delivery:
    """The notification of one verdict version and what happened to it.

    ``reason`` explains a ``failed`` or ``superseded`` status; ``last_error`` keeps
    the most recent send error even after a later attempt succeeds. ``claimed_by``
    names the queue message run that set ``sending``.
    """

    report_id: str
    verdict_version: int
    status: DeliveryStatus
    attempts: int = 0
    reason: str = ""
    last_error: str = ""
    sender: str = ""
    message_id: str = ""
    claimed_by: str = ""
    claimed_at: datetime | None = None
    next_attempt_at: datetime | None = None
    updated_at: datetime | None = None
    etag: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "report_id": self.report_id,
            "verdict_version": self.verdict_version,
            "status": self.status.value,
            "attempts": self.attempts,
            "reason": self.reason,
            "last_error": self.last_error,
            "sender": self.sender,
            "message_id": self.message_id,
            "next_attempt_at": _isoformat(self.next_attempt_at),
            "updated_at": _isoformat(self.updated_at),
        }


def _isoformat(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _row_key(version: int) -> str:
    return f"{version:010d}"


def _to_entity(delivery: Delivery) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "PartitionKey": check_key(delivery.report_id),
        "RowKey": _row_key(delivery.verdict_version),
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "reason": truncate_utf16(delivery.reason, MAX_TEXT_CHARS),
        "last_error": truncate_utf16(delivery.last_error, MAX_TEXT_CHARS),
        "sender": delivery.sender,
        "message_id": delivery.message_id,
        "claimed_by": delivery.claimed_by,
        "updated_at": delivery.updated_at,
    }
    # Table Storage has no null: an absent property means "not set".
    if delivery.claimed_at is not None:
        entity["claimed_at"] = delivery.claimed_at
    if delivery.next_attempt_at is not None:
        entity["next_attempt_at"] = delivery.next_attempt_at
    return entity


def _from_entity(entity: Any) -> Delivery:
    return Delivery(
        report_id=entity["PartitionKey"],
        verdict_version=int(entity["RowKey"]),
        status=DeliveryStatus(entity["status"]),
        attempts=int(entity.get("attempts", 0)),
        reason=entity.get("reason", ""),
        last_error=entity.get("last_error", ""),
        sender=entity.get("sender", ""),
        message_id=entity.get("message_id", ""),
        claimed_by=entity.get("claimed_by", ""),
        claimed_at=entity.get("claimed_at"),
        next_attempt_at=entity.get("next_attempt_at"),
        updated_at=entity.get("updated_at"),
        etag=entity.metadata["etag"],
    )


class DeliveryStore:
    """The ``deliveries`` table: partition = report id, row = verdict version."""

    def __init__(self, storage: Storage) -> None:
        self._table = storage.table("deliveries")

    def get(self, report_id: str, version: int) -> Delivery | None:
        try:
            entity = self._table.get_entity(check_key(report_id), _row_key(version))
        except ResourceNotFoundError:
            return None
        return _from_entity(entity)

    def save(self, delivery: Delivery) -> Delivery:
        """Write ``delivery`` unless another worker wrote it since it was read.

        A delivery without an ETag is created and must not exist yet. Raises
        DeliveryConflict when another worker wrote first; ``delivery`` then keeps
        its old ETag.
        """
        delivery.updated_at = datetime.now(timezone.utc)
        entity = _to_entity(delivery)
        try:
            if delivery.etag is None:
                metadata = self._table.create_entity(entity)
            else:
                metadata = self._table.update_entity(
                    entity,
                    mode="replace",
                    etag=delivery.etag,
                    match_condition=MatchConditions.IfNotModified,
                )
        except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
            raise DeliveryConflict(
                f"delivery of report {delivery.report_id!r} version "
                f"{delivery.verdict_version} changed since it was read"
            ) from None
        delivery.etag = metadata["etag"]
        return delivery

    def for_report(self, report_id: str) -> list[Delivery]:
        entities = self._table.query_entities(
            "PartitionKey eq @id", parameters={"id": check_key(report_id)}
        )
        return [_from_entity(entity) for entity in entities]

    def keys_updated_since(self, since: datetime) -> set[tuple[str, int]]:
        """Return (report id, verdict version) of every delivery written since then."""
        entities = self._table.query_entities(
            "updated_at ge @since",
            parameters={"since": since},
            select=["PartitionKey", "RowKey"],
        )
        return {(e["PartitionKey"], int(e["RowKey"])) for e in entities}

    def with_status(self, status: DeliveryStatus) -> Iterator[Delivery]:
        """Yield every delivery in ``status``, in table order (report id, version)."""
        entities = self._table.query_entities(
            "status eq @status", parameters={"status": status.value}
        )
        for entity in entities:
            yield _from_entity(entity)

    def iter_all(self) -> Iterator[Delivery]:
        """Yield every delivery, for report listings and statistics."""
        for entity in self._table.list_entities():
            yield _from_entity(entity)


__all__ = [
    "FINAL_STATUSES",
    "Delivery",
    "DeliveryConflict",
    "DeliveryStatus",
    "DeliveryStore",
]
