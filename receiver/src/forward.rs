//! Forwarding: each committed delivery is POSTed to the application at
//! `GEMINI_RECEIVER_FORWARD_URL`, signed again with the forward secret, so the
//! application verifies it with any Standard Webhooks library.
//!
//! One client for the process (its connections are reused). Redirects are
//! not followed: a 3xx is a failure like any other non-2xx, so a delivery
//! never goes anywhere but the configured URL. The whole exchange, the
//! answer's body included, is bounded by the forward timeout, and at most
//! [`ERROR_EXCERPT`] bytes of a failed answer are read.

use std::fmt;
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use webhook_signature::{Timestamp, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, Webhook};
use webhook_signature_inbox::Claimed;

use crate::metrics::{FORWARD_SECONDS, FORWARDS_TOTAL};

/// The envelope's `type` (or `unknown`), as the inbox stored it.
pub const EVENT_TYPE_HEADER: &str = "gemini-event-type";
/// Gemini's mode: `static` (a `v1` signature under the project's secret) or
/// `dynamic` (an RS256 token; the row has a replay key).
pub const MODE_HEADER: &str = "gemini-mode";
/// What the receiver authenticated: `signature` (the body was signed) or
/// `bearer-token` (a dynamic delivery whose token does not bind the body).
pub const AUTHENTICATED_HEADER: &str = "gemini-authenticated";

/// How much of a failed answer is kept in the row's `last_error`.
pub const ERROR_EXCERPT: usize = 256;

/// How much of a successful answer is read so that its connection can be
/// reused; a longer one is dropped (the connection closes with it).
const DRAIN_LIMIT: usize = 64 * 1024;

/// The longest a connection may take to open, within the forward timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends committed deliveries to the application. Cheap to clone: the
/// clones share one connection pool.
#[derive(Clone)]
pub struct Forwarder {
    client: reqwest::Client,
    url: reqwest::Url,
    key: std::sync::Arc<Webhook>,
}

impl fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Forwarder").field("url", &self.url.as_str()).field("key", &"[REDACTED]").finish()
    }
}

/// Why a forward failed: its `Display` is what the row's `last_error` keeps.
#[derive(Debug)]
pub enum ForwardError {
    /// The application answered, but not 2xx.
    Status {
        /// The answer's status.
        status: u16,
        /// The first [`ERROR_EXCERPT`] bytes of its body, as text.
        excerpt: String,
        /// Where a 3xx pointed (not followed).
        location: Option<String>,
    },
    /// No answer within the forward timeout.
    Timeout(String),
    /// No connection, or it broke: the error and its causes.
    Request(String),
    /// The delivery could not be signed (an id the signer refuses).
    Sign(webhook_signature::Error),
}

impl fmt::Display for ForwardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status { status, excerpt, location } => {
                write!(f, "status {status}")?;
                if let Some(location) = location {
                    write!(f, " (redirect to {location}, not followed)")?;
                }
                if !excerpt.is_empty() {
                    write!(f, ": {excerpt}")?;
                }
                Ok(())
            }
            Self::Timeout(error) => write!(f, "timed out: {error}"),
            Self::Request(error) => f.write_str(error),
            Self::Sign(error) => write!(f, "cannot sign the forward: {error}"),
        }
    }
}

impl std::error::Error for ForwardError {}

impl Forwarder {
    /// A forwarder to `url`, signing with `key`, each exchange bounded by `timeout`.
    ///
    /// # Errors
    /// If the HTTP client cannot be built (no TLS roots could be loaded).
    pub fn new(url: reqwest::Url, key: Webhook, timeout: Duration) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .user_agent(concat!("gemini-receiver/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the forwarding client: {}", chain(&e)))?;
        Ok(Self { client, url, key: std::sync::Arc::new(key) })
    }

    /// Where deliveries go.
    #[must_use]
    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// POSTs `row` to the application: its body as stored, its `webhook-id`,
    /// a fresh `webhook-timestamp` and a signature under the forward secret.
    /// Counted in [`FORWARDS_TOTAL`] and timed in [`FORWARD_SECONDS`].
    ///
    /// # Errors
    /// Any answer but a 2xx, a connection error or a timeout.
    pub async fn forward(&self, row: &Claimed) -> Result<(), ForwardError> {
        let started = Instant::now();
        let result = self.exchange(row).await;
        ::metrics::histogram!(FORWARD_SECONDS).record(started.elapsed().as_secs_f64());
        let (outcome, class) = match &result {
            Ok(()) => ("delivered", "2xx"),
            Err(ForwardError::Status { status, .. }) => ("refused", status_class(*status)),
            Err(ForwardError::Timeout(_)) => ("timeout", "none"),
            Err(ForwardError::Request(_) | ForwardError::Sign(_)) => ("error", "none"),
        };
        ::metrics::counter!(FORWARDS_TOTAL, "outcome" => outcome, "status_class" => class).increment(1);
        result
    }

    async fn exchange(&self, row: &Claimed) -> Result<(), ForwardError> {
        let timestamp = Timestamp::now();
        let signature = self.key.sign(&row.webhook_id, timestamp, &row.body).map_err(ForwardError::Sign)?;
        let mut request = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(WEBHOOK_ID, &row.webhook_id)
            .header(WEBHOOK_TIMESTAMP, timestamp.to_string())
            .header(WEBHOOK_SIGNATURE, signature.as_str())
            .body(row.body.clone());
        // Both are short visible ASCII in every row the receiver writes; a row
        // written by hand with anything else just goes without the header.
        for (name, value) in
            [(EVENT_TYPE_HEADER, &row.event_type), (AUTHENTICATED_HEADER, &row.authenticated)]
        {
            if let Ok(value) = HeaderValue::from_str(value) {
                request = request.header(name, value);
            }
        }
        // Only dynamic deliveries are stored with a replay key.
        let mode = if row.replay_key.is_some() { "dynamic" } else { "static" };
        request = request.header(MODE_HEADER, mode);
        let mut response = request.send().await.map_err(failure)?;
        let status = response.status();
        if status.is_success() {
            let mut read = 0usize;
            // Errors while draining do not undo a 2xx: the application took it.
            while let Ok(Some(chunk)) = response.chunk().await {
                read = read.saturating_add(chunk.len());
                if read > DRAIN_LIMIT {
                    break;
                }
            }
            return Ok(());
        }
        let location = status
            .is_redirection()
            .then(|| response.headers().get(reqwest::header::LOCATION))
            .flatten()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).chars().take(ERROR_EXCERPT).collect());
        let mut excerpt = Vec::new();
        // A slow or endless body is cut by the client's timeout or by the
        // excerpt's size, whichever comes first; what was read is kept.
        while excerpt.len() < ERROR_EXCERPT {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        excerpt.truncate(ERROR_EXCERPT);
        // One line of plain text for the log and the console: the answer's
        // control characters (line breaks, terminal escapes) become spaces.
        let excerpt: String = String::from_utf8_lossy(&excerpt)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .trim()
            .to_owned();
        Err(ForwardError::Status { status: status.as_u16(), excerpt, location })
    }
}

/// `2xx` … `5xx`, for the metrics' `status_class` label.
fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The error without its URL: the operator knows it, and it may carry credentials.
fn failure(error: reqwest::Error) -> ForwardError {
    let error = error.without_url();
    if error.is_timeout() {
        ForwardError::Timeout(chain(&error))
    } else {
        ForwardError::Request(chain(&error))
    }
}

/// An error and its causes, `a: b: c`: reqwest's own text ("error sending
/// request") says nothing of why; the cause ("Connection refused") does.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_reads_as_the_operator_needs_it() {
        let refused = ForwardError::Status { status: 502, excerpt: "bad gateway".into(), location: None };
        assert_eq!(refused.to_string(), "status 502: bad gateway");
        let empty = ForwardError::Status { status: 500, excerpt: String::new(), location: None };
        assert_eq!(empty.to_string(), "status 500");
        let moved =
            ForwardError::Status { status: 301, excerpt: String::new(), location: Some("https://x/".into()) };
        assert_eq!(moved.to_string(), "status 301 (redirect to https://x/, not followed)");
    }

    #[test]
    fn status_classes() {
        assert_eq!([101, 204, 302, 404, 503].map(status_class), ["1xx", "2xx", "3xx", "4xx", "5xx"]);
    }
}
