"""An AWS Lambda handler for Standard Webhooks deliveries behind API Gateway
(REST API or HTTP API) or a function URL.

    WEBHOOK_SECRET=whsec_...   handler: aws_lambda.handler

What differs from a web framework: the event carries the headers as a dict
whose names keep the sender's case (REST API) or are lower-cased (HTTP API,
function URLs), and the body as text, or as base64 when ``isBase64Encoded``
(binary media types, function URLs). ``Webhook`` matches header names
without case, and the raw bytes are what the signature covers.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from typing import Any

from webhook_signature import InvalidHeaderError, InvalidTimestampError, MissingHeaderError, Webhook, WebhookVerificationError

log = logging.getLogger(__name__)
# Built once per container (at cold start), not per invocation.
WEBHOOK = Webhook(os.environ["WEBHOOK_SECRET"])
MALFORMED = (MissingHeaderError, InvalidHeaderError, InvalidTimestampError)


def handle(webhook_id: str, body: bytes) -> None:
    """Your work: store or enqueue the delivery once per ``webhook_id`` (say,
    an SQS FIFO queue deduplicated on it) before the 2xx is returned."""
    log.info("webhook %s verified (%d bytes)", webhook_id, len(body))


def raw_body(event: dict[str, Any]) -> bytes:
    """The body's bytes as the sender sent them."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body, validate=True)
    return body.encode() if isinstance(body, str) else bytes(body)


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    headers = event.get("headers") or {}
    try:
        body = raw_body(event)
        WEBHOOK.verify(body, headers, json_parse=False)
    except (binascii.Error, ValueError):
        return {"statusCode": 400, "body": "Bad Request"}
    except WebhookVerificationError as error:
        status = 400 if isinstance(error, MALFORMED) else 401
        log.debug("webhook refused: %s", error.code)
        return {"statusCode": status, "body": "Bad Request" if status == 400 else "Unauthorized"}
    # An exception from handle() fails the invocation: API Gateway answers 5xx and the sender retries.
    handle(webhook_id(headers), body)
    return {"statusCode": 204}


def webhook_id(headers: dict[str, str]) -> str:
    """The verified delivery's id: ``webhook-id``, or Svix's ``svix-id`` (as ``verify`` reads them)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    return lowered.get("webhook-id") or lowered["svix-id"]
