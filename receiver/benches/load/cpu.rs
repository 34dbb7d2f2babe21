//! The process's CPU time, for the benches' "CPU per delivery".

use std::time::Duration;

/// User and system CPU time of the whole process (every thread) so far, from
/// `/proc/self/stat`, to the clock tick (10 ms).
pub(crate) fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of stat(5): 12 and 13 after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}
