"""The exceptions a rejected delivery raises: one base class, one subclass per
reason, each with a stable ``code`` (the Rust ``Error`` variant's name)."""

from __future__ import annotations


class WebhookVerificationError(Exception):
    """The only exception a bad delivery raises. ``code`` names the reason."""

    code: str = "WebhookVerificationError"

    def __init__(self, message: str = "", code: str | None = None) -> None:
        super().__init__(message or type(self).code)
        if code is not None:
            self.code = code


def _error(name: str, code: str, *bases: type[Exception]) -> type[WebhookVerificationError]:
    cls = type(name, (WebhookVerificationError, *bases), {"code": code, "__doc__": f"``{code}``."})
    cls.__module__ = "webhook_signature"
    return cls


class InvalidSecretError(WebhookVerificationError, ValueError):
    """The secret is not ``whsec_`` + base64 (or bare base64, or a ``whpk_``/``whsk_`` key)."""

    code = "InvalidSecret"


MissingHeaderError = _error("MissingHeaderError", "MissingHeader")
InvalidHeaderError = _error("InvalidHeaderError", "InvalidHeader")
InvalidTimestampError = _error("InvalidTimestampError", "InvalidTimestamp")
TimestampTooOldError = _error("TimestampTooOldError", "TimestampTooOld")
TimestampTooNewError = _error("TimestampTooNewError", "TimestampTooNew")
NoSupportedSignatureError = _error("NoSupportedSignatureError", "NoSupportedSignature")
NoMatchingSignatureError = _error("NoMatchingSignatureError", "NoMatchingSignature")
InvalidIdError = _error("InvalidIdError", "InvalidId")
CannotSignError = _error("CannotSignError", "CannotSign")
TooManyKeysError = _error("TooManyKeysError", "TooManyKeys")
InvalidJsonError = _error("InvalidJsonError", "InvalidJson")

#: Every subclass, by ``code``; other codes (the Gemini mode's) use the base class.
BY_CODE: dict[str, type[WebhookVerificationError]] = {
    cls.code: cls
    for cls in (
        InvalidSecretError,
        MissingHeaderError,
        InvalidHeaderError,
        InvalidTimestampError,
        TimestampTooOldError,
        TimestampTooNewError,
        NoSupportedSignatureError,
        NoMatchingSignatureError,
        InvalidIdError,
        CannotSignError,
        TooManyKeysError,
        InvalidJsonError,
    )
}


def error(code: str, message: str) -> WebhookVerificationError:
    """The exception for ``code``: its subclass, or the base class with that code."""
    cls = BY_CODE.get(code)
    return cls(message) if cls is not None else WebhookVerificationError(message, code)
