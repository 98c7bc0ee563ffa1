"""HTTP handlers of the portal: its static files and the caller's identity."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import azure.functions as func

from verdicts.http import (
    HttpProblem,
    Role,
    json_response,
    problem_response,
    require_role,
)

STATIC_DIR = Path(__file__).resolve().parent / "static"

# Page paths and the file each serves; any other path must name a file in STATIC_DIR.
PAGES = {
    "": "index.html",
    "campaigns": "campaigns.html",
    "settings": "settings.html",
}

# Scripts and styles come only from the app's own files, so markup that reaches a page
# by mistake cannot run code or restyle it. Data from reports is set as text as well.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "frame-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
# The settings page shows the rendered email in a sandboxed frame of its own, so the
# email keeps its inline styles. Only the frame's own script runs there. Forms and
# navigation stay blocked, and the sandbox keeps the frame out of the portal's origin.
PREVIEW_FRAME = "preview-frame.html"
PREVIEW_FRAME_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'unsafe-inline'",
            "img-src data:",
            "form-action 'none'",
            "frame-ancestors 'self'",
            "base-uri 'none'",
            "sandbox allow-scripts",
        )
    ),
    "X-Frame-Options": "SAMEORIGIN",
}
MEDIA_TYPES = {
    ".html": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
}


@lru_cache(maxsize=1)
def static_files() -> dict[str, Path]:
    """Map each servable file name to its path; subfolders are never served."""
    return {
        path.name: path
        for path in STATIC_DIR.iterdir()
        if path.is_file() and path.suffix in MEDIA_TYPES
    }


def _file_for(path: str) -> Path | None:
    name = PAGES.get(path.strip("/"), path.strip("/"))
    return static_files().get(name)


def is_portal_request(req: func.HttpRequest) -> bool:
    """Tell whether a request that no API route took is for the portal.

    The portal has only GET (and HEAD) pages and files, and nothing under ``api/``.
    """
    path = req.route_params.get("path") or ""
    first_segment = path.strip("/").split("/", 1)[0].lower()
    return req.method.upper() in ("GET", "HEAD") and first_segment != "api"


def serve_portal(req: func.HttpRequest) -> func.HttpResponse:
    """Serve a portal page or file, or a plain 404."""
    file = _file_for(req.route_params.get("path") or "")
    if file is None:
        return func.HttpResponse(
            "Not found",
            status_code=404,
            mimetype="text/plain",
            headers=SECURITY_HEADERS,
        )
    media_type = MEDIA_TYPES[file.suffix]
    headers = PREVIEW_FRAME_HEADERS if file.name == PREVIEW_FRAME else SECURITY_HEADERS
    return func.HttpResponse(
        file.read_bytes(),
        status_code=200,
        mimetype=media_type,
        charset="utf-8",
        headers=headers,
    )


def who_am_i(req: func.HttpRequest) -> func.HttpResponse:
    """Return the caller's name and role, so the portal shows only what they may do."""
    try:
        principal = require_role(req, Role.READER)
    except HttpProblem as problem:
        return problem_response(problem)
    return json_response({"name": principal.name, "role": principal.role.name.lower()})
