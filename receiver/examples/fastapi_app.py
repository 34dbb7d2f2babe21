"""An application behind gemini-receiver: it verifies each forwarded delivery
with its own secret (FORWARD_SECRET, the receiver's
GEMINI_RECEIVER_FORWARD_SECRET) and answers 204. Run it with
``uvicorn --app-dir receiver/examples fastapi_app:app --port 8000``."""

import os
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Response
from webhook_signature.fastapi import VerifiedDelivery, WebhookVerifier

app = FastAPI()
verified = WebhookVerifier(os.environ["FORWARD_SECRET"], max_body=1 << 20)


@app.post("/gemini")
async def gemini(
    delivery: Annotated[VerifiedDelivery, Depends(verified)],
    event_type: Annotated[str, Header(alias="gemini-event-type")] = "unknown",
) -> Response:
    # delivery.body: Gemini's envelope, byte for byte (JSON, but for `unknown`).
    print(f"received {delivery.id} {event_type}", flush=True)
    # Deduplicate on delivery.id: the receiver delivers at least once.
    return Response(status_code=204)
