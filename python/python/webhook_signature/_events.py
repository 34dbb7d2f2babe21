"""The types of a verified Gemini delivery: its mode, what it authenticated,
and the envelope per documented event ``type`` (``Delivery.event``), as the
Rust crate's ``Event`` enum reads them. Every ``data`` field is optional: a
missing one must not turn an authentic delivery into a retry loop."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

#: ``Delivery.mode``: a ``whsec_`` HMAC signature, or a JWT checked against Google's JWKS.
Mode = Literal["static", "dynamic"]
#: ``Delivery.authenticated``: the body too (a signature, or a token bound to it), or only the sender.
Authenticated = Literal["signature", "bearer_token"]
#: The documented envelope ``type`` values (``Delivery.event_type`` may hold others).
EventType = Literal[
    "batch.succeeded",
    "batch.failed",
    "batch.cancelled",
    "batch.expired",
    "interaction.requires_action",
    "interaction.completed",
    "interaction.failed",
    "interaction.cancelled",
    "video.generated",
]


class EventData(TypedDict, total=False):
    """An event's ``data``: the fields Google documents, each optional."""

    #: The batch, interaction or operation id.
    id: str
    #: Where to download the output (Google's cookbook reads ``video_uri``).
    output_file_uri: str
    video_uri: str
    #: The Files API name of the output.
    file_name: str
    #: Why the job failed.
    error_code: str
    error_message: str


class _Metadata(TypedDict, total=False):
    """The envelope's optional fields (``NotRequired`` needs Python 3.11)."""

    version: str
    #: RFC 3339.
    timestamp: str


class _Envelope(_Metadata):
    data: EventData


class BatchSucceeded(_Envelope):
    type: Literal["batch.succeeded"]


class BatchFailed(_Envelope):
    type: Literal["batch.failed"]


class BatchCancelled(_Envelope):
    type: Literal["batch.cancelled"]


class BatchExpired(_Envelope):
    type: Literal["batch.expired"]


class InteractionRequiresAction(_Envelope):
    type: Literal["interaction.requires_action"]


class InteractionCompleted(_Envelope):
    type: Literal["interaction.completed"]


class InteractionFailed(_Envelope):
    type: Literal["interaction.failed"]


class InteractionCancelled(_Envelope):
    type: Literal["interaction.cancelled"]


class VideoGenerated(_Envelope):
    type: Literal["video.generated"]


class UnknownEvent(_Metadata):
    """An envelope of a ``type`` not documented yet, kept as sent."""

    type: str
    data: Any


#: ``Delivery.event``: narrow it on ``event["type"]``.
Event = (
    BatchSucceeded
    | BatchFailed
    | BatchCancelled
    | BatchExpired
    | InteractionRequiresAction
    | InteractionCompleted
    | InteractionFailed
    | InteractionCancelled
    | VideoGenerated
    | UnknownEvent
)
