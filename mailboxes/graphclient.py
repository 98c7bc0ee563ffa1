"""A synchronous front for msgraph-sdk, shared by the Graph mailbox and submissions.

The SDK is async, and the Functions app calls it from synchronous functions. Each
``GraphClient`` owns one event loop and runs every call on it under a lock, so the
SDK's httpx connections always stay on the loop that opened them.

Importing this module imports ``msgraph`` (about a quarter of a second), so the
Functions app imports it only when a Graph feature is first used.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import (
    AnonymousAuthenticationProvider,
    AuthenticationProvider,
)
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.middleware.options import RetryHandlerOption
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_core import GraphClientFactory

from config import is_loopback_http
from mailboxes.errors import GraphRequestError

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT_SECONDS = 30.0
_ERROR_MAPPING = {"XXX": ODataError}


def check_base_url(url: str) -> None:
    """Raise ValueError unless ``url`` is https, or http to a loopback address."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if is_loopback_http(url):
        return
    raise ValueError(
        f"Graph base URL {url!r} is invalid: expected https://host/version, or "
        "http://127.0.0.1:port/version for a local stand-in"
    )


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Return the seconds a Retry-After value requests (RFC 9110 section 10.2.3).

    It is either a number of seconds or an HTTP date; None when absent or invalid.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def graph_request_error(operation: str, error: Exception) -> GraphRequestError:
    """Describe an SDK or transport error as a GraphRequestError."""
    if isinstance(error, httpx.TimeoutException):
        return GraphRequestError(
            operation,
            status=None,
            code="Timeout",
            detail=f"request timed out ({type(error).__name__})",
        )
    if isinstance(error, httpx.TransportError):
        return GraphRequestError(
            operation,
            status=None,
            code="ConnectionError",
            detail=f"{type(error).__name__}: {error}",
        )
    assert isinstance(error, APIError)
    code, detail = "", error.message or ""
    main = getattr(error, "error", None)
    if main is not None:
        code = main.code or ""
        detail = main.message or detail
    headers = error.response_headers or {}
    retry_after = parse_retry_after(
        headers.get("retry-after") or headers.get("Retry-After")
    )
    return GraphRequestError(
        operation,
        status=error.response_status_code,
        code=code or "UnknownError",
        detail=detail or "the response has no error message",
        retry_after=retry_after,
    )


class GraphClient:
    """msgraph-sdk's ``GraphServiceClient`` on a private event loop.

    ``credential`` is an azure-identity credential; by default
    ``DefaultAzureCredential`` (the managed identity in Azure). For a loopback http
    ``base_url`` with no credential, requests carry no token at all.
    """

    def __init__(
        self,
        base_url: str,
        *,
        credential: Any | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_retries: int = 0,
    ) -> None:
        check_base_url(base_url)
        self.base_url = base_url.rstrip("/")
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._credential = credential
        # The SDK's retry handler sleeps inside the call for as long as Retry-After
        # requests (up to 180 s in kiota-http 1.16). It is off by default, because
        # callers hand the work back to a queue or the next poll instead.
        retry = RetryHandlerOption(
            delay=0, max_retries=max_retries, should_retry=max_retries > 0
        )
        http = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(timeout=httpx.Timeout(timeout_seconds)),
            options={RetryHandlerOption.get_key(): retry},
        )
        adapter = GraphRequestAdapter(self._auth_provider(), client=http)
        adapter.base_url = self.base_url
        self.adapter = adapter
        self.sdk = GraphServiceClient(request_adapter=adapter)

    def _auth_provider(self) -> AuthenticationProvider:
        if self._credential is None and is_loopback_http(self.base_url):
            return AnonymousAuthenticationProvider()
        if self._credential is None:
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
        host = urlsplit(self.base_url).hostname or ""
        # Tokens go only to the configured Graph host, never to a host named in a
        # link that a response contains.
        return AzureIdentityAuthenticationProvider(
            self._credential, allowed_hosts=[host]
        )

    def call(self, operation: str, make: Callable[[], Awaitable[T]]) -> T:
        """Run the coroutine ``make()`` returns; raise GraphRequestError on failure.

        A 401 is retried once, because the second attempt requests a token from the
        credential again, and azure-identity renews one that expired.
        """
        for attempt in (1, 2):
            try:
                with self._lock:
                    return self._loop.run_until_complete(make())
            except (APIError, httpx.TransportError) as error:
                failure = graph_request_error(operation, error)
                if failure.status != 401 or attempt == 2:
                    raise failure from error
            logger.info("Graph %s got 401; retrying once with a new token", operation)
        raise AssertionError("unreachable")

    def get_bytes(self, operation: str, url: str) -> bytes:
        """GET an absolute Graph ``url`` and return the response body."""
        return self.call(operation, lambda: self._send_raw(Method.GET, url))

    def post_json(self, operation: str, url: str, data: dict[str, Any]) -> Any:
        """POST ``data`` as JSON to an absolute Graph ``url``; return the parsed response."""
        body = json.dumps(data).encode()
        raw = self.call(operation, lambda: self._send_raw(Method.POST, url, body))
        return json.loads(raw) if raw else None

    def get_json(self, operation: str, url: str) -> Any:
        raw = self.get_bytes(operation, url)
        return json.loads(raw) if raw else None

    async def _send_raw(
        self, method: Method, url: str, body: bytes | None = None
    ) -> bytes:
        info = RequestInformation(method)
        info.url = url
        info.headers.try_add("Accept", "application/json")
        if body is not None:
            info.set_stream_content(body, "application/json")
        data = await self.adapter.send_primitive_async(info, "bytes", _ERROR_MAPPING)
        return data or b""

    def same_host(self, url: str) -> bool:
        """Return whether ``url`` points at the configured Graph scheme and host."""
        mine, theirs = urlsplit(self.base_url), urlsplit(url)
        return (mine.scheme, mine.netloc) == (theirs.scheme, theirs.netloc)

    def close(self) -> None:
        with self._lock:
            http = self.adapter._http_client
            self._loop.run_until_complete(http.aclose())
            self._loop.close()
