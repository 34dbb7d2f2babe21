//! `inbox`: the operator's console for the receiver's inbox, on SQLite or
//! PostgreSQL. Exit codes: 0 done, 1 nothing matched, 2 usage errors.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use webhook_signature_inbox::{Filter, Inbox, Retry, Row, SqliteOptions, State, Stats};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The SQLite inbox file. Default: $GEMINI_RECEIVER_DB, unless $DATABASE_URL is set.
    #[arg(long, global = true, conflicts_with = "database_url")]
    db: Option<PathBuf>,
    /// The PostgreSQL inbox (`postgres://…`, `sslmode` honoured). Default: $DATABASE_URL.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Counts by state, the oldest pending row, and the dead letters.
    Stats,
    /// One line per row (or JSON lines), oldest first.
    List {
        /// Only rows in this state.
        #[arg(long, value_parser = ["pending", "processing", "processed", "failed"])]
        status: Option<String>,
        /// Only rows of this event type.
        #[arg(long)]
        event_type: Option<String>,
        /// At most this many rows.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One row; its raw body too with --body.
    Show {
        /// The `webhook-id`.
        id: String,
        /// Print the raw body after the row.
        #[arg(long)]
        body: bool,
    },
    /// Put dead letters back in the queue (attempts reset, failed_at cleared),
    /// or make the rows waiting out a backoff due now (--all-pending).
    Retry {
        /// The `webhook-id`s of dead letters.
        #[arg(required_unless_present_any = ["all_failed", "all_pending"], conflicts_with_all = ["all_failed", "all_pending"])]
        ids: Vec<String>,
        /// Every dead letter.
        #[arg(long, conflicts_with = "all_pending")]
        all_failed: bool,
        /// Every pending row waiting out a backoff: due now, its attempts kept
        /// (once the handler's downstream is back after an outage).
        #[arg(long)]
        all_pending: bool,
    },
    /// Delete processed and failed rows received before a duration ago.
    Purge {
        /// How old, e.g. `7d`, `36h`, `90m`.
        #[arg(long, value_parser = humantime::parse_duration)]
        older_than: Duration,
        /// Only this state (default: both processed and failed; never an unfinished row).
        #[arg(long, value_parser = ["processed", "failed"])]
        status: Option<String>,
        /// Say how many rows would go, and delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Args {
    /// A flag wins over the environment; between the two variables, the
    /// receiver's own rule: `DATABASE_URL` over `GEMINI_RECEIVER_DB`.
    fn database(&self) -> crate::Result<Option<Database>> {
        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        Ok(match (&self.db, &self.database_url) {
            (Some(path), _) => Some(Database::Sqlite(path.clone())),
            (None, Some(url)) => Some(Database::Postgres(url.clone())),
            (None, None) => match (env("DATABASE_URL"), env("GEMINI_RECEIVER_DB")) {
                (Some(url), _) => Some(Database::Postgres(url)),
                (None, Some(path)) => Some(Database::Sqlite(path.into())),
                (None, None) => None,
            },
        })
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

pub(crate) fn run(args: &Args) -> crate::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let inbox = match args.database()? {
            Some(Database::Postgres(url)) => Inbox::connect_postgres(&url).await?,
            Some(Database::Sqlite(path)) => Inbox::open_sqlite(path, &SqliteOptions::attach())?,
            None => {
                eprintln!(
                    "error: give --db PATH (or GEMINI_RECEIVER_DB) or --database-url URL (or DATABASE_URL)"
                );
                return Ok(ExitCode::from(2));
            }
        };
        execute(&inbox, &args.command).await
    })
}

async fn execute(inbox: &Inbox, command: &Command) -> crate::Result<ExitCode> {
    let now = now();
    let found = |any: bool| if any { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    match command {
        Command::Stats => {
            let stats = inbox.stats(now).await?;
            print_stats(&stats, now);
            let dead = inbox.list(&Filter::default().state(Some(State::Failed)).limit(20), now).await?;
            for row in &dead {
                outln!("dead letter: {}", line(row, now));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::List { status, event_type, limit, json } => {
            let state = status.as_deref().map(str::parse::<State>).transpose()?;
            let filter = Filter::default().state(state).event_type(event_type.clone()).limit(*limit);
            let rows = inbox.list(&filter, now).await?;
            let mut out = std::io::stdout().lock();
            for row in &rows {
                if *json {
                    writeln!(out, "{}", json_line(row, now))?;
                } else {
                    writeln!(out, "{}", line(row, now))?;
                }
            }
            Ok(found(!rows.is_empty()))
        }
        Command::Show { id, body } => {
            let Some(row) = inbox.get(id).await? else {
                eprintln!("no row {id:?}");
                return Ok(ExitCode::FAILURE);
            };
            outln!("{}", serde_json::to_string_pretty(&json_value(&row, now))?);
            if *body {
                let mut out = std::io::stdout().lock();
                out.write_all(row.body.as_deref().unwrap_or_default())?;
                out.flush()?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Retry { ids, all_failed, all_pending: true } => {
            debug_assert!(ids.is_empty() && !*all_failed, "clap refuses them together");
            let due = inbox.retry(&Retry::AllPending).await?;
            outln!("{due} pending row(s) in backoff due now");
            Ok(found(due > 0))
        }
        Command::Retry { ids, all_failed, all_pending: false } => {
            let which = if *all_failed { Retry::AllFailed } else { Retry::Ids(ids.clone()) };
            let retried = inbox.retry(&which).await?;
            outln!("{retried} dead letter(s) back in the queue");
            if !*all_failed && retried < ids.len() as u64 {
                eprintln!(
                    "note: only dead letters are retried; a pending, processing or processed row is left alone \
                     (--all-pending makes the rows in backoff due now)"
                );
            }
            Ok(found(retried > 0))
        }
        Command::Purge { older_than, status, dry_run } => {
            let states = match status.as_deref() {
                Some(status) => vec![status.parse::<State>()?],
                None => vec![State::Processed, State::Failed],
            };
            let cutoff = now.saturating_sub(i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX));
            let count = inbox.purge_older_than(cutoff, &states, *dry_run).await?;
            let verb = if *dry_run { "would delete" } else { "deleted" };
            outln!("{verb} {count} row(s) received before {}", iso(cutoff));
            Ok(found(count > 0))
        }
    }
}

fn print_stats(stats: &Stats, now: i64) {
    for state in State::ALL {
        outln!("{:<11} {}", state.as_str(), stats.count(state));
    }
    match stats.oldest_pending {
        Some(at) => outln!("oldest unfinished: received {} ({}s ago)", iso(at), now.saturating_sub(at)),
        None => outln!("oldest unfinished: none"),
    }
}

/// `id  state  event_type  attempts=N  received=…`, then `last_error=…` if
/// an attempt failed.
fn line(row: &Row, now: i64) -> String {
    let mut line = format!(
        "{}\t{}\t{}\tattempts={}\treceived={}",
        row.webhook_id,
        row.state(now),
        row.event_type,
        row.attempts,
        iso(row.received_at)
    );
    if let Some(error) = &row.last_error {
        line.push_str("\tlast_error=");
        line.push_str(&printable(error));
    }
    line
}

/// `text` fit for one line of a terminal: a downstream's answer (in
/// `last_error`) is not trusted to hold no escape sequences or line breaks.
fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] })
        .collect()
}

fn json_value(row: &Row, now: i64) -> serde_json::Value {
    serde_json::json!({
        "webhook_id": row.webhook_id,
        "event_type": row.event_type,
        "webhook_timestamp": row.webhook_timestamp,
        "received_at": row.received_at,
        "attempts": row.attempts,
        "processed_at": row.processed_at,
        "failed_at": row.failed_at,
        "state": row.state(now).as_str(),
        "claimed_by": row.claimed_by,
        "claimed_until": row.claimed_until,
        "next_attempt_at": row.next_attempt_at,
        "authenticated": row.authenticated,
        "last_error": row.last_error,
    })
}

fn json_line(row: &Row, now: i64) -> String {
    json_value(row, now).to_string()
}

/// Unix seconds as RFC 3339 UTC.
fn iso(secs: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    humantime::format_rfc3339_seconds(time).to_string()
}
