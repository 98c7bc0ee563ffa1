"""The organization's logo: checking an uploaded image and keeping it in Blob Storage.

An upload is accepted only when its bytes are a complete PNG, JPEG or GIF image within
the size limits. The file name and the declared content type are ignored. SVG is
rejected because it can carry scripts and external references. Blobs are named by
their SHA-256, and old ones are kept, so a notification never refers to a half-written
or replaced image.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import ContentSettings

from notifier.errors import InvalidLogo, LogoTooLarge, UnsupportedImageType
from storage import Storage
from verdicts.store import ReportStore

# Every notification carries the logo as an inline part, base64-encoded.
MAX_LOGO_BYTES = 256 * 1024
MAX_LOGO_SIDE = 1024

SETTINGS_PARTITION = "notifications"
LOGO_ROW = "logo"
LOGO_BLOB_PREFIX = "organization-logo/"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"
# JPEG start-of-frame markers that carry the image size; C4, C8 and CC are other
# segments (ITU T.81 table B.1).
_JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE_MARKERS = frozenset(range(0xD0, 0xD8)) | {0x01}


@dataclass(frozen=True)
class ImageInfo:
    """Format and pixel size as the image's own header declares them."""

    content_type: str
    width: int
    height: int


@dataclass(frozen=True, kw_only=True)
class StoredLogo:
    """The current organization logo, as recorded in the ``settings`` table."""

    blob_name: str
    content_type: str
    width: int
    height: int
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str

    def to_json(self) -> dict[str, Any]:
        return {
            "content_type": self.content_type,
            "width": self.width,
            "height": self.height,
            "bytes": self.size,
            "sha256": self.sha256,
            "uploaded_at": self.uploaded_at.isoformat(),
            "uploaded_by": self.uploaded_by,
        }


def _png_info(data: bytes) -> ImageInfo:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise InvalidLogo("PNG image is invalid: the IHDR header is missing")
    if not data.endswith(_PNG_END):
        raise InvalidLogo("PNG image is truncated: the IEND chunk is missing")
    width, height = struct.unpack(">II", data[16:24])
    return ImageInfo("image/png", width, height)


def _gif_info(data: bytes) -> ImageInfo:
    if len(data) < 14:
        raise InvalidLogo("GIF image is invalid: the screen descriptor is missing")
    if not data.endswith(b";"):
        raise InvalidLogo("GIF image is truncated: the trailer byte is missing")
    width, height = struct.unpack("<HH", data[6:10])
    return ImageInfo("image/gif", width, height)


def _jpeg_info(data: bytes) -> ImageInfo:
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise InvalidLogo("JPEG image is truncated: the end-of-image marker is missing")
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise InvalidLogo(f"JPEG image is invalid: no marker at byte {position}")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _JPEG_STANDALONE_MARKERS:
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if marker in _JPEG_FRAME_MARKERS:
            if position + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return ImageInfo("image/jpeg", width, height)
        if marker in (0xD9, 0xDA) or length < 2:
            break
        position += 2 + length
    raise InvalidLogo("JPEG image is invalid: no frame header declares its size")


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def inspect_image(data: bytes) -> ImageInfo:
    """Return the format and size of a PNG, JPEG or GIF image within the limits.

    Raises LogoTooLarge, UnsupportedImageType or InvalidLogo, naming what is wrong
    and what is accepted.
    """
    if len(data) > MAX_LOGO_BYTES:
        raise LogoTooLarge(
            f"logo is {len(data)} bytes; the limit is {MAX_LOGO_BYTES} bytes"
        )
    if data.startswith(_PNG_SIGNATURE):
        info = _png_info(data)
    elif data.startswith((b"GIF87a", b"GIF89a")):
        info = _gif_info(data)
    elif data.startswith(b"\xff\xd8\xff"):
        info = _jpeg_info(data)
    elif _looks_like_svg(data):
        raise UnsupportedImageType(
            "SVG images are not accepted; upload a PNG, JPEG or GIF"
        )
    else:
        raise UnsupportedImageType("logo is not a PNG, JPEG or GIF image")
    if not (1 <= info.width <= MAX_LOGO_SIDE and 1 <= info.height <= MAX_LOGO_SIDE):
        raise InvalidLogo(
            f"logo is {info.width}x{info.height} pixels; width and height must be "
            f"between 1 and {MAX_LOGO_SIDE}"
        )
    return info


class LogoStore:
    """Logo bytes in the ``assets`` container, the current one in ``settings``."""

    def __init__(self, storage: Storage) -> None:
        self._container = storage.container("assets")
        self._table = storage.table("settings")

    def put(self, data: bytes, *, actor: str) -> StoredLogo:
        """Check ``data``, store it and make it the current logo.

        Raises InvalidLogo and stores nothing when the image is not accepted.
        """
        info = inspect_image(data)
        digest = hashlib.sha256(data).hexdigest()
        logo = StoredLogo(
            blob_name=LOGO_BLOB_PREFIX + digest,
            content_type=info.content_type,
            width=info.width,
            height=info.height,
            size=len(data),
            sha256=digest,
            uploaded_at=datetime.now(timezone.utc),
            uploaded_by=actor,
        )
        self._container.upload_blob(
            logo.blob_name,
            data,
            overwrite=True,
            content_settings=ContentSettings(content_type=info.content_type),
        )
        # The blob is complete before the row points at it.
        self._table.upsert_entity(
            {
                "PartitionKey": SETTINGS_PARTITION,
                "RowKey": LOGO_ROW,
                "blob_name": logo.blob_name,
                "content_type": logo.content_type,
                "width": logo.width,
                "height": logo.height,
                "size": logo.size,
                "sha256": logo.sha256,
                "uploaded_at": logo.uploaded_at,
                "uploaded_by": logo.uploaded_by,
            },
            mode="replace",
        )
        return logo

    def current(self) -> StoredLogo | None:
        try:
            entity = self._table.get_entity(SETTINGS_PARTITION, LOGO_ROW)
        except ResourceNotFoundError:
            return None
        return StoredLogo(
            blob_name=entity["blob_name"],
            content_type=entity["content_type"],
            width=int(entity["width"]),
            height=int(entity["height"]),
            size=int(entity["size"]),
            sha256=entity["sha256"],
            uploaded_at=entity["uploaded_at"],
            uploaded_by=entity["uploaded_by"],
        )

    def read(self, logo: StoredLogo) -> bytes | None:
        """Return the bytes of ``logo``, or None if its blob is gone."""
        try:
            return self._container.download_blob(logo.blob_name).readall()
        except ResourceNotFoundError:
            return None


def upload_logo(storage: Storage, data: bytes, *, actor: str) -> StoredLogo:
    """Store ``data`` as the organization logo and audit the upload."""
    logo = LogoStore(storage).put(data, actor=actor)
    ReportStore(storage).add_audit(
        subject="settings",
        action="logo",
        actor=actor,
        sha256=logo.sha256,
        content_type=logo.content_type,
        width=logo.width,
        height=logo.height,
        bytes=logo.size,
    )
    return logo
