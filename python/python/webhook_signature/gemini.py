"""Gemini API webhooks in both modes: static (``whsec_`` HMAC) and dynamic
(an RS256 JWT checked against Google's JWKS), as the Rust crate checks them.

    from webhook_signature.gemini import Receiver

    receiver = Receiver(secrets="whsec_...", audience="https://you.example/webhooks/gemini")
    delivery = receiver.verify(body, headers)
"""

from webhook_signature._webhook_signature import GOOGLE_JWKS_URL, Delivery, Receiver

__all__ = ["GOOGLE_JWKS_URL", "Delivery", "Receiver"]
