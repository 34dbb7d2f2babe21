//! The floor under any durable inbox on this machine, (d) in the load table:
//! each verified delivery's id and body go to a writer thread that writes
//! everything queued at once to a plain file and makes it durable with one
//! `fdatasync`, then answers. No database, no worker: less work than any
//! real store, which would also frame and index each record. What (d) loses
//! against (a) is the price of one durable write per batch here, which no
//! store that answers only once the write is durable can avoid. What (b)
//! loses against (d) is the receiver's route, SQLite and the worker.
//!
//! The file is zero-filled once and then overwritten in a ring, so an
//! `fdatasync` has only data to flush, no file size or extent to journal:
//! the cheapest durable write a file offers (SQLite's WAL is overwritten
//! the same way once it has reached its size).

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::mpsc;

use axum::Router;
use axum::extract::Extension;
use axum::http::StatusCode;
use axum::routing::MethodRouter;
use axum::routing::post;
use tokio::sync::oneshot;
use webhook_signature_axum::{VerifiedWebhook, WebhookConfig};
use webhook_signature_gemini::GeminiVerifier;

/// The ring's size: a batch is at most 1,024 records of about 600 bytes.
const RING: u64 = 64 << 20;
/// The most deliveries written with one `fdatasync`, as the SQLite inbox's writer.
const MAX_BATCH: usize = 1024;
/// The writer thread's name, as `/proc/self/task/*/comm` shows it (at most 15 bytes).
pub(crate) const THREAD: &str = "load-file-floor";

/// One delivery's record and where its answer goes, once it is durable.
type Op = (Vec<u8>, oneshot::Sender<()>);

/// `/webhooks/gemini`, verified as in (a), answered 204 once the delivery's
/// id and body are on disk in `dir`'s ring file.
pub(crate) fn router(dir: &Path, config: WebhookConfig<GeminiVerifier>) -> Router {
    let mut file = File::create(dir.join("floor.ring")).unwrap();
    file.write_all(&vec![0; usize::try_from(RING).unwrap()]).unwrap();
    file.sync_all().unwrap();
    let (queue, batches) = mpsc::channel::<Op>();
    std::thread::Builder::new()
        .name(THREAD.to_owned())
        .spawn(move || write_batches(&file, &batches))
        .unwrap();
    let store: MethodRouter<WebhookConfig<GeminiVerifier>> = post(
        |Extension(queue): Extension<mpsc::Sender<Op>>, webhook: VerifiedWebhook<GeminiVerifier>| async move {
            let (reply, durable) = oneshot::channel();
            queue.send(([webhook.id.as_bytes(), &webhook.body].concat(), reply)).unwrap();
            durable.await.unwrap();
            StatusCode::NO_CONTENT
        },
    );
    Router::new().route("/webhooks/gemini", store).layer(Extension(queue)).with_state(config)
}

/// Writes and syncs everything queued at once, then answers it: group
/// commit, as the SQLite inbox's writer does it.
fn write_batches(file: &File, queue: &mpsc::Receiver<Op>) {
    let mut at = 0;
    let mut buffer = Vec::new();
    while let Ok(first) = queue.recv() {
        let batch: Vec<Op> = std::iter::once(first).chain(queue.try_iter().take(MAX_BATCH - 1)).collect();
        buffer.clear();
        batch.iter().for_each(|(record, _)| buffer.extend_from_slice(record));
        let length = u64::try_from(buffer.len()).unwrap();
        if at + length > RING {
            at = 0;
        }
        file.write_all_at(&buffer, at).unwrap();
        file.sync_data().unwrap();
        at += length;
        for (_, reply) in batch {
            let _ = reply.send(());
        }
    }
}
