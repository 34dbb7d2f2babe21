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
delivery as its first argument (then the route's own arguments), and can read
the body again (``request.get_data()``, ``request.get_json()``). Refusals go
through ``abort()``, so ``@app.errorhandler(401)`` and the like apply, and the
view never runs for them: 400 for missing or malformed headers, 401 for a
stale or unauthentic delivery, 413 for a body over ``max_body`` (refused on
``Content-Length`` before reading, and read at most ``max_body + 1`` bytes
otherwise, chunked bodies included), and 503 when a dynamic delivery's keys
cannot be fetched. The reason goes to the logger ``webhook_signature`` at
DEBUG, never to the client.

Without a secret, the decorators read it from the application's config on
each request (``WEBHOOK_SECRET``; ``GEMINI_WEBHOOK_SECRET`` and
``GEMINI_WEBHOOK_AUDIENCE``), so app factories and tests can set it late.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Concatenate, NoReturn, ParamSpec, Protocol, TypeVar, cast, overload

from flask import abort, current_app, request

from webhook_signature._errors import WebhookVerificationError
from webhook_signature._receive import (
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
    def __call__(self, view: Callable[Concatenate[D_co, P], Awaitable[R]]) -> Callable[P, Awaitable[R]]: ...

    @overload
    def __call__(self, view: Callable[Concatenate[D_co, P], R]) -> Callable[P, R]: ...


#: Read in pieces of this size, so a body is never held twice while it arrives.
_CHUNK = 64 * 1024


def _read(max_body: int) -> bytes:
    """The body, reading at most ``max_body + 1`` bytes: one more means too large.
    Left where Werkzeug caches what ``get_data()`` read, so the view's
    ``get_data()``, ``get_json()`` and ``form`` read it again; a body something
    read before (a ``before_request`` hook calling ``get_data()``) is taken from there.

    ``request.stream`` stops at ``Content-Length``, or, for a chunked body, where
    the WSGI server says the input ends."""
    current = request._get_current_object()  # type: ignore[attr-defined]
    cached: bytes | None = getattr(current, "_cached_data", None)
    if cached is not None:
        if len(cached) > max_body:
            raise Rejected(413, "body over max_body")
        return cached
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
    body = b"".join(chunks)
    current._cached_data = body
    return body


def _refuse(refusal: Rejected) -> NoReturn:
    abort(refusal.status)


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
                    _refuse(refusal)
                return await view(delivery, *args, **kwargs)

            return guarded_async

        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                delivery = verify(max_body)
            except Rejected as refusal:
                _refuse(refusal)
            return view(delivery, *args, **kwargs)

        return guarded

    return cast(Guard[D], decorate)


def _config(key: str) -> Any:
    """``current_app.config[key]``: a missing secret is the application's error (500), never the sender's."""
    value = current_app.config.get(key)
    if not value:
        raise RuntimeError(f"webhook_signature.flask: no secret given and app.config[{key!r}] is not set")
    return value


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def verified_webhook(
    secret_or_secrets: str | bytes | Sequence[str | bytes] | None = None,
    *,
    max_body: int = 1 << 20,
    tolerance: int = 300,
    config_key: str = "WEBHOOK_SECRET",
) -> Guard[VerifiedDelivery]:
    """Verifies a Standard Webhooks delivery; the view gets a ``VerifiedDelivery``.

    Without ``secret_or_secrets``, the secret is ``current_app.config[config_key]``."""
    fixed = None if secret_or_secrets is None else Webhook(secret_or_secrets, tolerance=tolerance)

    @functools.lru_cache(maxsize=8)
    def configured(secret: Any) -> Webhook:
        return Webhook(secret, tolerance=tolerance)

    def verify(max_body: int) -> VerifiedDelivery:
        webhook = fixed or configured(_hashable(_config(config_key)))
        check_headers(request.headers, max_body, tolerance)
        body = _read(max_body)
        return verified(webhook, body, request.headers)

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

    Without ``secrets`` and ``audience``, they are ``current_app.config``'s
    ``GEMINI_WEBHOOK_SECRET`` and ``GEMINI_WEBHOOK_AUDIENCE`` (either may be
    absent). A dynamic delivery's first JWKS fetch runs in the request's
    thread (WSGI servers give each request its own), with the GIL released."""
    fixed = None
    if secrets is not None or audience is not None:
        fixed = Receiver(secrets=secrets, audience=audience, jwks=jwks, jwks_url=jwks_url)

    @functools.lru_cache(maxsize=8)
    def configured(secrets: Any, audience: Any) -> Receiver:
        # Cached, so the JWKS cache outlives the request.
        return Receiver(secrets=secrets, audience=audience, jwks=jwks, jwks_url=jwks_url)

    def verify(max_body: int) -> GeminiDelivery:
        receiver = fixed
        if receiver is None:
            config = current_app.config
            found = _hashable(config.get("GEMINI_WEBHOOK_SECRET")), _hashable(config.get("GEMINI_WEBHOOK_AUDIENCE"))
            if not any(found):
                raise RuntimeError("webhook_signature.flask: set GEMINI_WEBHOOK_SECRET or GEMINI_WEBHOOK_AUDIENCE in app.config")
            receiver = configured(*found)
        # The timestamp window is the receiver's (static and dynamic alike), checked before any key work.
        check_headers(request.headers, max_body, None)
        body = _read(max_body)
        try:
            delivery = receiver.verify(body, request.headers)
        except WebhookVerificationError as error:
            raise rejected(error) from None
        return GeminiDelivery(id=delivery.id, timestamp=delivery.timestamp, body=body, delivery=delivery)

    return _guard(verify, max_body)
