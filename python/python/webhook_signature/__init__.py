"""Verify and sign Standard Webhooks deliveries: a drop-in for the
``standardwebhooks`` package, on the Rust ``webhook-signature`` crate.

    from webhook_signature import Webhook, WebhookVerificationError

    wh = Webhook("whsec_...")
    payload = wh.verify(body, headers)  # raises WebhookVerificationError
"""

from webhook_signature._errors import (
    CannotSignError,
    EmptyWebhookSecretError,
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
from webhook_signature._webhook import Webhook, hmac_data
from webhook_signature._webhook_signature import GIL_RELEASE_BYTES, __version__

__all__ = [
    "GIL_RELEASE_BYTES",
    "CannotSignError",
    "EmptyWebhookSecretError",
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
    "__version__",
    "hmac_data",
]
