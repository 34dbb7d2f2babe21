//! The router: verify (in the extractor), commit to the inbox, then answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{FromRef, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use webhook_signature_axum::{ServeStats, VerifiedWebhook, WebhookConfig};
use webhook_signature_gemini::{Authenticated, GeminiVerified, GeminiVerifier, JobCapabilities, Mode};
use webhook_signature_inbox::{Inbox, InboxError, Inserted, NewDelivery, WorkerStats};

use crate::metrics::{COMMIT_SECONDS, Metrics, Outcomes};

/// The largest body accepted; Gemini's envelopes are a few hundred bytes.
pub const MAX_BODY: usize = 256 * 1024;

/// How long a delivery waits for its commit before it is answered 503 (a
/// disk or a database that hangs instead of failing). Past the inbox's own
/// bounds (PostgreSQL: a statement timeout and one retry; SQLite: its busy
/// timeout), so this is the last line, not the usual one.
pub const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the handler needs, shared by all requests.
#[derive(Clone)]
pub struct AppState {
    /// Both modes (static secrets, dynamic tokens with their JWKS cache), the
    /// body limit and the clock.
    pub webhooks: WebhookConfig<GeminiVerifier>,
    /// Where verified deliveries are committed before the 2xx.
    pub inbox: Inbox,
    /// Unix seconds, for `received_at`; injectable for tests.
    pub clock: fn() -> i64,
    /// Cleared when shutdown begins, so `/readyz` turns 503 while the
    /// requests in flight drain.
    pub accepting: Arc<AtomicBool>,
    /// What the handler decided, counted for `/metrics`.
    pub outcomes: Arc<Outcomes>,
    /// `/metrics` on this router, if set.
    pub metrics: Option<Arc<Metrics>>,
    /// How long a delivery waits for its commit: [`COMMIT_TIMEOUT`] unless a test says otherwise.
    pub commit_timeout: Duration,
    /// What the server holds and sheds (requests refused 503 before they
    /// reach this router): pass it to `serve_with_stats`.
    pub server: ServeStats,
    /// How the worker's handled rows ended: pass it to `Worker::with_stats`.
    pub handled: WorkerStats,
    /// Cleared if the inbox's worker stops while the receiver serves, so
    /// `/readyz` turns 503: deliveries would be acknowledged that nobody handles.
    pub worker_alive: Arc<AtomicBool>,
    /// If set, every dynamic delivery must carry a job capability issued
    /// under this secret, in its path (`/webhooks/gemini/<capability>`) or as
    /// `?t=<capability>`: a job someone else pointed at this URL is refused.
    pub capabilities: Option<Arc<JobCapabilities>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("inbox", &self.inbox)
            .field("commit_timeout", &self.commit_timeout)
            .field("accepting", &self.accepting)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The state for `webhooks` and `inbox`, with the system clock, accepting.
    #[must_use]
    pub fn new(webhooks: WebhookConfig<GeminiVerifier>, inbox: Inbox) -> Self {
        Self {
            webhooks,
            inbox,
            clock: webhook_signature_inbox::unix_now,
            accepting: Arc::new(AtomicBool::new(true)),
            outcomes: Arc::default(),
            metrics: None,
            commit_timeout: COMMIT_TIMEOUT,
            server: ServeStats::new(),
            handled: WorkerStats::new(),
            worker_alive: Arc::new(AtomicBool::new(true)),
            capabilities: None,
        }
    }

    /// Serves `/metrics` from `metrics` on the router built from this state.
    #[must_use]
    pub fn with_metrics(self, metrics: Option<Arc<Metrics>>) -> Self {
        Self { metrics, ..self }
    }

    /// How long a delivery waits for its commit, for tests.
    #[must_use]
    pub fn with_commit_timeout(self, commit_timeout: Duration) -> Self {
        Self { commit_timeout, ..self }
    }

    /// Requires a job capability on dynamic deliveries (see [`capabilities`](Self::capabilities)).
    #[must_use]
    pub fn with_capabilities(self, capabilities: Option<JobCapabilities>) -> Self {
        Self { capabilities: capabilities.map(Arc::new), ..self }
    }

    /// The clock for `received_at`, for tests.
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> i64) -> Self {
        self.clock = clock;
        self
    }
}

impl FromRef<AppState> for WebhookConfig<GeminiVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.webhooks.clone()
    }
}

/// `POST /webhooks/gemini`, `GET /healthz`, `GET /readyz`, and `GET /metrics`
/// when the state has metrics.
pub fn router(state: AppState) -> Router {
    let capability = middleware::from_fn_with_state(state.clone(), check_capability);
    let mut router = Router::new()
        .route("/webhooks/gemini", post(receive).layer(capability.clone()).layer(middleware::from_fn(stamp)))
        .route("/healthz", get(|| async { StatusCode::OK }))
        .route("/readyz", get(ready));
    if state.metrics.is_some() {
        router = router.route("/metrics", get(serve_metrics));
    }
    if state.capabilities.is_some() {
        router = router.route(
            "/webhooks/gemini/{capability}",
            post(receive).layer(capability).layer(middleware::from_fn(stamp)),
        );
    }
    router.with_state(state)
}

/// Only `GET /metrics`, for its own listener (`GEMINI_RECEIVER_METRICS_ADDR`).
pub fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(serve_metrics)).with_state(state)
}

async fn serve_metrics(State(state): State<AppState>) -> Response {
    let Some(metrics) = &state.metrics else { return StatusCode::NOT_FOUND.into_response() };
    let page = metrics.render(&state).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], page).into_response()
}

/// The nonce of a delivery's valid job capability.
#[derive(Clone, Debug)]
struct Capability(String);

/// With capabilities on, a capability in the path or in `?t=` must check
/// before anything else is done for the request (no JWKS fetch, no body
/// read): 401 otherwise. Whether a dynamic delivery must have one is decided
/// after verification, in [`receive`].
async fn check_capability(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(capabilities) = &state.capabilities else { return next.run(request).await };
    let uri = request.uri();
    let in_path = uri.path().strip_prefix("/webhooks/gemini/").filter(|rest| !rest.is_empty());
    let in_query = uri.query().and_then(|query| query.split('&').find_map(|pair| pair.strip_prefix("t=")));
    if let Some(given) = in_path.or(in_query) {
        match capabilities.check(given) {
            Ok(nonce) => {
                let nonce = nonce.to_owned();
                request.extensions_mut().insert(Capability(nonce));
            }
            Err(error) => {
                Outcomes::count(&state.outcomes.refused);
                tracing::warn!(%error, "a job capability that does not check: 401");
                return StatusCode::UNAUTHORIZED.into_response();
            }
        }
    }
    next.run(request).await
}

/// When a delivery arrived, for the time-to-commit histogram.
#[derive(Clone, Copy, Debug)]
struct Received(Instant);

async fn stamp(mut request: Request, next: Next) -> Response {
    request.extensions_mut().insert(Received(Instant::now()));
    next.run(request).await
}

/// How long `/readyz` waits for the inbox before calling it unready.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// 200 while the inbox takes writes and the receiver is not shutting down;
/// 503 otherwise, so a load balancer sends deliveries elsewhere.
async fn ready(State(state): State<AppState>) -> StatusCode {
    if !state.accepting.load(Ordering::Relaxed) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if !state.worker_alive.load(Ordering::Relaxed) {
        tracing::warn!("not ready: the inbox worker stopped");
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match tokio::time::timeout(READY_TIMEOUT, state.inbox.ping()).await {
        Ok(Ok(())) => StatusCode::OK,
        Ok(Err(error)) => {
            tracing::warn!(%error, "not ready: the inbox cannot take writes");
            StatusCode::SERVICE_UNAVAILABLE
        }
        Err(_) => {
            tracing::warn!("not ready: the inbox did not answer within 2 s");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// Runs after the extractor verified the delivery (it answered 400, 401 or
/// 413 otherwise). Commits it to the inbox and only then answers 204: for a
/// new delivery, for a retry of a stored one (stored once, not processed
/// again), and for an authentic body that is not an envelope (stored as
/// `unknown`: a retry would not fix it). If the inbox cannot commit (full
/// disk, locked database), 503, so Gemini retries: never a 2xx for a delivery
/// that is not safely stored.
async fn receive(
    State(state): State<AppState>,
    Extension(Received(received)): Extension<Received>,
    capability: Option<Extension<Capability>>,
    webhook: VerifiedWebhook<GeminiVerifier>,
) -> Response {
    let VerifiedWebhook { id, timestamp, body, verified, .. } = webhook;
    if state.capabilities.is_some() && matches!(verified.mode, Mode::Dynamic(_)) {
        match capability {
            Some(Extension(Capability(nonce))) => {
                tracing::debug!(webhook_id = %id, job = %nonce, "job capability")
            }
            None => {
                Outcomes::count(&state.outcomes.refused);
                tracing::warn!(webhook_id = %id, "dynamic delivery without a job capability: 401");
                return StatusCode::UNAUTHORIZED.into_response();
            }
        }
    }
    // What the sender signed, when the id does not cover it (dynamic mode):
    // a token resent under a new `webhook-id` is then a duplicate.
    let replay_key = verified.replay_key().map(|key| key.to_string());
    let GeminiVerified { mode, authenticated, envelope, .. } = verified;
    match &mode {
        Mode::Static { key } if *key > 0 => {
            tracing::info!(webhook_id = %id, key, "signed with the previous secret");
        }
        Mode::Dynamic(token) if authenticated == Authenticated::BearerToken => {
            tracing::info!(
                webhook_id = %id, kid = %token.kid,
                "dynamic: sender authenticated, body not bound by the token"
            );
        }
        _ => {}
    }
    let event_type = match &envelope {
        Ok(envelope) => match label(envelope.event.kind()) {
            Some(kind) => kind.to_owned(),
            None => {
                tracing::warn!(webhook_id = %id, "the envelope's type is no label; stored as unknown (the body keeps it)");
                "unknown".to_owned()
            }
        },
        Err(error) => {
            tracing::warn!(webhook_id = %id, %error, "authentic body is not a Gemini envelope; stored as unknown");
            "unknown".to_owned()
        }
    };
    let delivery = NewDelivery {
        webhook_id: id,
        event_type,
        webhook_timestamp: i64::try_from(timestamp.as_unix_secs()).unwrap_or(i64::MAX),
        body: body.to_vec(),
        authenticated: authenticated.as_str().to_owned(),
        received_at: (state.clock)(),
        replay_key,
    };
    let id = delivery.webhook_id.clone();
    // A commit that outlasts the bound may still land: the sender's retry is then a duplicate.
    let outcome =
        tokio::time::timeout(state.commit_timeout, state.inbox.insert(delivery)).await.unwrap_or_else(|_| {
            Err(InboxError::Database(format!("no commit within {:?}", state.commit_timeout)))
        });
    ::metrics::histogram!(COMMIT_SECONDS).record(received.elapsed().as_secs_f64());
    match outcome {
        Ok(Inserted::New) => {
            Outcomes::count(&state.outcomes.stored);
            tracing::debug!(webhook_id = %id, "stored");
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(Inserted::Duplicate) => {
            Outcomes::count(&state.outcomes.duplicate);
            tracing::info!(webhook_id = %id, "duplicate delivery, acknowledged again");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => {
            Outcomes::count(&state.outcomes.unavailable);
            tracing::error!(webhook_id = %id, %error, "cannot commit the delivery: 503, the sender will retry");
            let retry_after =
                if error == InboxError::Overloaded { RETRY_OVERLOADED } else { RETRY_UNAVAILABLE };
            (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, retry_after)]).into_response()
        }
    }
}

/// `Retry-After` when the write queue is full: the database is behind, and a
/// few seconds let it catch up.
const RETRY_OVERLOADED: &str = "5";
/// `Retry-After` when the inbox failed (a full disk, a database away).
const RETRY_UNAVAILABLE: &str = "30";

/// The longest `type` stored as the row's `event_type`; Gemini's are under 30 bytes.
const MAX_LABEL: usize = 128;

/// An envelope's `type` as the row's `event_type`, if it makes a label: 1 to
/// [`MAX_LABEL`] visible ASCII characters. Anything else (a NUL, which
/// PostgreSQL's text cannot hold, control characters, a kilobyte of text)
/// would fail the insert, or clutter every listing, for a delivery that is
/// authentic: it is stored as `unknown`, and its body keeps the original.
fn label(kind: &str) -> Option<&str> {
    let visible = kind.bytes().all(|byte| byte.is_ascii_graphic());
    (visible && (1..=MAX_LABEL).contains(&kind.len())).then_some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_is_short_visible_ascii() {
        assert_eq!(label("video.generated"), Some("video.generated"));
        assert_eq!(label(&"x".repeat(MAX_LABEL)).map(str::len), Some(MAX_LABEL));
        for refused in ["", "batch.\0", "a b", "tab\t", "caf\u{e9}", &"x".repeat(MAX_LABEL + 1)] {
            assert_eq!(label(refused), None, "{refused:?}");
        }
    }
}
