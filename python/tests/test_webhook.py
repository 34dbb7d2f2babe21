"""``webhook_signature.Webhook``: known answers, every error code, bodies and
headers of every shape, and nothing but WebhookVerificationError escaping."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import pytest

import webhook_signature as ws
from conftest import BODY, MSG_ID, SECRET, SIGNATURE, TIMESTAMP, headers, vectors


def test_known_answer_vectors() -> None:
    for vector in vectors():
        wh = ws.Webhook(vector["secret"])
        h = headers(vector["signature"], vector["id"], vector["timestamp"])
        assert wh.verify(vector["payload"].encode(), h, now=int(vector["timestamp"]), json_parse=False) is None, vector
        assert wh.sign(vector["id"], int(vector["timestamp"]), vector["payload"]) in vector["signature"].split(" ")


def test_returns_the_parsed_json_like_standardwebhooks() -> None:
    wh = ws.Webhook(SECRET)
    assert wh.verify(BODY, headers(), now=TIMESTAMP) == {"test": 2432232314}
    assert wh.verify(BODY.decode(), headers(), now=TIMESTAMP) == {"test": 2432232314}


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview, lambda b: b.decode()])
def test_body_types(kind: Any) -> None:
    assert ws.Webhook(SECRET).verify(kind(BODY), headers(), now=TIMESTAMP, json_parse=False) is None


def test_now_forms() -> None:
    wh = ws.Webhook(SECRET)
    for now in (TIMESTAMP, TIMESTAMP + 0.9, datetime.fromtimestamp(TIMESTAMP, timezone.utc), datetime.utcfromtimestamp(TIMESTAMP)):
        wh.verify(BODY, headers(), now=now, json_parse=False)


def test_non_utf8_bodies_verify() -> None:
    wh = ws.Webhook(SECRET)
    body = b"\xff\xfe\x00binary"
    signature = wh.sign(MSG_ID, TIMESTAMP, body)
    assert wh.verify(body, headers(signature), now=TIMESTAMP, json_parse=False) is None
    # With json_parse, a body that is not JSON is InvalidJson, still a WebhookVerificationError.
    with pytest.raises(ws.InvalidJsonError) as raised:
        wh.verify(body, headers(signature), now=TIMESTAMP)
    assert raised.value.code == "InvalidJson"


class CaseInsensitive(Mapping[str, str]):
    """A mapping like Starlette's Headers: lower-case keys, case-insensitive get."""

    def __init__(self, items: dict[str, str]) -> None:
        self._items = {key.lower(): value for key, value in items.items()}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()]

    def __iter__(self) -> Any:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def test_header_names_any_case_and_svix() -> None:
    wh = ws.Webhook(SECRET)
    mixed = {"Webhook-Id": MSG_ID, "WEBHOOK-TIMESTAMP": str(TIMESTAMP), "webhook-Signature": SIGNATURE}
    assert wh.verify(BODY, mixed, now=TIMESTAMP, json_parse=False) is None
    assert wh.verify(BODY, CaseInsensitive(mixed), now=TIMESTAMP, json_parse=False) is None
    svix = {"svix-id": MSG_ID, "Svix-Timestamp": str(TIMESTAMP), "svix-signature": SIGNATURE}
    assert wh.verify(BODY, svix, now=TIMESTAMP, json_parse=False) is None
    # When both are present, the webhook-* ones are used.
    with pytest.raises(ws.NoMatchingSignatureError):
        wh.verify(BODY, {**svix, "webhook-id": "msg_other"}, now=TIMESTAMP)


@pytest.mark.parametrize(
    ("h", "now", "error"),
    [
        (headers(), TIMESTAMP + 301, ws.TimestampTooOldError),
        (headers(), TIMESTAMP - 301, ws.TimestampTooNewError),
        (headers("v1,AAAA" + SIGNATURE[7:]), TIMESTAMP, ws.NoMatchingSignatureError),
        (headers("v2,abc"), TIMESTAMP, ws.NoSupportedSignatureError),
        (headers(timestamp="+1614265330"), TIMESTAMP, ws.InvalidTimestampError),
        ({"webhook-id": MSG_ID}, TIMESTAMP, ws.MissingHeaderError),
        (headers(msg_id="msg\x01"), TIMESTAMP, ws.InvalidHeaderError),
    ],
)
def test_every_error_code(h: dict[str, str], now: int, error: type[ws.WebhookVerificationError]) -> None:
    with pytest.raises(error) as raised:
        ws.Webhook(SECRET).verify(BODY, h, now=now)
    assert isinstance(raised.value, ws.WebhookVerificationError)
    assert raised.value.code == error.code


def test_tolerance_is_configurable() -> None:
    wh = ws.Webhook(SECRET, tolerance=3600)
    assert wh.verify(BODY, headers(), now=TIMESTAMP + 3600, json_parse=False) is None
    with pytest.raises(ws.TimestampTooOldError):
        wh.verify(BODY, headers(), now=TIMESTAMP + 3601)


@pytest.mark.parametrize(
    "signature",
    ["", "v1", "v1,", "v1,not base64!", "v1,a,b,c", ",,,", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=,", "\u00e9"],
)
def test_malformed_signatures_raise_only_our_error(signature: str) -> None:
    with pytest.raises(ws.WebhookVerificationError):
        ws.Webhook(SECRET).verify(BODY, headers(signature), now=TIMESTAMP)


def test_secrets() -> None:
    raw = ws.Webhook(bytes(range(1, 25)))
    signature = raw.sign(MSG_ID, TIMESTAMP, BODY)
    assert ws.Webhook("whsec_" + __import__("base64").b64encode(bytes(range(1, 25))).decode()).verify(
        BODY, headers(signature), now=TIMESTAMP, json_parse=False
    ) is None
    assert ws.Webhook(SECRET.removeprefix("whsec_")).verify(BODY, headers(), now=TIMESTAMP, json_parse=False) is None
    for bad in ("whsec_not base64!", "", "whsec_"):
        with pytest.raises(ValueError) as raised:
            ws.Webhook(bad)
        assert isinstance(raised.value, ws.WebhookVerificationError)
        assert raised.value.code == "InvalidSecret"


def test_rotation_says_which_key_matched() -> None:
    previous = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
    wh = ws.Webhook([previous, SECRET])
    payload, key = wh.verify_with_key(BODY, headers(), now=TIMESTAMP)
    assert (payload, key) == ({"test": 2432232314}, 1)
    assert wh.sign(MSG_ID, TIMESTAMP, BODY).split(" ")[1] == SIGNATURE


def test_ed25519_keys() -> None:
    # Vector B1, Svix's server tests (as in the Rust tests' tests/common/mod.rs).
    secret = "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg=="
    public = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="
    signature = ws.Webhook(secret).sign(MSG_ID, TIMESTAMP, BODY)
    assert signature.startswith("v1a,")
    assert ws.Webhook(public).verify(BODY, headers(signature), now=TIMESTAMP, json_parse=False) is None
    with pytest.raises(ws.NoMatchingSignatureError):
        ws.Webhook(public).verify(BODY + b" ", headers(signature), now=TIMESTAMP)


def test_wrong_argument_types_are_type_errors() -> None:
    wh = ws.Webhook(SECRET)
    with pytest.raises(TypeError):
        wh.verify(42, headers(), now=TIMESTAMP)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        wh.verify(BODY, "webhook-id: x", now=TIMESTAMP)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ws.Webhook(42)  # type: ignore[arg-type]


def test_header_bytes_that_are_not_utf8_are_refused_never_replaced() -> None:
    wh = ws.Webhook(SECRET)
    msg_id = "msg_\u00e9"
    signature = wh.sign(msg_id, TIMESTAMP, BODY)
    as_bytes = {"webhook-id": msg_id.encode(), "webhook-timestamp": str(TIMESTAMP), "webhook-signature": signature}
    assert wh.verify(BODY, as_bytes, now=TIMESTAMP, json_parse=False) is None  # type: ignore[arg-type]
    # The replacement character's id would be hashed as text that was not sent.
    replaced = {**as_bytes, "webhook-id": b"msg_\xe9"}
    with pytest.raises(ws.InvalidHeaderError):
        wh.verify(BODY, replaced, now=TIMESTAMP)  # type: ignore[arg-type]


@pytest.mark.parametrize("when", [-1, float("nan"), float("inf"), 2**64, -0.5])
def test_sign_refuses_times_it_cannot_write(when: float) -> None:
    with pytest.raises(ValueError):
        ws.Webhook(SECRET).sign(MSG_ID, when, BODY)  # type: ignore[arg-type]
