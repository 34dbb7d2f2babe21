//! The receiver's settings, from the environment.

use std::time::Duration;

use webhook_signature::Webhook;
use webhook_signature_axum::Limits;
use webhook_signature_gemini::{DynamicVerifier, GOOGLE_JWKS_URL, JwksCache, Receiver};
use webhook_signature_inbox::{
    DEFAULT_HANDLER_TIMEOUT, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_BACKOFF, DEFAULT_QUEUE_BOUND, Inbox,
    POOL_SIZE, PostgresOptions, Retention, RetryPolicy, SqliteOptions,
};

use crate::MAX_BODY;

/// Handlers running at once unless `GEMINI_RECEIVER_CONCURRENCY` says otherwise:
/// enough for the worker to keep up with a burst of deliveries on SQLite,
/// whose commits its loops share (see the load figures in `benches/README.md`).
pub const DEFAULT_CONCURRENCY: usize = 8;

/// How long one forward may take unless `GEMINI_RECEIVER_FORWARD_TIMEOUT_SECS`
/// says otherwise: connecting, sending, and the whole answer.
pub const DEFAULT_FORWARD_TIMEOUT: Duration = Duration::from_secs(30);

/// Where committed deliveries go, and how they are signed there.
#[derive(Debug)]
pub struct Forwarding {
    /// `GEMINI_RECEIVER_FORWARD_URL`: `http://` or `https://`.
    pub url: reqwest::Url,
    /// `GEMINI_RECEIVER_FORWARD_SECRET` (or `_FILE`): the application's
    /// Standard Webhooks secret, not Gemini's.
    pub key: Webhook,
    /// `GEMINI_RECEIVER_FORWARD_TIMEOUT_SECS`, default [`DEFAULT_FORWARD_TIMEOUT`].
    pub timeout: Duration,
}

/// Everything `main` reads from the environment.
#[derive(Debug)]
pub struct Config {
    /// Static secrets (current first) and, with an audience, the dynamic mode.
    pub receiver: Receiver,
    /// The JWKS for dynamic deliveries; nothing is fetched until one arrives.
    pub jwks: JwksCache,
    /// `PORT`, default 8080.
    pub port: u16,
    /// `HOST`, the address to listen on, default `0.0.0.0` (tests use `127.0.0.1`).
    pub host: String,
    /// `DATABASE_URL` (`postgres://…`), else the SQLite file `GEMINI_RECEIVER_DB`.
    pub database: Database,
    /// `GEMINI_RECEIVER_DB_TIMEOUT_SECS`: how long a PostgreSQL operation may
    /// wait for a server that stopped answering, default 10.
    pub postgres: PostgresOptions,
    /// This process's worker name: `GEMINI_RECEIVER_INSTANCE`, default
    /// `<hostname>-<pid>-<random>` (every container is pid 1).
    pub instance: String,
    /// `GEMINI_RECEIVER_LEASE_SECS`, default 60.
    pub lease: Duration,
    /// `GEMINI_RECEIVER_CONCURRENCY`: how many handlers run at once, default [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
    /// `GEMINI_RECEIVER_HANDLER_TIMEOUT_SECS`: how long one handler call may
    /// run before it is cut off and retried, default 900 (the inbox's
    /// `DEFAULT_HANDLER_TIMEOUT`).
    pub handler_timeout: Duration,
    /// `GEMINI_RECEIVER_FORWARD_URL` and its secret and timeout: forward each
    /// delivery to the application; without it, log a line per event.
    pub forwarding: Option<Forwarding>,
    /// `GEMINI_RECEIVER_CAPABILITY_SECRET` (or `_FILE`, at least 32 bytes):
    /// every dynamic delivery must come to `/webhooks/gemini/<capability>`
    /// (or `?t=<capability>`) with a capability issued under this secret
    /// when its job was created (`JobCapabilities`), so a job someone else
    /// pointed at this URL is refused.
    pub capabilities: Option<webhook_signature_gemini::JobCapabilities>,
    /// `GEMINI_RECEIVER_HANDLER_LOG`: a file recording every handler call
    /// (a test hook: see [`CallLog`](crate::CallLog)).
    pub handler_log: Option<std::path::PathBuf>,
    /// What a client may hold: `GEMINI_RECEIVER_HEADER_TIMEOUT_SECS` (10),
    /// `GEMINI_RECEIVER_BODY_TIMEOUT_SECS` (30),
    /// `GEMINI_RECEIVER_IDLE_TIMEOUT_SECS` (60), `GEMINI_RECEIVER_MAX_CONNECTIONS`
    /// (4096), `GEMINI_RECEIVER_MAX_REQUESTS` (4096, over every connection),
    /// and `GEMINI_RECEIVER_SHUTDOWN_SECS` (20), the drain at SIGTERM.
    pub limits: Limits,
    /// `GEMINI_RECEIVER_MAX_BODY_BYTES`: the largest body accepted, default
    /// [`MAX_BODY`]; a larger one gets 413.
    pub max_body: usize,
    /// `GEMINI_RECEIVER_METRICS_ADDR`: `/metrics` on its own listener (e.g.
    /// `127.0.0.1:9090`); by default it is on the main port.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// `GEMINI_RECEIVER_LOG_FORMAT=json`: JSON lines instead of text.
    pub json_logs: bool,
    /// `GEMINI_RECEIVER_MAX_ATTEMPTS` (default 36) and
    /// `GEMINI_RECEIVER_MAX_BACKOFF_SECS` (default 3600): the retry schedule.
    pub retry: RetryPolicy,
    /// `GEMINI_RECEIVER_DEAD_LETTER_RETENTION_DAYS`: delete dead letters this
    /// many days after they were received; unset (the default), they are kept
    /// until an operator retries or purges them.
    pub retention: Retention,
    /// `GEMINI_RECEIVER_QUEUE_BOUND`: the most writes waiting for the
    /// database (default 512); past it, deliveries get 503 with `Retry-After`.
    pub queue_bound: usize,
}

/// Which inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file (created if missing).
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// A secret from `name`, or from the file `name_FILE` names (a mounted
/// Docker or Kubernetes secret, kept out of the process's environment).
/// Trailing whitespace in the file, such as the newline an editor or `echo`
/// adds, is not part of the secret.
fn secret_env(name: &str) -> Result<Option<String>, String> {
    let file_name = format!("{name}_FILE");
    let Some(path) = env(&file_name) else { return Ok(env(name)) };
    if env(name).is_some() {
        return Err(format!("set {name} or {file_name}, not both"));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{file_name}: {path}: {e}"))?;
    let secret = text.trim_end();
    if secret.is_empty() {
        return Err(format!("{file_name}: {path} is empty"));
    }
    Ok(Some(secret.to_owned()))
}

/// A number from `name`, or `default` if it is unset.
fn number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    env(name).map_or(Ok(default), |text| text.parse().map_err(|_| format!("{name}: not a number: {text}")))
}

/// A number from `name` that must be at least 1, or `default` if it is unset.
fn at_least_one<T: std::str::FromStr + PartialEq + From<u8>>(name: &str, default: T) -> Result<T, String> {
    let value = number(name, default)?;
    if value == T::from(0) { Err(format!("{name}: must be at least 1")) } else { Ok(value) }
}

/// `GEMINI_RECEIVER_*_SECS`, at least one second.
fn seconds(name: &str, default: u64) -> Result<Duration, String> {
    at_least_one(name, default).map(Duration::from_secs)
}

/// `<hostname>-<pid>-<random>`: unique across containers (all pid 1) and restarts.
fn default_instance() -> String {
    use std::hash::{BuildHasher, Hasher};
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| env("HOSTNAME"))
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    // RandomState is seeded from the OS per process: enough to tell restarts apart.
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    format!("{host}-{}-{:06x}", std::process::id(), random & 0xff_ffff)
}

impl Config {
    /// Reads the environment.
    ///
    /// # Errors
    /// A message naming the variable that is wrong or missing.
    pub fn from_env() -> Result<Self, String> {
        let mut keys = Vec::new();
        for name in ["GEMINI_WEBHOOK_SECRET", "GEMINI_WEBHOOK_PREVIOUS_SECRET"] {
            if let Some(secret) = secret_env(name)? {
                keys.push(Webhook::new(&secret).map_err(|e| format!("{name}: {e}"))?);
            }
        }
        let audiences: Vec<String> = env("GEMINI_WEBHOOK_AUDIENCE")
            .map(|list| {
                list.split(',').map(|aud| aud.trim().to_owned()).filter(|aud| !aud.is_empty()).collect()
            })
            .unwrap_or_default();
        if keys.is_empty() && audiences.is_empty() {
            return Err(
                "set GEMINI_WEBHOOK_SECRET (static webhooks) or GEMINI_WEBHOOK_AUDIENCE (dynamic ones)"
                    .into(),
            );
        }
        let mut receiver = Receiver::new(keys);
        if !audiences.is_empty() {
            receiver = receiver.with_dynamic(DynamicVerifier::new(audiences));
        }
        let jwks =
            JwksCache::new(env("GEMINI_WEBHOOK_JWKS_URL").unwrap_or_else(|| GOOGLE_JWKS_URL.to_owned()))
                .map_err(|e| format!("GEMINI_WEBHOOK_JWKS_URL: {e}"))?;
        let port =
            env("PORT").map_or(Ok(8080), |p| p.parse().map_err(|_| format!("PORT: not a port: {p}")))?;
        let limits = Limits::default()
            .with_header_read_timeout(seconds("GEMINI_RECEIVER_HEADER_TIMEOUT_SECS", 10)?)
            .with_body_timeout(seconds("GEMINI_RECEIVER_BODY_TIMEOUT_SECS", 30)?)
            .with_idle_timeout(seconds("GEMINI_RECEIVER_IDLE_TIMEOUT_SECS", 60)?)
            // 0 would silently mean 1 (the least `serve` takes): an error instead.
            .with_max_connections(at_least_one("GEMINI_RECEIVER_MAX_CONNECTIONS", 4096)?)
            .with_max_requests(at_least_one("GEMINI_RECEIVER_MAX_REQUESTS", 4096)?)
            .with_shutdown_timeout(seconds("GEMINI_RECEIVER_SHUTDOWN_SECS", 20)?);
        let database = match secret_env("DATABASE_URL")? {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Database::Postgres(url)
            }
            // Not echoed: the URL may hold a password.
            Some(_) => return Err("DATABASE_URL: not a postgres:// or postgresql:// URL".to_owned()),
            None => Database::Sqlite(
                env("GEMINI_RECEIVER_DB").unwrap_or_else(|| "gemini-inbox.sqlite3".into()).into(),
            ),
        };
        let queue_bound = at_least_one("GEMINI_RECEIVER_QUEUE_BOUND", DEFAULT_QUEUE_BOUND)?;
        let db_timeout = seconds("GEMINI_RECEIVER_DB_TIMEOUT_SECS", 10)?;
        let postgres =
            PostgresOptions::default().with_statement_timeout(db_timeout).with_queue_bound(queue_bound);
        // A lease of 0 s would end as it is taken: every row open to a second worker.
        let lease = seconds("GEMINI_RECEIVER_LEASE_SECS", 60)?;
        // A renewal that waits out the database timeout must still land within the lease.
        if matches!(database, Database::Postgres(_)) && lease <= db_timeout {
            return Err(format!(
                "GEMINI_RECEIVER_LEASE_SECS ({}) must be longer than GEMINI_RECEIVER_DB_TIMEOUT_SECS ({}): \
                 a renewal that waits out the database timeout would let the lease expire",
                lease.as_secs(),
                db_timeout.as_secs()
            ));
        }
        let concurrency = at_least_one("GEMINI_RECEIVER_CONCURRENCY", DEFAULT_CONCURRENCY)?;
        if matches!(database, Database::Postgres(_)) && concurrency > POOL_SIZE {
            return Err(format!(
                "GEMINI_RECEIVER_CONCURRENCY ({concurrency}) is more than the PostgreSQL pool's {POOL_SIZE} \
                 connections: renewals would wait for connections"
            ));
        }
        let retry = RetryPolicy::new(
            at_least_one("GEMINI_RECEIVER_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)?,
            Duration::from_secs(number("GEMINI_RECEIVER_MAX_BACKOFF_SECS", DEFAULT_MAX_BACKOFF.as_secs())?),
        );
        let dead_letters = env("GEMINI_RECEIVER_DEAD_LETTER_RETENTION_DAYS")
            .map(|_| at_least_one::<u64>("GEMINI_RECEIVER_DEAD_LETTER_RETENTION_DAYS", 1))
            .transpose()?
            .map(|days| Duration::from_secs(days.saturating_mul(86_400)));
        let retention = Retention { dead_letters, ..Retention::default() };
        let handler_timeout =
            seconds("GEMINI_RECEIVER_HANDLER_TIMEOUT_SECS", DEFAULT_HANDLER_TIMEOUT.as_secs())?;
        let forwarding = forwarding(handler_timeout)?;
        let capabilities = secret_env("GEMINI_RECEIVER_CAPABILITY_SECRET")?
            .map(|secret| {
                webhook_signature_gemini::JobCapabilities::new(secret.as_bytes())
                    .map_err(|e| format!("GEMINI_RECEIVER_CAPABILITY_SECRET: {e}"))
            })
            .transpose()?;
        let metrics_addr = env("GEMINI_RECEIVER_METRICS_ADDR")
            .map(|addr| {
                addr.parse().map_err(|_| format!("GEMINI_RECEIVER_METRICS_ADDR: not host:port: {addr}"))
            })
            .transpose()?;
        let max_body = at_least_one("GEMINI_RECEIVER_MAX_BODY_BYTES", MAX_BODY)?;
        let json_logs = match env("GEMINI_RECEIVER_LOG_FORMAT").as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => return Err(format!("GEMINI_RECEIVER_LOG_FORMAT: json or text, not {other}")),
        };
        Ok(Self {
            receiver,
            jwks,
            port,
            host: env("HOST").unwrap_or_else(|| "0.0.0.0".to_owned()),
            database,
            postgres,
            instance: env("GEMINI_RECEIVER_INSTANCE").unwrap_or_else(default_instance),
            lease,
            concurrency,
            handler_timeout,
            forwarding,
            capabilities,
            handler_log: env("GEMINI_RECEIVER_HANDLER_LOG").map(Into::into),
            limits,
            max_body,
            metrics_addr,
            json_logs,
            retry,
            retention,
            queue_bound,
        })
    }
}

/// `GEMINI_RECEIVER_FORWARD_*`: none without a URL; with one, a secret is
/// required, and a forward must end before the worker would cut its handler
/// off (so its own, more precise error is the one kept).
fn forwarding(handler_timeout: Duration) -> Result<Option<Forwarding>, String> {
    let secret = secret_env("GEMINI_RECEIVER_FORWARD_SECRET")?;
    let Some(text) = env("GEMINI_RECEIVER_FORWARD_URL") else {
        if secret.is_some() {
            return Err("GEMINI_RECEIVER_FORWARD_SECRET is set but GEMINI_RECEIVER_FORWARD_URL is not: \
                        set the URL to forward deliveries, or unset the secret"
                .to_owned());
        }
        return Ok(None);
    };
    let url = reqwest::Url::parse(&text).map_err(|e| format!("GEMINI_RECEIVER_FORWARD_URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        // Not echoed whole: the URL may carry credentials.
        return Err(format!(
            "GEMINI_RECEIVER_FORWARD_URL: not an http:// or https:// URL with a host (scheme {:?})",
            url.scheme()
        ));
    }
    let secret = secret.ok_or(
        "GEMINI_RECEIVER_FORWARD_SECRET (or GEMINI_RECEIVER_FORWARD_SECRET_FILE) is required with \
         GEMINI_RECEIVER_FORWARD_URL: the secret your application verifies the forwarded deliveries with",
    )?;
    let key = Webhook::new(&secret).map_err(|e| format!("GEMINI_RECEIVER_FORWARD_SECRET: {e}"))?;
    let timeout = seconds("GEMINI_RECEIVER_FORWARD_TIMEOUT_SECS", DEFAULT_FORWARD_TIMEOUT.as_secs())?;
    if timeout >= handler_timeout {
        return Err(format!(
            "GEMINI_RECEIVER_FORWARD_TIMEOUT_SECS ({}) must be shorter than GEMINI_RECEIVER_HANDLER_TIMEOUT_SECS ({})",
            timeout.as_secs(),
            handler_timeout.as_secs()
        ));
    }
    Ok(Some(Forwarding { url, key, timeout }))
}

impl Database {
    /// Opens the inbox (`postgres`: how a PostgreSQL one bounds its waits).
    ///
    /// # Errors
    /// If the database cannot be opened, reached or migrated.
    pub async fn open(
        &self,
        postgres: &PostgresOptions,
    ) -> Result<Inbox, webhook_signature_inbox::InboxError> {
        match self {
            Self::Sqlite(path) => {
                let options = SqliteOptions { queue_bound: postgres.queue_bound, ..SqliteOptions::default() };
                Inbox::open_sqlite(path, &options)
            }
            Self::Postgres(url) => Inbox::connect_postgres_with(url, postgres).await,
        }
    }
}
