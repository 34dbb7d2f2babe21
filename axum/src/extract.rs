//! The extractor: headers first, then the declared length, then the body,
//! streamed through the verifier as it arrives.

use axum::RequestExt;
use axum::body::{Body, Bytes};
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::header::CONTENT_LENGTH;
use axum::http::request::Parts;
use bytes::BytesMut;
use http_body_util::BodyExt;
use webhook_signature::{Headers, Timestamp};
use webhook_signature_verifier::{PendingVerification, StaticKeys, VerifyError, WebhookVerifier};

use crate::config::WebhookConfig;
use crate::rejection::WebhookRejection;

/// A verified Standard Webhooks delivery. Take it as the handler's last
/// argument (it reads the body); other extractors and the request's
/// extensions work beside it as usual.
///
/// The checks run in this order, so a stale, unsigned or oversized request is
/// answered without reading its body, and costs no verifier work:
/// 1. the headers (present, single, visible ASCII) and the timestamp window
///    ([`WebhookVerifier::check_headers`]);
/// 2. `Content-Length` against [`WebhookConfig::with_max_body`] (default 1 MiB);
/// 3. whatever else `V` can tell from the headers ([`WebhookVerifier::begin`]:
///    for a dynamic token, its claims, then its key and RSA signature);
/// 4. the body, fed to the verifier frame by frame while it is collected, with
///    the limit enforced as bytes arrive. axum's `DefaultBodyLimit` applies
///    as well (it cannot be read before the body, so the extractor's own limit
///    decides up front); the smaller of the two wins. The buffer grows with
///    the bytes that arrived, never with what `Content-Length` promised.
///
/// A refusal is counted in [`WebhookConfig::rejections`] and logged at `debug!`.
#[derive(Debug)]
#[non_exhaustive]
pub struct VerifiedWebhook<V: WebhookVerifier = StaticKeys> {
    /// `webhook-id`: deduplicate on it.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: Timestamp,
    /// The raw body, verified as `V` says.
    pub body: Bytes,
    /// What `V` verified: for [`StaticKeys`], the index of the matching key.
    pub verified: V::Output,
}

impl<S, V> FromRequest<S> for VerifiedWebhook<V>
where
    V: WebhookVerifier,
    WebhookConfig<V>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebhookRejection;

    // Not an `async fn`: the request is taken apart before the future is
    // built, so the future holds the parts once. As an `async fn` (with a
    // second one inside) it held the request twice more and grew past 1 KiB,
    // past the size glibc's per-thread cache serves, and the per-request
    // allocation of the handler's future became the extractor's largest cost
    // after the MAC.
    fn from_request(
        request: Request,
        state: &S,
    ) -> impl Future<Output = Result<Self, WebhookRejection>> + Send {
        let config = WebhookConfig::<V>::from_ref(state);
        let (parts, body) = request.with_limited_body().into_parts();
        async move {
            let result = verify(&config, &parts, body).await;
            if let Err(rejection) = &result {
                config.rejections().record(rejection.reason());
                tracing::debug!(status = rejection.status().as_u16(), reason = %rejection, "webhook rejected");
            }
            result
        }
    }
}

async fn verify<V: WebhookVerifier>(
    config: &WebhookConfig<V>,
    parts: &Parts,
    mut body: Body,
) -> Result<VerifiedWebhook<V>, WebhookRejection> {
    let headers = Headers::from_header_map(&parts.headers).map_err(|e| WebhookRejection::Verify(e.into()))?;
    let now = config.now();
    config.verifier().check_headers(&headers, now).map_err(WebhookRejection::Verify)?;
    let limit = config.max_body();
    let declared = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(WebhookRejection::TooLarge);
    }
    let mut pending = config.verifier().begin(headers, now).await.map_err(WebhookRejection::Verify)?;
    let mut collected = Collected::default();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(WebhookRejection::from)?;
        let Ok(data) = frame.into_data() else { continue }; // trailers carry no body bytes
        if collected.len().saturating_add(data.len()) > limit {
            return Err(WebhookRejection::TooLarge);
        }
        pending.update(&data);
        collected.push(data);
    }
    let body = collected.into_bytes();
    let verified = pending.finish(&body).map_err(WebhookRejection::Verify)?;
    // `begin` accepted the headers, so both are present and well-formed.
    let timestamp =
        Timestamp::parse(headers.timestamp).map_err(|e| WebhookRejection::Verify(VerifyError::from(e)))?;
    Ok(VerifiedWebhook { id: headers.id.to_owned(), timestamp, body, verified })
}

/// The body so far: a single frame is kept as is (no copy, the common case
/// for small deliveries); a second one starts a buffer.
#[derive(Default)]
enum Collected {
    #[default]
    Empty,
    One(Bytes),
    Many(BytesMut),
}

impl Collected {
    fn len(&self) -> usize {
        match self {
            Self::Empty => 0,
            Self::One(bytes) => bytes.len(),
            Self::Many(buffer) => buffer.len(),
        }
    }

    /// Appends a frame. The buffer is sized by what arrived and grows by
    /// doubling: a client that declares a large `Content-Length` and sends a
    /// trickle holds only what it sent.
    fn push(&mut self, data: Bytes) {
        *self = match std::mem::take(self) {
            Self::Empty => Self::One(data),
            Self::One(first) => {
                let mut buffer = BytesMut::with_capacity(first.len().saturating_add(data.len()));
                buffer.extend_from_slice(&first);
                buffer.extend_from_slice(&data);
                Self::Many(buffer)
            }
            Self::Many(mut buffer) => {
                buffer.extend_from_slice(&data);
                Self::Many(buffer)
            }
        };
    }

    fn into_bytes(self) -> Bytes {
        match self {
            Self::Empty => Bytes::new(),
            Self::One(bytes) => bytes,
            Self::Many(buffer) => buffer.freeze(),
        }
    }
}
