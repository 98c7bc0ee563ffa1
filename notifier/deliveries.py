"""Delivery state per report and verdict version, in the ``deliveries`` table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

from storage import Storage, check_key
from storage.keys import truncate_utf16


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPERSEDED = "superseded"


@dataclass(kw_only=True)
class Delivery:
    report_id: str
    verdict_version: int
    status: DeliveryStatus
    attempts: int = 0
    reason: str = ""
    sender: str = ""
    message_id: str = ""
    updated_at: datetime | None = None
    etag: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "report_id": self.report_id,
            "verdict_version": self.verdict_version,
            "status": self.status.value,
            "attempts": self.attempts,
            "reason": self.reason,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def _row_key(version: int) -> str:
    return f"{version:010d}"


class DeliveryStore:
    def __init__(self, storage: Storage) -> None:
        self._table = storage.table("deliveries")

    def get(self, report_id: str, version: int) -> Delivery | None:
        try:
            entity = self._table.get_entity(check_key(report_id), _row_key(version))
        except ResourceNotFoundError:
            return None
        return Delivery(
            report_id=report_id,
            verdict_version=version,
            status=DeliveryStatus(entity["status"]),
            attempts=int(entity.get("attempts", 0)),
            reason=entity.get("reason", ""),
            sender=entity.get("sender", ""),
            message_id=entity.get("message_id", ""),
            updated_at=entity.get("updated_at"),
            etag=entity.metadata["etag"],
        )

    def save(self, delivery: Delivery) -> Delivery:
        """Write ``delivery``; when it was read with an ETag, only if still unchanged.

        Raises ResourceModifiedError when another worker wrote it first.
        """
        delivery.updated_at = datetime.now(timezone.utc)
        entity = {
            "PartitionKey": check_key(delivery.report_id),
            "RowKey": _row_key(delivery.verdict_version),
            "status": delivery.status.value,
            "attempts": delivery.attempts,
            "reason": truncate_utf16(delivery.reason, 2000),
            "sender": delivery.sender,
            "message_id": delivery.message_id,
            "updated_at": delivery.updated_at,
        }
        if delivery.etag is None:
            metadata = self._table.upsert_entity(entity, mode="replace")
        else:
            metadata = self._table.update_entity(
                entity,
                mode="replace",
                etag=delivery.etag,
                match_condition=MatchConditions.IfNotModified,
            )
        delivery.etag = metadata["etag"]
        return delivery

    def for_report(self, report_id: str) -> list[Delivery]:
        entities = self._table.query_entities(
            "PartitionKey eq @id", parameters={"id": check_key(report_id)}
        )
        return [self.get(report_id, int(e["RowKey"])) for e in entities]


__all__ = ["Delivery", "DeliveryStatus", "DeliveryStore", "ResourceModifiedError"]
