"""A FastAPI receiver for Gemini API webhooks, both modes: verified, stored
once per ``webhook-id``, and acknowledged only after it is stored. The seed
article's snippet, done right: the MAC covers id, timestamp and the raw body,
keyed with the decoded secret, and every ``v1`` entry is checked.

    GEMINI_WEBHOOK_SECRET=whsec_... GEMINI_WEBHOOK_AUDIENCE=https://you.example/webhooks/gemini \\
        uvicorn fastapi_gemini:app
"""

from __future__ import annotations

import os
import sqlite3
import threading

from fastapi import Depends, FastAPI, Response

from webhook_signature.fastapi import GeminiDelivery, GeminiVerifier

DATABASE = os.environ.get("GEMINI_INBOX", "gemini-inbox.sqlite3")
verified = GeminiVerifier(
    secrets=os.environ.get("GEMINI_WEBHOOK_SECRET") or None,
    audience=os.environ.get("GEMINI_WEBHOOK_AUDIENCE") or None,
    max_body=256 * 1024,
)
app = FastAPI()
_lock = threading.Lock()
_db = sqlite3.connect(DATABASE, check_same_thread=False, isolation_level=None)
_db.execute("PRAGMA journal_mode=WAL")
_db.execute(
    "CREATE TABLE IF NOT EXISTS deliveries (webhook_id TEXT PRIMARY KEY, event_type TEXT NOT NULL, "
    "authenticated TEXT NOT NULL, body BLOB NOT NULL, received_at REAL DEFAULT (unixepoch('subsec')))"
)


def store_once(delivery: GeminiDelivery) -> bool:
    """Commits the delivery; ``False`` if this ``webhook-id`` was stored before (a retry)."""
    with _lock:
        cursor = _db.execute(
            "INSERT INTO deliveries (webhook_id, event_type, authenticated, body) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (webhook_id) DO NOTHING",
            (delivery.id, delivery.delivery.event_type or "unknown", delivery.delivery.authenticated, delivery.body),
        )
        return cursor.rowcount == 1


@app.post("/webhooks/gemini")
async def receive(delivery: GeminiDelivery = Depends(verified)) -> Response:
    # Stored before the 2xx: if this fails, FastAPI answers 500 and Gemini retries.
    store_once(delivery)
    # A retry of a stored delivery is acknowledged again; an authentic body that
    # is not an envelope is stored too (a retry would not fix it).
    return Response(status_code=204)
