"""The two example receivers, as their docstrings run them: each stores a
signed delivery once, acknowledges its retry, and refuses a forgery without
storing it."""

from __future__ import annotations

import base64
import importlib.util
import sqlite3
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from conftest import SECRET, signed

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BODY = b'{"type":"batch.succeeded","version":"v1","data":{"id":"batches/e"}}'


def load(name: str, database: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Imports ``examples/<name>.py`` afresh, configured by its environment variables."""
    monkeypatch.setenv("GEMINI_INBOX", str(database))
    monkeypatch.setenv("GEMINI_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("GEMINI_WEBHOOK_AUDIENCE", raising=False)
    monkeypatch.syspath_prepend(str(EXAMPLES))  # as `uvicorn` or `flask run` in examples/ would find sqlite_inbox
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored(database: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT webhook_id, event_type, authenticated FROM deliveries ORDER BY webhook_id").fetchall()


@pytest.mark.parametrize("name", ["fastapi_gemini", "flask_gemini"])
def test_an_example_stores_once_and_refuses_forgeries(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "inbox.sqlite3"
    example = load(name, database, monkeypatch)
    if name.startswith("fastapi"):
        fastapi_client = TestClient(example.app)

        def post(headers: dict[str, str]) -> int:
            status: int = fastapi_client.post("/webhooks/gemini", content=BODY, headers=headers).status_code
            return status

    else:
        flask_client = example.app.test_client()

        def post(headers: dict[str, str]) -> int:
            status: int = flask_client.post("/webhooks/gemini", data=BODY, headers=headers).status_code
            return status

    for _ in range(2):  # a delivery and its retry
        assert post(signed(BODY, "msg_example")) == 204
    forged = {**signed(BODY, "msg_forged"), "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
    assert post(forged) == 401
    assert stored(database) == [("msg_example", "batch.succeeded", "signature")]


def test_the_lambda_handler_reads_api_gateway_events(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    spec = importlib.util.spec_from_file_location("example_aws_lambda", EXAMPLES / "aws_lambda.py")
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    handled: list[tuple[str, bytes]] = []
    monkeypatch.setattr(example, "handle", lambda webhook_id, body: handled.append((webhook_id, body)))
    binary = b"\x00\xffbinary"
    rest = {"headers": {"Webhook-Id": "msg_rest", **{k.title(): v for k, v in signed(BODY, "msg_rest").items() if k != "webhook-id"}}, "body": BODY.decode(), "isBase64Encoded": False}
    http_api = {"headers": signed(binary, "msg_http"), "body": base64.b64encode(binary).decode(), "isBase64Encoded": True}
    assert example.handler(rest, None) == {"statusCode": 204}
    assert example.handler(http_api, None) == {"statusCode": 204}
    svix = {"headers": {k.replace("webhook-", "Svix-"): v for k, v in signed(BODY, "msg_svix").items()}, "body": BODY.decode()}
    assert example.handler(svix, None) == {"statusCode": 204}
    assert handled == [("msg_rest", BODY), ("msg_http", binary), ("msg_svix", BODY)]
    forged = {**http_api, "body": base64.b64encode(binary + b"!").decode()}
    assert example.handler(forged, None)["statusCode"] == 401
    assert example.handler({**http_api, "body": "not base64!"}, None)["statusCode"] == 400
    assert example.handler({"headers": {}, "body": ""}, None)["statusCode"] == 400
    assert len(handled) == 3
