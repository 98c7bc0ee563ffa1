"""The audit log: who marked which verdict, and who changed which setting, and when.

Entries live in the ``audit`` table. The PartitionKey is the subject (a report id, or
``settings`` for settings changes) and the RowKey starts with the UTC time, so the
entries of one subject read back in the order they were written. Entries are never
updated or deleted by the app.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from storage import Storage, check_key
from verdicts.paging import SortKey, sortable_time
from verdicts.store import fit_entity

SETTINGS_SUBJECT = "settings"


@dataclass(frozen=True)
class AuditEntry:
    """One recorded action on a subject."""

    subject: str
    entry_id: str
    action: str
    actor: str
    at: datetime
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "id": self.entry_id,
            "action": self.action,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "data": self.data,
        }

    @property
    def sort_key(self) -> SortKey:
        return (sortable_time(self.at), self.subject, self.entry_id)


def _entry_from_entity(entity: dict[str, Any]) -> AuditEntry:
    at = entity["at"]
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    try:
        data = json.loads(entity.get("data") or "{}")
    except ValueError:
        data = {"truncated": True}
    return AuditEntry(
        subject=entity["PartitionKey"],
        entry_id=entity["RowKey"],
        action=entity.get("action", ""),
        actor=entity.get("actor", ""),
        at=at,
        data=data if isinstance(data, dict) else {"value": data},
    )


class AuditLog:
    """Append and read audit entries."""

    def __init__(self, storage: Storage) -> None:
        self._table = storage.table("audit")

    def add(self, *, subject: str, action: str, actor: str, **data: Any) -> AuditEntry:
        """Append an entry for ``subject``; ``data`` must be JSON-serializable."""
        now = datetime.now(timezone.utc)
        # The random suffix keeps two entries written in the same microsecond apart.
        row = f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex[:12]}"
        entity = {
            "PartitionKey": check_key(subject),
            "RowKey": row,
            "action": action,
            "actor": actor,
            "at": now,
            "data": json.dumps(data, ensure_ascii=False, default=str),
        }
        self._table.upsert_entity(fit_entity(entity))
        return _entry_from_entity(entity)

    def for_subject(self, subject: str) -> list[AuditEntry]:
        """Return the entries of ``subject``, oldest first."""
        entities = self._table.query_entities(
            "PartitionKey eq @subject", parameters={"subject": check_key(subject)}
        )
        return [_entry_from_entity(e) for e in entities]

    def query(
        self,
        *,
        subject: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditEntry]:
        """Return every entry that matches all the given conditions, in any order."""
        clauses: list[str] = []
        parameters: dict[str, Any] = {}
        for name, value in (
            ("PartitionKey", subject),
            ("actor", actor),
            ("action", action),
        ):
            if value is not None:
                clauses.append(f"{name} eq @{name}")
                parameters[name] = value
        if since is not None:
            clauses.append("at ge @since")
            parameters["since"] = since
        if until is not None:
            clauses.append("at lt @until")
            parameters["until"] = until
        if not clauses:
            entities = self._table.list_entities()
        else:
            entities = self._table.query_entities(
                " and ".join(clauses), parameters=parameters
            )
        return [_entry_from_entity(e) for e in entities]
