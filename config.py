"""Reportback's settings, read from environment variables in one place.

Every variable the code reads is declared in ``SETTINGS``; ``local.settings.sample.json``,
``infra/main.bicep`` and the README's settings table list the same names.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

AZURITE_CONNECTION_STRING = "UseDevelopmentStorage=true"

# name -> (default, description). A default of None means the setting is optional.
SETTINGS: dict[str, tuple[str | None, str]] = {
    "AzureWebJobsStorage": (
        AZURITE_CONNECTION_STRING,
        "Storage connection string (Azurite locally). In Azure the app uses "
        "AzureWebJobsStorage__accountName and its managed identity instead.",
    ),
    "AzureWebJobsStorage__accountName": (
        None,
        "Storage account reached by managed identity; wins over the connection string.",
    ),
    "REPORTBACK_STORAGE_PREFIX": (
        "",
        "Prefix for every table, queue and container name, so that test runs can "
        "share one Azurite. Leave empty in Azure: the queue trigger binds to "
        "'notifications'.",
    ),
    "REPORTBACK_MAILBOX_DIR": (
        ".local/mailbox",
        "Root of the folder mailbox: reports are read from inbox/, notifications "
        "are written to outbox/. Used when REPORTBACK_REPORTING_MAILBOX is empty.",
    ),
    "REPORTBACK_REPORTING_MAILBOX": (
        None,
        "Address of the Exchange Online reporting mailbox. Set it to read reports "
        "and send notifications through Microsoft Graph.",
    ),
    "REPORTBACK_GRAPH_BASE_URL": (
        "https://graph.microsoft.com/v1.0",
        "Microsoft Graph endpoint. A loopback http URL means a local Graph "
        "stand-in, and no token is sent.",
    ),
    "REPORTBACK_SENDS_PER_MINUTE": (
        "30",
        "Messages a minute that one sender mailbox may send through Graph; "
        "Exchange Online allows 30. Further notifications wait in the queue.",
    ),
    "REPORTBACK_SAVE_TO_SENT_ITEMS": (
        "false",
        "true to keep a copy of each notification in the sender mailbox's Sent "
        "Items (Graph only).",
    ),
    "REPORTBACK_DEFAULT_SENDER": (
        "reportback@example.com",
        "Mailbox notifications are sent from when no custom sender is configured.",
    ),
    "REPORTBACK_ACCEPTED_DOMAINS": (
        "example.com",
        "Comma-separated domains of the organization; a custom sender must be in one.",
    ),
    "REPORTBACK_POLL_SCHEDULE": (
        "0 */1 * * * *",
        "NCRONTAB schedule of the mailbox poll in Azure (the timer trigger's "
        "binding reads it); the dev host uses REPORTBACK_POLL_SECONDS instead.",
    ),
    "REPORTBACK_POLL_SECONDS": (
        "10",
        "Seconds between two polls of the reporting mailbox by the dev host.",
    ),
    "REPORTBACK_LOCAL_ROLE": (
        "settings_admin",
        "Role the dev host gives every local request: reader, reviewer or "
        "settings_admin.",
    ),
    "APPLICATIONINSIGHTS_CONNECTION_STRING": (
        None,
        "Application Insights connection string. When set, the app exports traces "
        "and metrics through azure-monitor-opentelemetry; empty turns that off.",
    ),
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": (
        None,
        "Authorization=AAD makes the Functions host and the app's exporter sign in "
        "to Application Insights with the managed identity instead of a key.",
    ),
}


class ConfigError(ValueError):
    """A setting is missing or invalid."""


@dataclass(frozen=True, kw_only=True)
class Config:
    """Settings of one running app, built by ``load_config``."""

    storage_connection_string: str
    storage_account_name: str | None
    storage_prefix: str
    mailbox_dir: Path
    reporting_mailbox: str | None
    graph_base_url: str
    sends_per_minute: int
    save_to_sent_items: bool
    default_sender: str
    accepted_domains: tuple[str, ...]
    poll_seconds: float
    local_role: str
    telemetry_connection_string: str | None = None

    @property
    def uses_graph(self) -> bool:
        return bool(self.reporting_mailbox)


def _read(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value is None or value.strip() == "":
        return SETTINGS[name][0]
    return value.strip()


def is_loopback_http(url: str) -> bool:
    """Return whether ``url`` is plain http to this machine: a local Graph stand-in."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _read_sends_per_minute(environ: Mapping[str, str]) -> int:
    value = _read(environ, "REPORTBACK_SENDS_PER_MINUTE") or ""
    if not value.isdigit() or not 1 <= int(value) <= 10000:
        raise ConfigError(
            f"REPORTBACK_SENDS_PER_MINUTE={value!r} is invalid: expected a whole "
            "number from 1 to 10000"
        )
    return int(value)


def _read_bool(environ: Mapping[str, str], name: str) -> bool:
    value = (_read(environ, name) or "").lower()
    if value not in ("true", "false"):
        raise ConfigError(f"{name}={value!r} is invalid: expected true or false")
    return value == "true"


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Build a ``Config`` from ``environ`` (default ``os.environ``).

    Raises ConfigError naming the variable whose value is invalid.
    """
    env = os.environ if environ is None else environ
    prefix = _read(env, "REPORTBACK_STORAGE_PREFIX") or ""
    if prefix and not (prefix.isascii() and prefix.isalnum() and prefix.islower()):
        raise ConfigError(
            f"REPORTBACK_STORAGE_PREFIX={prefix!r} is invalid: use lowercase letters "
            "and digits only"
        )
    poll = _read(env, "REPORTBACK_POLL_SECONDS") or "10"
    try:
        poll_seconds = float(poll)
    except ValueError:
        poll_seconds = -1.0
    if poll_seconds <= 0:
        raise ConfigError(
            f"REPORTBACK_POLL_SECONDS={poll!r} is invalid: expected a positive number"
        )
    role = _read(env, "REPORTBACK_LOCAL_ROLE") or ""
    if role not in ("reader", "reviewer", "settings_admin"):
        raise ConfigError(
            f"REPORTBACK_LOCAL_ROLE={role!r} is invalid: expected reader, reviewer "
            "or settings_admin"
        )
    domains = _read(env, "REPORTBACK_ACCEPTED_DOMAINS") or ""
    graph_base_url = (_read(env, "REPORTBACK_GRAPH_BASE_URL") or "").rstrip("/")
    if not (graph_base_url.startswith("https://") or is_loopback_http(graph_base_url)):
        raise ConfigError(
            f"REPORTBACK_GRAPH_BASE_URL={graph_base_url!r} is invalid: expected "
            "https://host/version, or http://127.0.0.1:port/version for a local "
            "stand-in"
        )
    return Config(
        storage_connection_string=_read(env, "AzureWebJobsStorage") or "",
        storage_account_name=_read(env, "AzureWebJobsStorage__accountName"),
        storage_prefix=prefix,
        mailbox_dir=Path(_read(env, "REPORTBACK_MAILBOX_DIR") or ".local/mailbox"),
        reporting_mailbox=_read(env, "REPORTBACK_REPORTING_MAILBOX"),
        graph_base_url=graph_base_url,
        sends_per_minute=_read_sends_per_minute(env),
        save_to_sent_items=_read_bool(env, "REPORTBACK_SAVE_TO_SENT_ITEMS"),
        default_sender=_read(env, "REPORTBACK_DEFAULT_SENDER") or "",
        accepted_domains=tuple(
            d.strip().lower() for d in domains.split(",") if d.strip()
        ),
        poll_seconds=poll_seconds,
        local_role=role,
        telemetry_connection_string=_read(env, "APPLICATIONINSIGHTS_CONNECTION_STRING"),
    )
