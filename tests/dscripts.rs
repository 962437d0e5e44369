//! The D script corpus: every `tests/dscripts/NAME.d` is run by the rdtrace
//! binary over a replayed capture, and its stdout (and exit status, and
//! stderr when NAME.err exists — else stderr must be empty) must match the
//! expected files byte for byte. The expected outputs were written by hand
//! from dtrace's documented layouts, not produced by rdtrace.
//!
//! A case is a set of files next to each other:
//! - `NAME.d`       the script (run as `-s NAME.d` from tests/dscripts);
//! - `NAME.out`     expected stdout;
//! - `NAME.err`     expected stderr (optional; absent means none);
//! - `NAME.status`  expected exit status (optional; absent means 0);
//! - `NAME.args`    extra command-line words (optional): flags before
//!   `-s`, and after a line `--` the macro arguments `$1`…;
//! - `NAME.capture` the traffic (optional; absent means an empty capture),
//!   described as text (see [`parse_capture`]; `include FILE` reads a
//!   shared description).
//!
//! Cases in `tests/dscripts/bundled/` have no `.d`: `SCRIPT[.variant].out`
//! runs the bundled script `SCRIPT.d` (from an empty directory, so that
//! rdtrace finds its own copy in the binary).

mod common;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::capture::{seg, write_pcap, Conversation, From, Segment};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::DataLink;

/// What `NAME.capture` describes: the traced host's addresses and the
/// conversations, each a list of segments `step` apart (or `wait` apart).
///
/// ```text
/// local 192.0.2.8
/// conversation 192.0.2.40:60337 192.0.2.8:22 start=1764380000.5 step=250us
/// C S 0          # client SYN, no payload
/// S SA 0
/// wait 2s        # the next segment comes 2 s after the previous one
/// C PA 100       # client PUSH|ACK with 100 bytes
/// ```
struct CaptureSpec {
    locals: Vec<String>,
    conversations: Vec<TimedConversation>,
}

/// A conversation and the capture time of each of its segments.
struct TimedConversation {
    conv: Conversation,
    times: Vec<Duration>,
    /// The next segment's time, unless a `wait` changes it.
    next: Duration,
}

fn parse_duration(s: &str) -> Duration {
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
    let v: f64 = num.parse().unwrap_or_else(|_| panic!("bad duration {s}"));
    let scale = match unit {
        "ns" => 1e-9,
        "us" => 1e-6,
        "ms" => 1e-3,
        "s" | "" => 1.0,
        _ => panic!("bad duration unit in {s}"),
    };
    Duration::from_nanos((v * scale * 1e9).round() as u64)
}

/// Seconds with an exact decimal fraction ("1764380000.1" is 100 ms past).
fn parse_seconds(s: &str) -> Duration {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let nanos = format!("{frac:0<9}");
    Duration::new(whole.parse().unwrap(), nanos[..9].parse().unwrap())
}

fn parse_endpoint(s: &str) -> (IpAddr, u16) {
    let (addr, port) = s
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("endpoint {s} needs :port"));
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    (
        addr.parse()
            .unwrap_or_else(|_| panic!("bad address {addr}")),
        port.parse().unwrap(),
    )
}

/// Reads `NAME.capture`, expanding `include FILE` lines (FILE relative to
/// the case's directory), so that cases can share one traffic description.
fn read_capture(dir: &Path, file: &str) -> String {
    let text = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    text.lines()
        .map(|l| match l.trim().strip_prefix("include ") {
            Some(inc) => read_capture(dir, inc.trim()),
            None => format!("{l}\n"),
        })
        .collect()
}

fn parse_capture(text: &str) -> CaptureSpec {
    let mut spec = CaptureSpec {
        locals: Vec::new(),
        conversations: Vec::new(),
    };
    for line in text.lines() {
        let line = line.split('#').next().unwrap().trim();
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            ["local", addrs @ ..] => spec.locals.extend(addrs.iter().map(|s| s.to_string())),
            ["conversation", client, server, opts @ ..] => {
                let mut conv = Conversation {
                    client: parse_endpoint(client),
                    server: parse_endpoint(server),
                    start: Duration::from_secs(1_764_380_000),
                    step: Duration::from_millis(1),
                    segments: Vec::new(),
                };
                for o in opts {
                    match o.split_once('=') {
                        Some(("start", v)) => conv.start = parse_seconds(v),
                        Some(("step", v)) => conv.step = parse_duration(v),
                        _ => panic!("unknown conversation option {o}"),
                    }
                }
                let next = conv.start;
                spec.conversations.push(TimedConversation {
                    conv,
                    times: Vec::new(),
                    next,
                });
            }
            ["wait", d] => {
                let t = spec
                    .conversations
                    .last_mut()
                    .expect("wait outside a conversation");
                let last = t.times.last().copied().unwrap_or(t.conv.start);
                t.next = last + parse_duration(d);
            }
            [who, flags, payload] => {
                let from = match *who {
                    "C" => From::Client,
                    "S" => From::Server,
                    _ => panic!("segment line must start with C or S: {line}"),
                };
                let s: Segment = seg(from, flags, payload.parse().unwrap());
                let t = spec
                    .conversations
                    .last_mut()
                    .expect("segment outside a conversation");
                t.conv.segments.push(s);
                t.times.push(t.next);
                t.next += t.conv.step;
            }
            _ => panic!("cannot parse capture line: {line}"),
        }
    }
    spec
}

/// Writes the conversations into one pcap, packets in time order (stable
/// for equal times: earlier conversations first). Each conversation is
/// written by `write_pcap` (which numbers its segments) and re-timed.
fn write_capture(spec: &CaptureSpec, path: &Path, scratch: &Path) {
    let mut packets: Vec<(Duration, usize, Vec<u8>)> = Vec::new();
    for (i, t) in spec.conversations.iter().enumerate() {
        if t.conv.segments.is_empty() {
            continue;
        }
        let part = scratch.join(format!("part{i}.pcap"));
        write_pcap(&t.conv, &part);
        let mut r = PcapReader::new(std::fs::File::open(&part).unwrap()).unwrap();
        let mut times = t.times.iter();
        while let Some(p) = r.next_packet() {
            let p = p.unwrap();
            packets.push((*times.next().unwrap(), i, p.data.into_owned()));
        }
    }
    packets.sort_by_key(|(ts, i, _)| (*ts, *i));
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        ..Default::default()
    };
    let mut w = PcapWriter::with_header(std::fs::File::create(path).unwrap(), header).unwrap();
    for (ts, _, data) in &packets {
        w.write_packet(&PcapPacket::new(*ts, data.len() as u32, data))
            .unwrap();
    }
}

struct Case {
    name: String,
    dir: PathBuf,
    /// For a bundled-script case, the script's name (`tcpconnect.d`).
    bundled: Option<String>,
}

impl Case {
    fn file(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("{}.{ext}", self.name))
    }
    fn read(&self, ext: &str) -> Option<Vec<u8>> {
        std::fs::read(self.file(ext)).ok()
    }
}

fn cases() -> Vec<Case> {
    let dir = common::repo_file("tests/dscripts");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".d").map(str::to_string))
        .collect();
    names.sort();
    let mut cases: Vec<Case> = names
        .into_iter()
        .map(|name| Case {
            name,
            dir: dir.clone(),
            bundled: None,
        })
        .collect();

    let bdir = dir.join("bundled");
    let mut bnames: Vec<String> = std::fs::read_dir(&bdir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".out").map(str::to_string))
        .collect();
    bnames.sort();
    for name in bnames {
        let script = format!("{}.d", name.split('.').next().unwrap());
        cases.push(Case {
            name,
            dir: bdir.clone(),
            bundled: Some(script),
        });
    }
    cases
}

/// Lays the cases out as `rdtrace --test` reads them, in `dir`: the
/// capture description becomes NAME.pcap and its `local` lines `--local`
/// in NAME.args; the script and expected files are copied.
fn materialize(cases: &[&Case], dir: &Path) {
    let scratch = dir.join(".scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    for case in cases {
        let spec = if case.file("capture").exists() {
            parse_capture(&read_capture(&case.dir, &format!("{}.capture", case.name)))
        } else {
            CaptureSpec {
                locals: Vec::new(),
                conversations: Vec::new(),
            }
        };
        write_capture(&spec, &dir.join(format!("{}.pcap", case.name)), &scratch);
        let locals = if spec.locals.is_empty() {
            "192.0.2.8".to_string()
        } else {
            spec.locals.join(",")
        };
        let args = case
            .read("args")
            .map(|b| String::from_utf8(b).unwrap())
            .unwrap_or_default();
        let (flags, macros) = match args.split_once("\n--\n") {
            Some((f, m)) => (f.to_string(), m.to_string()),
            None if args.trim() == "--" => (String::new(), String::new()),
            None => (args.clone(), String::new()),
        };
        std::fs::write(
            dir.join(format!("{}.args", case.name)),
            format!("{flags}\n--local {locals}\n--\n{macros}"),
        )
        .unwrap();
        let mut exts = vec!["out", "err", "status"];
        if case.bundled.is_none() {
            exts.push("d");
        }
        for ext in exts {
            if let Some(bytes) = case.read(ext) {
                std::fs::write(dir.join(format!("{}.{ext}", case.name)), bytes).unwrap();
            }
        }
    }
    std::fs::remove_dir_all(&scratch).unwrap();
}

/// The corpus, through the command users run on their own scripts:
/// `rdtrace --test DIR` (TZ=UTC: %Y prints local time, the expected
/// outputs are in UTC).
#[test]
fn corpus() {
    let cases = cases();
    assert!(!cases.is_empty(), "no cases in tests/dscripts");
    let tmp = tempfile::tempdir().unwrap();
    let groups: [(&str, Vec<&Case>); 2] = [
        (
            "scripts",
            cases.iter().filter(|c| c.bundled.is_none()).collect(),
        ),
        (
            "bundled",
            cases.iter().filter(|c| c.bundled.is_some()).collect(),
        ),
    ];
    for (name, group) in groups {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        materialize(&group, &dir);
        let o = common::rdtrace()
            .arg("--test")
            .arg(&dir)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        let report = common::stdout(&o);
        assert!(
            o.status.success() && report.ends_with(&format!("{} passed, 0 failed\n", group.len())),
            "{name}:\n{report}{}",
            common::stderr(&o)
        );
    }
}

/// Every file in tests/dscripts belongs to a case (NAME.d exists), so that
/// no expected output is silently left unchecked.
#[test]
fn no_orphan_case_files() {
    let dir = common::repo_file("tests/dscripts");
    let mut orphans = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = e.file_name().into_string().unwrap();
        if e.path().is_dir() {
            continue;
        }
        let stem = name.split('.').next().unwrap();
        if !dir.join(format!("{stem}.d")).exists() {
            orphans.push(name);
        }
    }
    assert!(
        orphans.is_empty(),
        "files without a NAME.d in tests/dscripts: {orphans:?}"
    );
}

#[test]
fn capture_descriptions_parse() {
    let spec = parse_capture(
        "local 10.0.0.1\nconversation 10.0.0.2:5000 10.0.0.1:80 start=100.5 step=2ms\nC S 0\nS SA 0 # reply\nwait 1s\nC PA 10\nS A 0\n",
    );
    assert_eq!(spec.locals, vec!["10.0.0.1"]);
    assert_eq!(spec.conversations.len(), 1);
    let t = &spec.conversations[0];
    assert_eq!(t.conv.segments.len(), 4);
    assert_eq!(t.conv.segments[2].payload, 10);
    let ms = |v: u64| Duration::from_millis(v);
    // 100.5 s, +2 ms, then 1 s after the SA, then +2 ms.
    assert_eq!(
        t.times,
        vec![ms(100_500), ms(100_502), ms(101_502), ms(101_504)]
    );
}

/// Live: every bundled script, unmodified, traces real connections between
/// two network namespaces (root + BPF; skipped elsewhere, failing in CI).
/// Tracepoints are global and other live tests run at the same time, so
/// only lines with this test's own addresses are checked.
mod live {
    use super::common;
    use common::netns::{in_netns, live_tests_possible, seed_pair, DEADLINE};
    use common::read_until;
    use std::io::{Read, Write};
    use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
    use std::process::{Child, Stdio};
    use std::time::Duration;

    const SERVER: &str = "198.18.71.1";
    const CLIENT: &str = "198.18.71.2";
    const OPEN_PORT: u16 = 2281;
    const CLOSED_PORT: u16 = 2282;

    /// The client sends 100 bytes, the server answers 300 and both close;
    /// then a connection to a port nothing listens on is refused.
    /// Returns the client's port of the first connection.
    fn traffic(server_ns: &str, client_ns: &str) -> u16 {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let server = in_netns(server_ns, move || {
            let l = TcpListener::bind((SERVER, OPEN_PORT)).unwrap();
            ready_tx.send(()).unwrap();
            let (mut s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(DEADLINE)).unwrap();
            let mut buf = [0u8; 100];
            s.read_exact(&mut buf).unwrap();
            s.write_all(&[3u8; 300]).unwrap();
            let mut rest = Vec::new();
            s.read_to_end(&mut rest).unwrap();
        });
        ready_rx.recv_timeout(DEADLINE).unwrap();
        let client = in_netns(client_ns, move || {
            let addr: SocketAddr = format!("{SERVER}:{OPEN_PORT}").parse().unwrap();
            let mut c = TcpStream::connect_timeout(&addr, DEADLINE).unwrap();
            c.set_read_timeout(Some(DEADLINE)).unwrap();
            let port = c.local_addr().unwrap().port();
            c.write_all(&[1u8; 100]).unwrap();
            let mut reply = [0u8; 300];
            c.read_exact(&mut reply).unwrap();
            c.shutdown(Shutdown::Both).unwrap();
            let refused: SocketAddr = format!("{SERVER}:{CLOSED_PORT}").parse().unwrap();
            let e = TcpStream::connect_timeout(&refused, DEADLINE).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
            port
        });
        let port = client.join().unwrap();
        server.join().unwrap();
        port
    }

    /// Sends SIGINT and returns all the output and the exit status.
    fn stop(mut child: Child, mut out: Vec<u8>) -> (String, String, std::process::ExitStatus) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        (String::from_utf8(out).unwrap(), err, status)
    }

    /// The line of `text` that starts with `start` (after trimming).
    fn line_with<'a>(text: &'a str, start: &str) -> Option<&'a str> {
        text.lines().find(|l| l.trim_start().starts_with(start))
    }

    #[test]
    fn bundled_scripts_trace_live_connections() {
        if !live_tests_possible() {
            return;
        }
        let ns = seed_pair("bun", SERVER, CLIENT);
        let dir = tempfile::tempdir().unwrap();
        let scripts = [
            "tcpconnect.d",
            "tcpaccept.d",
            "tcprefused.d",
            "tcpbytes.d",
            "tcpsize.d",
            "tcpstate.d",
            "tcpsummary.d",
        ];
        let mut running = Vec::new();
        for s in scripts {
            let mut child = common::rdtrace()
                .current_dir(dir.path())
                .args(["-s", s])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // Each prints a line in BEGIN, which fires once its probes are attached.
            let mut out = Vec::new();
            read_until(&mut child, &mut out, |t| t.contains('\n'));
            running.push((s, child, out));
        }
        let cport = traffic(ns.name(0), ns.name(1));
        // tcpsummary prints every second: wait for a summary with our host.
        let summary = running
            .iter_mut()
            .find(|(s, ..)| *s == "tcpsummary.d")
            .unwrap();
        read_until(&mut summary.1, &mut summary.2, |t| {
            t.contains(&format!("top host {SERVER}"))
        });
        // Let the others drain what the kernel buffered (switchrate 1 s).
        std::thread::sleep(Duration::from_millis(1500));

        let mut outputs = std::collections::HashMap::new();
        for (s, child, out) in running {
            let (text, err, status) = stop(child, out);
            assert!(
                status.success(),
                "{s}: exit {status:?}; stderr: {err}\n{text}"
            );
            outputs.insert(s, text);
        }
        if std::env::var_os("DSCRIPTS_SHOW").is_some() {
            for s in scripts {
                eprintln!("=== {s}\n{}", outputs[s]);
            }
        }
        let o = |s: &str| outputs[s].as_str();

        let want = format!("{SERVER:<39} {OPEN_PORT:>6} {:>10}", 1);
        assert!(
            line_with(o("tcpconnect.d"), SERVER) == Some(want.as_str()),
            "tcpconnect.d:\n{}",
            o("tcpconnect.d")
        );
        let want = format!("{CLIENT:<39} {OPEN_PORT:>6} {:>10}", 1);
        assert!(
            line_with(o("tcpaccept.d"), CLIENT) == Some(want.as_str()),
            "tcpaccept.d:\n{}",
            o("tcpaccept.d")
        );

        let refused = o("tcprefused.d");
        assert!(
            refused.contains(&format!("{SERVER:<39} {CLOSED_PORT:>6} {:>8}\n", 1)),
            "tcprefused.d (connect-refused):\n{refused}"
        );
        assert!(
            refused.contains(&format!("{CLIENT:<39} {CLOSED_PORT:>6} {:>8}\n", 1)),
            "tcprefused.d (accept-refused):\n{refused}"
        );

        let bytes = o("tcpbytes.d");
        for (host, port, dir, n) in [
            (CLIENT, OPEN_PORT, "in", 100),
            (CLIENT, OPEN_PORT, "out", 300),
            (SERVER, cport, "in", 300),
            (SERVER, cport, "out", 100),
        ] {
            let want = format!("{host:<39} {port:>6} {dir:>4} {n:>12}\n");
            assert!(bytes.contains(&want), "tcpbytes.d lacks {want:?}:\n{bytes}");
        }

        let size = o("tcpsize.d");
        assert!(
            size.contains("  sent (bytes)")
                && size.contains("  received (bytes)")
                && size.contains("------------- Distribution -------------"),
            "tcpsize.d:\n{size}"
        );

        let state = o("tcpstate.d");
        let client = format!("{CLIENT}:{cport}");
        let server = format!("{SERVER}:{OPEN_PORT}");
        for (local, remote, change) in [
            (&client, &server, "state-syn-sent -> state-established"),
            (&server, &client, "state-syn-received -> state-established"),
        ] {
            let found = state.lines().any(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                w.len() == 6
                    && w[1] == local.as_str()
                    && w[2] == remote.as_str()
                    && l.ends_with(change)
            });
            assert!(
                found,
                "tcpstate.d lacks {local} {remote} {change}:\n{state}"
            );
        }

        // 100 bytes out and 300 in with the server, seen by the client; the
        // traffic may straddle a second, so the seconds' lines are added up.
        let summary = o("tcpsummary.d");
        let total: u64 = summary
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("  top host {SERVER:<39} ")))
            .filter_map(|rest| rest.strip_suffix(" bytes")?.trim().parse::<u64>().ok())
            .sum();
        assert_eq!(total, 400, "tcpsummary.d:\n{summary}");
    }
}
