"""PUT /api/settings/logo: images checked by content, size and pixel limits."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image

import function_app
from notifier.errors import InvalidLogo, LogoTooLarge, UnsupportedImageType
from notifier.logo import MAX_LOGO_BYTES, inspect_image
from tests.conftest import http_request, response_json
from verdicts.store import ReportStore


def image_bytes(
    fmt: str, size: tuple[int, int] = (120, 40), color=(200, 0, 200), **options
) -> bytes:
    """Encode a solid-colour image with Pillow, as an image editor would save it."""
    mode = "P" if fmt == "GIF" else "RGB"
    image = Image.new("RGB", size, color).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _put_logo(data: bytes, *, role: str = "settings_admin", content_type="image/png"):
    return function_app.put_logo(
        http_request(
            "PUT",
            "api/settings/logo",
            body=data,
            role=role,
            headers={"content-type": content_type},
        )
    )


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" '
    b'height="10"><script>alert(1)</script></svg>'
)


def _noise_png(width: int, height: int) -> bytes:
    """A PNG that barely compresses, to go over the byte limit with few pixels."""
    rows = b"".join(
        b"\x00" + bytes((x * 7919 + y * 104729) % 251 for x in range(width * 3))
        for y in range(height)
    )
    image = Image.frombytes("RGB", (width, height), rows[: width * height * 3])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=0)
    return buffer.getvalue()


class TestInspectImage:
    @pytest.mark.parametrize(
        ("fmt", "options", "content_type"),
        [
            ("PNG", {}, "image/png"),
            ("JPEG", {}, "image/jpeg"),
            ("JPEG", {"progressive": True}, "image/jpeg"),
            ("GIF", {}, "image/gif"),
        ],
    )
    def test_format_and_size_from_header(self, fmt, options, content_type):
        info = inspect_image(image_bytes(fmt, (321, 123), **options))
        assert info.content_type == content_type
        assert (info.width, info.height) == (321, 123)

    def test_svg_is_rejected(self):
        with pytest.raises(UnsupportedImageType, match="SVG images are not accepted"):
            inspect_image(SVG)

    def test_svg_without_xml_declaration_is_rejected(self):
        with pytest.raises(UnsupportedImageType, match="SVG"):
            inspect_image(b"\n  <svg xmlns='http://www.w3.org/2000/svg'/>")

    @pytest.mark.parametrize(
        "data", [b"", b"BM\x00\x00", b"%PDF-1.7\n", b"<html><body>x</body></html>"]
    )
    def test_other_content_is_rejected(self, data):
        with pytest.raises(UnsupportedImageType, match="not a PNG, JPEG or GIF"):
            inspect_image(data)

    def test_too_many_pixels_is_rejected(self):
        with pytest.raises(InvalidLogo) as caught:
            inspect_image(image_bytes("PNG", (1025, 10)))
        assert str(caught.value) == (
            "logo is 1025x10 pixels; width and height must be between 1 and 1024"
        )

    def test_declared_size_is_checked_not_decoded(self):
        # A PNG header claiming 60000x60000 pixels: the check must not decode it.
        png = bytearray(image_bytes("PNG", (2, 2)))
        png[16:24] = (60000).to_bytes(4, "big") * 2
        png[29:33] = zlib.crc32(bytes(png[12:29])).to_bytes(4, "big")
        with pytest.raises(InvalidLogo, match="60000x60000 pixels"):
            inspect_image(bytes(png))

    def test_too_many_bytes_is_rejected(self):
        data = _noise_png(300, 300)
        assert len(data) > MAX_LOGO_BYTES
        with pytest.raises(LogoTooLarge, match=f"the limit is {MAX_LOGO_BYTES} bytes"):
            inspect_image(data)

    @pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF"])
    def test_truncated_image_is_rejected(self, fmt):
        data = image_bytes(fmt)
        with pytest.raises(InvalidLogo, match="truncated"):
            inspect_image(data[: len(data) - 20])


class TestPutLogo:
    def test_upload_is_stored_and_shown(self, runtime):
        data = image_bytes("JPEG", (300, 100))
        # The declared type is wrong on purpose: the content decides.
        response = _put_logo(data, content_type="image/png")
        assert response.status_code == 200
        logo = response_json(response)
        assert logo["content_type"] == "image/jpeg"
        assert (logo["width"], logo["height"]) == (300, 100)
        assert logo["bytes"] == len(data)
        settings = response_json(
            function_app.get_notification_settings(
                http_request("GET", "api/settings/notifications")
            )
        )
        assert settings["logo"] == logo
        blob = runtime.storage.container("assets").download_blob(
            "organization-logo/" + logo["sha256"]
        )
        assert blob.readall() == data

    def test_upload_is_audited(self, runtime):
        _put_logo(image_bytes("GIF", (64, 64)))
        (entry,) = ReportStore(runtime.storage).audit_for("settings")
        assert entry["action"] == "logo"
        assert entry["actor"] == "alex@example.com"
        assert entry["content_type"] == "image/gif"
        assert (entry["width"], entry["height"]) == (64, 64)

    @pytest.mark.parametrize(
        ("data", "status"),
        [
            (SVG, 415),
            (b"GIF89a", 422),
            (b"", 415),
        ],
    )
    def test_rejected_upload_stores_nothing(self, runtime, data, status):
        response = _put_logo(data, content_type="image/svg+xml")
        assert response.status_code == status
        assert response_json(response)["field"] == "logo"
        assert (
            response_json(
                function_app.get_notification_settings(
                    http_request("GET", "api/settings/notifications")
                )
            )["logo"]
            is None
        )

    def test_oversized_upload_is_413(self, runtime):
        response = _put_logo(_noise_png(300, 300))
        assert response.status_code == 413

    @pytest.mark.parametrize("role", ["reader", "reviewer"])
    def test_only_settings_admin_may_upload(self, runtime, role):
        assert _put_logo(image_bytes("PNG"), role=role).status_code == 403
