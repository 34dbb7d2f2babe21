"""Flask decorators that verify webhooks before your view runs.

    from flask import Flask
    from webhook_signature.flask import VerifiedDelivery, verified_webhook

    app = Flask(__name__)

    @app.post("/webhooks")
    @verified_webhook("whsec_...", max_body=1 << 20)
    def receive(delivery: VerifiedDelivery) -> tuple[str, int]:
        store_once(delivery.id, delivery.body)   # deduplicate on webhook-id, commit, then:
        return "", 204

The view (``def``, or ``async def`` with ``flask[async]``) gets the verified
delivery as its first argument (then the route's own arguments). Each decorator answers, without calling the view: 400 for
missing or malformed headers, 401 for a stale or unauthentic delivery, 413 for
a body over ``max_body`` (refused on ``Content-Length`` before reading, and
read at most ``max_body + 1`` bytes otherwise, chunked bodies included), and
503 when a dynamic delivery's keys cannot be fetched. The response bodies
never say which check failed; the reason goes to the logger
``webhook_signature`` at DEBUG.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast, overload

from flask import Response, request

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
from webhook_signature._webhook_signature import GOOGLE_JWKS_URL, Receiver

__all__ = ["GeminiDelivery", "VerifiedDelivery", "verified_gemini", "verified_webhook"]

P = ParamSpec("P")
R = TypeVar("R")
D = TypeVar("D")
# Covariant: the delivery is an argument of the view, itself an argument.
D_co = TypeVar("D_co", covariant=True)


class Guard(Protocol[D_co]):
    """What ``verified_webhook`` and ``verified_gemini`` return: a decorator for
    a view taking the delivery first, ``def`` or ``async def`` (Flask runs the
    latter with ``flask[async]``)."""

    @overload
    def __call__(self, view: Callable[Concatenate[D_co, P], Awaitable[R]]) -> Callable[P, Awaitable[R | Response]]: ...

    @overload
    def __call__(self, view: Callable[Concatenate[D_co, P], R]) -> Callable[P, R | Response]: ...


#: Read in pieces of this size, so a body is never held twice while it arrives.
_CHUNK = 64 * 1024


def _read(max_body: int) -> bytes:
    """The body, reading at most ``max_body + 1`` bytes: one more means too large.

    ``request.stream`` stops at ``Content-Length``, or, for a chunked body, where
    the WSGI server says the input ends."""
    chunks: list[bytes] = []
    size = 0
    while size <= max_body:
        chunk = request.stream.read(min(_CHUNK, max_body + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        chunks.append(chunk)
    if size > max_body:
        raise Rejected(413, "body over max_body")
    return b"".join(chunks)


def _refusal(refusal: Rejected) -> Response:
    return Response(PHRASES[refusal.status], status=refusal.status, mimetype="text/plain")


def _guard(verify: Callable[[int], D], max_body: int) -> Guard[D]:
    """A decorator that runs ``verify(max_body)`` in the request and hands its
    result to the view, or answers the refusal without calling the view. An
    ``async def`` view gets an ``async def`` wrapper, so Flask still sees a
    coroutine function."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def guarded_async(*args: Any, **kwargs: Any) -> Any:
                try:
                    delivery = verify(max_body)
                except Rejected as refusal:
                    return _refusal(refusal)
                return await view(delivery, *args, **kwargs)

            return guarded_async

        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                delivery = verify(max_body)
            except Rejected as refusal:
                return _refusal(refusal)
            return view(delivery, *args, **kwargs)

        return guarded

    return cast(Guard[D], decorate)


def verified_webhook(
    secret_or_secrets: str | bytes | Sequence[str | bytes], *, max_body: int = 1 << 20, tolerance: int = 300
) -> Guard[VerifiedDelivery]:
    """Verifies a Standard Webhooks delivery; the view gets a ``VerifiedDelivery``."""
    webhook = Webhook(secret_or_secrets, tolerance=tolerance)

    def verify(max_body: int) -> VerifiedDelivery:
        check_headers(request.headers, max_body, tolerance)
        return verified(webhook, _read(max_body), request.headers)

    return _guard(verify, max_body)


def verified_gemini(
    secrets: str | Sequence[str] | None = None,
    audience: str | Sequence[str] | None = None,
    *,
    jwks: Any = None,
    jwks_url: str = GOOGLE_JWKS_URL,
    max_body: int = 1 << 20,
) -> Guard[GeminiDelivery]:
    """Verifies a Gemini delivery, either mode; the view gets a ``GeminiDelivery``.

    A dynamic delivery's first JWKS fetch runs in the request's thread (WSGI
    servers give each request its own), with the GIL released."""
    receiver = Receiver(secrets=secrets, audience=audience, jwks=jwks, jwks_url=jwks_url)

    def verify(max_body: int) -> GeminiDelivery:
        # The timestamp window is the receiver's (static and dynamic alike), checked before any key work.
        check_headers(request.headers, max_body, None)
        body = _read(max_body)
        try:
            delivery = receiver.verify(body, request.headers)
        except WebhookVerificationError as error:
            raise rejected(error) from None
        return GeminiDelivery(id=delivery.id, timestamp=delivery.timestamp, body=body, delivery=delivery)

    return _guard(verify, max_body)
