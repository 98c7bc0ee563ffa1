"""Clients for the tables, queues and blob containers Reportback uses.

Names are fixed, with an optional prefix (``REPORTBACK_STORAGE_PREFIX``) so that test
runs can share one storage account without seeing each other's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableClient, TableServiceClient
from azure.storage.blob import BlobServiceClient, ContainerClient
from azure.storage.queue import (
    QueueClient,
    QueueServiceClient,
    TextBase64DecodePolicy,
    TextBase64EncodePolicy,
)

from config import Config

TABLES = ("reports", "audit", "deliveries", "settings", "state")
# The Functions host moves a queue's failed messages to "<queue>-poison", the
# poison handler's own included.
QUEUES = ("notifications", "notifications-poison", "notifications-poison-poison")
# "locks" contains the blobs whose leases keep timer runs from overlapping.
CONTAINERS = ("raw-reports", "assets", "locks")


@dataclass
class Storage:
    """Service clients plus the prefixed names of every table, queue and container."""

    tables: TableServiceClient
    queues: QueueServiceClient
    blobs: BlobServiceClient
    prefix: str = ""
    _table_clients: dict[str, TableClient] = field(default_factory=dict)

    def table(self, name: str) -> TableClient:
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}; expected one of {TABLES}")
        client = self._table_clients.get(name)
        if client is None:
            client = self.tables.get_table_client(self.prefix + name)
            self._table_clients[name] = client
        return client

    def queue(self, name: str) -> QueueClient:
        """Return a queue client that writes and reads base64 text.

        The Functions queue trigger expects base64 message text by default
        (``host.json`` ``extensions.queues.messageEncoding``).
        """
        if name not in QUEUES:
            raise KeyError(f"unknown queue {name!r}; expected one of {QUEUES}")
        return self.queues.get_queue_client(
            self.prefix + name,
            message_encode_policy=TextBase64EncodePolicy(),
            message_decode_policy=TextBase64DecodePolicy(),
        )

    def container(self, name: str) -> ContainerClient:
        if name not in CONTAINERS:
            raise KeyError(f"unknown container {name!r}; expected one of {CONTAINERS}")
        return self.blobs.get_container_client(self.prefix + name)

    def create_all(self) -> None:
        """Create every table, queue and container that does not exist yet."""
        for name in TABLES:
            self.tables.create_table_if_not_exists(self.prefix + name)
        for name in QUEUES:
            try:
                self.queues.create_queue(self.prefix + name)
            except ResourceExistsError:
                pass
        for name in CONTAINERS:
            try:
                self.blobs.create_container(self.prefix + name)
            except ResourceExistsError:
                pass


def open_storage(config: Config) -> Storage:
    """Build clients from the connection string or, in Azure, the managed identity."""
    if config.storage_account_name:
        from azure.identity import DefaultAzureCredential

        account = config.storage_account_name
        credential = DefaultAzureCredential()
        return Storage(
            tables=TableServiceClient(
                f"https://{account}.table.core.windows.net", credential=credential
            ),
            queues=QueueServiceClient(
                f"https://{account}.queue.core.windows.net", credential=credential
            ),
            blobs=BlobServiceClient(
                f"https://{account}.blob.core.windows.net", credential=credential
            ),
            prefix=config.storage_prefix,
        )
    connection = config.storage_connection_string
    return Storage(
        tables=TableServiceClient.from_connection_string(connection),
        queues=QueueServiceClient.from_connection_string(connection),
        blobs=BlobServiceClient.from_connection_string(connection),
        prefix=config.storage_prefix,
    )
