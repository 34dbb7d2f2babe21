//! Shared helpers: deliveries and the behaviour every backend must have.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use webhook_signature_inbox::{
    Claimed, Failed, Filter, Handled, HandlerError, Inbox, Inserted, NewDelivery, RETENTION_SECS, Retention,
    Retry, RetryPolicy, State, Worker, WorkerStats,
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
        replay_key: None,
    }
}

/// A handler's error from a message.
pub fn failure(message: &str) -> HandlerError {
    message.into()
}

/// The rules every backend follows, on an empty inbox.
pub async fn behaves_like_an_inbox(inbox: &Inbox) {
    let policy = inbox.retry_policy();
    assert_eq!(policy, RetryPolicy::default());
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
    let second = inbox.claim("w2", lease, T0 + 1, 10).await.unwrap();
    assert_eq!(second.iter().map(|c| c.webhook_id.as_str()).collect::<Vec<_>>(), ["b"]);
    assert!(
        inbox.claim("w3", lease, T0 + 30, 10).await.unwrap().is_empty(),
        "leases live at their last second"
    );
    // (b's lease, from T0 + 1, ends a second later: both are due again at T0 + 33.)

    // w1 and w2 die: their rows are due again once the lease and the backoff
    // of the attempt that died (2 s after the first) have passed.
    assert!(inbox.claim("w3", lease, T0 + 31, 10).await.unwrap().is_empty(), "the dead attempt's backoff");
    let a_again = inbox.claim("w3", lease, T0 + 32, 10).await.unwrap();
    let b_again = inbox.claim("w3", lease, T0 + 33, 10).await.unwrap();
    let (a, b) = (&a_again[0], &b_again[0]);
    assert_eq!((a_again.len(), a.webhook_id.as_str(), a.attempts), (1, "a", 2));
    assert_eq!((b_again.len(), b.webhook_id.as_str(), b.attempts), (1, "b", 2));
    assert!(!inbox.complete(&first[0], "w1", T0 + 32).await.unwrap(), "w1's claim is over");
    assert!(inbox.complete(a, "w3", T0 + 32).await.unwrap());
    assert!(
        inbox.complete(a, "w3", T0 + 33).await.unwrap(),
        "a repeat by the same claim still says processed"
    );
    assert_eq!(inbox.get("a").await.unwrap().unwrap().processed_at, Some(T0 + 32), "the first time is kept");

    // A handler failure schedules a retry on the policy's schedule.
    let failed = inbox.fail(b, "downstream 502", T0 + 40).await.unwrap();
    assert_eq!(failed, Failed::Retry { next_attempt_at: T0 + 40 + policy.retry_in("b", 2) });
    assert!(inbox.claim("w3", lease, T0 + 40 + 3, 10).await.unwrap().is_empty(), "not yet due");
    assert_eq!(
        inbox.fail(&second[0], "late", T0 + 44).await.unwrap(),
        Failed::LeaseLost,
        "w2's claim is over"
    );
    // … until the attempts run out: then a dead letter, never claimed again.
    let mut now = T0 + 40 + policy.retry_in("b", 2);
    loop {
        let claimed = inbox.claim("w3", lease, now, 10).await.unwrap();
        assert_eq!(claimed.len(), 1, "at {now}");
        match inbox.fail(&claimed[0], "downstream 502", now).await.unwrap() {
            Failed::Retry { next_attempt_at } => {
                assert_eq!(next_attempt_at, now + policy.retry_in("b", claimed[0].attempt()));
                now = next_attempt_at;
            }
            Failed::DeadLetter => {
                assert_eq!(claimed[0].attempt(), policy.max_attempts);
                break;
            }
            Failed::LeaseLost => panic!("lease lost"),
        }
    }
    let spent = now - (T0 + 32);
    assert!(spent >= 24 * 3600, "retried over a day before the dead letter: {spent} s");
    assert!(
        inbox.claim("w3", lease, now + 10_000_000, 10).await.unwrap().is_empty(),
        "dead letters stay put"
    );
    let dead = inbox.get("b").await.unwrap().unwrap();
    assert_eq!(dead.last_error.as_deref(), Some("downstream 502"));

    // Retention: processed rows older than 25 hours go; dead letters and pending rows stay.
    assert_eq!(inbox.insert(delivery("c", T0)).await.unwrap(), Inserted::New);
    assert_eq!(inbox.purge(T0 + RETENTION_SECS).await.unwrap(), 0);
    assert_eq!(inbox.purge(T0 + RETENTION_SECS + 2).await.unwrap(), 1);
    assert_eq!(inbox.purge(T0 + 180 * 86_400).await.unwrap(), 0, "a dead letter is kept for months");
    assert_eq!(inbox.insert(delivery("a", T0)).await.unwrap(), Inserted::New, "forgotten after retention");
    assert_eq!(inbox.insert(delivery("c", T0)).await.unwrap(), Inserted::Duplicate, "pending rows are kept");
    assert_eq!(inbox.insert(delivery("b", T0)).await.unwrap(), Inserted::Duplicate, "dead letters are kept");
    // … unless a retention for dead letters is set.
    let week = Retention { dead_letters: Some(Duration::from_secs(7 * 86_400)), ..Retention::default() };
    let pruning = inbox.clone().with_retention(week);
    let died = dead.failed_at.unwrap();
    assert_eq!(pruning.purge(died + 6 * 86_400).await.unwrap(), 0, "dead for six days: kept");
    assert_eq!(pruning.purge(died + 8 * 86_400).await.unwrap(), 1, "dead for eight days: gone");
    assert_eq!(inbox.get("b").await.unwrap(), None);
}

/// Retention deletes in batches: more rows than one batch all go.
pub async fn retention_deletes_in_batches(inbox: &Inbox) {
    for i in 0..2500 {
        inbox.insert(delivery(&format!("old{i}"), T0)).await.unwrap();
    }
    let rows = inbox.claim("w", Duration::from_secs(60), T0, 2500).await.unwrap();
    assert_eq!(rows.len(), 2500);
    for row in &rows {
        assert!(inbox.complete(row, "w", T0).await.unwrap());
    }
    assert_eq!(inbox.purge(T0 + RETENTION_SECS + 1).await.unwrap(), 2500);
    assert_eq!(inbox.stats(T0).await.unwrap().processed, 0);
}

/// A second delivery carrying a replay key already stored is a duplicate,
/// whatever its id.
pub async fn replays_are_duplicates(inbox: &Inbox) {
    let keyed = |id: &str, key: &str| NewDelivery { replay_key: Some(key.to_owned()), ..delivery(id, T0) };
    assert_eq!(inbox.insert(keyed("msg_1", "jti:abc")).await.unwrap(), Inserted::New);
    assert_eq!(inbox.insert(keyed("msg_2", "jti:abc")).await.unwrap(), Inserted::Duplicate);
    assert_eq!(inbox.insert(keyed("msg_3", "jti:def")).await.unwrap(), Inserted::New);
    assert_eq!(inbox.insert(delivery("msg_4", T0)).await.unwrap(), Inserted::New, "no key: the id decides");
    assert_eq!(inbox.insert(delivery("msg_5", T0)).await.unwrap(), Inserted::New);
    assert_eq!(inbox.get("msg_2").await.unwrap(), None);
    // A worker sees each row's key (a receiver tells the modes apart by it).
    let mut claimed = inbox.claim("w", Duration::from_secs(30), T0, 10).await.unwrap();
    claimed.sort_by(|a, b| a.webhook_id.cmp(&b.webhook_id));
    let keys: Vec<_> =
        claimed.iter().map(|row| (row.webhook_id.as_str(), row.replay_key.as_deref())).collect();
    assert_eq!(
        keys,
        [("msg_1", Some("jti:abc")), ("msg_3", Some("jti:def")), ("msg_4", None), ("msg_5", None)]
    );
}

/// A worker that dies mid-attempt costs the row that attempt: it is due
/// again after the lease and the attempt's backoff (the SQL's backoff is
/// [`RetryPolicy::backoff`], to the second), and once its attempts are used
/// up it is never claimed again, and the rescue makes it a dead letter.
pub async fn dead_workers_cost_an_attempt(inbox: &Inbox) {
    let policy = RetryPolicy::new(9, Duration::from_secs(100));
    let inbox = inbox.clone().with_retry_policy(policy);
    inbox.insert(delivery("crashy", T0)).await.unwrap();
    let lease = Duration::from_secs(30);
    let mut now = T0;
    for attempt in 1..=9 {
        let claimed = inbox.claim("doomed", lease, now, 1).await.unwrap();
        assert_eq!(claimed.len(), 1, "attempt {attempt} at {now}");
        assert_eq!(claimed[0].attempt(), attempt);
        let due = now + 30 + i64::try_from(policy.backoff(attempt).as_secs()).unwrap();
        assert!(inbox.claim("doomed", lease, due - 1, 1).await.unwrap().is_empty(), "attempt {attempt}");
        now = due;
    }
    assert!(inbox.claim("doomed", lease, now + 1_000_000, 1).await.unwrap().is_empty(), "no attempt left");
    assert_eq!(inbox.rescue(now - 1).await.unwrap(), 0, "not before its lease ends");
    assert_eq!(inbox.rescue(now).await.unwrap(), 1);
    let row = inbox.get("crashy").await.unwrap().unwrap();
    assert_eq!((row.failed_at, row.state(now)), (Some(now), State::Failed));
    assert!(row.last_error.unwrap().contains("never reported back"));
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
                let handler = move |row: Claimed| {
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
    assert!(inbox.claim("w3", lease, now + 36_000, 10).await.unwrap().is_empty(), "all processed");
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
    let (counting, highest) = (running.clone(), most.clone());
    let handler = move |row: Claimed| {
        let (started, mut released, running, most) =
            (started.clone(), released.clone(), counting.clone(), highest.clone());
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
    drop(running);
    let mut rest: Vec<_> = rest.iter().map(|row| (row.webhook_id.as_str(), row.attempts)).collect();
    rest.sort_unstable();
    assert_eq!(rest, [("c3", 1), ("c4", 1)], "the rest unclaimed, the handled rows processed");
}

/// After an outage, an operator makes every row in backoff due now: its
/// attempts kept, never a held row or a dead letter.
pub async fn pending_rows_are_made_due_now(inbox: &Inbox) {
    let inbox = &inbox.clone().with_retry_policy(RetryPolicy::new(2, Duration::from_secs(600)));
    let lease = Duration::from_secs(60);
    for (id, at) in [("backoff", T0), ("dead", T0 + 1), ("held", T0 + 2)] {
        inbox.insert(delivery(id, at)).await.unwrap();
    }
    let now = T0 + 10;
    let backoff = inbox.claim("w", lease, now, 1).await.unwrap();
    assert!(matches!(inbox.fail(&backoff[0], "down", now).await.unwrap(), Failed::Retry { .. }));
    // One attempt only: its failure is a dead letter at once.
    let one_attempt = inbox.clone().with_retry_policy(RetryPolicy::new(1, Duration::from_secs(600)));
    let dead = one_attempt.claim("w", lease, now, 1).await.unwrap();
    assert_eq!(dead[0].webhook_id, "dead");
    assert_eq!(one_attempt.fail(&dead[0], "down", now).await.unwrap(), Failed::DeadLetter);
    let held = inbox.claim("w", lease, now, 1).await.unwrap();
    assert_eq!(held[0].webhook_id, "held");

    // "backoff" waits until now + 600 + jitter; the held row and the dead letter are not touched.
    let before = inbox.get("backoff").await.unwrap().unwrap();
    assert!(before.next_attempt_at.is_some());
    assert_eq!(inbox.retry(&Retry::AllPending).await.unwrap(), 1);
    let after = inbox.get("backoff").await.unwrap().unwrap();
    assert_eq!((after.next_attempt_at, after.attempts, after.last_error.as_deref()), (None, 1, Some("down")));
    assert!(inbox.get("dead").await.unwrap().unwrap().failed_at.is_some());
    let claimed = inbox.claim("w", lease, now + 1, 10).await.unwrap();
    assert_eq!(
        claimed.iter().map(|row| (row.webhook_id.as_str(), row.attempts)).collect::<Vec<_>>(),
        [("backoff", 2)],
        "due at once, its attempts kept"
    );
    assert_eq!(inbox.retry(&Retry::AllPending).await.unwrap(), 0, "nothing else in backoff");
}

/// The operator's console on an empty inbox: counts, lists, one row with its
/// body, a retry of a dead letter that is then processed, and purges.
pub async fn operator_console(inbox: &Inbox) {
    let inbox = &inbox.clone().with_retry_policy(RetryPolicy::new(3, Duration::from_secs(60)));
    let lease = Duration::from_secs(60);
    // "dead" fails until it is a dead letter; then "done" is processed and "busy" is held.
    inbox.insert(delivery("dead", T0)).await.unwrap();
    let mut now = T0 + 10;
    loop {
        let claimed = inbox.claim("w", lease, now, 1).await.unwrap();
        assert_eq!(claimed[0].webhook_id, "dead");
        match inbox.fail(&claimed[0], "boom", now).await.unwrap() {
            Failed::Retry { next_attempt_at } => now = next_attempt_at,
            Failed::DeadLetter => break,
            Failed::LeaseLost => panic!("lease lost"),
        }
    }
    for (id, at) in [("done", T0 + 1), ("busy", T0 + 2), ("waiting", T0 + 3)] {
        inbox.insert(delivery(id, at)).await.unwrap();
    }
    let mut other = delivery("video", T0 + 4);
    other.event_type = "video.generated".to_owned();
    inbox.insert(other).await.unwrap();
    let done = inbox.claim("w", lease, now, 1).await.unwrap();
    assert_eq!(done[0].webhook_id, "done");
    assert!(inbox.complete(&done[0], "w", now).await.unwrap());
    assert_eq!(inbox.claim("w", lease, now, 1).await.unwrap()[0].webhook_id, "busy");

    let stats = inbox.stats(now).await.unwrap();
    assert_eq!((stats.pending, stats.processing, stats.processed, stats.failed), (2, 1, 1, 1));
    assert_eq!(stats.oldest_pending, Some(T0 + 2), "the oldest unfinished row");
    assert_eq!(stats.oldest_due, Some(T0 + 3), "the held row is not due");

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
    assert_eq!((dead.attempts, dead.failed_at.is_some()), (3, true));
    assert_eq!(dead.last_error.as_deref(), Some("boom"));
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
    assert!(inbox.complete(&claimed[0], "w2", now).await.unwrap());

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
    let policy = RetryPolicy::new(4, Duration::from_secs(60));
    let inbox = inbox.clone().with_retry_policy(policy);
    let stats = WorkerStats::new();
    let worker = Worker::new(inbox.clone(), "counted").with_clock(test_clock).with_stats(stats.clone());
    inbox.insert(delivery("fine", T0)).await.unwrap();
    inbox.insert(delivery("doomed", T0)).await.unwrap();

    assert_eq!(worker.run_once(|_| async { Ok(()) }).await.unwrap(), 1);
    let failing = |_| async { Err(failure("downstream is down")) };
    for attempt in 1..=policy.max_attempts {
        assert_eq!(worker.run_once(failing).await.unwrap(), 1, "attempt {attempt}");
        CLOCK.fetch_add(policy.retry_in("doomed", attempt), Ordering::Relaxed);
    }
    assert_eq!(worker.run_once(failing).await.unwrap(), 0, "a dead letter is not claimed again");
    let doomed = inbox.get("doomed").await.unwrap().unwrap();
    assert_eq!(doomed.last_error.as_deref(), Some("downstream is down"));

    // While the handler runs, its lease runs out and another worker takes the row.
    inbox.insert(delivery("stolen", test_clock())).await.unwrap();
    let thief = inbox.clone();
    let steal = move |_| {
        let thief = thief.clone();
        async move {
            CLOCK.fetch_add(63, Ordering::Relaxed); // past the 60 s lease and the 2 s backoff
            assert_eq!(
                thief.claim("thief", Duration::from_secs(60), test_clock(), 1).await.unwrap().len(),
                1
            );
            Ok(())
        }
    };
    assert_eq!(worker.run_once(steal).await.unwrap(), 1);

    let counts: Vec<_> = stats.iter().collect();
    assert_eq!(
        counts,
        [
            (Handled::Processed, 1),
            (Handled::Retried, u64::from(policy.max_attempts) - 1),
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
    let bounded = tokio::time::timeout(Duration::from_secs(30), worker.run_once(|_| std::future::pending()));
    assert_eq!(bounded.await.expect("cut off at the handler timeout").unwrap(), 1);
    assert_eq!(worker.stats().count(Handled::Retried), 1);
    let row = inbox.get("stuck").await.unwrap().unwrap();
    assert!(row.next_attempt_at.is_some() && row.claimed_by.is_none(), "{row:?}");
    assert!(row.last_error.unwrap().contains("did not finish"));
}

/// Waits (up to 30 s, checking every 20 ms) until `done` holds.
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("not within 30 s: {what}");
}

/// A handler that panics on one row of 20: the other 19 are handled, the
/// worker keeps running, and the panicking row is retried until it is a dead
/// letter, with the panic's message as its last error.
pub async fn a_panicking_handler_costs_only_its_row(inbox: &Inbox) {
    let inbox = inbox.clone().with_retry_policy(RetryPolicy::new(3, Duration::ZERO));
    for i in 0..20 {
        inbox.insert(delivery(&format!("row{i:02}"), T0 + i)).await.unwrap();
    }
    let handled: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = handled.clone();
    let handler = move |row: Claimed| {
        let seen = seen.clone();
        async move {
            assert_ne!(row.webhook_id, "row07", "row07 is poison");
            seen.lock().unwrap().push(row.webhook_id);
            Ok(())
        }
    };
    let worker =
        Worker::new(inbox.clone(), "panicky").with_concurrency(4).with_poll(Duration::from_millis(20));
    let stats = worker.stats().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move { worker.run_until(handler, async { drop(stopped.await) }).await });
    eventually("19 processed and one dead letter", || {
        stats.count(Handled::Processed) == 19 && stats.count(Handled::DeadLettered) == 1
    })
    .await;
    assert_eq!((stats.panics(), stats.count(Handled::Retried)), (3, 2));
    assert!(!running.is_finished(), "the worker keeps running");
    // … and still takes new rows.
    inbox.insert(delivery("after", T0 + 100)).await.unwrap();
    eventually("the next row processed", || stats.count(Handled::Processed) == 20).await;
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running).await.unwrap().unwrap();
    let mut ids = handled.lock().unwrap().clone();
    ids.sort_unstable();
    assert_eq!(ids.len(), 20);
    let poison = inbox.get("row07").await.unwrap().unwrap();
    assert!(poison.failed_at.is_some(), "{poison:?}");
    assert!(poison.last_error.unwrap().contains("row07 is poison"));
}

/// A handler slower than its lease whose claim is taken by another worker
/// (its renewal fails): it is cancelled, its outcome is not written, and the
/// row runs once more, under the new claim only.
pub async fn a_handler_that_loses_its_lease_is_cancelled(inbox: &Inbox) {
    inbox.insert(delivery("slow", T0)).await.unwrap();
    let (started, mut running) = tokio::sync::watch::channel(false);
    let (dropped, mut cancelled) = tokio::sync::watch::channel(false);
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = calls.clone();
    let handler = move |_row: Claimed| {
        let (started, dropped, counted) = (started.clone(), dropped.clone(), counted.clone());
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            let _cancelled = OnDrop(Some(move || dropped.send_replace(true)));
            started.send(true).unwrap();
            std::future::pending::<()>().await;
            Ok(())
        }
    };
    let worker = Worker::new(inbox.clone(), "slow").with_lease(Duration::from_secs(3));
    let stats = worker.stats().clone();
    let run = tokio::spawn(async move { worker.run_once(handler).await });
    tokio::time::timeout(Duration::from_secs(10), running.wait_for(|started| *started))
        .await
        .unwrap()
        .unwrap();
    // Another worker takes the row, as if the lease had run out.
    let far = webhook_signature_inbox::unix_now() + 1000;
    let thief = inbox.claim("thief", Duration::from_secs(60), far, 1).await.unwrap();
    assert_eq!((thief.len(), thief[0].attempts), (1, 2));
    // At its next renewal the worker sees it and cancels the handler.
    tokio::time::timeout(Duration::from_secs(10), cancelled.wait_for(|cancelled| *cancelled))
        .await
        .expect("the handler is cancelled")
        .unwrap();
    assert_eq!(tokio::time::timeout(Duration::from_secs(10), run).await.unwrap().unwrap().unwrap(), 1);
    assert_eq!(stats.count(Handled::LeaseLost), 1);
    let row = inbox.get("slow").await.unwrap().unwrap();
    assert_eq!((row.claimed_by.as_deref(), row.processed_at, row.failed_at), (Some("thief"), None, None));
    assert_eq!(row.last_error, None, "the lost attempt wrote nothing");
    assert!(inbox.complete(&thief[0], "thief", far).await.unwrap());
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one handler call through this worker");
}

/// Runs a closure when dropped.
pub struct OnDrop<T, F: FnOnce() -> T>(pub Option<F>);

impl<T, F: FnOnce() -> T> Drop for OnDrop<T, F> {
    fn drop(&mut self) {
        if let Some(run) = self.0.take() {
            let _ = run();
        }
    }
}

/// Sends inserts one at a time, each in a task of its own, until `bound`
/// of them wait in the write queue (the database must be stuck); returns the
/// tasks. Bounded to 200 inserts.
pub async fn fill_the_queue(
    inbox: &Inbox,
    bound: usize,
) -> Vec<tokio::task::JoinHandle<Result<Inserted, webhook_signature_inbox::InboxError>>> {
    let mut writes = Vec::new();
    for i in 0..200 {
        let queued = inbox.clone();
        writes.push(tokio::spawn(async move { queued.insert(delivery(&format!("q{i}"), T0)).await }));
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(5)).await;
            if inbox.queue_depth() == bound {
                return writes;
            }
        }
    }
    panic!("the queue never held {bound} writes");
}

/// An idle worker wakes for a row this process commits, without waiting for
/// its poll (an hour here).
pub async fn an_insert_wakes_an_idle_worker(inbox: &Inbox) {
    let worker = Worker::new(inbox.clone(), "sleepy").with_poll(Duration::from_secs(3600));
    let stats = worker.stats().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running =
        tokio::spawn(
            async move { worker.run_until(|_| async { Ok(()) }, async { drop(stopped.await) }).await },
        );
    // Let it find nothing and go idle first.
    tokio::time::sleep(Duration::from_millis(200)).await;
    inbox.insert(delivery("wake", webhook_signature_inbox::unix_now() - 1)).await.unwrap();
    eventually("the new row handled", || stats.count(Handled::Processed) == 1).await;
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running).await.unwrap().unwrap();
}
