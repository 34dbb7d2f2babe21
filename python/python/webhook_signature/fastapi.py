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
``webhook_signature`` at DEBUG. The handler can read the body again:
``await request.body()``, ``await request.json()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException, Request

from webhook_signature._errors import WebhookVerificationError
from webhook_signature._receive import (
    PHRASES,
    GeminiDelivery,
    Rejected,
    VerifiedDelivery,
    check_headers,
    rejected,
    verified,
)
from webhook_signature._webhook import Webhook
from webhook_signature._webhook_signature import GOOGLE_JWKS_URL
from webhook_signature.gemini import Receiver

__all__ = ["GeminiDelivery", "GeminiVerifier", "VerifiedDelivery", "WebhookVerifier"]


def _http(refusal: Rejected) -> HTTPException:
    return HTTPException(status_code=refusal.status, detail=PHRASES[refusal.status])


async def _read(request: Request, max_body: int) -> bytes:
    """The body as it streams in, cut off as soon as it passes ``max_body``,
    then left where Starlette caches what ``body()`` read, so the endpoint's
    ``await request.body()``, ``request.json()`` and ``request.stream()`` read
    it again (the endpoint gets the same ``Request``)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            raise Rejected(413, "body over max_body")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body
    return body


class WebhookVerifier:
    """A FastAPI dependency for Standard Webhooks: ``Depends(WebhookVerifier(secret))``."""

    def __init__(
        self, secret_or_secrets: str | bytes | Sequence[str | bytes], *, max_body: int = 1 << 20, tolerance: int = 300
    ) -> None:
        self._webhook = Webhook(secret_or_secrets, tolerance=tolerance)
        self.max_body = max_body
        self.tolerance = tolerance

    async def __call__(self, request: Request) -> VerifiedDelivery:
        try:
            check_headers(request.headers, self.max_body, self.tolerance)
            return verified(self._webhook, await _read(request, self.max_body), request.headers)
        except Rejected as refusal:
            raise _http(refusal) from None


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
        try:
            # The timestamp window is the receiver's (static and dynamic alike), checked before any key work.
            check_headers(request.headers, self.max_body, None)
            body = await _read(request, self.max_body)
            try:
                # On the event loop; a JWKS fetch, when one is needed, is awaited, never a thread.
                delivery = await self._receiver.verify_async(body, request.headers)
            except WebhookVerificationError as error:
                raise rejected(error) from None
        except Rejected as refusal:
            raise _http(refusal) from None
        return GeminiDelivery(id=delivery.id, timestamp=delivery.timestamp, body=body, delivery=delivery)
