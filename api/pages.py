"""What every HTML page the app serves shares: its Content-Security-Policy, its compression.

Pages run only the app's own script files and, on map pages, the inline scripts the renderer
wrote — each allowed by its SHA-256 in the policy, so a cached page keeps a valid policy and
no other inline script can run. Everything else is forbidden: inline event handlers
(``onerror=``), ``javascript:`` URLs, scripts from other hosts — so a text that slipped past
escaping still could not run. Styles may be inline (Leaflet positions with them); images may
come from tile servers over HTTPS; data is fetched from the app only.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence

from fastapi import Request, Response

from pages.assets import accepts_gzip, gzip_bytes

_INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S | re.I)


def content_security_policy(script_hashes: Sequence[str], frame_ancestors: str) -> str:
    """The policy of a page whose inline scripts have these ``'sha256-...'`` sources."""
    scripts = " ".join(("script-src 'self'", *(f"'{h}'" for h in script_hashes)))
    return "; ".join(
        (
            "default-src 'self'",
            scripts,
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob: https:",  # blob: a photo shrunk before it is sent
            "connect-src 'self'",
            "font-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        )
    )


def with_script_hashes(page: str, frame_ancestors: str) -> str:
    """The policy that lets exactly the inline scripts of ``page`` run (and the app's files)."""
    hashes = []
    for found in _INLINE_SCRIPT.finditer(page):
        if "src=" in found.group("attrs").lower():
            continue
        digest = hashlib.sha256(found.group("body").encode()).digest()
        hashes.append("sha256-" + base64.b64encode(digest).decode())
    return content_security_policy(sorted(set(hashes)), frame_ancestors)


def page_answer(
    request: Request,
    body: bytes,
    media: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A page or its data, gzip-compressed when the browser accepts it."""
    out = dict(headers or {})
    if len(body) > 512 and accepts_gzip(request.headers.get("accept-encoding", "")):
        body, out["Content-Encoding"] = gzip_bytes(body), "gzip"
    out["Vary"] = "Accept-Encoding"
    return Response(body, status_code=status, media_type=media, headers=out)
