//! The general server, apart from the extractor: [`serve()`] with its limits
//! and counts, the listener [`listen()`] opens, and the connection and body
//! bookkeeping behind their timeouts. Any axum `Router` can use it.

mod activity;
mod deadline;
mod listen;
mod serve;
mod stats;

pub use listen::{DEFAULT_BACKLOG, listen};
pub use serve::{Limits, serve, serve_with_stats};
pub use stats::ServeStats;
