"""Prints markdown tables of criterion medians from target/criterion (see report.sh)."""
import json
import sys
from pathlib import Path

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
SIZES = [64, 512, 4096, 65536, 1048576]


def median(*path):
    """Median in nanoseconds, or None if that benchmark did not run."""
    file = ROOT.joinpath(*map(str, path), "new", "estimates.json")
    if not file.exists():
        return None
    return json.loads(file.read_text())["median"]["point_estimate"]


def show(ns):
    if ns is None:
        return "–"
    for unit, scale in (("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def ratio(a, b):
    return "–" if a is None or b is None else f"{a / b:.2f}×"


def size(n):
    return f"{n // 1048576} MiB" if n >= 1048576 else f"{n // 1024} KiB" if n >= 1024 else f"{n} B"


print("### v1 (HMAC-SHA256) verify, criterion medians\n")
print("| body | ours | ours, streaming | ours, 3 entries | pre-keyed HMAC, joined content | SHA-256 | ours / HMAC | standardwebhooks | svix | standardwebhooks / ours | svix / ours | sign |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for n in SIZES:
    ours, hmac = median("verify", "ours", n), median("verify", "floor_hmac_prekeyed", n)
    peer_ours = median("peers", "ours", n)
    std, svix = median("peers", "standardwebhooks", n), median("peers", "svix", n)
    print(f"| {size(n)} | {show(ours)} | {show(median('verify', 'ours_streaming', n))} "
          f"| {show(median('verify', 'ours_rotation_3', n))} | {show(hmac)} | {show(median('verify', 'floor_sha256', n))} "
          f"| {ratio(ours, hmac)} | {show(std)} | {show(svix)} | {ratio(std, peer_ours)} | {ratio(svix, peer_ours)} "
          f"| {show(median('sign', 'ours', n))} |")

print("\nPeer ratios use our `verify` measured in the same group as the peers (with `Timestamp::now()`).")
print("\n### Rejections at 64 KiB, and key setup\n")
print("| case | median |")
print("|---|---|")
for case in ["stale_timestamp", "malformed_timestamp", "no_supported_signature", "wrong_signature"]:
    print(f"| {case.replace('_', ' ')} | {show(median('reject_64KiB', case))} |")
print(f"| `Webhook::new` (whsec_, 24-byte key) | {show(median('new_whsec'))} |")
print(f"| 44-byte compare: subtle `ct_eq` | {show(median('compare_44B', 'subtle_ct_eq'))} |")
print(f"| 44-byte compare: `constant_time_eq` | {show(median('compare_44B', 'constant_time_eq'))} |")

print("\n### v1a (Ed25519) verify and sign\n")
print("| body | ours, strict, streamed | ed25519-dalek `verify_strict` | ours / dalek | sign |")
print("|---|---|---|---|---|")
for n in SIZES:
    ours, dalek = median("v1a_verify", "ours", n), median("v1a_verify", "dalek_verify_strict", n)
    print(f"| {size(n)} | {show(ours)} | {show(dalek)} | {ratio(ours, dalek)} | {show(median('v1a_verify', 'ours_sign', n))} |")
