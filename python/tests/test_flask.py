"""The Flask decorators through Flask's test client: 204, 400, 401, 413 and
503, with bodies that do not say which check failed, a body never read past
``max_body + 1`` bytes, and the view never called for a refused delivery."""

from __future__ import annotations

import io
import json
import time

from flask import Flask, request

from conftest import SECRET, signed, signed_text
from test_gemini import AUDIENCE, BODY, JWKS_A, token
from webhook_signature.flask import GeminiDelivery, VerifiedDelivery, verified_gemini, verified_webhook

app = Flask(__name__)
seen: list[VerifiedDelivery] = []


@app.post("/webhooks/<source>")
@verified_webhook(SECRET, max_body=1024)
def receive(delivery: VerifiedDelivery, source: str) -> tuple[str, int, dict[str, str]]:
    seen.append(delivery)
    return "", 204, {"x-source": source}


@app.post("/async")
@verified_webhook(SECRET, max_body=1024)
async def receive_async(delivery: VerifiedDelivery) -> tuple[str, int, dict[str, str]]:
    seen.append(delivery)
    return "", 204, {"x-view": "async"}


@app.post("/gemini")
@verified_gemini(audience=AUDIENCE, jwks=json.loads(JWKS_A))
def gemini(delivery: GeminiDelivery) -> tuple[str, int, dict[str, str]]:
    return "", 204, {"x-mode": delivery.delivery.mode}


@app.post("/gemini-offline")
@verified_gemini(audience=AUDIENCE, jwks_url="http://127.0.0.1:9/jwks.json")
def gemini_offline(delivery: GeminiDelivery) -> tuple[str, int]:
    raise AssertionError("no key could be had: the view must not run")


client = app.test_client()


def test_a_valid_delivery_reaches_the_view_with_its_route_arguments() -> None:
    body = b'{"type":"batch.succeeded"}'
    response = client.post("/webhooks/gemini", data=body, headers=signed(body))
    assert (response.status_code, response.headers["x-source"]) == (204, "gemini")
    assert seen[-1].body == body and seen[-1].id == "msg_api" and seen[-1].key == 0
    assert seen[-1].json() == {"type": "batch.succeeded"}


def test_rejections_never_reach_the_view() -> None:
    body = b'{"type":"batch.succeeded"}'
    before = len(seen)
    cases = [
        (body + b" ", signed(body), 401),  # tampered
        (body, signed(body, timestamp=int(time.time()) - 3600), 401),  # stale
        (body, {k: v for k, v in signed(body).items() if k != "webhook-id"}, 400),  # missing header
        (body, {**signed(body), "webhook-timestamp": "soon"}, 400),  # malformed timestamp
        (body, {**signed(body), "webhook-timestamp": "\u00b2"}, 400),  # a digit, but not ASCII
        (body, {**signed(body), "webhook-timestamp": "9" * 5000}, 400),  # past u64, and past int()'s 4,300 digits
        (b"x" * 2000, signed(b"x" * 2000), 413),  # over max_body, by Content-Length
    ]
    for content, headers, status in cases:
        response = client.post("/webhooks/x", data=content, headers=headers)
        assert response.status_code == status, (headers, response.text)
        text = response.text.lower()
        assert "signature" not in text and "timestamp" not in text
    assert len(seen) == before


class CountingStream(io.BytesIO):
    """An endless-looking body that counts what the server read of it."""

    def __init__(self, size: int) -> None:
        super().__init__(b"x" * size)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def test_a_chunked_body_over_the_limit_is_cut_off_unread() -> None:
    # No Content-Length: the WSGI server marks the input as ending on its own
    # (as gunicorn does for Transfer-Encoding: chunked).
    stream = CountingStream(1 << 20)
    response = client.post(
        "/webhooks/x",
        input_stream=stream,
        headers=signed(b"x"),
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert stream.taken <= 1025, f"read {stream.taken} bytes of a body over the 1,024-byte limit"


def test_a_chunked_body_within_the_limit_verifies() -> None:
    body = b'{"chunked":true}'
    response = client.post(
        "/webhooks/x",
        input_stream=io.BytesIO(body),
        headers=signed(body, msg_id="msg_chunked"),
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 204
    assert seen[-1].id == "msg_chunked" and seen[-1].body == body


def test_an_invalid_content_length_is_400() -> None:
    body = b"{}"
    # Set in the WSGI environ: the test client would write its own header over it.
    response = client.post("/webhooks/x", data=body, headers=signed(body), environ_overrides={"CONTENT_LENGTH": "\u00b2"})
    assert response.status_code == 400


def test_gemini_both_modes() -> None:
    now = int(time.time())
    headers = {"webhook-id": "msg_g", "webhook-timestamp": str(now), "webhook-signature": token({"iat": now, "exp": now + 300})}
    response = client.post("/gemini", data=BODY, headers=headers)
    assert (response.status_code, response.headers["x-mode"]) == (204, "dynamic")
    forged = {**headers, "webhook-signature": token({"iat": now, "exp": now + 300, "aud": "https://other.example"})}
    assert client.post("/gemini", data=BODY, headers=forged).status_code == 401


def test_gemini_without_keys_is_503_so_the_sender_retries() -> None:
    now = int(time.time())
    headers = {"webhook-id": "msg_503", "webhook-timestamp": str(now), "webhook-signature": token({"iat": now, "exp": now + 300})}
    response = client.post("/gemini-offline", data=BODY, headers=headers)
    assert response.status_code == 503
    assert "Service Unavailable" in response.text and "key" not in response.text.lower()


def test_an_async_view_is_guarded_too() -> None:
    body = b'{"type":"batch.succeeded"}'
    response = client.post("/async", data=body, headers=signed(body, msg_id="msg_async"))
    assert (response.status_code, response.headers["x-view"]) == (204, "async")
    assert seen[-1].id == "msg_async"
    before = len(seen)
    assert client.post("/async", data=body + b" ", headers=signed(body)).status_code == 401
    assert len(seen) == before


def test_a_zero_padded_timestamp_reads_as_the_core_reads_it() -> None:
    now = int(time.time())
    body = b'{"padded":true}'
    response = client.post("/webhooks/x", data=body, headers=signed_text(body, "msg_padded", "0" * 5000 + str(now)))
    assert response.status_code == 204
    assert (seen[-1].id, seen[-1].timestamp) == ("msg_padded", now)


def test_a_content_length_of_thousands_of_digits_is_413_not_a_500() -> None:
    body = b"{}"
    response = client.post("/webhooks/x", data=body, headers=signed(body), environ_overrides={"CONTENT_LENGTH": "9" * 5000})
    assert response.status_code == 413


factory_app = Flask(__name__)
views: list[dict[str, object]] = []


@factory_app.errorhandler(401)
def unauthorized(error: Exception) -> tuple[dict[str, str], int]:
    return {"error": "unauthorized"}, 401


@factory_app.post("/configured")
@verified_webhook(max_body=1024)
def configured(delivery: VerifiedDelivery) -> tuple[str, int]:
    views.append({"data": request.get_data(), "json": request.get_json(force=True), "id": delivery.id})
    return "", 204


@factory_app.post("/form")
@verified_webhook(max_body=1024)
def form(delivery: VerifiedDelivery) -> tuple[str, int]:
    views.append({"form": request.form.to_dict(), "data": request.get_data()})
    return "", 204


def test_secret_from_config_body_read_again_and_error_handlers() -> None:
    factory_app.config["WEBHOOK_SECRET"] = SECRET
    factory = factory_app.test_client()
    body = b'{"test": 2432232314}'
    assert factory.post("/configured", data=body, headers=signed(body, msg_id="msg_cfg")).status_code == 204
    assert views[-1] == {"data": body, "json": {"test": 2432232314}, "id": "msg_cfg"}
    form_body = b"a=1&b=two"
    headers = {**signed(form_body), "content-type": "application/x-www-form-urlencoded"}
    assert factory.post("/form", data=form_body, headers=headers).status_code == 204
    assert views[-1] == {"form": {"a": "1", "b": "two"}, "data": form_body}
    # The refusal went through abort(): the application's handler answered it.
    response = factory.post("/configured", data=body + b" ", headers=signed(body))
    assert (response.status_code, response.json) == (401, {"error": "unauthorized"})
    # A secret rotated in the config is used from the next request on.
    factory_app.config["WEBHOOK_SECRET"] = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
    assert factory.post("/configured", data=body, headers=signed(body)).status_code == 401


@factory_app.post("/gemini-configured")
@verified_gemini(jwks=json.loads(JWKS_A))
def gemini_configured(delivery: GeminiDelivery) -> tuple[dict[str, object], int]:
    return {"mode": delivery.delivery.mode, "event": request.get_json(force=True)}, 200


def test_gemini_secrets_and_audience_from_config() -> None:
    factory_app.config.update(GEMINI_WEBHOOK_SECRET=SECRET, GEMINI_WEBHOOK_AUDIENCE=AUDIENCE)
    factory = factory_app.test_client()
    now = int(time.time())
    dynamic = {"webhook-id": "msg_gd", "webhook-timestamp": str(now), "webhook-signature": token({"iat": now, "exp": now + 300})}
    response = factory.post("/gemini-configured", data=BODY, headers=dynamic)
    assert (response.status_code, response.json) == (200, {"mode": "dynamic", "event": json.loads(BODY)})
    response = factory.post("/gemini-configured", data=BODY, headers=signed(BODY, "msg_gs"))
    assert response.json is not None and response.json["mode"] == "static"


def test_a_body_read_before_the_view_by_a_hook_still_verifies() -> None:
    hooked = Flask(__name__)
    read_early: list[bytes] = []

    @hooked.before_request
    def audit() -> None:
        read_early.append(request.get_data())

    @hooked.post("/hook")
    @verified_webhook(SECRET, max_body=64)
    def view(delivery: VerifiedDelivery) -> tuple[bytes, int]:
        return request.get_data(), 200

    client = hooked.test_client()
    body = b'{"early": true}'
    response = client.post("/hook", data=body, headers=signed(body))
    assert (response.status_code, response.data, read_early) == (200, body, [body])
    big = b"x" * 100
    assert client.post("/hook", data=big, headers=signed(big)).status_code == 413
