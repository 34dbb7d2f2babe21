"""Speed against PyPI ``standardwebhooks`` and a bare stdlib HMAC, like for
like, in one process: every contender gets the same fresh headers and reads
the clock, once without JSON parsing (``json_parse=False`` on both sides, the
stdlib HMAC bare) and once with it (``json.loads`` after the stdlib HMAC).
Rounds alternate between the contenders, and each ratio is the median of the
per-round ratios, so machine noise hits all sides alike.

    python python/bench.py            # after pip install ./python standardwebhooks
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import statistics
import sys
import time
from collections.abc import Callable

import standardwebhooks

import webhook_signature

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KEY = base64.b64decode(SECRET.removeprefix("whsec_"))
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
NOW = 1614265330
ROUNDS = 31


def per_call(fn: Callable[[], object], calls: int) -> float:
    """Seconds per call over ``calls`` calls."""
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - started) / calls


def contenders(size: int, parse: bool) -> tuple[dict[str, Callable[[], object]], int]:
    """The three verifiers of one ``size``-byte JSON body, parsing it or not."""
    body = b'{"pad":"' + b"x" * max(size - 10, 0) + b'"}'
    theirs = standardwebhooks.Webhook(SECRET)
    ours = webhook_signature.Webhook(SECRET)
    # Both libraries read the clock: a fresh timestamp keeps the delivery in their window.
    now = int(time.time())
    signature = ours.sign(MSG_ID, now, body)
    headers = {"webhook-id": MSG_ID, "webhook-timestamp": str(now), "webhook-signature": signature}
    expected = base64.b64decode(signature.removeprefix("v1,"))
    prefix = f"{MSG_ID}.{now}.".encode()

    def stdlib() -> object:
        digest = hmac.new(KEY, prefix + body, hashlib.sha256).digest()
        if not hmac.compare_digest(digest, expected):
            raise ValueError("no match")
        return json.loads(body) if parse else None

    def ours_verify() -> object:
        return ours.verify(body, headers, json_parse=parse)

    def theirs_verify() -> object:
        return theirs.verify(body, headers, json_parse=parse)

    calls = max(200, 2_000_000 // max(size, 64))
    return {"ours": ours_verify, "standardwebhooks": theirs_verify, "stdlib": stdlib}, calls


def table(parse: bool) -> None:
    print(f"\nWith JSON parsing: {'yes' if parse else 'no (json_parse=False; stdlib: HMAC + compare_digest only)'}\n")
    print("| body | ours | standardwebhooks | stdlib | standardwebhooks / ours | stdlib / ours |")
    print("|---|---|---|---|---|---|")
    for size in (64, 512, 65536):
        fns, calls = contenders(size, parse)
        times: dict[str, list[float]] = {name: [] for name in fns}
        ratios_theirs, ratios_stdlib = [], []
        for round_ in range(ROUNDS):
            order = list(fns) if round_ % 2 == 0 else list(reversed(fns))
            this = {name: per_call(fns[name], calls) for name in order}
            for name, seconds in this.items():
                times[name].append(seconds)
            ratios_theirs.append(this["standardwebhooks"] / this["ours"])
            ratios_stdlib.append(this["stdlib"] / this["ours"])
        us = {name: statistics.median(values) * 1e6 for name, values in times.items()}
        label = f"{size} B" if size < 1024 else f"{size // 1024} KiB"
        print(
            f"| {label} | {us['ours']:.2f} µs | {us['standardwebhooks']:.2f} µs | {us['stdlib']:.2f} µs "
            f"| {statistics.median(ratios_theirs):.2f}× | {statistics.median(ratios_stdlib):.2f}× |"
        )


def main() -> None:
    print(f"Python {sys.version.split()[0]}, median of {ROUNDS} alternating rounds")
    table(parse=False)
    table(parse=True)


def gil_release_cost() -> None:
    """Bodies of GIL_RELEASE_BYTES or more are hashed with the GIL released: the
    cost of releasing is the step between one byte under the threshold and at it."""
    threshold = webhook_signature.GIL_RELEASE_BYTES
    ours = webhook_signature.Webhook(SECRET)
    steps = []
    for size in (threshold - 1, threshold):
        body = b"x" * size
        headers = {"webhook-id": MSG_ID, "webhook-timestamp": str(NOW), "webhook-signature": ours.sign(MSG_ID, NOW, body)}
        steps.append(
            statistics.median(
                per_call(lambda: ours.verify(body, headers, now=NOW, json_parse=False), 5_000) for _ in range(ROUNDS)
            )
        )
    print(
        f"\nGIL release at {threshold} B: {steps[0] * 1e9:.0f} ns held, {steps[1] * 1e9:.0f} ns released "
        f"(about {(steps[1] - steps[0]) * 1e9:.0f} ns to release and re-take it, uncontended)"
    )


if __name__ == "__main__":
    main()
    gil_release_cost()
