//! Runs the receiver. Environment:
//! - `GEMINI_WEBHOOK_SECRET` (and, during a rotation, `GEMINI_WEBHOOK_PREVIOUS_SECRET`): static mode;
//! - `GEMINI_WEBHOOK_AUDIENCE` (comma-separated), `GEMINI_WEBHOOK_JWKS_URL` (default Google's): dynamic mode;
//! - `PORT` (default 8080), `HOST` (default `0.0.0.0`);
//! - `DATABASE_URL=postgres://…` for a shared PostgreSQL inbox (its waits bounded by
//!   `GEMINI_RECEIVER_DB_TIMEOUT_SECS`), else the SQLite file `GEMINI_RECEIVER_DB`
//!   (default `gemini-inbox.sqlite3`);
//! - `GEMINI_RECEIVER_INSTANCE`, `GEMINI_RECEIVER_LEASE_SECS`, `GEMINI_RECEIVER_CONCURRENCY`,
//!   `GEMINI_RECEIVER_HANDLER_TIMEOUT_SECS`, `GEMINI_RECEIVER_HANDLER_LOG` (a test hook);
//! - `GEMINI_RECEIVER_FORWARD_URL`, `GEMINI_RECEIVER_FORWARD_SECRET` (or `_FILE`),
//!   `GEMINI_RECEIVER_FORWARD_TIMEOUT_SECS`: forward each delivery to the application;
//! - `GEMINI_RECEIVER_MAX_ATTEMPTS`, `GEMINI_RECEIVER_MAX_BACKOFF_SECS`,
//!   `GEMINI_RECEIVER_DEAD_LETTER_RETENTION_DAYS`, `GEMINI_RECEIVER_QUEUE_BOUND`;
//! - `GEMINI_RECEIVER_HEADER_TIMEOUT_SECS`, `GEMINI_RECEIVER_BODY_TIMEOUT_SECS`,
//!   `GEMINI_RECEIVER_IDLE_TIMEOUT_SECS`,
//!   `GEMINI_RECEIVER_MAX_CONNECTIONS`, `GEMINI_RECEIVER_MAX_REQUESTS`,
//!   `GEMINI_RECEIVER_SHUTDOWN_SECS`;
//! - `GEMINI_RECEIVER_METRICS_ADDR` (`/metrics` on its own listener),
//!   `GEMINI_RECEIVER_LOG_FORMAT=json` (JSON lines).
//!
//! On SIGTERM or SIGINT it stops accepting, answers the requests in flight
//! (each committed as usual), lets the worker finish its row, and exits 0.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use gemini_receiver::metrics::{HANDLER_SECONDS, Metrics};
use gemini_receiver::{AppState, CallLog, Config, Forwarder, Handler, metrics_router, router};
use tokio::sync::watch;
use webhook_signature_axum::{DEFAULT_BACKLOG, WebhookConfig, listen, serve, serve_with_stats};
use webhook_signature_gemini::GeminiVerifier;
use webhook_signature_inbox::{Handled, Worker, WorkerStats, run_retention, unix_now};

/// Runs the receiver; a setting or a start that fails is one line on stderr
/// (its text, not its debug form) and exit status 1.
fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("gemini-receiver: cannot start the runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gemini-receiver: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env();
    let filter = || tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    if config.as_ref().is_ok_and(|config| config.json_logs) {
        tracing_subscriber::fmt().json().with_env_filter(filter()).with_writer(std::io::stderr).init();
    } else {
        // Colour codes only for a person at a terminal, never in a file or a
        // log pipeline; `NO_COLOR` (no-color.org) turns them off there too.
        let ansi =
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        tracing_subscriber::fmt()
            .with_ansi(ansi)
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init();
    }
    let config = config?;
    let metrics = Metrics::install()?;
    let inbox = config
        .database
        .open(&config.postgres)
        .await?
        .with_retry_policy(config.retry)
        .with_retention(config.retention);
    let (stop, stopped) = watch::channel(false);

    let handler = match &config.forwarding {
        Some(forwarding) => {
            let forwarder =
                Forwarder::new(forwarding.url.clone(), forwarding.key.clone(), forwarding.timeout)?;
            tracing::info!(url = %without_credentials(&forwarding.url), "forwarding deliveries");
            Handler::Forward(forwarder)
        }
        None => {
            tracing::info!("no GEMINI_RECEIVER_FORWARD_URL: each delivery is logged, not forwarded");
            Handler::Log
        }
    };
    // The crash and retry tests' hook, when they set it: a layer in front of
    // the handler, not part of it.
    let call_log = config.handler_log.clone().map(|path| CallLog { instance: config.instance.clone(), path });
    let handled = WorkerStats::new();
    let worker = Worker::new(inbox.clone(), config.instance.clone())
        .with_lease(config.lease)
        .with_concurrency(config.concurrency)
        .with_handler_timeout(config.handler_timeout)
        .with_stats(handled.clone());
    let handle = move |row: webhook_signature_inbox::Claimed| {
        let (handler, call_log) = (handler.clone(), call_log.clone());
        async move {
            if let Some(call_log) = &call_log {
                call_log.record(&row).await?;
            }
            let started = Instant::now();
            let outcome = handler.handle(&row).await;
            ::metrics::histogram!(HANDLER_SECONDS).record(started.elapsed().as_secs_f64());
            outcome
        }
    };
    let worker = tokio::spawn({
        let stopped = stopped.clone();
        async move { worker.run_until(handle, wait(stopped)).await }
    });
    // The worker ends only when told to stop; if it ends otherwise, the
    // receiver must not go on acknowledging deliveries nobody will handle.
    let (worker_ended, mut worker_gone) = watch::channel(false);
    let worker = tokio::spawn(async move {
        let ended = worker.await;
        let _ = worker_ended.send(true);
        ended
    });
    // The first pass runs at start; then every minute (each pass is cheap when
    // there is nothing to delete: batches of 1,000 through an index).
    let retention = tokio::spawn(run_retention(inbox.clone(), Duration::from_secs(60), unix_now));

    let verifier = GeminiVerifier::new(config.receiver, config.jwks)?;
    let webhooks = WebhookConfig::new(verifier).with_max_body(config.max_body);
    let state = AppState { handled: handled.clone(), ..AppState::new(webhooks, inbox) }
        .with_metrics(Some(metrics))
        .with_capabilities(config.capabilities);
    // `served` is also read for the last log line, beside `handled`.
    let (accepting, served, worker_alive) =
        (state.accepting.clone(), state.server.clone(), state.worker_alive.clone());
    let app = match config.metrics_addr {
        Some(addr) => {
            // Its own listener (keep it off the public port), with the same limits.
            let listener = listen(addr, DEFAULT_BACKLOG).await?;
            tracing::info!(addr = %listener.local_addr()?, "metrics listening");
            let metrics_app = metrics_router(state.clone());
            tokio::spawn(serve(listener, metrics_app, config.limits, std::future::pending()));
            router(state.with_metrics(None))
        }
        None => router(state),
    };
    let listener = listen((config.host.as_str(), config.port), DEFAULT_BACKLOG).await?;
    tracing::info!(addr = %listener.local_addr()?, instance = %config.instance, "listening");
    let limits = config.limits;
    let signalled = Arc::new(OnceLock::new());
    let signal_time = signalled.clone();
    let worker_failed = Arc::new(AtomicBool::new(false));
    let failed = worker_failed.clone();
    serve_with_stats(listener, app, limits, served.clone(), async move {
        tokio::select! {
            () = shutdown_signal() => {
                tracing::info!("shutting down: no new connections; draining the requests in flight");
            }
            _ = worker_gone.wait_for(|gone| *gone) => {
                worker_alive.store(false, Ordering::Relaxed);
                failed.store(true, Ordering::Relaxed);
                tracing::error!("the inbox worker stopped: not ready, shutting down (exit 1) so that no delivery is acknowledged without a worker to handle it");
            }
        }
        let _ = signal_time.set(Instant::now());
        accepting.store(false, Ordering::Relaxed);
        let _ = stop.send(true);
    })
    .await?;
    // The drain above and the worker's last row ran side by side; the worker
    // gets what is left of the same budget.
    let spent = signalled.get().map_or(Duration::ZERO, Instant::elapsed);
    match tokio::time::timeout(limits.shutdown_timeout.saturating_sub(spent), worker).await {
        Err(_) => tracing::warn!("the worker's handler outlived the shutdown timeout; its lease will expire"),
        Ok(Ok(Err(error))) => tracing::error!(%error, "the inbox worker ended abnormally"),
        Ok(_) => {}
    }
    retention.abort();
    tracing::info!(
        connections = served.connections_accepted(),
        shed = served.requests_shed(),
        processed = handled.count(Handled::Processed),
        retried = handled.count(Handled::Retried),
        dead_lettered = handled.count(Handled::DeadLettered),
        panics = handled.panics(),
        "stopped"
    );
    if worker_failed.load(Ordering::Relaxed) {
        return Err("the inbox worker stopped while the receiver served".into());
    }
    Ok(())
}

/// `url` for the log: the application's credentials, if it carries any, left out.
fn without_credentials(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.to_string()
}

/// Resolves once `stopped` turns true (or its sender is gone).
async fn wait(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// SIGTERM (a deploy) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = terminate => {}
        result = tokio::signal::ctrl_c() => {
            if let Err(error) = result {
                tracing::error!(%error, "cannot listen for SIGINT");
                std::future::pending::<()>().await;
            }
        }
    }
}
