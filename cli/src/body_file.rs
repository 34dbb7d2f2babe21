//! The body of a delivery: a file, `-` for standard input, or nothing.

use std::io::Read;
use std::path::Path;

/// Reads `path` (`-` is standard input) as raw bytes, never as text.
pub(crate) fn read(path: &Path) -> crate::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut body = Vec::new();
        std::io::stdin().read_to_end(&mut body)?;
        Ok(body)
    } else {
        std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()).into())
    }
}
