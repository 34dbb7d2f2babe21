"""The exceptions a rejected delivery raises: one base class, one subclass per
reason, each with a stable ``code`` (the Rust ``Error`` variant's name), and
``standardwebhooks``' messages where it has one for the same reason."""

from __future__ import annotations

import json


class WebhookVerificationError(Exception):
    """The only exception a forged, stale or malformed delivery raises. ``code`` names the reason."""

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


class EmptyWebhookSecretError(InvalidSecretError):
    """The secret is empty (``""``, ``b""``, ``"whsec_"``): ``standardwebhooks``' name for it."""

    def __init__(self, message: str = "webhook secret may not be empty", code: str | None = None) -> None:
        super().__init__(message, code)


class InvalidJsonError(json.JSONDecodeError):
    """An authentic body (``verify`` with ``json_parse=True``) that is not JSON.

    Not a ``WebhookVerificationError``: the delivery is authentic, so answering
    it 401 would make the sender retry it forever. It is the ``ValueError``
    (``json.JSONDecodeError``) that ``standardwebhooks`` raises for it."""

    code = "InvalidJson"


MissingHeaderError = _error("MissingHeaderError", "MissingHeader")
InvalidHeaderError = _error("InvalidHeaderError", "InvalidHeader")
InvalidTimestampError = _error("InvalidTimestampError", "InvalidTimestamp")
TimestampTooOldError = _error("TimestampTooOldError", "TimestampTooOld")
TimestampTooNewError = _error("TimestampTooNewError", "TimestampTooNew")
NoSupportedSignatureError = _error("NoSupportedSignatureError", "NoSupportedSignature")
NoMatchingSignatureError = _error("NoMatchingSignatureError", "NoMatchingSignature")
InvalidIdError = _error("InvalidIdError", "InvalidId", ValueError)
CannotSignError = _error("CannotSignError", "CannotSign")
TooManyKeysError = _error("TooManyKeysError", "TooManyKeys")

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
    )
}

#: ``standardwebhooks``' message for the same reason, so code that matches on it keeps working.
UPSTREAM_MESSAGES = {
    "MissingHeader": "Missing required headers",
    "InvalidHeader": "Invalid Signature Headers",
    "InvalidTimestamp": "Invalid Signature Headers",
    "TimestampTooOld": "Message timestamp too old",
    "TimestampTooNew": "Message timestamp too new",
    "NoSupportedSignature": "No matching signature found",
    "NoMatchingSignature": "No matching signature found",
}


def error(code: str, message: str) -> WebhookVerificationError:
    """The exception for ``code``: its subclass, or the base class with that code."""
    message = UPSTREAM_MESSAGES.get(code, message)
    cls = BY_CODE.get(code)
    return cls(message) if cls is not None else WebhookVerificationError(message, code)


def invalid_json(cause: ValueError | RecursionError, document: str) -> InvalidJsonError:
    """``cause`` (``json.loads``' error: a ``JSONDecodeError``, a ``UnicodeDecodeError``
    for bytes that are not text, a ``RecursionError`` for too deep a nesting) as an
    ``InvalidJsonError``."""
    if isinstance(cause, json.JSONDecodeError):
        return InvalidJsonError(cause.msg, cause.doc, cause.pos)
    return InvalidJsonError(f"the body is not JSON: {cause}", document, 0)
