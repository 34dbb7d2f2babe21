//! Shared helpers: deliveries and the behaviour every backend must have.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use webhook_signature_inbox::{
    Failed, Filter, Handled, Inbox, Inserted, MAX_ATTEMPTS, NewDelivery, RETENTION_SECS, Retry, State,
    Worker, WorkerStats, backoff_secs,
};

pub const T0: i64 = 1_795_000_000;

pub fn delivery(id: &str, received_at: i64) -> NewDelivery {
    NewDelivery {
        webhook_id: id.to_owned(),
        event_type: "batch.succeeded".to_owned(),
        webhook_timestamp: received_at,
        body: format!(r#"{{"type":"batch.succeeded","data":{{"id":"{id}"}}}}"#).into_bytes(),
        authenticated: "signature".to_owned(),
        received_at,
    }
}

/// The rules every backend follows, on an empty inbox.
pub async fn behaves_like_an_inbox(inbox: &Inbox) {
    // Exactly once into the inbox.
    assert_eq!(inbox.insert(delivery("a", T0)).await.unwrap(), Inserted::New);
    assert_eq!(inbox.insert(delivery("a", T0)).await.unwrap(), Inserted::Duplicate);
    assert_eq!(inbox.insert(delivery("b", T0 + 1)).await.unwrap(), Inserted::New);

    // A lease keeps other workers away until it expires.
    let lease = Duration::from_secs(30);
    let first = inbox.claim("w1", lease, T0, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!((first[0].webhook_id.as_str(), first[0].attempts), ("a", 1));
    assert_eq!(first[0].body, delivery("a", T0).body);
    let second = inbox.claim("w2", lease, T0, 10).await.unwrap();
    assert_eq!(second.iter().map(|c| c.webhook_id.as_str()).collect::<Vec<_>>(), ["b"]);
    assert!(
        inbox.claim("w3", lease, T0 + 30, 10).await.unwrap().is_empty(),
        "leases still live at their last second"
    );

    // w1 dies; its lease expires; w3 takes the row; w1's late completion is refused.
    let retaken = inbox.claim("w3", lease, T0 + 31, 10).await.unwrap();
    let mut retaken: Vec<_> = retaken.iter().map(|c| (c.webhook_id.as_str(), c.attempts)).collect();
    retaken.sort_unstable(); // RETURNING has no order
    assert_eq!(retaken, [("a", 2), ("b", 2)]);
    assert!(!inbox.complete("a", "w1", T0 + 32).await.unwrap());
    assert!(inbox.complete("a", "w3", T0 + 32).await.unwrap());
    assert!(!inbox.complete("a", "w3", T0 + 33).await.unwrap(), "processed once");

    // A handler failure schedules a retry with backoff.
    assert_eq!(inbox.fail("b", "w3", T0 + 40).await.unwrap(), Failed::Retry { next_attempt_at: T0 + 44 });
    assert!(inbox.claim("w3", lease, T0 + 43, 10).await.unwrap().is_empty(), "not yet due");
    assert_eq!(inbox.fail("b", "w1", T0 + 44).await.unwrap(), Failed::LeaseLost);
    // … until the attempts run out: then a dead letter, never claimed again.
    let mut now = T0 + 44;
    loop {
        let claimed = inbox.claim("w3", lease, now, 10).await.unwrap();
        assert_eq!(claimed.len(), 1, "at {now}");
        match inbox.fail("b", "w3", now).await.unwrap() {
            Failed::Retry { next_attempt_at } => {
                // The SQL backoff is backoff_secs, to the second.
                assert_eq!(
                    next_attempt_at,
                    now + backoff_secs(claimed[0].attempts),
                    "attempt {}",
                    claimed[0].attempts
                );
                now = next_attempt_at;
            }
            Failed::DeadLetter => {
                assert_eq!(claimed[0].attempts, MAX_ATTEMPTS);
                break;
            }
            Failed::LeaseLost => panic!("lease lost"),
        }
    }
    assert!(inbox.claim("w3", lease, now + 100_000, 10).await.unwrap().is_empty(), "dead letters stay put");

    // Retention: processed and failed rows older than 25 hours go; pending rows stay.
    assert_eq!(inbox.insert(delivery("c", T0)).await.unwrap(), Inserted::New);
    assert_eq!(inbox.purge(T0 + RETENTION_SECS).await.unwrap(), 0);
    assert_eq!(inbox.purge(T0 + RETENTION_SECS + 2).await.unwrap(), 2);
    assert_eq!(inbox.insert(delivery("a", T0)).await.unwrap(), Inserted::New, "forgotten after retention");
    assert_eq!(inbox.insert(delivery("c", T0)).await.unwrap(), Inserted::Duplicate, "pending rows are kept");
}

/// Many concurrent inserts: all committed, duplicates detected across batches.
pub async fn concurrent_inserts_share_commits(inbox: &Inbox) {
    let tasks: Vec<_> = (0..400)
        .map(|i| {
            let inbox = inbox.clone();
            tokio::spawn(async move { inbox.insert(delivery(&format!("c{}", i % 200), T0)).await })
        })
        .collect();
    let mut new = 0;
    for task in tasks {
        if task.await.unwrap().unwrap() == Inserted::New {
            new += 1;
        }
    }
    assert_eq!(new, 200);
}

/// Two workers whose handler takes longer than the lease: the lease is
/// renewed while it runs, so no row is handled twice. Uses the real clock
/// (leases are in whole seconds); bounded to about 12 s.
pub async fn slow_handlers_never_run_twice(inbox: &Inbox) {
    for i in 0..3 {
        inbox.insert(delivery(&format!("slow{i}"), T0)).await.unwrap();
    }
    let calls: Arc<Mutex<Vec<String>>> = Arc::default();
    let done = Arc::new(tokio::sync::Notify::new());
    let lease = Duration::from_secs(2);
    let workers: Vec<_> = ["w1", "w2"]
        .into_iter()
        .map(|name| {
            let worker =
                Worker::new(inbox.clone(), name).with_lease(lease).with_poll(Duration::from_millis(50));
            let (calls, done) = (calls.clone(), done.clone());
            tokio::spawn(async move {
                let handler = |row: webhook_signature_inbox::Claimed| {
                    let calls = calls.clone();
                    async move {
                        calls.lock().unwrap().push(row.webhook_id.clone());
                        tokio::time::sleep(Duration::from_millis(3500)).await; // over the 2 s lease
                        Ok(())
                    }
                };
                worker.run_until(handler, done.notified()).await;
            })
        })
        .collect();
    // Every row handled, then more than a lease more, to give a second run its chance.
    for _ in 0..200 {
        if calls.lock().unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(3500 + 2500)).await;
    done.notify_waiters();
    for worker in workers {
        tokio::time::timeout(Duration::from_secs(10), worker).await.unwrap().unwrap();
    }
    let mut calls = calls.lock().unwrap().clone();
    calls.sort_unstable();
    assert_eq!(calls, ["slow0", "slow1", "slow2"], "each row handled exactly once");
    let now = webhook_signature_inbox::unix_now();
    assert!(inbox.claim("w3", lease, now + 3600, 10).await.unwrap().is_empty(), "all processed");
}

/// A worker with 3 loops handles 3 rows at once (each handler waits until
/// all 3 have started, which one loop would never see), never more; stopped
/// with 3 handlers running, it finishes and records them, and leaves the
/// other rows unclaimed. Bounded to 10 s per wait.
pub async fn concurrent_loops_share_the_work(inbox: &Inbox) {
    for i in 0..5 {
        inbox.insert(delivery(&format!("c{i}"), T0 + i)).await.unwrap();
    }
    let (started, mut seen) = tokio::sync::watch::channel(Vec::<String>::new());
    let (release, released) = tokio::sync::watch::channel(false);
    let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handler = |row: webhook_signature_inbox::Claimed| {
        let (started, mut released, running, most) =
            (started.clone(), released.clone(), running.clone(), most.clone());
        async move {
            let now = running.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
            started.send_modify(|ids| ids.push(row.webhook_id.clone()));
            released.wait_for(|go| *go).await.unwrap();
            running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        }
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = Worker::new(inbox.clone(), "loops").with_concurrency(3).with_poll(Duration::from_millis(20));
    let run = async {
        worker
            .run_until(handler, async move {
                let mut stopped = stopped;
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .await;
    };
    let drive = async {
        tokio::time::timeout(Duration::from_secs(10), seen.wait_for(|ids| ids.len() == 3))
            .await
            .expect("three handlers at once")
            .unwrap();
        stop.send(true).unwrap();
        // Stopping waits for the running handlers; none more starts.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(seen.borrow().len(), 3);
        release.send(true).unwrap();
    };
    tokio::time::timeout(Duration::from_secs(10), async { tokio::join!(run, drive) })
        .await
        .expect("the worker stops once its handlers finish");
    assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 3, "never more than 3 at once");
    let mut handled = seen.borrow().clone();
    handled.sort_unstable();
    assert_eq!(handled, ["c0", "c1", "c2"], "the oldest rows, each once");
    let now = webhook_signature_inbox::unix_now();
    let rest = inbox.claim("after", Duration::from_secs(60), now, 10).await.unwrap();
    let mut rest: Vec<_> = rest.iter().map(|row| (row.webhook_id.as_str(), row.attempts)).collect();
    rest.sort_unstable();
    assert_eq!(rest, [("c3", 1), ("c4", 1)], "the rest unclaimed, the handled rows processed");
}

/// The operator's console on an empty inbox: counts, lists, one row with its
/// body, a retry of a dead letter that is then processed, and purges.
pub async fn operator_console(inbox: &Inbox) {
    let lease = Duration::from_secs(60);
    for (id, at) in [("dead", T0), ("done", T0 + 1), ("busy", T0 + 2), ("waiting", T0 + 3)] {
        inbox.insert(delivery(id, at)).await.unwrap();
    }
    let mut other = delivery("video", T0 + 4);
    other.event_type = "video.generated".to_owned();
    inbox.insert(other).await.unwrap();
    // "dead" fails until it is a dead letter; "done" is processed; "busy" is held.
    let mut now = T0 + 10;
    loop {
        let claimed = inbox.claim("w", lease, now, 1).await.unwrap();
        assert_eq!(claimed[0].webhook_id, "dead");
        match inbox.fail("dead", "w", now).await.unwrap() {
            Failed::Retry { next_attempt_at } => now = next_attempt_at,
            Failed::DeadLetter => break,
            Failed::LeaseLost => panic!("lease lost"),
        }
    }
    assert_eq!(inbox.claim("w", lease, now, 1).await.unwrap()[0].webhook_id, "done");
    assert!(inbox.complete("done", "w", now).await.unwrap());
    assert_eq!(inbox.claim("w", lease, now, 1).await.unwrap()[0].webhook_id, "busy");

    let stats = inbox.stats(now).await.unwrap();
    assert_eq!((stats.pending, stats.processing, stats.processed, stats.failed), (2, 1, 1, 1));
    assert_eq!(stats.oldest_pending, Some(T0 + 2), "the oldest unfinished row");

    let ids =
        |rows: Vec<webhook_signature_inbox::Row>| rows.into_iter().map(|r| r.webhook_id).collect::<Vec<_>>();
    assert_eq!(
        ids(inbox.list(&Filter::default(), now).await.unwrap()),
        ["dead", "done", "busy", "waiting", "video"]
    );
    for (state, expected) in [
        (State::Pending, vec!["waiting", "video"]),
        (State::Processing, vec!["busy"]),
        (State::Processed, vec!["done"]),
        (State::Failed, vec!["dead"]),
    ] {
        let rows = inbox.list(&Filter::default().state(Some(state)), now).await.unwrap();
        assert!(rows.iter().all(|row| row.state(now) == state));
        assert_eq!(ids(rows), expected, "{state}");
    }
    let videos = Filter::default().event_type(Some("video.generated".to_owned()));
    assert_eq!(ids(inbox.list(&videos, now).await.unwrap()), ["video"]);
    assert_eq!(ids(inbox.list(&Filter::default().limit(2), now).await.unwrap()), ["dead", "done"]);

    let dead = inbox.get("dead").await.unwrap().unwrap();
    assert_eq!((dead.attempts, dead.failed_at.is_some()), (MAX_ATTEMPTS, true));
    assert_eq!(dead.body, Some(delivery("dead", T0).body));
    assert_eq!(inbox.get("missing").await.unwrap(), None);

    // Retry touches only dead letters: not the held row, not an unknown id.
    let ids_of = |names: &[&str]| Retry::Ids(names.iter().map(|n| (*n).to_owned()).collect());
    assert_eq!(inbox.retry(&ids_of(&["busy", "waiting", "missing"])).await.unwrap(), 0);
    assert_eq!(inbox.retry(&ids_of(&["dead", "busy"])).await.unwrap(), 1);
    let retried = inbox.get("dead").await.unwrap().unwrap();
    assert_eq!((retried.attempts, retried.failed_at, retried.state(now)), (0, None, State::Pending));
    assert_eq!(inbox.retry(&Retry::AllFailed).await.unwrap(), 0, "no dead letter left");
    // … and it is processed like any other row.
    let claimed = inbox.claim("w2", lease, now, 1).await.unwrap();
    assert_eq!((claimed[0].webhook_id.as_str(), claimed[0].attempts), ("dead", 1));
    assert!(inbox.complete("dead", "w2", now).await.unwrap());

    // Purge: a dry run deletes nothing; unfinished rows are never purged.
    let all = [State::Pending, State::Processing, State::Processed, State::Failed];
    assert_eq!(inbox.purge_older_than(T0 + 100, &all, true).await.unwrap(), 2);
    assert_eq!(inbox.list(&Filter::default(), now).await.unwrap().len(), 5, "dry run");
    assert_eq!(
        inbox.purge_older_than(T0 + 1, &[State::Processed], false).await.unwrap(),
        1,
        "only 'dead' is older"
    );
    assert_eq!(inbox.purge_older_than(T0 + 100, &[State::Failed], false).await.unwrap(), 0);
    assert_eq!(inbox.purge_older_than(T0 + 100, &[State::Processed], false).await.unwrap(), 1);
    assert_eq!(ids(inbox.list(&Filter::default(), now).await.unwrap()), ["busy", "waiting", "video"]);
}

/// The clock of [`worker_counts_its_outcomes`], moved by the test (a worker's
/// clock is a plain `fn`). Only that test reads it.
static CLOCK: AtomicI64 = AtomicI64::new(T0);

fn test_clock() -> i64 {
    CLOCK.load(Ordering::Relaxed)
}

/// A worker counts how each row ended: processed, retried until a dead
/// letter, and a lease lost to another worker while the handler ran.
pub async fn worker_counts_its_outcomes(inbox: &Inbox) {
    CLOCK.store(T0, Ordering::Relaxed);
    let stats = WorkerStats::new();
    let worker = Worker::new(inbox.clone(), "counted").with_clock(test_clock).with_stats(stats.clone());
    inbox.insert(delivery("fine", T0)).await.unwrap();
    inbox.insert(delivery("doomed", T0 + 1)).await.unwrap();

    assert_eq!(worker.run_once(&|_| async { Ok(()) }).await.unwrap(), 1);
    let failing = |_| async { Err("downstream is down".to_owned()) };
    for attempt in 1..=MAX_ATTEMPTS {
        assert_eq!(worker.run_once(&failing).await.unwrap(), 1, "attempt {attempt}");
        CLOCK.fetch_add(backoff_secs(attempt), Ordering::Relaxed);
    }
    assert_eq!(worker.run_once(&failing).await.unwrap(), 0, "a dead letter is not claimed again");

    // While the handler runs, its lease runs out and another worker takes the row.
    inbox.insert(delivery("stolen", test_clock())).await.unwrap();
    let thief = inbox.clone();
    let steal = move |_| {
        let thief = thief.clone();
        async move {
            CLOCK.fetch_add(61, Ordering::Relaxed); // past the default 60 s lease
            assert_eq!(
                thief.claim("thief", Duration::from_secs(60), test_clock(), 1).await.unwrap().len(),
                1
            );
            Ok(())
        }
    };
    assert_eq!(worker.run_once(&steal).await.unwrap(), 1);

    let counts: Vec<_> = stats.iter().collect();
    assert_eq!(
        counts,
        [
            (Handled::Processed, 1),
            (Handled::Retried, MAX_ATTEMPTS.unsigned_abs() - 1),
            (Handled::DeadLettered, 1),
            (Handled::LeaseLost, 1),
            (Handled::Unrecorded, 0),
        ]
    );
    assert_eq!(worker.stats().count(Handled::Processed), 1, "the worker's own handle is the same");
}

/// A handler that never finishes is cut off at the handler timeout, and the
/// row is retried after its backoff instead of being held forever.
pub async fn a_stuck_handler_is_cut_off(inbox: &Inbox) {
    inbox.insert(delivery("stuck", T0)).await.unwrap();
    let worker = Worker::new(inbox.clone(), "impatient").with_handler_timeout(Duration::from_millis(200));
    let bounded = tokio::time::timeout(Duration::from_secs(30), worker.run_once(&|_| std::future::pending()));
    assert_eq!(bounded.await.expect("cut off at the handler timeout").unwrap(), 1);
    assert_eq!(worker.stats().count(Handled::Retried), 1);
    let row = inbox.get("stuck").await.unwrap().unwrap();
    assert!(row.next_attempt_at.is_some() && row.claimed_by.is_none(), "{row:?}");
}
