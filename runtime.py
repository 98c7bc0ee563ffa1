"""The objects one running app shares between invocations, built on first use.

Functions reuse a worker process across invocations, so clients are created once per
process rather than per call. Tests call ``reset_runtime`` after changing settings.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property

from config import Config, load_config
from storage import Storage, open_storage
from telemetry import configure_telemetry


@dataclass
class Runtime:
    config: Config
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def storage(self) -> Storage:
        storage = open_storage(self.config)
        storage.create_all()
        return storage

    @cached_property
    def mailbox(self):
        """The folder mailbox, or the Graph mailbox when a reporting mailbox is set."""
        if self.config.uses_graph:
            from mailboxes.graph import GraphMailbox

            return GraphMailbox.from_config(self.config, self.storage)
        from mailboxes.folder import FolderMailbox

        return FolderMailbox(self.config.mailbox_dir)

    @cached_property
    def graph_client(self):
        """The Graph client for submissions to Microsoft; None without Graph."""
        if not self.config.uses_graph:
            return None
        from mailboxes.graphclient import GraphClient

        return GraphClient(self.config.graph_base_url)


_current: Runtime | None = None
_current_lock = threading.Lock()


def get_runtime() -> Runtime:
    global _current
    with _current_lock:
        if _current is None:
            _current = Runtime(load_config())
            configure_telemetry(_current.config)
        return _current


def reset_runtime() -> None:
    """Forget the current runtime so the next call reads the settings again."""
    global _current
    with _current_lock:
        _current = None
