"""Export the app's traces and metrics to Application Insights.

Only when ``APPLICATIONINSIGHTS_CONNECTION_STRING`` is set: azure-monitor-opentelemetry
is imported at that point, so local runs and tests that leave the setting empty never
load it. Log records are not exported here, because the Functions host already sends
what the Python worker logs to the same Application Insights resource, and exporting
them here too would store every line twice.
"""

from __future__ import annotations

import logging
import threading

from config import Config

logger = logging.getLogger(__name__)

_lock = threading.Lock()
# OpenTelemetry's tracer and meter providers are global to the process, and
# configure_azure_monitor must run at most once per process.
_configured = False


def configure_telemetry(config: Config) -> bool:
    """Start exporting when a connection string is set; return whether export runs."""
    global _configured
    if not config.telemetry_connection_string:
        return False
    with _lock:
        if _configured:
            return True
        from azure.monitor.opentelemetry import configure_azure_monitor

        # The exporter reads APPLICATIONINSIGHTS_AUTHENTICATION_STRING itself and
        # signs in with the managed identity when it is Authorization=AAD.
        configure_azure_monitor(
            connection_string=config.telemetry_connection_string,
            disable_logging=True,
        )
        _configured = True
    logger.info("telemetry export to Application Insights started")
    return True
