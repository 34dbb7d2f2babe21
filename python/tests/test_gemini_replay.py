"""``Delivery.replay_key``: a dynamic token resent under a new ``webhook-id``
with a fresh timestamp has the same key; static deliveries have none. Tokens
minted with the committed demo keys (tests/fixtures/jwt, see its README)."""

from __future__ import annotations

import json

from conftest import FIXTURES, SECRET
from test_gemini import AUDIENCE, BODY, NOW, token
from webhook_signature import Webhook
from webhook_signature.gemini import Receiver

JWKS_A = json.loads((FIXTURES / "jwt" / "jwks-a.json").read_text())


def deliver(signature: str, msg_id: str, at: int, body: bytes = BODY) -> str | None:
    receiver = Receiver(secrets=SECRET, audience=AUDIENCE, jwks=JWKS_A)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(at), "webhook-signature": signature}
    return receiver.verify(body, headers, now=at).replay_key


def test_a_resent_token_has_the_same_replay_key() -> None:
    signature = token()
    first = deliver(signature, "msg_first", NOW)
    assert first is not None and len(first) == 64 and int(first, 16) >= 0
    assert deliver(signature, "msg_resent", NOW + 120) == first
    # Without a jti, the body is part of the key; with one, the token is used once.
    assert deliver(signature, "msg_other", NOW, body=b'{"type":"batch.succeeded"}') != first
    with_jti = token({"jti": "3f0c2a1e-0001"})
    assert deliver(with_jti, "a", NOW) == deliver(with_jti, "b", NOW, body=b"{}")


def test_static_deliveries_have_no_replay_key() -> None:
    signature = Webhook(SECRET).sign("msg_static", NOW, BODY)
    assert deliver(signature, "msg_static", NOW) is None
