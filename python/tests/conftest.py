"""Shared fixtures: the known-answer vectors and the demo JWT keys, in
tests/fixtures (copies of the repository's, see its README)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The Standard Webhooks spec's example secret and delivery (vector A1).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def vectors() -> list[dict[str, Any]]:
    """tests/fixtures/vectors.json: generated from the Rust tests' vectors (tests/vectors.rs)."""
    loaded: list[dict[str, Any]] = json.loads((FIXTURES / "vectors.json").read_text())
    return loaded


def headers(signature: str = SIGNATURE, msg_id: str = MSG_ID, timestamp: int | str = TIMESTAMP) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def signed(body: bytes, msg_id: str = "msg_api", timestamp: int | None = None) -> dict[str, str]:
    """The three headers of `body` signed with `SECRET`, at `timestamp` (default: now)."""
    from webhook_signature import Webhook

    now = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": msg_id, "webhook-timestamp": str(now), "webhook-signature": Webhook(SECRET).sign(msg_id, now, body)}


def signed_text(body: bytes, msg_id: str, timestamp: str) -> dict[str, str]:
    """The headers for `body` with `timestamp` exactly as given (say, zero-padded),
    signed by hand as the spec defines it: base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))."""
    import base64
    import hashlib
    import hmac

    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {"webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": "v1," + base64.b64encode(mac).decode()}
