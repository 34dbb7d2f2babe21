"""``webhook_signature.gemini.Receiver``: both modes, dynamic tokens minted
with the committed demo keys (tests/fixtures/jwt, see its README), a JWKS as
a dict, as text, and served on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
import time
import typing
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest

import webhook_signature as ws
from conftest import FIXTURES, SECRET
from webhook_signature.gemini import Authenticated, EventData, EventType, Mode, Receiver

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
    assert delivery.event is not None and delivery.event["type"] == "video.generated"
    assert delivery.event["data"].get("id") == "op1"
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


def test_verify_async_awaits_the_first_fetch_then_answers_on_the_loop(jwks_server: tuple[str, list[int]]) -> None:
    url, requests = jwks_server
    fetching = Receiver(secrets=SECRET, audience=AUDIENCE, jwks_url=url)
    now = int(time.time())
    claims = {"iat": now, "exp": now + 300}
    notified: list[int] = []

    async def scenario() -> list[str]:
        # Three at once before any key is cached: one fetch, all three answered.
        first = await asyncio.gather(*(fetching.verify_async(BODY, live(token(claims), f"msg_a{i}", now), now=now) for i in range(3)))
        # Cached: answered by the call itself, on the loop's thread: no fetch, no callback.
        cached = fetching.verify_or_notify(BODY, live(token(claims), "msg_b", now), lambda: notified.append(1), now=now)
        assert cached is not None and cached.kid == "demo-a"
        static = await fetching.verify_async(BODY, signed_static(now), now=now)
        assert static.mode == "static"
        return [delivery.id for delivery in first]

    assert asyncio.run(scenario()) == ["msg_a0", "msg_a1", "msg_a2"]
    assert len(requests) == 1 and notified == []


def test_verify_async_without_keys_is_keys_unavailable_not_a_hang() -> None:
    offline = Receiver(audience=AUDIENCE, jwks_url="http://127.0.0.1:9/jwks.json")
    with pytest.raises(ws.WebhookVerificationError) as raised:
        asyncio.run(offline.verify_async(BODY, headers(token()), now=NOW))
    assert raised.value.code == "KeysUnavailable"


def test_a_cancelled_verify_async_leaves_the_fetch_to_the_next_caller(jwks_server: tuple[str, list[int]]) -> None:
    url, requests = jwks_server
    fetching = Receiver(audience=AUDIENCE, jwks_url=url)
    now = int(time.time())
    signed = live(token({"iat": now, "exp": now + 300}), "msg_c", now)

    async def scenario() -> str | None:
        waiting = asyncio.ensure_future(fetching.verify_async(BODY, signed, now=now))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return (await fetching.verify_async(BODY, signed, now=now)).kid

    assert asyncio.run(scenario()) == "demo-a"
    assert len(requests) == 1


def live(signature: str, msg_id: str, now: int) -> dict[str, str]:
    return {**headers(signature, msg_id), "webhook-timestamp": str(now)}


def signed_static(now: int) -> dict[str, str]:
    return {"webhook-id": "msg_s", "webhook-timestamp": str(now), "webhook-signature": ws.Webhook(SECRET).sign("msg_s", now, BODY)}


@pytest.mark.parametrize(
    "kind", ["batch.succeeded", "batch.failed", "batch.cancelled", "batch.expired", "interaction.requires_action",
             "interaction.completed", "interaction.failed", "interaction.cancelled", "video.generated"]
)
def test_every_documented_event_type_is_typed(kind: str) -> None:
    assert kind in typing.get_args(EventType)
    body = json.dumps({"type": kind, "data": {"id": "x", "error_code": "E"}}).encode()
    delivery = Receiver(secrets=SECRET).verify(body, signed_static_body(body), now=NOW)
    assert delivery.event_type == kind and delivery.event is not None and delivery.event["type"] == kind
    assert set(delivery.event["data"]) <= set(EventData.__annotations__)
    assert (delivery.mode, delivery.authenticated) == ("static", "signature")
    assert delivery.mode in typing.get_args(Mode) and delivery.authenticated in typing.get_args(Authenticated)


def signed_static_body(body: bytes) -> dict[str, str]:
    return {"webhook-id": "msg_t", "webhook-timestamp": str(NOW), "webhook-signature": ws.Webhook(SECRET).sign("msg_t", NOW, body)}
