"""``standardwebhooks.webhooks``' names, for ``from webhook_signature.webhooks import …``."""

from webhook_signature._errors import EmptyWebhookSecretError, WebhookVerificationError
from webhook_signature._webhook import Webhook, hmac_data

__all__ = ["EmptyWebhookSecretError", "Webhook", "WebhookVerificationError", "hmac_data"]
