"""A blob lease that keeps two polls of the reporting mailbox from overlapping.

The Functions host already runs one timer invocation at a time per app, but the
dev host, a second app on the same storage or a slow run that outlasts its
schedule would not. The poll that holds the lease on the ``intake-poll`` blob
runs, and any other poll skips its run. A lease that is not renewed expires, so
a crashed poll blocks the next ones for at most LEASE_SECONDS.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.storage.blob import BlobClient, BlobLeaseClient

from storage import Storage

logger = logging.getLogger(__name__)

LEASE_BLOB = "intake-poll"
# Azure Blob Storage accepts leases of 15 to 60 seconds, or infinite ones.
LEASE_SECONDS = 60
RENEW_AFTER_SECONDS = 20


class PollLease:
    """The held lease; ``keep`` renews it once a third of its time has passed."""

    def __init__(self, client: BlobLeaseClient) -> None:
        self._client = client
        self._renewed_at = time.monotonic()

    def keep(self) -> None:
        """Renew the lease when due; raise HttpResponseError when it was lost."""
        if time.monotonic() - self._renewed_at < RENEW_AFTER_SECONDS:
            return
        self._client.renew()
        self._renewed_at = time.monotonic()

    def release(self) -> None:
        try:
            self._client.release()
        except HttpResponseError as error:
            # Lost already (expired and taken): nothing to give back.
            logger.debug("poll lease not released: %s", error)


def _lease_blob(storage: Storage) -> BlobClient:
    blob = storage.container("locks").get_blob_client(LEASE_BLOB)
    try:
        blob.upload_blob(b"", overwrite=False)
    except ResourceExistsError:
        pass
    return blob


@contextlib.contextmanager
def poll_lease(storage: Storage) -> Iterator[PollLease | None]:
    """Hold the poll lease for the block; yield None when another poll holds it."""
    blob = _lease_blob(storage)
    try:
        client = blob.acquire_lease(lease_duration=LEASE_SECONDS)
    except HttpResponseError as error:
        if error.status_code != 409:
            raise
        yield None
        return
    lease = PollLease(client)
    try:
        yield lease
    finally:
        lease.release()
