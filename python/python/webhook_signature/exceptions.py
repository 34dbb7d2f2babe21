"""``standardwebhooks.exceptions``' names."""

from webhook_signature._errors import WebhookVerificationError

__all__ = ["WebhookVerificationError"]
