"""A Flask receiver for Gemini API webhooks, both modes: verified, stored once
per ``webhook-id``, and acknowledged only after it is stored (the FastAPI
example's twin; see ``fastapi_gemini.py``).

    GEMINI_WEBHOOK_SECRET=whsec_... GEMINI_WEBHOOK_AUDIENCE=https://you.example/webhooks/gemini \\
        flask --app flask_gemini run
"""

from __future__ import annotations

import os
import sqlite3
import threading

from flask import Flask

from webhook_signature.flask import GeminiDelivery, verified_gemini

DATABASE = os.environ.get("GEMINI_INBOX", "gemini-inbox.sqlite3")
app = Flask(__name__)
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
@verified_gemini(
    secrets=os.environ.get("GEMINI_WEBHOOK_SECRET") or None,
    audience=os.environ.get("GEMINI_WEBHOOK_AUDIENCE") or None,
    max_body=256 * 1024,
)
def receive(delivery: GeminiDelivery) -> tuple[str, int]:
    # Stored before the 2xx: if this fails, Flask answers 500 and Gemini retries.
    store_once(delivery)
    # A retry of a stored delivery is acknowledged again; an authentic body that
    # is not an envelope is stored too (a retry would not fix it).
    return "", 204
