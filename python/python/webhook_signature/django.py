"""A Django view decorator that verifies webhooks before your view runs.

    from django.http import HttpResponse
    from webhook_signature.django import VerifiedDelivery, verified_webhook

    @verified_webhook(max_body=1 << 20)          # the secret: settings.WEBHOOK_SECRET
    def receive(request, delivery: VerifiedDelivery) -> HttpResponse:
        store_once(delivery.id, request.body)    # deduplicate on webhook-id, commit, then:
        return HttpResponse(status=204)

The view is ``csrf_exempt`` (a sender has no CSRF token; the signature is the
check), gets the verified delivery after the request (then the URL's own
arguments), and can read ``request.body`` (or ``request.POST``) again. POST
only (others 405). Refusals, without calling the view: 400 for missing or
malformed headers, 401 for a stale or unauthentic delivery, 413 for a body
over ``max_body`` (refused on ``Content-Length`` before reading, and read at
most ``max_body + 1`` bytes otherwise). Their bodies never say which check
failed; the reason goes to the logger ``webhook_signature`` at DEBUG.
"""

from __future__ import annotations

import functools
import inspect
import io
from collections.abc import Callable, Sequence
from typing import Any, Concatenate, ParamSpec, cast

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from webhook_signature._receive import PHRASES, Rejected, VerifiedDelivery, check_headers, verified
from webhook_signature._webhook import Webhook

__all__ = ["VerifiedDelivery", "verified_webhook"]

P = ParamSpec("P")
#: Read in pieces of this size, so a body is never held twice while it arrives.
_CHUNK = 64 * 1024


def _read(request: HttpRequest, max_body: int) -> bytes:
    """The body, reading at most ``max_body + 1`` bytes, then left where Django
    caches ``request.body`` so the view reads it (and ``request.POST``) again."""
    if hasattr(request, "_body"):
        body: bytes = request._body  # a middleware read it already
    else:
        chunks: list[bytes] = []
        size = 0
        while size <= max_body:
            chunk = request.read(min(_CHUNK, max_body + 1 - size))
            if not chunk:
                break
            size += len(chunk)
            chunks.append(chunk)
        body = b"".join(chunks)
        request._body = body
        request._stream = io.BytesIO(body)
    if len(body) > max_body:
        raise Rejected(413, "body over max_body")
    return body


def _refusal(refusal: Rejected) -> HttpResponse:
    return HttpResponse(PHRASES[refusal.status], status=refusal.status, content_type="text/plain")


def verified_webhook(
    secret_or_secrets: str | bytes | Sequence[str | bytes] | None = None,
    *,
    max_body: int = 1 << 20,
    tolerance: int = 300,
    setting: str = "WEBHOOK_SECRET",
) -> Callable[[Callable[Concatenate[HttpRequest, VerifiedDelivery, P], Any]], Callable[Concatenate[HttpRequest, P], Any]]:
    """Verifies a Standard Webhooks delivery; the view gets ``(request, delivery, …)``.

    Without ``secret_or_secrets``, the secret is ``settings.<setting>``, read
    on each request (so ``override_settings`` and late configuration work)."""
    fixed = None if secret_or_secrets is None else Webhook(secret_or_secrets, tolerance=tolerance)

    @functools.lru_cache(maxsize=8)
    def configured(secret: Any) -> Webhook:
        return Webhook(secret, tolerance=tolerance)

    def verify(request: HttpRequest) -> VerifiedDelivery | HttpResponseBase:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        webhook = fixed
        if webhook is None:
            # Imported here: importing this module must not need configured settings.
            from django.conf import settings

            secret = getattr(settings, setting, None)
            if not secret:
                raise RuntimeError(f"webhook_signature.django: no secret given and settings.{setting} is not set")
            webhook = configured(tuple(secret) if isinstance(secret, list) else secret)
        try:
            check_headers(request.headers, max_body, tolerance)
            return verified(webhook, _read(request, max_body), request.headers)
        except Rejected as refusal:
            return _refusal(refusal)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def guarded_async(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                delivery = verify(request)
                if isinstance(delivery, HttpResponseBase):
                    return delivery
                return await view(request, delivery, *args, **kwargs)

            return cast(Callable[..., Any], csrf_exempt(guarded_async))

        @functools.wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            delivery = verify(request)
            if isinstance(delivery, HttpResponseBase):
                return delivery
            return view(request, delivery, *args, **kwargs)

        return cast(Callable[..., Any], csrf_exempt(guarded))

    return decorate
