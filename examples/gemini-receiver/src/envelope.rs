//! Gemini's webhook envelope, `{"type", "version", "timestamp", "data"}`, and
//! the events Google documents for it.
//!
//! The typed envelope lives here, in the example, rather than in an optional
//! `serde` feature of the core: the core is `no_std` without an allocator, and
//! a JSON parser needs one; and these payloads are Gemini's, not part of
//! Standard Webhooks, so they change on Google's schedule, not ours.

use serde::Deserialize;

/// The envelope of every Gemini webhook delivery. Strings borrow from the body.
#[derive(Debug, Deserialize)]
pub struct Envelope<'a> {
    /// The event type, e.g. `video.generated`.
    #[serde(rename = "type", borrow)]
    pub kind: &'a str,
    /// The envelope version.
    #[serde(default, borrow)]
    pub version: Option<&'a str>,
    /// When the event happened (RFC 3339).
    #[serde(default, borrow)]
    pub timestamp: Option<&'a str>,
    /// The event's fields, parsed by [`Event::from_envelope`].
    #[serde(borrow)]
    pub data: &'a serde_json::value::RawValue,
}

/// A Gemini event, typed by its `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `video.generated`: a Veo generation finished.
    VideoGenerated {
        /// The operation id.
        id: String,
        /// Where to download the video.
        output_file_uri: String,
        /// The Files API name of the video.
        file_name: String,
    },
    /// `batch.succeeded`: a batch job finished.
    BatchSucceeded {
        /// The batch id.
        id: String,
        /// Where to download the results.
        output_file_uri: String,
    },
    /// `batch.failed` or `interaction.failed`.
    Failed {
        /// `batch.failed` or `interaction.failed`.
        kind: String,
        /// The batch or interaction id.
        id: String,
        /// The error code.
        error_code: String,
        /// A human-readable error message.
        error_message: String,
    },
    /// `batch.cancelled`, `batch.expired`, `interaction.requires_action`,
    /// `interaction.completed` or `interaction.cancelled`: only an id.
    Status {
        /// The event type.
        kind: String,
        /// The batch or interaction id.
        id: String,
    },
    /// An event type this receiver does not know: acknowledged and logged.
    Unknown {
        /// The event type.
        kind: String,
    },
}

#[derive(Deserialize)]
struct VideoGenerated {
    id: String,
    output_file_uri: String,
    file_name: String,
}

#[derive(Deserialize)]
struct BatchSucceeded {
    id: String,
    output_file_uri: String,
}

#[derive(Deserialize)]
struct Failed {
    id: String,
    error_code: String,
    error_message: String,
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

impl Event {
    /// Parses a verified body.
    ///
    /// # Errors
    /// If the body is not an envelope, or a known event lacks its fields.
    pub fn parse(body: &[u8]) -> Result<Self, serde_json::Error> {
        Self::from_envelope(&serde_json::from_slice(body)?)
    }

    /// The typed event of `envelope`.
    ///
    /// # Errors
    /// If a known event type lacks its documented fields.
    pub fn from_envelope(envelope: &Envelope<'_>) -> Result<Self, serde_json::Error> {
        let data = envelope.data.get();
        let kind = envelope.kind.to_owned();
        Ok(match envelope.kind {
            "video.generated" => {
                let VideoGenerated { id, output_file_uri, file_name } = serde_json::from_str(data)?;
                Self::VideoGenerated { id, output_file_uri, file_name }
            }
            "batch.succeeded" => {
                let BatchSucceeded { id, output_file_uri } = serde_json::from_str(data)?;
                Self::BatchSucceeded { id, output_file_uri }
            }
            "batch.failed" | "interaction.failed" => {
                let Failed { id, error_code, error_message } = serde_json::from_str(data)?;
                Self::Failed { kind, id, error_code, error_message }
            }
            "batch.cancelled"
            | "batch.expired"
            | "interaction.requires_action"
            | "interaction.completed"
            | "interaction.cancelled" => {
                let IdOnly { id } = serde_json::from_str(data)?;
                Self::Status { kind, id }
            }
            _ => Self::Unknown { kind },
        })
    }
}
