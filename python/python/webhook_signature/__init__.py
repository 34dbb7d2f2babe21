"""Verify and sign Standard Webhooks deliveries: a drop-in for the
``standardwebhooks`` package, on the Rust ``webhook-signature`` crate.

    from webhook_signature import Webhook, WebhookVerificationError

    wh = Webhook("whsec_...")
    payload = wh.verify(body, headers)  # raises WebhookVerificationError
"""

from webhook_signature._errors import (
    CannotSignError,
    InvalidHeaderError,
    InvalidIdError,
    InvalidJsonError,
    InvalidSecretError,
    InvalidTimestampError,
    MissingHeaderError,
    NoMatchingSignatureError,
    NoSupportedSignatureError,
    TimestampTooNewError,
    TimestampTooOldError,
    TooManyKeysError,
    WebhookVerificationError,
)
from webhook_signature._webhook_signature import GIL_RELEASE_BYTES, Webhook

__all__ = [
    "GIL_RELEASE_BYTES",
    "CannotSignError",
    "InvalidHeaderError",
    "InvalidIdError",
    "InvalidJsonError",
    "InvalidSecretError",
    "InvalidTimestampError",
    "MissingHeaderError",
    "NoMatchingSignatureError",
    "NoSupportedSignatureError",
    "TimestampTooNewError",
    "TimestampTooOldError",
    "TooManyKeysError",
    "Webhook",
    "WebhookVerificationError",
]
