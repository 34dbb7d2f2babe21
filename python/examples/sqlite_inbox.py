"""The examples' inbox: one SQLite row per ``webhook-id``, committed before
the receiver answers 2xx. Small on purpose; the Rust ``gemini-receiver`` has
the full one (leases, retries, dead letters, metrics)."""

from __future__ import annotations

import sqlite3
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the same class in both integrations; neither framework is imported here
    from webhook_signature.flask import GeminiDelivery


class SqliteInbox:
    """Deliveries stored once each, in WAL mode, from any thread."""

    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS deliveries (webhook_id TEXT PRIMARY KEY, event_type TEXT NOT NULL, "
            "authenticated TEXT NOT NULL, body BLOB NOT NULL, received_at REAL DEFAULT (unixepoch('subsec')))"
        )

    def store_once(self, delivery: GeminiDelivery) -> bool:
        """Commits the delivery; ``False`` if this ``webhook-id`` was stored before (a retry)."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO deliveries (webhook_id, event_type, authenticated, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (webhook_id) DO NOTHING",
                (delivery.id, delivery.delivery.event_type or "unknown", delivery.delivery.authenticated, delivery.body),
            )
            return cursor.rowcount == 1
