//! `GET /metrics` in the Prometheus text format, through the `metrics` facade
//! and `metrics-exporter-prometheus` (the format is never written by hand).
//!
//! Counters the application already keeps (the extractor's rejections, the
//! JWKS cache's fetches, the handler's outcomes, the worker's, the server's
//! connections and shed requests) are copied in as absolute
//! values when the page is rendered; the inbox gauges are refreshed then too,
//! at most every [`REFRESH`]. Histograms are recorded where they happen.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use webhook_signature_axum::Reason;
use webhook_signature_inbox::State;

use crate::app::AppState;

/// The least time between two inbox queries for the gauges.
pub const REFRESH: Duration = Duration::from_secs(5);

/// Seconds, from half a millisecond to a minute.
const BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// The time from a delivery's arrival to its commit in the inbox.
pub const COMMIT_SECONDS: &str = "gemini_receiver_commit_seconds";
/// How long the worker's handler took per row.
pub const HANDLER_SECONDS: &str = "gemini_receiver_handler_seconds";
/// Forwards to the application, by `outcome` (`delivered`, `refused`,
/// `timeout`, `error`) and `status_class` (`2xx` … `5xx`, or `none` when
/// there was no answer).
pub const FORWARDS_TOTAL: &str = "gemini_receiver_forwards_total";
/// How long one forward took, from the request to the end of the answer.
pub const FORWARD_SECONDS: &str = "gemini_receiver_forward_seconds";

/// What the handler decided for each delivery it saw (the extractor's
/// refusals are counted by the extractor).
#[derive(Debug, Default)]
pub struct Outcomes {
    /// Committed, new.
    pub stored: AtomicU64,
    /// Committed before: acknowledged again.
    pub duplicate: AtomicU64,
    /// The inbox could not commit: 503.
    pub unavailable: AtomicU64,
    /// Refused for their job capability (missing or wrong): 401.
    pub refused: AtomicU64,
}

impl Outcomes {
    /// Counts one.
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The Prometheus recorder, installed once per process, and when the inbox
/// gauges were last refreshed.
#[derive(Debug)]
pub struct Metrics {
    handle: PrometheusHandle,
    refreshed: Mutex<Option<Instant>>,
}

impl Metrics {
    /// Installs the process's recorder (the first call does; later calls
    /// share it).
    ///
    /// # Errors
    /// If another recorder was installed by someone else.
    pub fn install() -> Result<Arc<Self>, String> {
        static INSTALLED: OnceLock<Result<Arc<Metrics>, String>> = OnceLock::new();
        INSTALLED
            .get_or_init(|| {
                let handle = PrometheusBuilder::new()
                    .set_buckets(BUCKETS)
                    .map_err(|e| e.to_string())?
                    .install_recorder()
                    .map_err(|e| e.to_string())?;
                Ok(Arc::new(Self { handle, refreshed: Mutex::new(None) }))
            })
            .clone()
    }

    /// The page: counters copied from `state`, gauges refreshed if stale.
    pub async fn render(&self, state: &AppState) -> String {
        let rejections = state.webhooks.rejections();
        let unavailable_rejections = rejections.count(Reason::Unavailable);
        let outcomes = &state.outcomes;
        for (outcome, value) in [
            ("stored", outcomes.stored.load(Ordering::Relaxed)),
            ("duplicate", outcomes.duplicate.load(Ordering::Relaxed)),
            (
                "rejected",
                rejections
                    .total()
                    .saturating_sub(unavailable_rejections)
                    .saturating_add(outcomes.refused.load(Ordering::Relaxed)),
            ),
            (
                "unavailable",
                outcomes.unavailable.load(Ordering::Relaxed).saturating_add(unavailable_rejections),
            ),
        ] {
            ::metrics::counter!("gemini_receiver_deliveries_total", "outcome" => outcome).absolute(value);
        }
        for (reason, value) in rejections.iter() {
            ::metrics::counter!("gemini_receiver_rejections_total", "reason" => reason.as_str())
                .absolute(value);
        }
        for (outcome, value) in state.handled.iter() {
            ::metrics::counter!("gemini_receiver_handled_total", "outcome" => outcome.as_str())
                .absolute(value);
        }
        ::metrics::counter!("gemini_receiver_handler_panics_total").absolute(state.handled.panics());
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        ::metrics::gauge!("gemini_receiver_inbox_queue_depth").set(state.inbox.queue_depth() as f64);
        if let Some(pool) = state.inbox.pool_status() {
            #[allow(clippy::cast_precision_loss)] // counts far below 2^52
            for (name, value) in [
                ("gemini_receiver_db_pool_max", pool.max_size),
                ("gemini_receiver_db_pool_size", pool.size),
                ("gemini_receiver_db_pool_available", pool.available),
                ("gemini_receiver_db_pool_waiting", pool.waiting),
            ] {
                ::metrics::gauge!(name).set(value as f64);
            }
        }
        let server = &state.server;
        for (name, value) in [
            ("gemini_receiver_connections_total", server.connections_accepted()),
            ("gemini_receiver_connections_expired_total", server.connections_expired()),
            ("gemini_receiver_requests_shed_total", server.requests_shed()),
        ] {
            ::metrics::counter!(name).absolute(value);
        }
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        for (name, value) in [
            ("gemini_receiver_connections_open", server.connections_open() as f64),
            ("gemini_receiver_requests_in_flight", server.requests_in_flight() as f64),
        ] {
            ::metrics::gauge!(name).set(value);
        }
        let jwks = state.webhooks.verifier().jwks();
        for (result, value) in [("ok", jwks.successful_fetches()), ("error", jwks.failed_fetches())] {
            ::metrics::counter!("gemini_receiver_jwks_fetches_total", "result" => result).absolute(value);
        }
        self.refresh_inbox(state).await;
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// The inbox gauges, from one stats query at most every [`REFRESH`].
    async fn refresh_inbox(&self, state: &AppState) {
        {
            let mut refreshed = self.refreshed.lock().unwrap_or_else(PoisonError::into_inner);
            if refreshed.is_some_and(|at| at.elapsed() < REFRESH) {
                return;
            }
            *refreshed = Some(Instant::now());
        }
        let now = (state.clock)();
        match state.inbox.stats(now).await {
            Ok(stats) => {
                for row_state in State::ALL {
                    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
                    let count = stats.count(row_state) as f64;
                    ::metrics::gauge!("gemini_receiver_inbox_rows", "state" => row_state.as_str()).set(count);
                }
                // Since the longest-waiting due row became due: rows waiting
                // out a backoff (a downstream that fails) are not lag.
                #[allow(clippy::cast_precision_loss)]
                let lag = stats.oldest_due.map_or(0.0, |at| now.saturating_sub(at).max(0) as f64);
                ::metrics::gauge!("gemini_receiver_processing_lag_seconds").set(lag);
            }
            Err(error) => tracing::warn!(%error, "metrics: cannot read the inbox counts"),
        }
    }
}
