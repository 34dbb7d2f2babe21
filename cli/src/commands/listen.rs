//! `listen`: a local receiver that verifies each delivery, reports it on one
//! line, and answers 204 (valid), 401 (rejected), 409 (replayed id), 413
//! (body over the limit) or 408 (body not sent in time).
//!
//! It is often put behind a tunnel to receive a real sender's deliveries, so
//! it serves as the receiver does: requests at once, each bounded in time
//! and size by `webhook-signature-axum`'s `serve`. One client that stalls
//! its body holds up nobody else, and is cut off at `--body-timeout`.

use std::collections::HashSet;
use std::fmt;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use webhook_signature::{Headers, Timestamp};
use webhook_signature_axum::{DEFAULT_BACKLOG, Limits, WebhookRejection};
use webhook_signature_gemini::JwksCache;

use super::verify;
use crate::{dynamic_mode, gemini_envelope, saved_request, secrets};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Secret (`whsec_…` or `whpk_…`); repeat during rotation. Default: $WEBHOOK_SECRET.
    #[arg(long = "secret", env = "WEBHOOK_SECRET", value_delimiter = ' ', hide_env_values = true)]
    secrets: Vec<String>,
    #[command(flatten)]
    dynamic: dynamic_mode::Args,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Largest accepted body in bytes; larger ones get 413.
    #[arg(long, default_value_t = 1 << 20)]
    max_body: u64,
    /// Seconds a request's body may take to arrive after its headers; a
    /// slower one gets 408.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout: u64,
    /// Save every rejected delivery here as a raw HTTP/1.1 request, one file
    /// each, for `diagnose --request FILE`.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Save at most this many rejected deliveries, so that a flood of forged
    /// ones through a tunnel cannot fill the disk.
    #[arg(long, default_value_t = 1000, requires = "save")]
    save_max: u64,
}

pub(crate) fn run(args: &Args) -> crate::Result<ExitCode> {
    let keys = secrets::load_for(&args.secrets, args.dynamic.enabled())?;
    let key_count = keys.len();
    let loaded = args.dynamic.load(keys, webhook_signature::DEFAULT_TOLERANCE)?;
    let mut receiver = Receiver::new(loaded, key_count, args.max_body);
    // The keys were fetched once above, which checks the URL at start; from
    // then on they are the receiver's cache's, so a key the sender rotates in
    // while `listen` runs is fetched when its first delivery arrives.
    if let Some(url) = args.dynamic.jwks_url() {
        match JwksCache::new(url) {
            Ok(cache) => receiver = receiver.with_jwks_cache(cache),
            Err(error) => eprintln!("note: {error}; the keys fetched at start are used until restart"),
        }
    }
    if let Some(dir) = &args.save {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        receiver = receiver.save_rejected(dir.clone(), args.save_max);
    }
    let limits = Limits::default().with_body_timeout(Duration::from_secs(args.body_timeout));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = bind(args.port).await?;
        outln!("listening on http://127.0.0.1:{}", listener.local_addr()?.port());
        let (reports, decisions) = mpsc::unbounded_channel();
        let (output_gone, gone) = oneshot::channel();
        let printer = tokio::spawn(print_reports(decisions, output_gone));
        // Stopped by a signal, or by a reader that has gone (`listen | head`):
        // either way the requests in flight are answered first.
        let stop = async {
            tokio::select! {
                () = stop_signal() => {}
                Ok(()) = gone => {}
            }
        };
        webhook_signature_axum::serve(listener, receiver.into_router(reports), limits, stop).await?;
        // Every handler has ended, so every report is in the channel.
        match printer.await {
            Ok(Some(error)) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                Ok(ExitCode::from(crate::stdout::CLOSED_PIPE))
            }
            Ok(Some(error)) => Err(format!("cannot write to standard output: {error}").into()),
            _ => Ok(ExitCode::SUCCESS),
        }
    })
}

/// Prints each report on its own line until the channel closes. A write that
/// fails (the reader has gone) stops the printing and asks `serve` to stop:
/// the error is returned once every report has been taken off the channel.
async fn print_reports(
    mut decisions: mpsc::UnboundedReceiver<Report>,
    output_gone: oneshot::Sender<()>,
) -> Option<std::io::Error> {
    let mut output_gone = Some(output_gone);
    let mut failed = None;
    while let Some(report) = decisions.recv().await {
        if failed.is_none()
            && let Err(error) = writeln!(std::io::stdout().lock(), "{report}")
        {
            failed = Some(error);
            if let Some(stop) = output_gone.take() {
                let _ = stop.send(());
            }
        }
    }
    failed
}

/// Binds 127.0.0.1:`port`, naming the port if it cannot.
pub(crate) async fn bind(port: u16) -> crate::Result<TcpListener> {
    Ok(webhook_signature_axum::listen(("127.0.0.1", port), DEFAULT_BACKLOG)
        .await
        .map_err(|e| format!("cannot listen on port {port}: {e}"))?)
}

/// Ctrl-C or SIGTERM: stop accepting, and finish the requests in flight.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// What the receiver decided about one delivery.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub(crate) id: String,
    pub(crate) event: String,
    pub(crate) status: u16,
    pub(crate) outcome: String,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}: {}", self.id, self.event, self.status, self.outcome)
    }
}

/// A verifying receiver that remembers the ids it accepted.
pub(crate) struct Receiver {
    verifier: dynamic_mode::Loaded,
    /// Fetches the JWKS when a token names a key not yet seen, instead of `verifier.jwks`.
    jwks_cache: Option<JwksCache>,
    key_count: usize,
    max_body: u64,
    seen: Mutex<HashSet<String>>,
    save: Option<PathBuf>,
    save_max: u64,
    saved: AtomicU64,
}

impl Receiver {
    pub(crate) fn new(verifier: dynamic_mode::Loaded, key_count: usize, max_body: u64) -> Self {
        Self {
            verifier,
            jwks_cache: None,
            key_count,
            max_body,
            seen: Mutex::new(HashSet::new()),
            save: None,
            save_max: 0,
            saved: AtomicU64::new(0),
        }
    }

    /// Verifies dynamic deliveries with the keys `cache` holds and fetches.
    pub(crate) fn with_jwks_cache(mut self, cache: JwksCache) -> Self {
        self.jwks_cache = Some(cache);
        self
    }

    /// Saves the first `max` rejected deliveries into `dir`.
    pub(crate) fn save_rejected(mut self, dir: PathBuf, max: u64) -> Self {
        self.save = Some(dir);
        self.save_max = max;
        self
    }

    /// Answers every request, on any path, sending one report each to `reports`.
    pub(crate) fn into_router(self, reports: mpsc::UnboundedSender<Report>) -> Router {
        Router::new().fallback(receive).with_state(Arc::new((self, reports)))
    }

    async fn decide(&self, request: Request) -> Report {
        let (parts, body) = request.into_parts();
        let read = read_body(&parts.headers, body, self.max_body).await;
        let (report, body) = self.judge(&parts.headers, read).await;
        if let (Some(dir), true) = (&self.save, report.status >= 400) {
            let number = self.saved.fetch_add(1, Ordering::Relaxed) + 1;
            if number > self.save_max {
                if number == self.save_max + 1 {
                    eprintln!("saved {} rejected deliveries (--save-max); saving no more", self.save_max);
                }
                return report;
            }
            let headers: Vec<(String, String)> = parts
                .headers
                .iter()
                .map(|(name, value)| {
                    (name.to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned())
                })
                .collect();
            let raw = saved_request::render(parts.method.as_str(), &parts.uri.to_string(), &headers, &body);
            let name: String =
                report.id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
            let path = dir.join(format!("rejected-{number:04}-{name}.http"));
            if let Err(error) = std::fs::write(&path, raw) {
                eprintln!("cannot save {}: {error}", path.display());
            }
        }
        report
    }

    async fn judge(&self, headers: &HeaderMap, read: Result<Vec<u8>, WebhookRejection>) -> (Report, Vec<u8>) {
        // The core's own reading of the headers: one value each, the `svix-*`
        // names where `webhook-*` are absent, a duplicate or non-ASCII value refused.
        let found = Headers::from_header_map(headers);
        let shown_id = found
            .as_ref()
            .ok()
            .map(|h| h.id.to_owned())
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| "-".to_owned());
        let report = |event: &str, status, outcome: String| Report {
            id: shown_id.clone(),
            event: event.to_owned(),
            status,
            outcome,
        };
        let body = match read {
            Ok(body) => body,
            Err(unread) => {
                let outcome = match &unread {
                    WebhookRejection::TooLarge => format!("body over {} bytes", self.max_body),
                    WebhookRejection::Timeout => "body not received in time".to_owned(),
                    WebhookRejection::BodyRead(error) => format!("cannot read body: {error}"),
                    other => other.to_string(),
                };
                return (report("-", unread.status().as_u16(), outcome), Vec::new());
            }
        };
        let event = gemini_envelope::event_type(&body).unwrap_or_else(|| "-".to_owned());
        let headers = match found {
            Ok(headers) => headers,
            Err(error) => return (report(&event, 401, error.to_string()), body),
        };
        let (receiver, now) = (&self.verifier.receiver, Timestamp::now());
        let verified = match &self.jwks_cache {
            // A static delivery never touches the network here either.
            Some(cache) => receiver.verify_fetching(&headers, &body, now, cache).await,
            None => receiver.verify(&headers, &body, now, self.verifier.jwks.as_ref()),
        };
        let report = match verified {
            Err(error) => report(&event, 401, error.to_string()),
            Ok(_) if !self.remember(headers.id) => report(&event, 409, "replayed webhook-id".to_owned()),
            Ok(delivery) => report(&event, 204, verify::describe(&delivery.verified.mode, self.key_count)),
        };
        (report, body)
    }

    /// Whether `id` is new, remembering it.
    fn remember(&self, id: &str) -> bool {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).insert(id.to_owned())
    }
}

type Shared = Arc<(Receiver, mpsc::UnboundedSender<Report>)>;

async fn receive(State(shared): State<Shared>, request: Request) -> StatusCode {
    let (receiver, reports) = &*shared;
    let report = receiver.decide(request).await;
    let status = StatusCode::from_u16(report.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // Nobody left to print it only when the receiver is shutting down.
    let _ = reports.send(report);
    status
}

/// The whole body, refused on its declared length before any of it is read,
/// and cut off at `max + 1` bytes otherwise (chunked bodies declare none).
/// Its errors are the extractor's: 413, 408 at `serve`'s body timeout, or 400.
async fn read_body(headers: &HeaderMap, body: Body, max: u64) -> Result<Vec<u8>, WebhookRejection> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max) {
        return Err(WebhookRejection::TooLarge);
    }
    let mut body = body;
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(WebhookRejection::from)?.into_data() {
            if (bytes.len() + data.len()) as u64 > max {
                return Err(WebhookRejection::TooLarge);
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}
