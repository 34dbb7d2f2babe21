//! The fsync, off the writer thread. The writer commits with
//! `synchronous=NORMAL`: the WAL frames are written, not yet on disk. It then
//! hands the batch's answers here; this thread fsyncs the WAL and only then
//! answers, so nobody hears "committed" before the commit is durable.
//!
//! Meanwhile the writer runs the next batch's statements, but it commits that
//! batch only once this fsync has ended ([`Syncer::wait_idle`]): at most one
//! batch waits for the disk, so batches keep their size. Measured with
//! `bash scripts/load.sh`: the writer, waiting for each fsync in its own
//! commit, was idle for about a third of its time with 64 requests queued
//! behind it.
//!
//! An fsync that fails leaves the inbox failed until the process restarts:
//! the kernel may have dropped the pages it could not write, while SQLite
//! already shows the commit, so a retried delivery would find its row and be
//! acknowledged as a duplicate without ever reaching the disk.

use std::fs::File;
use std::sync::{Arc, Condvar, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::error::InboxError;
use crate::sqlite::Answer;

/// A caller's answer, sent once the batch is durable.
pub(crate) type Reply = (oneshot::Sender<Result<Answer, InboxError>>, Answer);

/// How to make the WAL durable: `File::sync_data`, or a failure in tests.
pub(crate) type SyncFn = fn(&File) -> std::io::Result<()>;

/// The fsync thread and what the writer asks of it.
pub(crate) struct Syncer {
    batches: Option<mpsc::Sender<Vec<Reply>>>,
    state: Arc<State>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct State {
    progress: Mutex<Progress>,
    idle: Condvar,
}

#[derive(Default)]
struct Progress {
    /// A committed batch whose fsync has not ended.
    busy: bool,
    /// The error of a failed fsync; every later batch fails with it.
    failed: Option<String>,
}

impl Syncer {
    /// Starts the thread that makes `wal` (the open `-wal` file) durable with `sync`.
    pub(crate) fn start(wal: File, sync: SyncFn) -> std::io::Result<Self> {
        let (batches, queue) = mpsc::channel::<Vec<Reply>>();
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("inbox-sqlite-sync".to_owned())
            .spawn(move || {
                while let Ok(batch) = queue.recv() {
                    let synced = sync(&wal).map_err(|e| format!("fsync of the WAL failed: {e}"));
                    let mut progress = shared.progress.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Err(error) = &synced {
                        tracing::error!(%error, "the inbox cannot write durably; it fails every write until restarted");
                        progress.failed.get_or_insert_with(|| error.clone());
                    }
                    progress.busy = false;
                    drop(progress);
                    shared.idle.notify_all();
                    // Answered after the flag is cleared: the writer's next
                    // commit is not held up by the wake-ups.
                    answer(batch, synced.map_err(InboxError::Database));
                }
            })?;
        Ok(Self { batches: Some(batches), state, thread: Some(thread) })
    }

    /// Whether no fsync is under way.
    pub(crate) fn is_idle(&self) -> bool {
        !self.state.progress.lock().unwrap_or_else(PoisonError::into_inner).busy
    }

    /// Waits until no fsync is under way. An error if one ever failed.
    pub(crate) fn wait_idle(&self) -> Result<(), InboxError> {
        let progress = self.state.progress.lock().unwrap_or_else(PoisonError::into_inner);
        let progress =
            self.state.idle.wait_while(progress, |p| p.busy).unwrap_or_else(PoisonError::into_inner);
        match &progress.failed {
            Some(error) => Err(InboxError::Database(error.clone())),
            None => Ok(()),
        }
    }

    /// Hands over a committed batch: its callers are answered once the WAL
    /// is on disk. Call [`wait_idle`](Self::wait_idle) before the commit.
    pub(crate) fn submit(&self, batch: Vec<Reply>) {
        self.state.progress.lock().unwrap_or_else(PoisonError::into_inner).busy = true;
        let Some(batches) = &self.batches else { return };
        if let Err(mpsc::SendError(batch)) = batches.send(batch) {
            // The thread is gone (it cannot panic short of a bug): nothing
            // confirms the commit, so nobody is told it is durable.
            answer(batch, Err(InboxError::Closed));
        }
    }
}

impl Drop for Syncer {
    /// Lets the last batch's fsync finish and its callers be answered.
    fn drop(&mut self) {
        self.batches = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(batch: Vec<Reply>, synced: Result<(), InboxError>) {
    // A caller that went away (its request was cancelled) needs no answer.
    match synced {
        Ok(()) => {
            for (reply, answer) in batch {
                let _ = reply.send(Ok(answer));
            }
        }
        Err(error) => {
            for (reply, _) in batch {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A scratch file standing in for the WAL: the syncer only syncs it.
    fn wal() -> File {
        let path = std::env::temp_dir().join(format!(
            "inbox-sync-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let file = std::fs::OpenOptions::new().create(true).truncate(true).write(true).open(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        file
    }

    #[tokio::test]
    async fn answers_after_the_fsync() {
        let syncer = Syncer::start(wal(), |file| file.sync_data()).unwrap();
        let (reply, answered) = oneshot::channel();
        syncer.wait_idle().unwrap();
        syncer.submit(vec![(reply, Answer::Pong)]);
        assert!(matches!(answered.await.unwrap(), Ok(Answer::Pong)));
        syncer.wait_idle().unwrap();
        assert!(syncer.is_idle());
    }

    /// A failed fsync fails its batch and every later one: the pages it
    /// could not write may be gone while SQLite shows the rows.
    #[tokio::test]
    async fn a_failed_fsync_fails_the_batch_and_every_later_commit() {
        let syncer = Syncer::start(wal(), |_| Err(std::io::Error::other("EIO"))).unwrap();
        let (reply, answered) = oneshot::channel();
        syncer.submit(vec![(reply, Answer::Pong)]);
        let error = answered.await.unwrap().err().unwrap();
        assert!(error.to_string().contains("fsync of the WAL failed: EIO"), "{error}");
        assert!(syncer.wait_idle().is_err());
        assert!(syncer.wait_idle().is_err(), "stays failed");
    }

    /// Dropping the syncer waits for the batch under way and answers it.
    #[tokio::test]
    async fn drop_answers_the_batch_under_way() {
        let syncer = Syncer::start(wal(), |file| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            file.sync_data()
        })
        .unwrap();
        let (reply, answered) = oneshot::channel();
        syncer.submit(vec![(reply, Answer::Pong)]);
        drop(syncer);
        assert!(matches!(answered.await.unwrap(), Ok(Answer::Pong)));
    }
}
