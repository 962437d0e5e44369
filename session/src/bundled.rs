//! Scripts shipped inside the binary (`scripts/`), found by name when no such
//! file exists: `rdtrace -s tcpio.d` works from any directory.

/// (file name, text) of every bundled script.
pub const SCRIPTS: &[(&str, &str)] = &[
    ("tcpio.d", include_str!("../../scripts/tcpio.d")),
    ("tcpconnect.d", include_str!("../../scripts/tcpconnect.d")),
    ("tcpaccept.d", include_str!("../../scripts/tcpaccept.d")),
    ("tcprefused.d", include_str!("../../scripts/tcprefused.d")),
    ("tcpbytes.d", include_str!("../../scripts/tcpbytes.d")),
    ("tcpsize.d", include_str!("../../scripts/tcpsize.d")),
    ("tcpstate.d", include_str!("../../scripts/tcpstate.d")),
    ("tcpsummary.d", include_str!("../../scripts/tcpsummary.d")),
];

/// The text of a bundled script named `name` (with or without `.d`).
pub fn find(name: &str) -> Option<&'static str> {
    let want = name.strip_suffix(".d").unwrap_or(name);
    SCRIPTS
        .iter()
        .find(|(n, _)| n.strip_suffix(".d") == Some(want))
        .map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tcpio_is_bundled_byte_for_byte() {
        let on_disk =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/tcpio.d"))
                .unwrap();
        assert_eq!(super::find("tcpio.d"), Some(on_disk.as_str()));
        assert_eq!(super::find("tcpio"), Some(on_disk.as_str()));
        assert_eq!(super::find("nosuch.d"), None);
    }
}
