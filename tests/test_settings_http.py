"""The settings routes over HTTP through the dev host, as a portal calls them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.test_logo import image_bytes


@pytest.fixture
def base_url(runtime, monkeypatch):
    from devhost.app import DevHost
    from runtime import reset_runtime

    monkeypatch.setenv("REPORTBACK_LOCAL_ROLE", "settings_admin")
    reset_runtime()
    host = DevHost(port=0, seed=False)
    host.start()
    yield f"http://127.0.0.1:{host.port}/api/settings"
    host.stop()


def _call(method: str, url: str, body: bytes | None = None, **headers: str):
    headers = {"X-Requested-With": "test", **headers}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_logo_settings_and_preview_over_http(base_url):
    logo = image_bytes("GIF", (40, 40))
    status, _, body = _call(
        "PUT", f"{base_url}/logo", logo, **{"Content-Type": "image/gif"}
    )
    assert status == 200
    assert json.loads(body)["content_type"] == "image/gif"

    status, headers, _ = _call("GET", f"{base_url}/notifications")
    assert status == 200
    settings = json.dumps({"use_organization_logo": True}).encode()
    status, _, body = _call(
        "PUT",
        f"{base_url}/notifications",
        settings,
        **{"Content-Type": "application/json", "If-Match": headers["ETag"]},
    )
    assert status == 200
    assert json.loads(body)["use_organization_logo"] is True

    request = json.dumps({"verdict": "spam"}).encode()
    status, _, body = _call(
        "POST",
        f"{base_url}/notifications/preview",
        request,
        **{"Content-Type": "application/json"},
    )
    assert status == 200
    assert 'src="data:image/gif;base64,' in json.loads(body)["html"]
