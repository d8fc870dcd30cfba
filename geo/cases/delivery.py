"""Webhook delivery of the notifications outbox: signed JSON POSTs, retried with backoff.

A union connects its SMS or WeChat Work gateway by giving yizhan a URL and a shared secret.
Each notification is POSTed as JSON to every URL with ``X-Yizhan-Signature: sha256=<hex>``
(HMAC-SHA256 of the body with the secret), ``X-Yizhan-Event`` (its kind) and
``X-Yizhan-Delivery`` (its id, for the receiver to drop repeats). Until every URL answered
2xx the notification stays in the outbox and is tried again after 30 s, 1, 2, 4... minutes (at
most an hour apart); several processes deliver side by side. A deliverer first *claims* the
rows it will send (their next attempt moved past the time it may take, committed at once), then
posts them with no row locked — a slow or silent receiver never holds up the workbench — and
records each outcome in a transaction of its own. A deliverer that stops half-way leaves its
claims to expire: nothing is lost, a receiver may see a delivery twice (drop repeats by id).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine

from geo.cases.notify import REPORTER_UPDATE
from geo.db import workbench as wb
from geo.hours import utc_iso

FIRST_RETRY_S = 30.0
MAX_RETRY_S = 3600.0


def retry_delay(attempts: int) -> timedelta:
    """How long after the ``attempts``-th failure to try again (doubling, at most an hour)."""
    return timedelta(seconds=min(FIRST_RETRY_S * 2 ** max(attempts - 1, 0), MAX_RETRY_S))


def signature(secret: str, body: bytes) -> str:
    """The ``X-Yizhan-Signature`` header value of a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(row: dict[str, Any]) -> bytes:
    """The JSON body of one notification."""
    data = row.get("data") or {}
    body = {
        "id": row["id"],
        "kind": row["kind"],
        "at": utc_iso(row["at"]),
        "case_id": row["case_id"],
        "reference": data.get("reference"),
        "audience": row["audience"],
        "member_id": row["member_id"],
        "town_id": row["town_id"],
        "district_id": row["district_id"],
        "message": row["message"],
        "message_en": data.get("en"),
    }
    if row["kind"] == REPORTER_UPDATE:  # the reporter's contact: only in the signed body
        body["reporter_contact"] = data.get("reporter_contact")
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def deliver_due(
    engine: Engine,
    urls: Sequence[str],
    secret: str,
    *,
    now: datetime | None = None,
    batch: int = 20,
    timeout_s: float = 5.0,
) -> tuple[int, int]:
    """Deliver the notifications that are due; how many were delivered and how many failed.

    Each POST has ``timeout_s`` to connect and as long again for each read and write.
    """
    when = now or datetime.now(UTC)
    # a claim outlasts the worst case of the batch: every POST to every URL timing out twice
    lease = when + timedelta(seconds=60 + 4 * timeout_s * batch * max(len(urls), 1))
    with engine.begin() as conn:
        rows = wb.claim_deliveries(conn, when, batch, lease)
    delivered = failed = 0
    timeout = httpx.Timeout(timeout_s, connect=timeout_s)
    with httpx.Client(timeout=timeout) as client:
        for row in rows:
            errors = _post(client, urls, secret, row)
            with engine.begin() as conn:
                if errors:
                    retry = when + retry_delay(int(row["attempts"]) + 1)
                    wb.delivery_failed(conn, row["id"], retry, "; ".join(errors))
                    failed += 1
                else:
                    wb.delivery_done(conn, row["id"], when)
                    delivered += 1
    return delivered, failed


def _post(client: httpx.Client, urls: Sequence[str], secret: str, row: dict[str, Any]) -> list[str]:
    """POST one notification to every URL; what went wrong, per URL."""
    body = payload(row)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Yizhan-Event": row["kind"],
        "X-Yizhan-Delivery": str(row["id"]),
        "X-Yizhan-Signature": signature(secret, body),
    }
    errors = []
    for url in urls:
        try:
            answer = client.post(url, content=body, headers=headers)
            if not answer.is_success:
                errors.append(f"{url}: HTTP {answer.status_code}")
        except httpx.HTTPError as exc:
            errors.append(f"{url}: {type(exc).__name__}")
    return errors
