"""Property tests: on random ids, timestamps, bodies and keys, ``sign`` equals
``standardwebhooks``' and each side verifies the other's signature."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import standardwebhooks
from hypothesis import given, settings
from hypothesis import strategies as st

import webhook_signature as ws

# Any id the spec allows: no ".", no control character; non-ASCII ones are signed as UTF-8.
ids = st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc"), exclude_characters=".,"), min_size=1, max_size=40)
keys = st.binary(min_size=1, max_size=64)
# From a day after 1970, so a zone's wall-clock time read as UTC stays after 1970.
timestamps = st.integers(min_value=86_400, max_value=2**34)
zones = st.integers(min_value=-23 * 60, max_value=23 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
bodies = st.text(max_size=2000).map(str.encode)


@settings(max_examples=300, deadline=None)
@given(msg_id=ids, key=keys, timestamp=timestamps, body=bodies, zone=zones)
def test_sign_and_verify_agree_with_standardwebhooks(msg_id: str, key: bytes, timestamp: int, body: bytes, zone: timezone) -> None:
    secret = "whsec_" + base64.b64encode(key).decode()
    theirs = standardwebhooks.Webhook(secret)
    ours = ws.Webhook(secret)
    when = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    signature = theirs.sign(msg_id, when, body.decode())
    assert ours.sign(msg_id, when, body) == signature
    # An aware datetime in another zone: upstream reads its wall-clock time as UTC, and so do we.
    elsewhere = when.astimezone(zone)
    assert ours.sign(msg_id, elsewhere, body) == theirs.sign(msg_id, elsewhere, body.decode())
    assert ours.sign(msg_id, timestamp, body) == signature
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}
    assert ours.verify(body, headers, now=timestamp, json_parse=False) is None


@settings(max_examples=200, deadline=None)
@given(key=keys, body=st.binary(max_size=500), junk=st.text(max_size=120))
def test_any_signature_header_raises_only_our_error(key: bytes, body: bytes, junk: str) -> None:
    ours = ws.Webhook(key)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": junk}
    try:
        ours.verify(body, headers, now=1700000000, json_parse=False)
    except ws.WebhookVerificationError:
        pass


# HMAC secrets only: whpk_/whsk_ (Ed25519) keys are ours alone, upstream has no such keys.
secret_texts = st.tuples(
    st.sampled_from(["", "whsec_", " whsec_", "whsec"]),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n\t", max_size=60),
).map("".join)


@settings(max_examples=500, deadline=None)
@given(secret=secret_texts)
def test_every_secret_we_accept_upstream_accepts_as_the_same_key(secret: str) -> None:
    try:
        ours = ws.Webhook(secret)
    except ValueError:
        return
    theirs = standardwebhooks.Webhook(secret)
    when = datetime.fromtimestamp(1_700_000_000, tz=timezone.utc)
    assert ours.sign("msg_1", when, b"{}") == theirs.sign("msg_1", when, "{}")
