"""The FastAPI dependencies through TestClient: 204, 400, 401 and 413, with
bodies that do not say which check failed, and a body the endpoint reads again."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel

from conftest import SECRET, signed, signed_text
from test_gemini import AUDIENCE, BODY, JWKS_A, jwks_server, token  # noqa: F401 (jwks_server: a fixture)
from webhook_signature.fastapi import GeminiDelivery, GeminiVerifier, VerifiedDelivery, WebhookVerifier

app = FastAPI()
seen: list[VerifiedDelivery] = []


@app.post("/webhooks")
async def receive(delivery: VerifiedDelivery = Depends(WebhookVerifier(SECRET, max_body=1024))) -> Response:
    seen.append(delivery)
    return Response(status_code=204)


@app.post("/gemini")
async def gemini(delivery: GeminiDelivery = Depends(GeminiVerifier(audience=AUDIENCE, jwks=json.loads(JWKS_A)))) -> Response:
    return Response(status_code=204, headers={"x-mode": delivery.delivery.mode})


client = TestClient(app)


def test_a_valid_delivery_reaches_the_handler() -> None:
    body = b'{"type":"batch.succeeded"}'
    response = client.post("/webhooks", content=body, headers=signed(body))
    assert response.status_code == 204
    assert seen[-1].body == body and seen[-1].id == "msg_api" and seen[-1].json() == {"type": "batch.succeeded"}


def test_rejections() -> None:
    body = b'{"type":"batch.succeeded"}'
    cases = [
        (body + b" ", signed(body), 401),  # tampered
        (body, signed(body, timestamp=int(time.time()) - 3600), 401),  # stale
        (body, {k: v for k, v in signed(body).items() if k != "webhook-id"}, 400),  # missing header
        (body, {**signed(body), "webhook-timestamp": "soon"}, 400),  # malformed timestamp
        (body, {**signed(body), "webhook-timestamp": "9" * 5000}, 400),  # past u64, and past int()'s 4,300 digits
        (b"x" * 2000, signed(b"x" * 2000), 413),  # over max_body
    ]
    for content, headers, status in cases:
        response = client.post("/webhooks", content=content, headers=headers)
        assert response.status_code == status, (headers, response.text)
        assert "signature" not in response.text.lower() and "timestamp" not in response.text.lower()


def test_gemini_dependency() -> None:
    now = int(time.time())
    headers = {"webhook-id": "msg_g", "webhook-timestamp": str(now), "webhook-signature": token({"iat": now, "exp": now + 300})}
    response = client.post("/gemini", content=BODY, headers=headers)
    assert (response.status_code, response.headers["x-mode"]) == (204, "dynamic")
    forged = {**headers, "webhook-signature": token({"iat": now, "exp": now + 300, "aud": "https://other.example"})}
    assert client.post("/gemini", content=BODY, headers=forged).status_code == 401


def test_a_zero_padded_timestamp_reads_as_the_core_reads_it() -> None:
    now = int(time.time())
    body = b'{"padded":true}'
    response = client.post("/webhooks", content=body, headers=signed_text(body, "msg_padded", "0" * 5000 + str(now)))
    assert response.status_code == 204
    assert (seen[-1].id, seen[-1].timestamp) == ("msg_padded", now)


class Order(BaseModel):
    test: int


@app.post("/reads-again")
async def reads_again(request: Request, delivery: VerifiedDelivery = Depends(WebhookVerifier(SECRET, max_body=1024))) -> dict[str, Any]:
    chunks = [chunk async for chunk in request.stream()]
    return {"body": (await request.body()).decode(), "json": await request.json(), "stream": b"".join(chunks).decode()}


@app.post("/model")
async def model(order: Order, delivery: VerifiedDelivery = Depends(WebhookVerifier(SECRET, max_body=1024))) -> dict[str, Any]:
    return {"test": order.test, "id": delivery.id}


def test_the_endpoint_reads_the_body_again() -> None:
    body = b'{"test": 2432232314}'
    response = client.post("/reads-again", content=body, headers=signed(body))
    assert response.status_code == 200, response.text
    assert response.json() == {"body": body.decode(), "json": {"test": 2432232314}, "stream": body.decode()}
    # A body model FastAPI parses before the dependency runs: both see the same body.
    json_type = {"content-type": "application/json"}
    response = client.post("/model", content=body, headers={**signed(body, msg_id="msg_model"), **json_type})
    assert response.json() == {"test": 2432232314, "id": "msg_model"}
    assert client.post("/model", content=body + b" ", headers={**signed(body), **json_type}).status_code == 401


def test_gemini_dependency_fetches_keys_on_the_event_loop(jwks_server: tuple[str, list[int]]) -> None:
    url, requests = jwks_server
    fetching = FastAPI()

    @fetching.post("/gemini")
    async def receive(request: Request, delivery: GeminiDelivery = Depends(GeminiVerifier(audience=AUDIENCE, jwks_url=url))) -> dict[str, Any]:
        return {"kid": delivery.delivery.kid, "body": (await request.json())["type"]}

    now = int(time.time())
    with TestClient(fetching) as fetching_client:
        for i in range(3):
            headers = {"webhook-id": f"msg_f{i}", "webhook-timestamp": str(now), "webhook-signature": token({"iat": now, "exp": now + 300})}
            response = fetching_client.post("/gemini", content=BODY, headers=headers)
            assert response.json() == {"kid": "demo-a", "body": "video.generated"}
    assert len(requests) == 1
