"""``webhook_signature.gemini.Receiver``: both modes, dynamic tokens minted
with the committed demo keys (tests/fixtures/jwt, see its README), a JWKS as
a dict, as text, and served on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest

import webhook_signature as ws
from conftest import FIXTURES, SECRET
from webhook_signature.gemini import Receiver

AUDIENCE = "https://receiver.example/webhooks/gemini"
KEY_A = (FIXTURES / "jwt" / "demo-2048-a.pem").read_text()
KEY_B = (FIXTURES / "jwt" / "demo-2048-b.pem").read_text()
JWKS_A = (FIXTURES / "jwt" / "jwks-a.json").read_text()
NOW = 1_790_000_000
BODY = b'{"type":"video.generated","version":"v1","data":{"id":"op1","output_file_uri":"https://x/y"}}'


def token(claims: dict[str, Any] | None = None, key: str = KEY_A, kid: str = "demo-a", **header: Any) -> str:
    base = {"aud": AUDIENCE, "iat": NOW, "exp": NOW + 300}
    return jwt.encode({**base, **(claims or {})}, key, algorithm="RS256", headers={"kid": kid, **header})


def headers(signature: str, msg_id: str = "msg_dyn") -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(NOW), "webhook-signature": signature}


def receiver() -> Receiver:
    return Receiver(secrets=SECRET, audience=[AUDIENCE], jwks=json.loads(JWKS_A))


def test_dynamic_bearer_token() -> None:
    delivery = receiver().verify(BODY, headers(token()), now=NOW)
    assert (delivery.mode, delivery.kid, delivery.key) == ("dynamic", "demo-a", None)
    assert delivery.authenticated == "bearer_token"
    assert delivery.event_type == "video.generated"
    assert delivery.event["data"]["id"] == "op1"
    assert delivery.id == "msg_dyn" and delivery.timestamp == NOW


def test_a_token_binding_the_body() -> None:
    digest = base64.urlsafe_b64encode(hashlib.sha256(BODY).digest()).rstrip(b"=").decode()
    bound = receiver().verify(BODY, headers(token({"body_sha256": digest})), now=NOW)
    assert (bound.authenticated, bound.bound_by) == ("signature", "body_sha256")
    with pytest.raises(ws.WebhookVerificationError) as raised:
        receiver().verify(BODY + b" ", headers(token({"body_sha256": digest})), now=NOW)
    assert raised.value.code == "BodyMismatch"


@pytest.mark.parametrize(
    ("signature", "code"),
    [
        (token({"aud": "https://other.example"}), "WrongAudience"),
        (token({"exp": NOW - 3600}), "Expired"),
        (token(key=KEY_B), "BadSignature"),
        (token(kid="demo-z"), "UnknownKeyId"),
        (jwt.encode({"aud": AUDIENCE, "exp": NOW + 300}, "a-32-byte-or-longer-hmac-test-key", algorithm="HS256", headers={"kid": "demo-a"}), "UnsupportedAlgorithm"),
        # {"alg":"none","kid":"demo-a"}: never accepted, whatever the signature segment holds.
        ("eyJhbGciOiJub25lIiwia2lkIjoiZGVtby1hIn0.eyJhdWQiOiJ4In0.c2ln", "UnsupportedAlgorithm"),
    ],
)
def test_dynamic_rejections(signature: str, code: str) -> None:
    with pytest.raises(ws.WebhookVerificationError) as raised:
        receiver().verify(BODY, headers(signature), now=NOW)
    assert raised.value.code == code


def test_static_mode_and_its_errors() -> None:
    wh = ws.Webhook(SECRET)
    delivery = receiver().verify(BODY, headers(wh.sign("msg_s", NOW, BODY), "msg_s"), now=NOW)
    assert (delivery.mode, delivery.key, delivery.authenticated) == ("static", 0, "signature")
    with pytest.raises(ws.NoMatchingSignatureError):
        receiver().verify(BODY + b" ", headers(wh.sign("msg_s", NOW, BODY), "msg_s"), now=NOW)
    not_envelope = receiver().verify(b"hello", headers(wh.sign("msg_n", NOW, b"hello"), "msg_n"), now=NOW)
    assert not_envelope.event is None and not_envelope.not_envelope


def test_configuration_errors() -> None:
    with pytest.raises(ValueError):
        Receiver()
    with pytest.raises(ValueError):
        Receiver(audience=AUDIENCE, jwks="not json")
    with pytest.raises(ValueError):
        Receiver(audience=AUDIENCE, jwks_url="http://jwks.example/keys")  # plain http off loopback
    static_only = Receiver(secrets=SECRET)
    with pytest.raises(ws.WebhookVerificationError) as raised:
        static_only.verify(BODY, headers(token()), now=NOW)
    assert raised.value.code == "DynamicNotConfigured"


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, list[int]]]:
    """A JWKS on 127.0.0.1, counting its requests."""
    requests: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            requests.append(1)
            payload = JWKS_A.encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("cache-control", "max-age=3600")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", requests
    server.shutdown()


def test_jwks_fetched_once_from_127_0_0_1(jwks_server: tuple[str, list[int]]) -> None:
    url, requests = jwks_server
    fetching = Receiver(audience=AUDIENCE, jwks_url=url)
    now = int(time.time())
    claims = {"iat": now, "exp": now + 300}
    for i in range(3):
        signed = {**headers(token(claims), f"msg_f{i}"), "webhook-timestamp": str(now)}
        assert fetching.verify(BODY, signed, now=now).kid == "demo-a"
    assert len(requests) == 1


def test_no_jwks_to_be_had_is_keys_unavailable() -> None:
    offline = Receiver(audience=AUDIENCE, jwks_url="http://127.0.0.1:9/jwks.json")
    with pytest.raises(ws.WebhookVerificationError) as raised:
        offline.verify(BODY, headers(token()), now=NOW)
    assert raised.value.code == "KeysUnavailable"
