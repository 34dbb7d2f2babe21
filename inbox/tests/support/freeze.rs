//! A TCP proxy on 127.0.0.1 that can be frozen: while frozen it accepts
//! connections and reads what either side sends, but forwards nothing, as a
//! server that stopped (SIGSTOP, a VM paused) or a network partition that
//! drops packets without a reset would. Thawed, it forwards what it held.
#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing)]

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub(crate) struct FreezableProxy {
    pub(crate) addr: SocketAddr,
    frozen: watch::Sender<bool>,
}

impl FreezableProxy {
    /// Forwards connections to `target` (`host:port`).
    pub(crate) async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (frozen, watching) = watch::channel(false);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (target, watching) = (target.clone(), watching.clone());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&target).await else { return };
                    let ((from_client, to_client), (from_server, to_server)) =
                        (client.into_split(), server.into_split());
                    tokio::join!(
                        pump(from_client, to_server, watching.clone()),
                        pump(from_server, to_client, watching)
                    );
                });
            }
        });
        Self { addr, frozen }
    }

    pub(crate) fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    pub(crate) fn thaw(&self) {
        self.frozen.send_replace(false);
    }
}

/// Copies `from` to `to`, holding each read while the proxy is frozen.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut frozen: watch::Receiver<bool>) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        if frozen.wait_for(|frozen| !*frozen).await.is_err() || to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
