//! Gemini's webhook envelope, `{"type", "version", "timestamp", "data"}`, and
//! the events Google documents for it.
//!
//! These payloads are Gemini's, not part of Standard Webhooks, so they live
//! here rather than in the `no_std` core, and change on Google's schedule.

use core::fmt;

use serde::Deserialize;

/// A verified delivery body, parsed: the envelope's metadata and the typed event.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Envelope {
    /// The envelope's `version`, if present.
    pub version: Option<String>,
    /// The envelope's `timestamp` (RFC 3339), if present.
    pub timestamp: Option<String>,
    /// The event, typed by the envelope's `type`.
    pub event: Event,
}

/// A Gemini event, typed by the envelope's `type`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// `batch.succeeded`: a batch job finished; `output_file_uri` holds the results.
    BatchSucceeded(EventData),
    /// `batch.failed`: `error_code` and `error_message` say why.
    BatchFailed(EventData),
    /// `batch.cancelled`.
    BatchCancelled(EventData),
    /// `batch.expired`.
    BatchExpired(EventData),
    /// `interaction.requires_action`.
    InteractionRequiresAction(EventData),
    /// `interaction.completed`.
    InteractionCompleted(EventData),
    /// `interaction.failed`: `error_code` and `error_message` say why.
    InteractionFailed(EventData),
    /// `interaction.cancelled`.
    InteractionCancelled(EventData),
    /// `video.generated`: a Veo generation finished; `output_file_uri` and `file_name` locate it.
    VideoGenerated(EventData),
    /// Any other `type`, kept raw so nothing is lost.
    Unknown {
        /// The envelope's `type`.
        kind: String,
        /// The envelope's `data`, as sent.
        data: serde_json::Value,
    },
}

/// The documented fields of an event's `data`. Each is optional, because a
/// missing field must not turn a verified delivery into a 24-hour retry loop;
/// unknown fields are ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct EventData {
    /// The batch, interaction or operation id.
    pub id: Option<String>,
    /// Where to download the output. Google's cookbook reads `video_uri`, accepted as an alias.
    #[serde(alias = "video_uri")]
    pub output_file_uri: Option<String>,
    /// The Files API name of the output.
    pub file_name: Option<String>,
    /// Why the job failed.
    pub error_code: Option<String>,
    /// A human-readable failure message.
    pub error_message: Option<String>,
}

/// A verified body that is not a Gemini envelope. The delivery is still
/// authentic: answer 2xx and log it, or Gemini retries it for 24 hours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAnEnvelope {
    reason: String,
}

impl NotAnEnvelope {
    /// Why the body is not an envelope (the JSON parser's message).
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for NotAnEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a Gemini envelope: {}", self.reason)
    }
}

impl std::error::Error for NotAnEnvelope {}

#[derive(Deserialize)]
struct RawEnvelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    data: serde_json::Value,
}

impl Envelope {
    /// Parses a verified body.
    ///
    /// # Errors
    /// [`NotAnEnvelope`] if the body is not a JSON object with a string
    /// `type`, or a known event's `data` is not an object of string fields.
    ///
    /// # Examples
    /// ```
    /// use webhook_signature_gemini::{Envelope, Event};
    /// let body = br#"{"type":"video.generated","version":"v1","data":{"id":"op1","video_uri":"https://x"}}"#;
    /// let envelope = Envelope::parse(body)?;
    /// let Event::VideoGenerated(data) = envelope.event else { unreachable!() };
    /// assert_eq!(data.output_file_uri.as_deref(), Some("https://x"));
    /// # Ok::<(), webhook_signature_gemini::NotAnEnvelope>(())
    /// ```
    pub fn parse(body: &[u8]) -> Result<Self, NotAnEnvelope> {
        let not_envelope = |error: serde_json::Error| NotAnEnvelope { reason: error.to_string() };
        let raw: RawEnvelope = serde_json::from_slice(body).map_err(not_envelope)?;
        let typed = |wrap: fn(EventData) -> Event| -> Result<Event, NotAnEnvelope> {
            let data = match &raw.data {
                serde_json::Value::Null => EventData::default(),
                data => EventData::deserialize(data).map_err(not_envelope)?,
            };
            Ok(wrap(data))
        };
        let event = match raw.kind.as_str() {
            "batch.succeeded" => typed(Event::BatchSucceeded)?,
            "batch.failed" => typed(Event::BatchFailed)?,
            "batch.cancelled" => typed(Event::BatchCancelled)?,
            "batch.expired" => typed(Event::BatchExpired)?,
            "interaction.requires_action" => typed(Event::InteractionRequiresAction)?,
            "interaction.completed" => typed(Event::InteractionCompleted)?,
            "interaction.failed" => typed(Event::InteractionFailed)?,
            "interaction.cancelled" => typed(Event::InteractionCancelled)?,
            "video.generated" => typed(Event::VideoGenerated)?,
            _ => Event::Unknown { kind: raw.kind.clone(), data: raw.data.clone() },
        };
        Ok(Self { version: raw.version, timestamp: raw.timestamp, event })
    }
}

impl Event {
    /// The envelope's `type` of this event.
    #[must_use]
    pub fn kind(&self) -> &str {
        match self {
            Self::BatchSucceeded(_) => "batch.succeeded",
            Self::BatchFailed(_) => "batch.failed",
            Self::BatchCancelled(_) => "batch.cancelled",
            Self::BatchExpired(_) => "batch.expired",
            Self::InteractionRequiresAction(_) => "interaction.requires_action",
            Self::InteractionCompleted(_) => "interaction.completed",
            Self::InteractionFailed(_) => "interaction.failed",
            Self::InteractionCancelled(_) => "interaction.cancelled",
            Self::VideoGenerated(_) => "video.generated",
            Self::Unknown { kind, .. } => kind,
        }
    }

    /// The documented fields, for every known event type.
    #[must_use]
    pub fn data(&self) -> Option<&EventData> {
        match self {
            Self::BatchSucceeded(data)
            | Self::BatchFailed(data)
            | Self::BatchCancelled(data)
            | Self::BatchExpired(data)
            | Self::InteractionRequiresAction(data)
            | Self::InteractionCompleted(data)
            | Self::InteractionFailed(data)
            | Self::InteractionCancelled(data)
            | Self::VideoGenerated(data) => Some(data),
            Self::Unknown { .. } => None,
        }
    }
}
