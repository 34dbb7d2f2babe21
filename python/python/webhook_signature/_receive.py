"""What the FastAPI and Flask integrations share: the verified deliveries they
hand to a handler, the checks the headers allow before a byte of the body is
read, and which verification errors answer which status."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from webhook_signature._errors import WebhookVerificationError
from webhook_signature._webhook import Webhook
from webhook_signature._webhook_signature import Delivery

if TYPE_CHECKING:
    from webhook_signature._webhook_signature import HeaderMap

log = logging.getLogger("webhook_signature")

#: Codes answered 400: what a well-behaved sender never sends.
MALFORMED = frozenset({"MissingHeader", "InvalidHeader", "InvalidTimestamp"})
#: Codes answered 503, so the sender retries.
UNAVAILABLE = frozenset({"KeysUnavailable"})
#: Each header's Standard Webhooks name, then the name Svix used before.
NAMES = (("webhook-id", "svix-id"), ("webhook-timestamp", "svix-timestamp"), ("webhook-signature", "svix-signature"))
#: The only words a refusal's body says: never which check failed.
PHRASES = {400: "Bad Request", 401: "Unauthorized", 413: "Payload Too Large", 503: "Service Unavailable"}


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


class Rejected(Exception):
    """A delivery refused before the handler: the status to answer, and the
    reason, which goes to the log only."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        log.debug("webhook rejected (%s): %s", status, reason)


def rejected(error: WebhookVerificationError) -> Rejected:
    """The refusal for a verification error: 400, 401, or 503 (retried)."""
    if error.code in MALFORMED:
        status = 400
    else:
        status = 503 if error.code in UNAVAILABLE else 401
    return Rejected(status, error.code)


def header(headers: HeaderMap, names: tuple[str, str]) -> str | None:
    return headers.get(names[0]) or headers.get(names[1])


#: The largest number the Rust core reads in a header (`u64::MAX`).
_U64_MAX = 2**64 - 1


def number(text: str) -> int | None:
    """A header's decimal number as the Rust core reads it (ASCII digits,
    leading zeros allowed, at most ``u64::MAX``), or ``None``. Not ``int()``
    alone: it reads ``"²"`` and other Unicode digits, and refuses text of more
    than 4,300 digits with a ``ValueError`` (a 500), where the core reads any
    run of leading zeros."""
    if not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(_U64_MAX)):
        return None
    value = int(digits)
    return value if value <= _U64_MAX else None


def check_headers(headers: HeaderMap, max_body: int, tolerance: int | None) -> None:
    """Everything the headers tell, before a byte of the body is read."""
    values = [header(headers, names) for names in NAMES]
    if not all(values):
        raise Rejected(400, "a webhook header is missing")
    timestamp = number(values[1] or "")
    if timestamp is None:
        raise Rejected(400, "webhook-timestamp is not a number of seconds")
    if tolerance is not None and abs(time.time() - timestamp) > tolerance:
        raise Rejected(401, "webhook-timestamp outside the tolerance")
    declared = headers.get("content-length")
    if declared is not None:
        if not declared.isascii() or not declared.isdigit():
            raise Rejected(400, "invalid Content-Length")
        length = number(declared)
        if length is None or length > max_body:
            raise Rejected(413, "Content-Length over max_body")


def verified(webhook: Webhook, body: bytes, headers: HeaderMap) -> VerifiedDelivery:
    """The delivery of `body` and `headers` once `webhook` has verified it, or
    the refusal: what both integrations do after reading the body."""
    try:
        _, key = webhook.verify_with_key(body, headers, json_parse=False)
    except WebhookVerificationError as error:
        raise rejected(error) from None
    return VerifiedDelivery(
        id=header(headers, NAMES[0]) or "",
        timestamp=number(header(headers, NAMES[1]) or "") or 0,
        body=body,
        key=key,
    )

