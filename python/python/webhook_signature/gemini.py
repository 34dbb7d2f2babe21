"""Gemini API webhooks in both modes: static (``whsec_`` HMAC) and dynamic
(an RS256 JWT checked against Google's JWKS), as the Rust crate checks them.

    from webhook_signature.gemini import Receiver

    receiver = Receiver(secrets="whsec_...", audience="https://you.example/webhooks/gemini")
    delivery = receiver.verify(body, headers)               # threads (WSGI, scripts)
    delivery = await receiver.verify_async(body, headers)   # event loops (ASGI)

``delivery.event`` is typed per envelope ``type`` (``Event``, a union of
``TypedDict``\\s); ``delivery.mode`` and ``delivery.authenticated`` are ``Literal``\\s.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from webhook_signature import _webhook_signature
from webhook_signature._events import (
    Authenticated,
    BatchCancelled,
    BatchExpired,
    BatchFailed,
    BatchSucceeded,
    Event,
    EventData,
    EventType,
    InteractionCancelled,
    InteractionCompleted,
    InteractionFailed,
    InteractionRequiresAction,
    Mode,
    UnknownEvent,
    VideoGenerated,
)
from webhook_signature._webhook_signature import GOOGLE_JWKS_URL, Delivery

if TYPE_CHECKING:
    from webhook_signature._webhook_signature import Body, HeaderMap, Now

__all__ = [
    "GOOGLE_JWKS_URL",
    "Authenticated",
    "BatchCancelled",
    "BatchExpired",
    "BatchFailed",
    "BatchSucceeded",
    "Delivery",
    "Event",
    "EventData",
    "EventType",
    "InteractionCancelled",
    "InteractionCompleted",
    "InteractionFailed",
    "InteractionRequiresAction",
    "Mode",
    "Receiver",
    "UnknownEvent",
    "VideoGenerated",
]

#: A backstop on waiting for one JWKS fetch: the fetch's own timeout (5 s) ends it first.
FETCH_WAIT = 15.0
#: Fetches waited for in one call before handing the call to a thread: another
#: caller may start a fetch just as ours ends, but not forever.
_ROUNDS = 3


def _resolve(fetched: asyncio.Future[None]) -> None:
    if not fetched.done():  # the waiter may have been cancelled meanwhile
        fetched.set_result(None)


class Receiver(_webhook_signature.Receiver):
    """A Gemini webhook receiver for both modes.

    ``secrets``: the static ``whsec_`` secrets (current first); ``audience``:
    the accepted ``aud`` values of dynamic tokens; ``jwks``: a JWKS (dict or
    JSON text) instead of fetching ``jwks_url``."""

    async def verify_async(self, body: Body, headers: HeaderMap, *, now: Now = None) -> Delivery:
        """``verify`` for event loops: answered on the loop, without a thread,
        unless a JWKS fetch is needed; the fetch then runs on the crate's own
        runtime while this coroutine awaits it (cancelling it is safe)."""
        loop = asyncio.get_running_loop()
        for _ in range(_ROUNDS):
            fetched: asyncio.Future[None] = loop.create_future()

            def notify(fetched: asyncio.Future[None] = fetched) -> None:
                try:
                    loop.call_soon_threadsafe(_resolve, fetched)
                except RuntimeError:  # the loop closed meanwhile: nobody waits
                    pass

            delivery = self.verify_or_notify(body, headers, notify, now=now)
            if delivery is not None:
                return delivery
            try:
                await asyncio.wait_for(fetched, FETCH_WAIT)
            except asyncio.TimeoutError:
                pass
        return await asyncio.to_thread(self.verify, body, headers, now=now)
