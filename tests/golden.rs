//! Golden tests: a script replayed over a capture prints exactly the bytes of
//! an expected file written independently of rdtrace.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::capture::{seg, write_pcap, Conversation, From::*};

/// The seed's ssh session seen from 192.0.2.8:22, in a plausible chronological
/// order (dtrace's per-CPU buffers shuffled the original listing): handshake,
/// version banners (20 bytes each), KEXINIT (376 in, 464 out), ECDH (24 in,
/// 736 out), then 48 bytes out; pure ACKs in between.
fn ssh_session() -> Conversation {
    Conversation {
        client: ("192.0.2.40".parse::<IpAddr>().unwrap(), 60337),
        server: ("192.0.2.8".parse::<IpAddr>().unwrap(), 22),
        start: Duration::from_secs(1_764_380_000),
        step: Duration::from_micros(250),
        segments: vec![
            seg(Client, "S", 0),
            seg(Server, "SA", 0),
            seg(Client, "A", 0),
            seg(Server, "PA", 20),
            seg(Client, "A", 0),
            seg(Client, "PA", 20),
            seg(Server, "A", 0),
            seg(Client, "PA", 376),
            seg(Server, "PA", 464),
            seg(Client, "PA", 24),
            seg(Server, "A", 0),
            seg(Server, "PA", 736),
            seg(Client, "A", 0),
            seg(Server, "PA", 48),
            seg(Client, "A", 0),
        ],
    }
}

#[test]
fn tcpio_replays_the_ssh_session_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("ssh.pcap");
    write_pcap(&ssh_session(), &pcap);
    // Run from an empty directory so that `-s tcpio.d` finds the bundled copy.
    let out = common::rdtrace()
        .current_dir(dir.path())
        .args(["-s", "tcpio.d", "--replay"])
        .arg(&pcap)
        .args(["--local", "192.0.2.8"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status,
        common::stderr(&out)
    );
    let expected = std::fs::read(common::repo_file("tests/golden/tcpio-ssh.expected")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&expected),
        "stdout differs from tests/golden/tcpio-ssh.expected"
    );
    assert_eq!(out.stdout, expected);
}
