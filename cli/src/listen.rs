//! `listen`: a local receiver that verifies each delivery, reports it on one
//! line, and answers 204 (valid), 401 (rejected), 409 (replayed id) or 413
//! (body over the limit).

use std::collections::HashSet;
use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use tiny_http::{Request, Response, Server};
use webhook_signature::{Headers, Timestamp};

use crate::{dynamic, gemini, keys, request, verify};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Secret (`whsec_…` or `whpk_…`); repeat during rotation. Default: $WEBHOOK_SECRET.
    #[arg(long = "secret", env = "WEBHOOK_SECRET", value_delimiter = ' ', hide_env_values = true)]
    secrets: Vec<String>,
    #[command(flatten)]
    dynamic: dynamic::Args,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Largest accepted body in bytes; larger ones get 413.
    #[arg(long, default_value_t = 1 << 20)]
    max_body: u64,
    /// Save every rejected delivery here as a raw HTTP/1.1 request, one file
    /// each, for `diagnose --request FILE`.
    #[arg(long)]
    save: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> crate::Result<ExitCode> {
    let keys = keys::load_for(&args.secrets, args.dynamic.enabled())?;
    let key_count = keys.len();
    let loaded = args.dynamic.load(keys, webhook_signature::DEFAULT_TOLERANCE)?;
    let mut receiver = Receiver::bind(args.port, loaded, key_count, args.max_body)?;
    if let Some(dir) = &args.save {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        receiver.save_rejected(dir.clone());
    }
    println!("listening on http://127.0.0.1:{}", receiver.port());
    loop {
        println!("{}", receiver.serve_one()?);
    }
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

/// A verifying HTTP receiver on 127.0.0.1 that remembers the ids it accepted.
pub(crate) struct Receiver {
    server: Server,
    verifier: dynamic::Loaded,
    key_count: usize,
    max_body: u64,
    seen: HashSet<String>,
    save: Option<PathBuf>,
    saved: u64,
}

impl Receiver {
    pub(crate) fn bind(
        port: u16,
        verifier: dynamic::Loaded,
        key_count: usize,
        max_body: u64,
    ) -> crate::Result<Self> {
        let server =
            Server::http(("127.0.0.1", port)).map_err(|e| format!("cannot listen on port {port}: {e}"))?;
        Ok(Self { server, verifier, key_count, max_body, seen: HashSet::new(), save: None, saved: 0 })
    }

    /// Saves every rejected delivery into `dir`.
    pub(crate) fn save_rejected(&mut self, dir: PathBuf) {
        self.save = Some(dir);
    }

    pub(crate) fn port(&self) -> u16 {
        self.server.server_addr().to_ip().map_or(0, |addr| addr.port())
    }

    /// Waits for one request, answers it, and reports the decision.
    pub(crate) fn serve_one(&mut self) -> crate::Result<Report> {
        let mut request = self.server.recv()?;
        let (report, body) = self.decide(&mut request);
        if let (Some(dir), true) = (&self.save, report.status >= 400) {
            let headers: Vec<(String, String)> =
                request.headers().iter().map(|h| (h.field.to_string(), h.value.to_string())).collect();
            let raw = request::render(&request.method().to_string(), request.url(), &headers, &body);
            self.saved += 1;
            let name: String =
                report.id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
            let path = dir.join(format!("rejected-{:04}-{name}.http", self.saved));
            std::fs::write(&path, raw).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        // A sender that hung up before the answer does not stop the receiver.
        let _ = request.respond(Response::empty(report.status));
        Ok(report)
    }

    fn decide(&mut self, request: &mut Request) -> (Report, Vec<u8>) {
        // The core's own reading of the headers: one value each, the `svix-*`
        // names where `webhook-*` are absent, a duplicate or non-ASCII value refused.
        let map = crate::request::header_map(
            request.headers().iter().map(|h| (h.field.as_str().as_str(), h.value.as_str().as_bytes())),
        );
        let found = Headers::from_header_map(&map)
            .map(|h| (h.id.to_owned(), h.timestamp.to_owned(), h.signature.to_owned()));
        let shown_id = found
            .as_ref()
            .ok()
            .map(|(id, _, _)| id.clone())
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| "-".to_owned());
        let report = |event: &str, status, outcome: String| Report {
            id: shown_id.clone(),
            event: event.to_owned(),
            status,
            outcome,
        };

        let declared = request.body_length().map_or(0, |len| len as u64);
        let mut body = Vec::new();
        let read = request.as_reader().take(self.max_body + 1).read_to_end(&mut body);
        if declared > self.max_body || body.len() as u64 > self.max_body {
            return (report("-", 413, format!("body over {} bytes", self.max_body)), body);
        }
        if let Err(error) = read {
            return (report("-", 400, format!("cannot read body: {error}")), body);
        }
        let event = gemini::event_type(&body).unwrap_or_else(|| "-".to_owned());
        let (id, timestamp, signature) = match found {
            Ok(values) => values,
            Err(error) => return (report(&event, 401, error.to_string()), body),
        };
        let headers = Headers { id: &id, timestamp: &timestamp, signature: &signature };
        let verified =
            self.verifier.receiver.verify(&headers, &body, Timestamp::now(), self.verifier.jwks.as_ref());
        let report = match verified {
            Err(error) => report(&event, 401, error.to_string()),
            Ok(_) if !self.seen.insert(id.clone()) => report(&event, 409, "replayed webhook-id".to_owned()),
            Ok(delivery) => report(&event, 204, verify::describe(&delivery.verified.mode, self.key_count)),
        };
        (report, body)
    }
}
