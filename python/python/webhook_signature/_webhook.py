"""``Webhook``: ``standardwebhooks.Webhook``'s interface on the Rust core.

A plain Python class around the compiled keys, so that it can be subclassed,
pickled and deep-copied as ``standardwebhooks``' own class can."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from webhook_signature import _webhook_signature
from webhook_signature._errors import EmptyWebhookSecretError, invalid_json

if TYPE_CHECKING:
    from webhook_signature._webhook_signature import Body, HeaderMap, Now

Secret = str | bytes
#: Trailing characters dropped from a text secret (a mounted secret file's newline):
#: ``standardwebhooks`` skips them too, as characters outside base64.
_TRAILING = " \t\r\n"


def _secret(secret: Any) -> Any:
    """One secret as the Rust core reads it: trailing whitespace dropped, and
    an empty one refused as ``standardwebhooks`` refuses it."""
    if isinstance(secret, str):
        secret = secret.rstrip(_TRAILING)
        if not secret.removeprefix("whsec_"):
            raise EmptyWebhookSecretError
    elif isinstance(secret, bytes) and not secret:
        raise EmptyWebhookSecretError
    return secret


def _loads(data: Body) -> Any:
    """``json.loads`` of a verified body; an authentic body that is not JSON is an ``InvalidJsonError``."""
    try:
        return json.loads(data if isinstance(data, (str, bytes, bytearray)) else bytes(data))
    except (ValueError, RecursionError) as cause:
        # RecursionError: nesting deeper than the interpreter's stack; still "not JSON we can read".
        raise invalid_json(cause, data if isinstance(data, str) else "") from cause


def _seconds(timestamp: datetime | int) -> int:
    """Unix seconds to sign at. A ``datetime`` is read as ``standardwebhooks``
    reads it: its wall-clock time taken as UTC (an aware one's zone replaced,
    not converted), floored."""
    if isinstance(timestamp, datetime):
        seconds = timestamp.replace(tzinfo=timezone.utc).timestamp()
    elif isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
        raise TypeError(f"timestamp must be a datetime or Unix seconds, not {type(timestamp).__name__}")
    else:
        seconds = timestamp
    if not 0 <= seconds < 2**64:  # False for NaN too
        raise ValueError("timestamp must be from 1970 on, and at most 2**64 - 1 seconds")
    return math.floor(seconds)


class Webhook:
    """Verifies and signs Standard Webhooks deliveries.

    ``whsecret``: ``whsec_`` + base64 (padded or not, trailing whitespace
    dropped), bare base64, raw key ``bytes``, a ``whpk_``/``whsk_`` Ed25519
    key, or a sequence of them, the current one first, during a rotation.
    ``tolerance``: how far ``webhook-timestamp`` may be from now, in seconds."""

    def __init__(self, whsecret: Secret | Sequence[Secret], *, tolerance: int = 300) -> None:
        if isinstance(whsecret, (list, tuple)):
            whsecret = tuple(_secret(secret) for secret in whsecret)
        else:
            whsecret = _secret(whsecret)
        self._core = _webhook_signature.Webhook(whsecret, tolerance=tolerance)
        self._whsecret = whsecret
        self._tolerance = tolerance

    def verify(self, data: Body, headers: HeaderMap, *, json_parse: bool = True, now: Now = None) -> Any:
        """Verifies a delivery: returns its parsed JSON (``None`` with
        ``json_parse=False``), or raises a ``WebhookVerificationError``."""
        self._core.verify(data, headers, now)
        return _loads(data) if json_parse else None

    def verify_with_key(
        self, data: Body, headers: HeaderMap, *, json_parse: bool = True, now: Now = None
    ) -> tuple[Any, int]:
        """As ``verify``, and the index of the secret that matched (0: the current one)."""
        key = self._core.verify(data, headers, now)
        return (_loads(data) if json_parse else None), key

    def sign(self, msg_id: str, timestamp: datetime | int, data: Body) -> str:
        """The ``webhook-signature`` value: ``v1,<base64>`` (one entry per
        secret, space-separated), byte for byte what ``standardwebhooks``
        signs for the same id, timestamp and text. An id that is empty or
        holds a ``.`` or a control character is refused (``InvalidIdError``):
        the spec forbids the ``.``, and such an id cannot travel in a header."""
        return self._core.sign(msg_id, _seconds(timestamp), data)

    def __getstate__(self) -> dict[str, Any]:
        # The compiled keys are rebuilt from the secret, never pickled.
        return {key: value for key, value in self.__dict__.items() if key != "_core"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._core = _webhook_signature.Webhook(self._whsecret, tolerance=self._tolerance)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<secret>)"


hmac_data = _webhook_signature.hmac_data
