//! `listen`'s backlog, as a burst of clients meets it: more connections at
//! once than the standard library's backlog of 128 all complete their
//! handshake while the server has not accepted any yet. With a backlog of 128
//! the rest are dropped by the kernel and wait out SYN retransmission.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tokio::net::TcpStream;
use webhook_signature_axum::{DEFAULT_BACKLOG, listen};

/// Clients in the burst: well past 128, within the default `somaxconn` (4,096).
const BURST: usize = 400;
/// A handshake with room in the accept queue completes at once; a dropped SYN
/// is retried after 1 s, 3 s, 7 s. Several times any queued handshake.
const PATIENCE: Duration = Duration::from_secs(8);

#[tokio::test]
async fn a_burst_past_128_connections_is_queued_not_dropped() {
    let somaxconn: usize = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(4096);
    // An older kernel's somaxconn of 128 caps every backlog: nothing to show.
    let burst = BURST.min(somaxconn);
    let listener = listen("127.0.0.1:0", DEFAULT_BACKLOG).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let clients: Vec<_> =
        (0..burst).map(|_| tokio::spawn(tokio::time::timeout(PATIENCE, TcpStream::connect(addr)))).collect();
    let mut connected = Vec::with_capacity(burst);
    for client in clients {
        connected.push(client.await.unwrap().expect("a handshake waited out SYN retransmission").unwrap());
    }
    assert_eq!(connected.len(), burst);
    // Every one of them is then accepted.
    for _ in 0..burst {
        tokio::time::timeout(PATIENCE, listener.accept()).await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn an_address_in_use_is_an_error() {
    let taken = listen("127.0.0.1:0", DEFAULT_BACKLOG).await.unwrap();
    let error = listen(taken.local_addr().unwrap(), DEFAULT_BACKLOG).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
}

#[tokio::test]
async fn a_host_name_is_resolved() {
    let listener = listen(("localhost", 0), DEFAULT_BACKLOG).await.unwrap();
    assert!(listener.local_addr().unwrap().ip().is_loopback());
}
