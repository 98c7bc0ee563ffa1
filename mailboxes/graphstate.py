"""What the Graph mailbox keeps in the ``state`` table: delta cursors and send pacing.

Row keys are SHA-256 digests of mailbox addresses, because an address may contain
``/``, ``#`` or ``?``, which Azure Table Storage rejects in keys.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableClient

from storage import check_entity_limits

CURSOR_PARTITION = "graph-delta"
PACING_PARTITION = "send-pacing"
# A handful of writers race for one sender's row at most; past this many lost
# races the send is deferred like a throttled one.
MAX_PACING_ATTEMPTS = 5


def address_key(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()[:40]


class DeltaCursorStore:
    """The link where the next delta query of one mailbox folder starts.

    It is a ``@odata.deltaLink`` once a sync reached the end, or a
    ``@odata.nextLink`` while a long first sync is still paging.
    """

    def __init__(self, table: TableClient, mailbox: str, folder: str) -> None:
        self._table = table
        self._key = address_key(f"{mailbox}|{folder}")

    def load(self) -> str | None:
        try:
            entity = self._table.get_entity(CURSOR_PARTITION, self._key)
        except ResourceNotFoundError:
            return None
        return entity.get("link") or None

    def save(self, link: str) -> None:
        entity = {"PartitionKey": CURSOR_PARTITION, "RowKey": self._key, "link": link}
        check_entity_limits(entity)
        self._table.upsert_entity(entity, mode="replace")

    def clear(self) -> None:
        self._table.delete_entity(CURSOR_PARTITION, self._key)


class SendPacer:
    """Allow at most ``per_minute`` sends per sender mailbox in any 60 seconds.

    It runs the generic cell rate algorithm on one row per sender, written with its
    ETag, so Function instances running in parallel share the budget. The row
    stores ``tat``, the time (Unix seconds) when the sender's budget is full again.
    """

    def __init__(
        self,
        table: TableClient,
        *,
        per_minute: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute={per_minute} is invalid: expected 1 or more")
        self._table = table
        self._interval = 60.0 / per_minute
        self._clock = clock

    def reserve(self, sender: str) -> float:
        """Take one send from the sender's budget and return 0.0, or return the
        seconds to wait when the budget is used up (nothing is taken then)."""
        key = address_key(sender)
        for _ in range(MAX_PACING_ATTEMPTS):
            try:
                return self._try_reserve(key)
            except (ResourceExistsError, ResourceModifiedError):
                continue
        return self._interval

    def _try_reserve(self, key: str) -> float:
        try:
            entity = self._table.get_entity(PACING_PARTITION, key)
        except ResourceNotFoundError:
            entity = None
        now = self._clock()
        tat = max(float(entity["tat"]), now) if entity else now
        # A full budget lets one minute's worth go at once; later sends follow
        # at one per interval.
        wait = tat - now - (60.0 - self._interval)
        if wait > 0:
            return wait
        row = {
            "PartitionKey": PACING_PARTITION,
            "RowKey": key,
            "tat": tat + self._interval,
        }
        if entity is None:
            self._table.create_entity(row)
        else:
            self._table.update_entity(
                row,
                mode="replace",
                etag=entity.metadata["etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        return 0.0
