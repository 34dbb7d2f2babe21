//! A listener whose backlog fits a server on the open internet.
//!
//! `tokio::net::TcpListener::bind` listens with a backlog of 128, as the
//! standard library does. A burst of more new connections than that (a
//! sender's fleet reconnecting after a deploy, or every client of a receiver
//! that just restarted) overflows the accept queue: Linux drops the extra
//! SYNs, and those clients wait out TCP's retransmission, 1 s and then 3 s,
//! before they are even accepted. Measured on loopback with 256 connections
//! opened at once: the verification-only route fell from about 110,000 to
//! 19,000 deliveries/s, and `nstat` counted the `ListenOverflows`.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket, ToSocketAddrs};

/// A backlog for [`listen`]: room for a burst of as many new connections as
/// [`Limits::max_connections`](crate::Limits)'s default serves at once.
/// Linux caps it at `net.core.somaxconn` (4,096 by default since Linux 5.4).
pub const DEFAULT_BACKLOG: u32 = 4096;

/// Binds `addr` (the first of its addresses that binds, as
/// `TcpListener::bind` does) and listens with `backlog` pending connections,
/// with `SO_REUSEADDR` set so that a restarted server can bind again at once.
///
/// # Examples
/// ```no_run
/// use webhook_signature_axum::{DEFAULT_BACKLOG, listen};
/// # async fn run() -> std::io::Result<()> {
/// let listener = listen("127.0.0.1:8080", DEFAULT_BACKLOG).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// The last address's error if none binds (in use, not permitted), or
/// `InvalidInput` if `addr` resolves to no address.
pub async fn listen(addr: impl ToSocketAddrs, backlog: u32) -> io::Result<TcpListener> {
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "the address resolved to nothing");
    for addr in tokio::net::lookup_host(addr).await? {
        match listen_on(addr, backlog) {
            Ok(listener) => return Ok(listener),
            Err(error) => last = error,
        }
    }
    Err(last)
}

fn listen_on(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}
