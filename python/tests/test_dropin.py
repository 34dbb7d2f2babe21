"""What a ``standardwebhooks`` user relies on beyond its own tests (which run
unchanged in tests/upstream): import paths, secrets as it reads them, its
messages, ``sign`` byte for byte, a non-JSON authentic body as a ``ValueError``,
and a ``Webhook`` that can be subclassed, pickled and copied."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import pickle
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import standardwebhooks.webhooks as upstream

import webhook_signature as ws
import webhook_signature.exceptions
import webhook_signature.webhooks
from conftest import BODY, MSG_ID, SECRET, SIGNATURE, TIMESTAMP, headers

WHEN = datetime.fromtimestamp(TIMESTAMP, tz=timezone.utc)


def test_upstream_import_paths() -> None:
    from webhook_signature.webhooks import EmptyWebhookSecretError, Webhook, WebhookVerificationError, hmac_data

    assert Webhook is ws.Webhook and WebhookVerificationError is ws.WebhookVerificationError
    assert webhook_signature.exceptions.WebhookVerificationError is WebhookVerificationError
    assert issubclass(EmptyWebhookSecretError, ws.InvalidSecretError)
    assert hmac_data(b"key", b"data") == hmac.new(b"key", b"data", hashlib.sha256).digest()
    assert hmac_data(b"", b"") == upstream.hmac_data(b"", b"")
    assert ws.__version__.count(".") == 2


def test_whsecret_by_keyword() -> None:
    assert ws.Webhook(whsecret=SECRET).sign(MSG_ID, WHEN, BODY) == SIGNATURE


@pytest.mark.parametrize(
    "secret",
    [
        SECRET + "\n",  # a mounted secret file
        SECRET + " \r\n\t",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",  # unpadded, with unused bits set: upstream's "needs one padding"
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr",  # unpadded, two short
        b"raw key bytes",
    ],
)
def test_secrets_upstream_accepts_give_the_same_key(secret: str | bytes) -> None:
    ours, theirs = ws.Webhook(secret), upstream.Webhook(secret)
    assert ours.sign(MSG_ID, WHEN, BODY) == theirs.sign(MSG_ID, WHEN, BODY.decode())


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_\n", "\n", b""])
def test_empty_secrets_as_upstream(secret: str | bytes) -> None:
    with pytest.raises(upstream.EmptyWebhookSecretError):
        upstream.Webhook(secret)
    with pytest.raises(ws.EmptyWebhookSecretError, match="webhook secret may not be empty") as raised:
        ws.Webhook(secret)
    assert isinstance(raised.value, ValueError) and raised.value.code == "InvalidSecret"


@pytest.mark.parametrize(
    "secret",
    [
        " " + SECRET,  # upstream keys "whsec" itself into the key here: a different key, refused
        "whsec_MfKQ9r8G KYqrTwjUPD8ILPZIo2LaLaSw",  # upstream skips the space: we do not guess
        "whsec_MfKQ9r8G-KYqrTwjUPD8ILPZIo2LaLaSw",  # URL-safe alphabet: upstream drops the "-"
        "whsec_A",  # one character: upstream refuses it too
    ],
)
def test_nothing_looser_than_upstream(secret: str) -> None:
    with pytest.raises(ws.InvalidSecretError):
        ws.Webhook(secret)


def test_messages_are_upstreams() -> None:
    now = int(datetime.now(timezone.utc).timestamp())
    body = BODY.decode()
    good = {"webhook-id": MSG_ID, "webhook-timestamp": str(now), "webhook-signature": upstream.Webhook(SECRET).sign(MSG_ID, datetime.fromtimestamp(now, tz=timezone.utc), body)}
    cases: list[dict[str, str]] = [
        {k: v for k, v in good.items() if k != "webhook-id"},
        {**good, "webhook-timestamp": "hello"},
        {**good, "webhook-timestamp": str(now - 400)},
        {**good, "webhook-timestamp": str(now + 400)},
        {**good, "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="},
    ]
    for case in cases:
        with pytest.raises(upstream.WebhookVerificationError) as theirs:
            upstream.Webhook(SECRET).verify(body, case)
        with pytest.raises(ws.WebhookVerificationError) as ours:
            ws.Webhook(SECRET).verify(body, case, now=now)
        assert str(ours.value) == str(theirs.value), case


def test_an_authentic_body_that_is_not_json_is_a_value_error_not_a_rejection() -> None:
    body = b"not json"
    signature = ws.Webhook(SECRET).sign(MSG_ID, TIMESTAMP, body)
    with pytest.raises(ValueError) as raised:
        ws.Webhook(SECRET).verify(body, headers(signature), now=TIMESTAMP)
    assert isinstance(raised.value, json.JSONDecodeError) and isinstance(raised.value, ws.InvalidJsonError)
    assert not isinstance(raised.value, ws.WebhookVerificationError)
    assert raised.value.code == "InvalidJson"
    # Bytes that are not even text, and nesting deeper than the stack: still an InvalidJsonError.
    for odd in (b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000):
        with pytest.raises(ws.InvalidJsonError):
            ws.Webhook(SECRET).verify(odd, headers(ws.Webhook(SECRET).sign(MSG_ID, TIMESTAMP, odd)), now=TIMESTAMP)


def test_a_non_ascii_id_is_signed_and_verified_as_utf8_as_upstream_does() -> None:
    msg_id = "msg_\u00e9t\u00e9_\U0001f600"
    theirs = upstream.Webhook(SECRET).sign(msg_id, WHEN, BODY.decode())
    assert ws.Webhook(SECRET).sign(msg_id, WHEN, BODY) == theirs
    assert ws.Webhook(SECRET).verify(BODY, headers(theirs, msg_id=msg_id), now=TIMESTAMP) == {"test": 2432232314}
    with pytest.raises(ws.InvalidHeaderError):
        ws.Webhook(SECRET).verify(BODY, headers(theirs, msg_id="msg_\u00e9\n"), now=TIMESTAMP)


@pytest.mark.parametrize(
    "when",
    [
        WHEN,
        datetime(2021, 2, 25, 15, 2, 10),  # naive
        datetime(2021, 2, 25, 15, 2, 10, 999999, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2021, 2, 25, 15, 2, 10, tzinfo=timezone(timedelta(hours=-8))),
    ],
)
def test_sign_equals_upstream_for_every_datetime(when: datetime) -> None:
    assert ws.Webhook(SECRET).sign(MSG_ID, when, BODY) == upstream.Webhook(SECRET).sign(MSG_ID, when, BODY.decode())


@pytest.mark.parametrize("msg_id", ["", "a.b"])
def test_ids_we_refuse_to_sign_on_purpose(msg_id: str) -> None:
    with pytest.raises(ws.InvalidIdError):
        ws.Webhook(SECRET).sign(msg_id, WHEN, BODY)


class Tagged(ws.Webhook):
    """A subclass as users write them: its own __init__ and state."""

    def __init__(self, whsecret: str, tag: str) -> None:
        super().__init__(whsecret)
        self.tag = tag

    def verify(self, data: Any, headers: Any, *, json_parse: bool = True, now: Any = None) -> Any:
        payload = super().verify(data, headers, json_parse=json_parse, now=now)
        return {"tag": self.tag, "payload": payload}


def test_subclass_pickle_and_copy() -> None:
    wh = Tagged(SECRET, "orders")
    assert wh.verify(BODY, headers(), now=TIMESTAMP) == {"tag": "orders", "payload": {"test": 2432232314}}
    for clone in (pickle.loads(pickle.dumps(wh)), copy.deepcopy(wh), copy.copy(wh)):
        assert type(clone) is Tagged and clone.tag == "orders"
        assert clone.verify(BODY, headers(), now=TIMESTAMP)["payload"] == {"test": 2432232314}
    rotated = ws.Webhook(["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", SECRET], tolerance=60)
    clone = pickle.loads(pickle.dumps(rotated))
    assert clone.verify_with_key(BODY, headers(), now=TIMESTAMP + 60) == ({"test": 2432232314}, 1)
    with pytest.raises(ws.TimestampTooOldError):
        clone.verify(BODY, headers(), now=TIMESTAMP + 61)
    assert SECRET[6:] not in repr(rotated)
