"""What every HTML page the app serves shares: its Content-Security-Policy.

Pages carry only the app's own scripts and the page's inline scripts marked with a nonce
made for this one answer; the policy forbids every other script — inline event handlers
(``onerror=``), ``javascript:`` URLs and scripts from other hosts — so a text that slipped
past escaping still could not run. Styles may be inline (Leaflet positions with them);
images may come from tile servers over HTTPS; data is fetched from the app only.
"""

from __future__ import annotations

import re
import secrets

_SCRIPT_TAG = re.compile(r"<script(?=[\s>])", re.IGNORECASE)


def content_security_policy(nonce: str | None, frame_ancestors: str) -> str:
    """The policy of a page whose inline scripts carry ``nonce`` (None: no inline script)."""
    scripts = f"script-src 'self' 'nonce-{nonce}'" if nonce else "script-src 'self'"
    return "; ".join(
        (
            "default-src 'self'",
            scripts,
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: https:",
            "connect-src 'self'",
            "font-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        )
    )


def with_nonce(page: str, frame_ancestors: str) -> tuple[str, str]:
    """``page`` with a fresh nonce on each of its ``<script>`` tags, and the matching policy.

    The page must be rendered from escaped data (no text can open a tag of its own); the
    nonce marks the scripts the renderer wrote.
    """
    nonce = secrets.token_urlsafe(16)
    return _SCRIPT_TAG.sub(f'<script nonce="{nonce}"', page), content_security_policy(
        nonce, frame_ancestors
    )
