"""A Flask receiver for Gemini API webhooks, both modes: verified, stored once
per ``webhook-id``, and acknowledged only after it is stored (the FastAPI
example's twin; see ``fastapi_gemini.py``).

    GEMINI_WEBHOOK_SECRET=whsec_... GEMINI_WEBHOOK_AUDIENCE=https://you.example/webhooks/gemini \\
        flask --app flask_gemini run
"""

from __future__ import annotations

import os

from flask import Flask

from sqlite_inbox import SqliteInbox
from webhook_signature.flask import GeminiDelivery, verified_gemini

app = Flask(__name__)
inbox = SqliteInbox(os.environ.get("GEMINI_INBOX", "gemini-inbox.sqlite3"))


@app.post("/webhooks/gemini")
@verified_gemini(
    secrets=os.environ.get("GEMINI_WEBHOOK_SECRET") or None,
    audience=os.environ.get("GEMINI_WEBHOOK_AUDIENCE") or None,
    max_body=256 * 1024,
)
def receive(delivery: GeminiDelivery) -> tuple[str, int]:
    # Stored before the 2xx: if this fails, Flask answers 500 and Gemini retries.
    inbox.store_once(delivery)
    # A retry of a stored delivery is acknowledged again; an authentic body that
    # is not an envelope is stored too (a retry would not fix it).
    return "", 204
