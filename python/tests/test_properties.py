"""Property tests: on random ids, timestamps, bodies and keys, ``sign`` equals
``standardwebhooks``' and each side verifies the other's signature."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import standardwebhooks
from hypothesis import given, settings
from hypothesis import strategies as st

import webhook_signature as ws

ids = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=".,"), min_size=1, max_size=40)
keys = st.binary(min_size=1, max_size=64)
timestamps = st.integers(min_value=1, max_value=2**34)
bodies = st.text(max_size=2000).map(str.encode)


@settings(max_examples=300, deadline=None)
@given(msg_id=ids, key=keys, timestamp=timestamps, body=bodies)
def test_sign_and_verify_agree_with_standardwebhooks(msg_id: str, key: bytes, timestamp: int, body: bytes) -> None:
    secret = "whsec_" + base64.b64encode(key).decode()
    theirs = standardwebhooks.Webhook(secret)
    ours = ws.Webhook(secret)
    when = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    signature = theirs.sign(msg_id, when, body.decode())
    assert ours.sign(msg_id, when, body) == signature
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
