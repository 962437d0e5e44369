//! dtrace's time units, shared by `tick-N`/`profile-N` probe names and
//! rate options such as `switchrate`.

/// Nanoseconds in one of dtrace's time units; "" is nanoseconds.
pub fn unit_ns(unit: &str) -> Option<u64> {
    Some(match unit {
        "" | "ns" | "nsec" => 1,
        "us" | "usec" => 1_000,
        "ms" | "msec" => 1_000_000,
        "s" | "sec" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" | "hour" => 3_600_000_000_000,
        "d" | "day" => 86_400_000_000_000,
        _ => return None,
    })
}
