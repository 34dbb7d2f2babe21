"""FastAPI dependencies that verify webhooks before your handler runs.

    from fastapi import Depends, FastAPI
    from webhook_signature.fastapi import VerifiedDelivery, WebhookVerifier

    verified = WebhookVerifier("whsec_...", max_body=1 << 20)

    @app.post("/webhooks")
    async def receive(delivery: VerifiedDelivery = Depends(verified)) -> Response: ...

Each dependency answers, without calling the handler: 400 for missing or
malformed headers, 401 for a stale or unauthentic delivery, 413 for a body over
``max_body`` (refused on ``Content-Length`` before reading, and cut off as it
streams in), and 503 when a dynamic delivery's keys cannot be fetched. The
response bodies never say which check failed; the reason goes to the logger
``webhook_signature`` at DEBUG.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from webhook_signature._errors import WebhookVerificationError
from webhook_signature._webhook_signature import GOOGLE_JWKS_URL, Delivery, Receiver, Webhook

__all__ = ["GeminiDelivery", "GeminiVerifier", "VerifiedDelivery", "WebhookVerifier"]

log = logging.getLogger("webhook_signature")

#: Codes answered 400: what a well-behaved sender never sends.
MALFORMED = frozenset({"MissingHeader", "InvalidHeader", "InvalidTimestamp"})
#: Codes answered 503, so the sender retries.
UNAVAILABLE = frozenset({"KeysUnavailable"})
_NAMES = (("webhook-id", "svix-id"), ("webhook-timestamp", "svix-timestamp"), ("webhook-signature", "svix-signature"))


@dataclass(frozen=True)
class _Verified:
    """What every verified delivery has: its id (deduplicate on it), timestamp and raw body."""

    id: str
    timestamp: int
    body: bytes

    def json(self) -> Any:
        """The body, parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class VerifiedDelivery(_Verified):
    """A verified Standard Webhooks delivery."""

    #: The index of the secret that matched (0: the current one).
    key: int


@dataclass(frozen=True)
class GeminiDelivery(_Verified):
    """A verified Gemini delivery: the raw body and what the receiver found."""

    #: Mode, key or kid, what was authenticated, and the typed event.
    delivery: Delivery


def _reject(status: int, reason: str) -> HTTPException:
    log.debug("webhook rejected (%s): %s", status, reason)
    phrase = {400: "Bad Request", 401: "Unauthorized", 413: "Payload Too Large", 503: "Service Unavailable"}
    return HTTPException(status_code=status, detail=phrase[status])


def _status(error: WebhookVerificationError) -> int:
    if error.code in MALFORMED:
        return 400
    return 503 if error.code in UNAVAILABLE else 401


def _header(request: Request, names: tuple[str, str]) -> str | None:
    headers = request.headers
    return headers.get(names[0]) or headers.get(names[1])


def _check_headers(request: Request, max_body: int, tolerance: int | None) -> None:
    """Everything the headers tell, before a byte of the body is read."""
    values = [_header(request, names) for names in _NAMES]
    if not all(values):
        raise _reject(400, "a webhook header is missing")
    timestamp = values[1] or ""
    if not timestamp.isascii() or not timestamp.isdigit():
        raise _reject(400, "webhook-timestamp is not a number of seconds")
    if tolerance is not None and abs(time.time() - int(timestamp)) > tolerance:
        raise _reject(401, "webhook-timestamp outside the tolerance")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise _reject(400, "invalid Content-Length")
        if int(declared) > max_body:
            raise _reject(413, "Content-Length over max_body")


async def _read(request: Request, max_body: int) -> bytes:
    """The body as it streams in, cut off as soon as it passes ``max_body``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            raise _reject(413, "body over max_body")
        chunks.append(chunk)
    return b"".join(chunks)


class WebhookVerifier:
    """A FastAPI dependency for Standard Webhooks: ``Depends(WebhookVerifier(secret))``."""

    def __init__(
        self, secret_or_secrets: str | bytes | Sequence[str | bytes], *, max_body: int = 1 << 20, tolerance: int = 300
    ) -> None:
        self._webhook = Webhook(secret_or_secrets, tolerance=tolerance)
        self.max_body = max_body
        self.tolerance = tolerance

    async def __call__(self, request: Request) -> VerifiedDelivery:
        _check_headers(request, self.max_body, self.tolerance)
        body = await _read(request, self.max_body)
        try:
            _, key = self._webhook.verify_with_key(body, request.headers, json_parse=False)
        except WebhookVerificationError as error:
            raise _reject(_status(error), error.code) from None
        return VerifiedDelivery(
            id=_header(request, _NAMES[0]) or "",
            timestamp=int(_header(request, _NAMES[1]) or 0),
            body=body,
            key=key,
        )


class GeminiVerifier:
    """A FastAPI dependency for both Gemini modes: ``Depends(GeminiVerifier(secrets=…, audience=…))``."""

    def __init__(
        self,
        secrets: str | Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        *,
        jwks: Any = None,
        jwks_url: str = GOOGLE_JWKS_URL,
        max_body: int = 1 << 20,
    ) -> None:
        self._receiver = Receiver(secrets=secrets, audience=audience, jwks=jwks, jwks_url=jwks_url)
        self.max_body = max_body

    async def __call__(self, request: Request) -> GeminiDelivery:
        # The timestamp window is the receiver's (static and dynamic alike), checked before any key work.
        _check_headers(request, self.max_body, None)
        body = await _read(request, self.max_body)
        signature = _header(request, _NAMES[2]) or ""
        try:
            if signature.count(".") == 2 and "," not in signature:
                # A dynamic token may need a JWKS fetch: off the event loop.
                delivery = await run_in_threadpool(self._receiver.verify, body, request.headers)
            else:
                delivery = self._receiver.verify(body, request.headers)
        except WebhookVerificationError as error:
            raise _reject(_status(error), error.code) from None
        return GeminiDelivery(id=delivery.id, timestamp=delivery.timestamp, body=body, delivery=delivery)
