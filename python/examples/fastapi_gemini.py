"""A FastAPI receiver for Gemini API webhooks, both modes: verified, stored
once per ``webhook-id``, and acknowledged only after it is stored. The seed
article's snippet, done right: the MAC covers id, timestamp and the raw body,
keyed with the decoded secret, and every ``v1`` entry is checked.

    GEMINI_WEBHOOK_SECRET=whsec_... GEMINI_WEBHOOK_AUDIENCE=https://you.example/webhooks/gemini \\
        uvicorn fastapi_gemini:app
"""

from __future__ import annotations

import os

from fastapi import Depends, FastAPI, Response

from sqlite_inbox import SqliteInbox
from webhook_signature.fastapi import GeminiDelivery, GeminiVerifier

app = FastAPI()
inbox = SqliteInbox(os.environ.get("GEMINI_INBOX", "gemini-inbox.sqlite3"))
verified = GeminiVerifier(
    secrets=os.environ.get("GEMINI_WEBHOOK_SECRET") or None,
    audience=os.environ.get("GEMINI_WEBHOOK_AUDIENCE") or None,
    max_body=256 * 1024,
)


@app.post("/webhooks/gemini")
async def receive(delivery: GeminiDelivery = Depends(verified)) -> Response:
    # Stored before the 2xx: if this fails, FastAPI answers 500 and Gemini retries.
    inbox.store_once(delivery)
    # A retry of a stored delivery is acknowledged again; an authentic body that
    # is not an envelope is stored too (a retry would not fix it).
    return Response(status_code=204)
