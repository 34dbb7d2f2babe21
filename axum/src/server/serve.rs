//! A server that bounds what a client can hold: time to send headers, time to
//! send a body, idle connections, and the number of connections. It drains
//! the requests in flight when asked to stop.
//!
//! `axum::serve` sets no hyper timer, so it has no header-read timeout, and
//! nothing bounds a body sent one byte at a time, the connections a client
//! may open, or the requests an HTTP/2 client multiplexes over them.
//! Everything here is hyper-util's own machinery (the auto builder for
//! HTTP/1.1 and HTTP/2, `TokioTimer`), plus two semaphores (connections and
//! requests in flight) and a per-connection watchdog.

use core::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

use super::activity::{Activity, TrackedIo};
use super::deadline::DeadlineBody;
use super::stats::ServeStats;

/// What a client may hold, and how long shutdown waits. The defaults suit a
/// webhook receiver on the open internet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// A request's headers must arrive within this (default 10 s). A new
    /// connection must start its first request within it too.
    pub header_read_timeout: Duration,
    /// A request's whole body must arrive within this of its headers
    /// (default 30 s); the extractor then answers 408.
    pub body_timeout: Duration,
    /// A connection with no request in flight and no bytes moving is closed
    /// after this (default 60 s).
    pub idle_timeout: Duration,
    /// The most connections served at once (default 4,096). Past it, new
    /// connections wait in the listen backlog, unaccepted, so none is served
    /// half-way.
    pub max_connections: usize,
    /// How long a shutdown waits for the requests in flight (default 20 s).
    pub shutdown_timeout: Duration,
    /// The most requests in flight at once, over every connection (default
    /// 4,096). An HTTP/2 connection carries many requests at once, so the
    /// connection limit alone does not bound them, nor the bodies they hold.
    /// A request past it waits up to `header_read_timeout` for another to
    /// finish, then gets 503 with `Retry-After`.
    pub max_requests: usize,
    /// The requests one HTTP/2 connection may have open at once, announced
    /// as `SETTINGS_MAX_CONCURRENT_STREAMS` (default 100, the least RFC 9113
    /// recommends; hyper's own default is 200).
    pub max_streams_per_connection: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
            shutdown_timeout: Duration::from_secs(20),
            max_requests: 4096,
            max_streams_per_connection: 100,
        }
    }
}

impl Limits {
    /// The header-read timeout.
    #[must_use]
    pub fn with_header_read_timeout(self, timeout: Duration) -> Self {
        Self { header_read_timeout: timeout, ..self }
    }

    /// The whole-body timeout.
    #[must_use]
    pub fn with_body_timeout(self, timeout: Duration) -> Self {
        Self { body_timeout: timeout, ..self }
    }

    /// The idle-connection timeout.
    #[must_use]
    pub fn with_idle_timeout(self, timeout: Duration) -> Self {
        Self { idle_timeout: timeout, ..self }
    }

    /// The connection limit (at least 1).
    #[must_use]
    pub fn with_max_connections(self, max: usize) -> Self {
        Self { max_connections: max.max(1), ..self }
    }

    /// How long shutdown waits for requests in flight.
    #[must_use]
    pub fn with_shutdown_timeout(self, timeout: Duration) -> Self {
        Self { shutdown_timeout: timeout, ..self }
    }

    /// The limit on requests in flight over every connection (at least 1).
    #[must_use]
    pub fn with_max_requests(self, max: usize) -> Self {
        Self { max_requests: max.max(1), ..self }
    }

    /// The limit on one HTTP/2 connection's concurrent requests (at least 1).
    #[must_use]
    pub fn with_max_streams_per_connection(self, max: u32) -> Self {
        Self { max_streams_per_connection: max.max(1), ..self }
    }
}

/// A semaphore's size for a limit: at least 1, so that something is served,
/// and at most what a semaphore (and `acquire_many`) can count, so that a huge
/// configured limit means "no limit" instead of a panic.
fn semaphore_size(limit: usize) -> usize {
    limit.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize))
}

/// Serves `app` on `listener` within `limits` (HTTP/1.1 and HTTP/2) until
/// `shutdown` resolves; then stops accepting, lets the requests in flight
/// finish (each answered as usual) for up to `limits.shutdown_timeout`, and
/// returns.
///
/// # Examples
/// ```no_run
/// use axum::{Router, routing::get};
/// use webhook_signature_axum::{DEFAULT_BACKLOG, Limits, listen, serve};
/// # async fn run() -> std::io::Result<()> {
/// let app = Router::new().route("/", get(|| async { "hi" }));
/// let listener = listen("127.0.0.1:8080", DEFAULT_BACKLOG).await?;
/// let stop = async { tokio::signal::ctrl_c().await.ok(); };
/// serve(listener, app, Limits::default(), stop).await
/// # }
/// ```
///
/// # Errors
/// None today: accept errors (such as running out of file descriptors) are
/// logged and retried after a pause, not returned.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    serve_with_stats(listener, app, limits, ServeStats::new(), shutdown).await
}

/// [`serve`], counting into `stats` what it holds (connections, requests in
/// flight) and what it turned away (requests shed with 503, connections
/// closed by its timers), for the application's metrics.
///
/// # Errors
/// As [`serve`].
pub async fn serve_with_stats(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stats: ServeStats,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // Headers must fit in 64 KiB (hyper's default is about 400 KiB per
        // connection, which thousands of slow clients would multiply).
        .max_buf_size(64 * 1024);
    builder.http2().timer(TokioTimer::new()).max_concurrent_streams(limits.max_streams_per_connection.max(1));
    let builder = Arc::new(builder);
    let max_connections = semaphore_size(limits.max_connections);
    let permits = Arc::new(Semaphore::new(max_connections));
    let max_requests = semaphore_size(limits.max_requests);
    let requests = Arc::new(Semaphore::new(max_requests));
    stats.watch_slots(&requests, max_requests);
    let slots = Arc::new(Slots { requests, stats: stats.clone() });
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permit else { break }; // the semaphore is never closed
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // EMFILE and friends: wait for connections to close instead of spinning.
                tracing::warn!(%error, "accept failed; pausing");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let open = stats.open_connection();
        let (builder, app, slots, stopping) = (builder.clone(), app.clone(), slots.clone(), stopping.clone());
        tokio::spawn(async move {
            serve_connection(&builder, stream, app, slots, limits, stopping).await;
            drop((open, permit));
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    match tokio::time::timeout(limits.shutdown_timeout, permits.acquire_many(all)).await {
        Ok(_) => tracing::info!("every connection drained"),
        Err(_) => tracing::warn!(
            still_open = max_connections.saturating_sub(permits.available_permits()),
            "shutdown timeout: closing the connections still open"
        ),
    }
    Ok(())
}

/// One connection, until it ends, idles out, or drains at shutdown.
async fn serve_connection(
    builder: &auto::Builder<TokioExecutor>,
    stream: TcpStream,
    app: Router,
    slots: Arc<Slots>,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let activity = Activity::new();
    let io = TokioIo::new(TrackedIo::new(stream, activity.clone()));
    let in_flight = activity.clone();
    let stats = slots.stats.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let guard = in_flight.begin_request();
        let deadline = Instant::now() + limits.body_timeout;
        let request = request.map(|body| Body::new(DeadlineBody::new(body, deadline)));
        let (app, slots) = (app.clone(), slots.clone());
        async move {
            // Dropped with the response, or with this future if the client
            // goes away first: either way the slot is free again.
            let Some(_slot) = slots.take(limits.header_read_timeout).await else {
                tracing::debug!("too many requests in flight: 503");
                return Ok(busy());
            };
            let response = app.oneshot(request).await;
            drop(guard);
            response
        }
    });
    let mut connection = pin!(builder.serve_connection(io, service));
    let mut expired = pin!(activity.expired(limits.header_read_timeout, limits.idle_timeout));
    let mut draining = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            // Nothing in flight: dropping the connection loses no request.
            () = expired.as_mut() => {
                stats.expired();
                return;
            }
            changed = stopping.changed(), if !draining => {
                draining = true;
                if changed.is_ok() {
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// The slots for requests in flight, shared by every connection, and where a
/// request refused one is counted.
struct Slots {
    requests: Arc<Semaphore>,
    stats: ServeStats,
}

impl Slots {
    /// A slot for one request in flight, waiting at most `wait` for one; none
    /// (counted as shed) if none freed up. The common case, a free slot,
    /// takes no timer.
    async fn take(&self, wait: Duration) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if let Ok(slot) = self.requests.clone().try_acquire_owned() {
            return Some(slot);
        }
        let slot =
            tokio::time::timeout(wait, self.requests.clone().acquire_owned()).await.ok().and_then(Result::ok);
        if slot.is_none() {
            self.stats.shed();
        }
        slot
    }
}

/// The answer to a request that found no slot: a webhook sender retries a 503.
fn busy() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, "1")],
        "too many requests in flight\n",
    )
        .into_response()
}
