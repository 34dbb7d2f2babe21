//! Standard output for a pipe. A Rust program ignores `SIGPIPE`, so
//! `println!` panics once the reader has gone (`keygen | head -1`); here a
//! closed pipe ends the process quietly, with the status a shell reports for
//! a writer that `SIGPIPE` ended (141), as `cat` or `grep` end there.

use std::io::{self, Write};

/// `println!` for a pipe: a closed one ends the process quietly (status
/// 141), any other write error with one line on stderr (status 1).
macro_rules! outln {
    () => {
        $crate::stdout::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::stdout::line(format_args!($($arg)*))
    };
}

/// The exit status of a process whose reader closed the pipe: 128 + `SIGPIPE`.
pub(crate) const CLOSED_PIPE: u8 = 141;

/// Writes one line to stdout (see [`outln!`]).
pub(crate) fn line(args: std::fmt::Arguments<'_>) {
    if let Err(error) = writeln!(io::stdout().lock(), "{args}") {
        exit_on_write_error(&error);
    }
}

/// Ends the process after a failed write to stdout: quietly for a closed
/// pipe, with the error otherwise.
pub(crate) fn exit_on_write_error(error: &io::Error) -> ! {
    if error.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(i32::from(CLOSED_PIPE));
    }
    eprintln!("error: cannot write to standard output: {error}");
    std::process::exit(1);
}
