//! The tcp, ip and udp providers over captures the test writes: what a
//! capture can tell (send/receive, connect-request, connect-established,
//! connect-refused, accept-established, accept-refused, state-change from
//! the segments), seen from the client and from the server.

mod common;

use std::path::Path;
use std::time::Duration;

use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;

const CLIENT: [u8; 4] = [192, 0, 2, 40];
const SERVER: [u8; 4] = [192, 0, 2, 8];
const CPORT: u16 = 50123;
const SPORT: u16 = 2301;
const CISS: u32 = 1000;
const SISS: u32 = 7000;

/// One frame: from the client?, TCP flags "SAFR", seq, ack, payload length.
type Seg = (bool, &'static str, u32, u32, usize);

fn tcp_frame(&(from_client, flags, seq, ack, len): &Seg) -> Vec<u8> {
    let (src, dst, sp, dp) = if from_client {
        (CLIENT, SERVER, CPORT, SPORT)
    } else {
        (SERVER, CLIENT, SPORT, CPORT)
    };
    let mut t = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src, dst, 64)
        .tcp(sp, dp, seq, 64240);
    for c in flags.chars() {
        t = match c {
            'S' => t.syn(),
            'A' => t.ack(ack),
            'F' => t.fin(),
            'R' => t.rst(),
            'P' => t.psh(),
            _ => panic!("flag {c}"),
        };
    }
    let mut bytes = Vec::new();
    t.write(&mut bytes, &vec![0x61; len]).unwrap();
    bytes
}

fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    write_pcap_of(path, DataLink::ETHERNET, frames)
}

fn write_pcap_of(path: &Path, datalink: DataLink, frames: &[Vec<u8>]) {
    let header = PcapHeader {
        datalink,
        ..Default::default()
    };
    let mut w = PcapWriter::with_header(std::fs::File::create(path).unwrap(), header).unwrap();
    for (i, f) in frames.iter().enumerate() {
        let ts = Duration::from_secs(1_764_380_000) + Duration::from_micros(100 * i as u64);
        w.write_packet(&PcapPacket::new(ts, f.len() as u32, f))
            .unwrap();
    }
}

/// rdtrace -s SCRIPT --replay PCAP --local LOCAL ARG; its stdout lines.
fn replay(script: &str, pcap: &Path, local: &str, arg: &str) -> Vec<String> {
    let out = common::rdtrace()
        .arg("-s")
        .arg(common::repo_file(&format!(
            "tests/provider_scripts/{script}"
        )))
        .arg("--replay")
        .arg(pcap)
        .args(["--local", local, arg])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rdtrace failed: {}",
        common::stderr(&out)
    );
    common::stdout(&out).lines().map(str::to_string).collect()
}

/// "probe key=value…" lines: (probe, value of `key`) for each.
fn field<'a>(lines: &'a [String], probe: &str, key: &str) -> Vec<&'a str> {
    lines
        .iter()
        .filter(|l| l.split(' ').next() == Some(probe))
        .filter_map(|l| {
            l.split(' ')
                .find_map(|w| w.strip_prefix(&format!("{key}=")[..]))
        })
        .collect()
}

fn states(lines: &[String], laddr: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.starts_with("state-change ") && l.contains(&format!("laddr={laddr} ")))
        .map(|l| {
            let get = |k: &str| {
                l.split(' ')
                    .find_map(|w| w.strip_prefix(k))
                    .unwrap()
                    .trim_start_matches("state-")
                    .to_string()
            };
            format!("{}>{}", get("old="), get("new="))
        })
        .collect()
}

/// The server closes first; a little data each way.
fn server_closes_first() -> Vec<Seg> {
    vec![
        (true, "S", CISS, 0, 0),
        (false, "SA", SISS, CISS + 1, 0),
        (true, "A", CISS + 1, SISS + 1, 0),
        (true, "PA", CISS + 1, SISS + 1, 20),
        (false, "PA", SISS + 1, CISS + 21, 464),
        (false, "FA", SISS + 465, CISS + 21, 0),
        (true, "A", CISS + 21, SISS + 466, 0),
        (true, "FA", CISS + 21, SISS + 466, 0),
        (false, "A", SISS + 466, CISS + 22, 0),
    ]
}

#[test]
fn connection_seen_from_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("c.pcap");
    write_pcap(
        &pcap,
        &server_closes_first()
            .iter()
            .map(tcp_frame)
            .collect::<Vec<_>>(),
    );
    let lines = replay("tcp_events.d", &pcap, "192.0.2.40", "2301");
    assert_eq!(
        states(&lines, "192.0.2.40"),
        [
            "closed>syn-sent",
            "syn-sent>established",
            "established>close-wait",
            "close-wait>last-ack",
            "last-ack>closed"
        ],
        "{lines:#?}"
    );
    assert_eq!(field(&lines, "connect-request", "seq"), [CISS.to_string()]);
    assert_eq!(
        field(&lines, "connect-request", "state"),
        ["state-syn-sent"]
    );
    assert_eq!(field(&lines, "connect-established", "flags"), ["18"]);
    assert_eq!(
        field(&lines, "connect-established", "state"),
        ["state-established"]
    );
    assert_eq!(
        field(&lines, "connect-established", "irs"),
        [SISS.to_string()]
    );
    assert!(field(&lines, "accept-established", "seq").is_empty());
    // Every segment, with its connection's state as the socket had it.
    assert_eq!(field(&lines, "send", "seq").len(), 5);
    assert_eq!(field(&lines, "receive", "seq").len(), 4);
    assert_eq!(
        field(&lines, "send", "state"),
        [
            "state-syn-sent",
            "state-established",
            "state-established",
            "state-close-wait",
            "state-last-ack"
        ]
    );
    assert!(field(&lines, "send", "laddr")
        .iter()
        .all(|&a| a == "192.0.2.40"));
    assert!(field(&lines, "send", "iss")
        .iter()
        .all(|&a| a == CISS.to_string()));
}

#[test]
fn connection_seen_from_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("s.pcap");
    write_pcap(
        &pcap,
        &server_closes_first()
            .iter()
            .map(tcp_frame)
            .collect::<Vec<_>>(),
    );
    let lines = replay("tcp_events.d", &pcap, "192.0.2.8", "2301");
    assert_eq!(
        states(&lines, "192.0.2.8"),
        [
            "listen>syn-received",
            "syn-received>established",
            "established>fin-wait-1",
            "fin-wait-1>fin-wait-2",
            "fin-wait-2>time-wait"
        ],
        "{lines:#?}"
    );
    assert_eq!(
        field(&lines, "accept-established", "ack"),
        [(SISS + 1).to_string()]
    );
    assert_eq!(
        field(&lines, "accept-established", "state"),
        ["state-established"]
    );
    assert_eq!(field(&lines, "accept-established", "laddr"), ["192.0.2.8"]);
    assert!(field(&lines, "connect-request", "seq").is_empty());
}

#[test]
fn refused_connection_from_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("r.pcap");
    let segs: [Seg; 2] = [(true, "S", CISS, 0, 0), (false, "RA", 0, CISS + 1, 0)];
    write_pcap(&pcap, &segs.iter().map(tcp_frame).collect::<Vec<_>>());
    let client = replay("tcp_events.d", &pcap, "192.0.2.40", "2301");
    assert_eq!(
        field(&client, "connect-refused", "ack"),
        [(CISS + 1).to_string()],
        "{client:#?}"
    );
    assert_eq!(
        field(&client, "connect-refused", "state"),
        ["state-syn-sent"]
    );
    assert_eq!(
        states(&client, "192.0.2.40"),
        ["closed>syn-sent", "syn-sent>closed"]
    );
    let server = replay("tcp_events.d", &pcap, "192.0.2.8", "2301");
    assert_eq!(
        field(&server, "accept-refused", "flags"),
        ["20"],
        "{server:#?}"
    );
    assert_eq!(field(&server, "accept-refused", "state"), ["state-closed"]);
    assert_eq!(field(&server, "accept-refused", "laddr"), ["192.0.2.8"]);
    assert!(field(&server, "connect-refused", "ack").is_empty());
}

#[test]
fn udp_and_icmp_packets() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("u.pcap");
    let eth = || PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
    let mut frames = Vec::new();
    for n in [100usize, 300] {
        let mut b = Vec::new();
        eth()
            .ipv4(CLIENT, SERVER, 64)
            .udp(40000, 2311)
            .write(&mut b, &vec![1; n])
            .unwrap();
        frames.push(b);
    }
    let mut echo = Vec::new();
    eth()
        .ipv4(CLIENT, SERVER, 64)
        .icmpv4_echo_request(7, 1)
        .write(&mut echo, &[0; 56])
        .unwrap();
    frames.push(echo);
    write_pcap(&pcap, &frames);

    let udp = replay("udp_events.d", &pcap, "192.0.2.40", "2311");
    assert_eq!(field(&udp, "send", "length"), ["108", "308"], "{udp:#?}");
    assert_eq!(field(&udp, "send", "laddr"), ["192.0.2.40", "192.0.2.40"]);
    assert!(field(&udp, "receive", "length").is_empty());
    let udp = replay("udp_events.d", &pcap, "192.0.2.8", "2311");
    assert_eq!(field(&udp, "receive", "length"), ["108", "308"], "{udp:#?}");
    assert_eq!(field(&udp, "receive", "lport"), ["2311", "2311"]);

    let ip = replay("ip_events.d", &pcap, "192.0.2.40", "192.0.2.40");
    assert_eq!(
        field(&ip, "send", "v4proto"),
        ["UDP", "UDP", "ICMP"],
        "{ip:#?}"
    );
    assert_eq!(field(&ip, "send", "plen"), ["108", "308", "64"]);
    assert_eq!(field(&ip, "send", "v4len"), ["128", "328", "84"]);
}

/// A replay that cannot show what the user asked for says so once, at the
/// end: frames of a link type rdtrace does not decode, and `--local`
/// addresses that match no packet.
#[test]
fn a_replay_warns_of_what_it_could_not_use() {
    let dir = tempfile::tempdir().unwrap();
    let frames: Vec<Vec<u8>> = server_closes_first().iter().map(tcp_frame).collect();
    let run = |pcap: &Path, local: &str| {
        common::rdtrace()
            .args(["-q", "-n", "tcp:::send { @ = count(); }", "--replay"])
            .arg(pcap)
            .args(["--local", local])
            .output()
            .unwrap()
    };
    let eth = dir.path().join("eth.pcap");
    write_pcap(&eth, &frames);
    let o = run(&eth, "198.51.100.7");
    assert!(o.status.success());
    assert_eq!(
        common::stderr(&o),
        "dtrace: --local 198.51.100.7 matched no packet of the capture (9 packets are between \
         other hosts): nothing was sent or received\n"
    );
    // The right address: no warning.
    let o = run(&eth, "192.0.2.40");
    assert_eq!(common::stderr(&o), "");
    // LINKTYPE_USER0 (147): frames rdtrace cannot decode, counted.
    let user0 = dir.path().join("user0.pcap");
    write_pcap_of(&user0, DataLink::Unknown(147), &frames[..3]);
    let o = run(&user0, "192.0.2.40");
    assert!(o.status.success());
    assert_eq!(
        common::stderr(&o),
        "dtrace: 3 frames of link type 147 skipped: rdtrace decodes Ethernet (with VLAN tags), \
         Linux cooked (SLL, SLL2), raw IP and BSD loopback\n"
    );
}

/// A long replay shows its progress on stderr when stderr is a terminal
/// and the output is not (run under script(1) for a pseudo-terminal;
/// RDTRACE_PROGRESS_AFTER_MS=0 shows it from the start); piped, never.
#[test]
fn a_replay_shows_progress_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("c.pcap");
    let frames: Vec<Vec<u8>> = (0..2000)
        .map(|i| tcp_frame(&(i % 2 == 0, "A", CISS, SISS, 1000)))
        .collect();
    write_pcap(&pcap, &frames);
    let out = dir.path().join("out");
    let bin = env!("CARGO_BIN_EXE_rdtrace");
    let command = format!(
        "{bin} -q -n 'tcp:::send {{ @ = count(); }}' --replay {} --local 192.0.2.40 > {}",
        pcap.display(),
        out.display()
    );
    let typescript = dir.path().join("typescript");
    let o = std::process::Command::new("script")
        .args(["-qec", &command])
        .arg(&typescript)
        .env("RDTRACE_PROGRESS_AFTER_MS", "0")
        .output()
        .expect("script(1) from util-linux");
    assert!(o.status.success(), "{}", common::stderr(&o));
    let shown = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    assert!(shown.contains("rdtrace: replaying "), "{shown:?}");
    assert!(std::fs::read_to_string(&out).unwrap().contains("1000"));
    // stderr not a terminal: no progress line.
    let o = common::rdtrace()
        .args(["-q", "-n", "tcp:::send { @ = count(); }", "--replay"])
        .arg(&pcap)
        .args(["--local", "192.0.2.40"])
        .env("RDTRACE_PROGRESS_AFTER_MS", "0")
        .output()
        .unwrap();
    assert_eq!(common::stderr(&o), "");
}

/// Ethernet frames with an 802.1Q VLAN tag decode like untagged ones, and
/// so do BSD loopback (DLT_NULL) frames.
#[test]
fn vlan_tagged_and_bsd_loopback_frames_decode() {
    let dir = tempfile::tempdir().unwrap();
    let tcp = |b: etherparse::PacketBuilderStep<etherparse::IpHeaders>| {
        let mut bytes = Vec::new();
        b.tcp(CPORT, SPORT, CISS, 64240)
            .syn()
            .write(&mut bytes, &[])
            .unwrap();
        bytes
    };
    let vlan = tcp(
        PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .single_vlan(etherparse::VlanId::try_new(42).unwrap())
            .ipv4(CLIENT, SERVER, 64),
    );
    let mut null = 2u32.to_le_bytes().to_vec(); // AF_INET, host order
    null.extend(tcp(PacketBuilder::ipv4(CLIENT, SERVER, 64)));
    for (name, link, frame) in [
        ("vlan.pcap", DataLink::ETHERNET, vlan),
        ("null.pcap", DataLink::NULL, null),
    ] {
        let pcap = dir.path().join(name);
        write_pcap_of(&pcap, link, &[frame]);
        let o = common::rdtrace()
            .args([
                "-q",
                "-n",
                "tcp:::send { printf(\"%d\\n\", args[4]->tcp_dport); }",
                "--replay",
            ])
            .arg(&pcap)
            .args(["--local", "192.0.2.40"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{name}: {}", common::stderr(&o));
        assert_eq!(
            common::stdout(&o),
            format!("{SPORT}\n\n"),
            "{name}: {}",
            common::stderr(&o)
        );
    }
}
