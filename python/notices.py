"""Writes THIRD-PARTY-NOTICES.md: the Rust crates compiled into the extension
module (normal dependencies, for Linux x86_64, as `cargo metadata` resolves
them from Cargo.lock), each with its license expression, then the license
and notice files each ships, identical texts given once.

    python3 python/notices.py            # rewrite python/THIRD-PARTY-NOTICES.md
    python3 python/notices.py --check    # fail if it is out of date (scripts/python.sh)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "THIRD-PARTY-NOTICES.md"
FIRST_PARTY = {"webhook-signature", "webhook-signature-verifier", "webhook-signature-gemini", "webhook-signature-python"}
LICENSE_FILES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "UNLICENSE")


def crates() -> list[dict[str, str]]:
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform", "x86_64-unknown-linux-gnu",
             "--manifest-path", str(HERE / "Cargo.toml")],
            check=True, capture_output=True, text=True,
        ).stdout
    )
    packages = {package["id"]: package for package in metadata["packages"]}
    nodes = {node["id"]: node for node in metadata["resolve"]["nodes"]}
    root = next(id for id, package in packages.items() if package["name"] == "webhook-signature-python")
    seen: set[str] = set()
    stack = [root]
    while stack:
        id = stack.pop()
        if id not in seen:
            seen.add(id)
            stack.extend(dep["pkg"] for dep in nodes[id]["deps"] if any(kind["kind"] is None for kind in dep["dep_kinds"]))
    found = [packages[id] for id in seen if packages[id]["name"] not in FIRST_PARTY]
    return sorted(found, key=lambda package: (package["name"], package["version"]))


def render() -> str:
    lines = [
        "# Third-party notices",
        "",
        "The extension module of the `webhook-signature` Python package is compiled from",
        "these Rust crates (besides this project's own, MIT OR Apache-2.0). Written by",
        "`python/notices.py` from Cargo.lock; do not edit.",
        "",
        "| Crate | Version | License |",
        "|---|---|---|",
    ]
    texts: dict[str, list[str]] = {}
    for package in crates():
        lines.append(f"| {package['name']} | {package['version']} | {package['license'] or package.get('license_file')} |")
        directory = Path(package["manifest_path"]).parent
        for path in sorted(directory.iterdir()):
            if path.is_file() and path.name.upper().startswith(LICENSE_FILES):
                texts.setdefault(path.read_text(errors="replace").strip(), []).append(f"{package['name']} {package['version']} ({path.name})")
    lines += ["", "## License texts", ""]
    for text, users in texts.items():
        lines += ["### " + ", ".join(users), "", "```", text.replace("```", "'''"), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    text = render()
    if sys.argv[1:] == ["--check"]:
        if OUT.read_text() != text:
            sys.exit(f"{OUT} is out of date: run python3 python/notices.py")
    else:
        OUT.write_text(text)
