//! Live tcp:::send / tcp:::receive in network namespaces (root + BPF).
//!
//! When BPF or root is unavailable the tests print why and pass, unless
//! RDTRACE_REQUIRE_BPF=1 (CI), where they fail. Every test uses its own
//! namespaces (named after the process id and the test) and filters events
//! by its namespaces' inodes and its own ports; tracepoints are global and
//! tests run in parallel.

use rdtrace_probes::event::{Record, TcpEvent, DIR_RECEIVE, DIR_SEND};
use rdtrace_probes::{LiveOptions, LiveSource, Source, TCP_RECEIVE, TCP_SEND};
use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

// Namespace setup shared with the root package's live tests.
#[path = "../../tests/common/netns.rs"]
#[allow(dead_code)]
mod netns;
use netns::{in_netns, required, route_to, run, veth, wait_ready, Namespaces, DEADLINE};

const TH_FIN: u8 = 0x01;
const TH_SYN: u8 = 0x02;
const TH_RST: u8 = 0x04;
const TH_ACK: u8 = 0x10;

// ---------------------------------------------------------------- setup

/// The live source, or None (test skipped) when BPF cannot be used here.
fn live_source() -> Option<LiveSource> {
    live_source_with(LiveSource::open)
}

fn live_source_with(
    open: fn(&LiveOptions) -> Result<LiveSource, rdtrace_probes::ProbeError>,
) -> Option<LiveSource> {
    // SAFETY: geteuid has no preconditions.
    let why = if unsafe { libc::geteuid() } != 0 {
        "not root (network namespaces and BPF need root)".to_string()
    } else {
        let opts = LiveOptions {
            probes: vec![TCP_SEND, TCP_RECEIVE],
            ..Default::default()
        };
        match open(&opts) {
            Ok(src) => return Some(src),
            Err(e) => e.to_string(),
        }
    };
    if required() {
        panic!("RDTRACE_REQUIRE_BPF=1 but live tracing is unavailable: {why}");
    }
    eprintln!("skipping live test: {why}");
    None
}

// ---------------------------------------------------------------- traffic

/// Ports (and thread ids) of one finished conversation.
#[derive(Debug, Clone, Copy)]
struct Conn {
    server_port: u16,
    client_port: u16,
    server_tid: u32,
    client_tid: u32,
}

fn gettid() -> u32 {
    // SAFETY: no preconditions.
    unsafe { libc::gettid() as u32 }
}

fn timeouts(s: &TcpStream) {
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s.set_write_timeout(Some(DEADLINE)).unwrap();
}

/// The client sends 20 and then 376 bytes, the server answers 464, the
/// client closes first. Each step waits for the previous one to arrive, so
/// every write is its own segment.
fn conversation(server_ns: &str, client_ns: &str, server_ip: IpAddr) -> Conn {
    let (port_tx, port_rx) = mpsc::channel::<u16>();
    let (got_tx, got_rx) = mpsc::channel::<usize>();
    let server = in_netns(server_ns, move || {
        let listener = TcpListener::bind(SocketAddr::new(server_ip, 0)).unwrap();
        port_tx.send(listener.local_addr().unwrap().port()).unwrap();
        let (mut s, _) = listener.accept().unwrap();
        timeouts(&s);
        for n in [20usize, 376] {
            let mut buf = vec![0u8; n];
            s.read_exact(&mut buf).unwrap();
            got_tx.send(n).unwrap();
        }
        s.write_all(&[0x5a; 464]).unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap(); // the client's FIN
        assert!(rest.is_empty());
        gettid()
    });
    let server_port = port_rx.recv_timeout(DEADLINE).expect("server listening");
    let client = in_netns(client_ns, move || {
        let mut s =
            TcpStream::connect_timeout(&SocketAddr::new(server_ip, server_port), DEADLINE).unwrap();
        timeouts(&s);
        s.set_nodelay(true).unwrap();
        let client_port = s.local_addr().unwrap().port();
        s.write_all(&[1; 20]).unwrap();
        got_rx.recv_timeout(DEADLINE).unwrap();
        s.write_all(&[2; 376]).unwrap();
        got_rx.recv_timeout(DEADLINE).unwrap();
        let mut reply = vec![0u8; 464];
        s.read_exact(&mut reply).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap(); // the server's FIN
        (client_port, gettid())
    });
    let (client_port, client_tid) = client.join().expect("client thread");
    let server_tid = server.join().expect("server thread");
    Conn {
        server_port,
        client_port,
        server_tid,
        client_tid,
    }
}

// ---------------------------------------------------------------- events

/// Polls `src` (bounded by DEADLINE) until `done` holds for the events kept
/// by `keep`, then a little longer to catch duplicates.
fn collect(
    src: &mut LiveSource,
    keep: impl Fn(&TcpEvent) -> bool,
    done: impl Fn(&[TcpEvent]) -> bool,
) -> Vec<TcpEvent> {
    let mut events = Vec::new();
    let end = Instant::now() + DEADLINE;
    let mut extra_polls = None;
    while Instant::now() < end && extra_polls != Some(0) {
        src.poll(Duration::from_millis(50), &mut |b| {
            let e = TcpEvent::read_from(b).expect("record is a full TcpEvent");
            if keep(&e) {
                events.push(e);
            }
        })
        .unwrap();
        extra_polls = match extra_polls {
            None if done(&events) => Some(4),
            Some(n) => Some(n - 1),
            other => other,
        };
    }
    assert!(
        done(&events),
        "expected events did not all arrive:\n{}",
        dump(&events)
    );
    events
}

fn dump(events: &[TcpEvent]) -> String {
    events
        .iter()
        .map(|e| {
            format!(
                "{} ns={} {}:{} > {}:{} flags={:#04x} seq={} ack={} len={}\n",
                if e.hdr.probe == TCP_SEND {
                    "send"
                } else {
                    "recv"
                },
                e.hdr.netns,
                e.src_ip(),
                e.sport,
                e.dst_ip(),
                e.dport,
                e.tcp_flags,
                e.seq,
                e.ack,
                e.payload_len()
            )
        })
        .collect()
}

/// What must be identical in a segment's send and its receive: ports, seq,
/// ack, flags, ip_plength, tcp_offset, window, ttl, addresses.
type Wire = (u16, u16, u32, u32, u8, u32, u8, u16, u8, [u8; 16], [u8; 16]);

fn wire(e: &TcpEvent) -> Wire {
    (
        e.sport,
        e.dport,
        e.seq,
        e.ack,
        e.tcp_flags,
        e.ip_plength,
        e.tcp_offset,
        e.window,
        e.ttl,
        e.saddr,
        e.daddr,
    )
}

/// The events one endpoint (namespace inode, local port) reports, by direction.
fn view(events: &[TcpEvent], netns: u32, port: u16, probe: u32) -> Vec<TcpEvent> {
    events
        .iter()
        .filter(|e| e.hdr.netns == netns && e.lport == port && e.hdr.probe == probe)
        .copied()
        .collect()
}

/// Checks one direction of a connection (segments sent by one end): the
/// first is the SYN (or SYN|ACK when `answer`), sequence numbers advance by
/// exactly what each segment carries, payloads are `data` in order, a FIN
/// ends it; returns (initial sequence number, sequence number after FIN).
fn check_direction(sent: &[TcpEvent], answer: bool, data: &[u32]) -> (u32, u32) {
    let first = sent.first().expect("segments");
    let syn_flags = if answer { TH_SYN | TH_ACK } else { TH_SYN };
    assert_eq!(first.tcp_flags, syn_flags, "first segment:\n{}", dump(sent));
    let isn = first.seq;
    let mut next = isn;
    let mut payloads = Vec::new();
    let mut fins = 0;
    let mut last_ack = 0u32;
    for (i, e) in sent.iter().enumerate() {
        assert_eq!(e.seq, next, "segment {i} seq:\n{}", dump(sent));
        assert_eq!(e.tcp_flags & TH_RST, 0);
        if i > 0 {
            assert_eq!(
                e.tcp_flags & TH_SYN,
                0,
                "segment {i}: a second SYN:\n{}",
                dump(sent)
            );
            assert!(e.tcp_flags & TH_ACK != 0);
        }
        if i > 1 || (i == 1 && answer) {
            assert!(
                e.ack.wrapping_sub(last_ack) < 1 << 30,
                "ack went backwards:\n{}",
                dump(sent)
            );
        }
        last_ack = e.ack;
        let len = e.payload_len();
        if len > 0 {
            payloads.push(len);
        }
        let fin = (e.tcp_flags & TH_FIN != 0) as u32;
        fins += fin;
        next = next.wrapping_add(len + fin + (e.tcp_flags & TH_SYN != 0) as u32);
    }
    assert_eq!(payloads, data, "payload sizes:\n{}", dump(sent));
    assert_eq!(fins, 1, "one FIN:\n{}", dump(sent));
    (isn, next)
}

/// Checks a whole conversation from both ends' views.
fn check_conversation(
    events: &[TcpEvent],
    client_ns: u32,
    server_ns: u32,
    conn: Conn,
    client_ip: IpAddr,
    server_ip: IpAddr,
) {
    let c_send = view(events, client_ns, conn.client_port, TCP_SEND);
    let c_recv = view(events, client_ns, conn.client_port, TCP_RECEIVE);
    let s_send = view(events, server_ns, conn.server_port, TCP_SEND);
    let s_recv = view(events, server_ns, conn.server_port, TCP_RECEIVE);

    // Each end receives exactly what the other sent: nothing missing,
    // nothing reported twice.
    let w = |v: &[TcpEvent]| v.iter().map(wire).collect::<Vec<_>>();
    assert_eq!(
        w(&c_send),
        w(&s_recv),
        "client sends vs server receives:\n{}",
        dump(events)
    );
    assert_eq!(
        w(&s_send),
        w(&c_recv),
        "server sends vs client receives:\n{}",
        dump(events)
    );

    let (c_isn, c_end) = check_direction(&c_send, false, &[20, 376]);
    let (s_isn, s_end) = check_direction(&s_send, true, &[464]);
    assert_eq!(s_send[0].ack, c_isn.wrapping_add(1), "SYN|ACK acks the SYN");
    assert_eq!(c_send[1].tcp_flags, TH_ACK, "handshake ACK");
    assert_eq!(c_send[1].ack, s_isn.wrapping_add(1));
    assert_eq!(
        c_send.last().unwrap().ack,
        s_end,
        "client's last segment acks the server's FIN"
    );
    assert_eq!(
        s_send.last().unwrap().ack,
        c_end,
        "server's FIN acks the client's FIN"
    );

    // Handshake order across both ends, as the ring buffer delivered it.
    let pos = |probe: u32, ns: u32, flags: u8, seq: u32| {
        events
            .iter()
            .position(|e| {
                e.hdr.probe == probe && e.hdr.netns == ns && e.tcp_flags == flags && e.seq == seq
            })
            .unwrap_or_else(|| panic!("missing {flags:#x} seq {seq}:\n{}", dump(events)))
    };
    let order = [
        pos(TCP_SEND, client_ns, TH_SYN, c_isn),
        pos(TCP_RECEIVE, server_ns, TH_SYN, c_isn),
        pos(TCP_SEND, server_ns, TH_SYN | TH_ACK, s_isn),
        pos(TCP_RECEIVE, client_ns, TH_SYN | TH_ACK, s_isn),
        pos(TCP_SEND, client_ns, TH_ACK, c_isn.wrapping_add(1)),
        pos(TCP_RECEIVE, server_ns, TH_ACK, c_isn.wrapping_add(1)),
    ];
    assert!(
        order.windows(2).all(|p| p[0] < p[1]),
        "handshake order {order:?}:\n{}",
        dump(events)
    );

    // Addresses, ports and directions as each end sees them.
    for e in c_send.iter().chain(&s_recv) {
        assert_eq!((e.src_ip(), e.dst_ip()), (client_ip, server_ip));
        assert_eq!((e.sport, e.dport), (conn.client_port, conn.server_port));
    }
    for e in s_send.iter().chain(&c_recv) {
        assert_eq!((e.src_ip(), e.dst_ip()), (server_ip, client_ip));
        assert_eq!((e.sport, e.dport), (conn.server_port, conn.client_port));
    }
    for e in c_send.iter().chain(&s_send) {
        assert_eq!(e.dir, DIR_SEND);
        assert_eq!(
            (e.laddr, e.lport, e.raddr, e.rport),
            (e.saddr, e.sport, e.daddr, e.dport)
        );
        assert_ne!(e.sk, 0, "a local send has its socket");
    }
    for e in c_recv.iter().chain(&s_recv) {
        assert_eq!(e.dir, DIR_RECEIVE);
        assert_eq!(
            (e.laddr, e.lport, e.raddr, e.rport),
            (e.daddr, e.dport, e.saddr, e.sport)
        );
    }
    let ver = if server_ip.is_ipv4() { 4 } else { 6 };
    for e in c_send.iter().chain(&c_recv).chain(&s_send).chain(&s_recv) {
        assert_eq!(e.ipver, ver);
        assert!(e.tcp_offset >= 20 && e.ifindex > 0 && e.ttl > 0);
    }
    for e in c_send.iter().chain(&s_send) {
        assert_ne!(e.sock.state, 0, "a send knows its connection's state");
    }
}

/// True once both ends' last segments (the client's ACK of the server's
/// FIN, and its receipt) are in.
fn conversation_done(events: &[TcpEvent], client_ns: u32, server_ns: u32, conn: Conn) -> bool {
    let fin_from = |probe: u32, ns: u32, port: u16| {
        events.iter().any(|e| {
            e.hdr.probe == probe
                && e.hdr.netns == ns
                && e.lport == port
                && e.tcp_flags & TH_FIN != 0
        })
    };
    // After the server's FIN reaches the client, the client's final ACK
    // must reach the server.
    let server_fin_seen = fin_from(TCP_RECEIVE, client_ns, conn.client_port);
    let s_recv = view(events, server_ns, conn.server_port, TCP_RECEIVE);
    let c_send = view(events, client_ns, conn.client_port, TCP_SEND);
    server_fin_seen
        && fin_from(TCP_SEND, server_ns, conn.server_port)
        && c_send.len() == s_recv.len()
        && c_send.last().is_some_and(|last| {
            events
                .iter()
                .filter(|e| {
                    e.hdr.probe == TCP_RECEIVE
                        && e.hdr.netns == client_ns
                        && e.lport == conn.client_port
                })
                .all(|r| r.tcp_flags & TH_FIN == 0 || last.ack == r.seq.wrapping_add(1))
        })
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

// ---------------------------------------------------------------- tests

#[test]
fn ipv4_over_veth_both_ends() {
    let Some(mut src) = live_source() else { return };
    assert_eq!(
        src.hooks(),
        [
            "tp_btf/net_dev_queue",
            "tp_btf/netif_receive_skb",
            "tp_btf/inet_sock_set_state"
        ],
        "tp_btf attaches here"
    );
    let ns = Namespaces::new("v4", &["s", "c"]);
    let tag = std::process::id() % 100_000;
    let (dev_s, dev_c) = (format!("rv{tag}s"), format!("rv{tag}c"));
    veth(
        ns.name(0),
        &dev_s,
        "192.0.2.8/27",
        ns.name(1),
        &dev_c,
        "192.0.2.40/27",
    );
    route_to(ns.name(0), &dev_s, "192.0.2.40");
    route_to(ns.name(1), &dev_c, "192.0.2.8");
    wait_ready(ns.name(0), &dev_s);
    wait_ready(ns.name(1), &dev_c);
    let (s_ino, c_ino) = (ns.inode(0), ns.inode(1));

    let conn = conversation(ns.name(0), ns.name(1), ip("192.0.2.8"));
    let mine = |e: &TcpEvent| {
        (e.hdr.netns == s_ino || e.hdr.netns == c_ino)
            && [e.sport, e.dport].contains(&conn.server_port)
            && [e.sport, e.dport].contains(&conn.client_port)
    };
    let events = collect(&mut src, mine, |ev| {
        conversation_done(ev, c_ino, s_ino, conn)
    });
    check_conversation(
        &events,
        c_ino,
        s_ino,
        conn,
        ip("192.0.2.40"),
        ip("192.0.2.8"),
    );
    let if_s: Vec<i32> = events
        .iter()
        .filter(|e| e.hdr.netns == s_ino)
        .map(|e| e.ifindex)
        .collect();
    assert!(
        if_s.windows(2).all(|w| w[0] == w[1]),
        "one interface on the server side"
    );
    assert!(
        src.drops().iter().all(|&(_, n)| n == 0),
        "no drops: {:?}",
        src.drops()
    );

    // Data is sent from the writing thread's context: the task fields
    // describe it. (Receives run in softirq: whatever task was interrupted.)
    // SAFETY: no preconditions.
    let (ppid, uid, gid) = unsafe { (libc::getppid() as u32, libc::geteuid(), libc::getegid()) };
    for (ino, port, tid) in [
        (c_ino, conn.client_port, conn.client_tid),
        (s_ino, conn.server_port, conn.server_tid),
    ] {
        for e in view(&events, ino, port, TCP_SEND)
            .iter()
            .filter(|e| e.payload_len() > 0)
        {
            assert_eq!(
                (e.hdr.pid, e.hdr.tid, e.hdr.ppid),
                (std::process::id(), tid, ppid)
            );
            assert_eq!((e.hdr.uid, e.hdr.gid), (uid, gid));
            assert!(e.hdr.comm[0] != 0, "comm is set");
            assert!(e.hdr.ts_ns > 0);
        }
    }
}

/// On loopback each segment is one send and one receive in the same
/// namespace, the send first.
#[test]
fn ipv6_on_loopback() {
    let Some(mut src) = live_source() else { return };
    let ns = Namespaces::new("v6", &["l"]);
    let ino = ns.inode(0);
    let lo = ip("::1");
    let conn = conversation(ns.name(0), ns.name(0), lo);
    let mine = |e: &TcpEvent| {
        e.hdr.netns == ino
            && [e.sport, e.dport].contains(&conn.server_port)
            && [e.sport, e.dport].contains(&conn.client_port)
    };
    let events = collect(&mut src, mine, |ev| conversation_done(ev, ino, ino, conn));
    check_conversation(&events, ino, ino, conn, lo, lo);
    // Every send comes before its own receive.
    for (i, s) in events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.hdr.probe == TCP_SEND)
    {
        assert!(
            events[i + 1..]
                .iter()
                .any(|r| r.hdr.probe == TCP_RECEIVE && wire(r) == wire(s)),
            "send without a later receive:\n{}",
            dump(&events)
        );
    }
}

/// A SYN to a port nobody listens on is answered by RST|ACK, seen as sent
/// by the refusing end (IPv6 on loopback: the RST has no socket) and as
/// received by the client; over veth for IPv4.
#[test]
fn closed_port_is_refused_with_rst() {
    let Some(mut src) = live_source() else { return };
    let ns = Namespaces::new("rst", &["s", "c"]);
    let tag = std::process::id() % 100_000;
    let (dev_s, dev_c) = (format!("rr{tag}s"), format!("rr{tag}c"));
    veth(
        ns.name(0),
        &dev_s,
        "192.0.2.8/27",
        ns.name(1),
        &dev_c,
        "192.0.2.40/27",
    );
    route_to(ns.name(0), &dev_s, "192.0.2.40");
    route_to(ns.name(1), &dev_c, "192.0.2.8");
    wait_ready(ns.name(0), &dev_s);
    wait_ready(ns.name(1), &dev_c);
    let (s_ino, c_ino) = (ns.inode(0), ns.inode(1));

    for (server, client_ns, server_ns) in [
        (ip("192.0.2.8"), ns.name(1), s_ino),
        (ip("::1"), ns.name(0), s_ino),
    ] {
        // A port that was just free: bind, note, close.
        let port = in_netns(ns.name(0), move || {
            TcpListener::bind(SocketAddr::new(server, 0))
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        })
        .join()
        .unwrap();
        let refused = in_netns(client_ns, move || {
            TcpStream::connect_timeout(&SocketAddr::new(server, port), DEADLINE)
        })
        .join()
        .unwrap();
        let err = refused.expect_err("connection to a closed port");
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);

        let client_ino = if client_ns == ns.name(1) {
            c_ino
        } else {
            s_ino
        };
        let mine = |e: &TcpEvent| {
            (e.hdr.netns == s_ino || e.hdr.netns == c_ino) && (e.sport == port || e.dport == port)
        };
        let is = |e: &TcpEvent, probe: u32, ino: u32, flags: u8| {
            e.hdr.probe == probe && e.hdr.netns == ino && e.tcp_flags == flags
        };
        let events = collect(&mut src, mine, |ev| {
            ev.iter()
                .any(|e| is(e, TCP_RECEIVE, client_ino, TH_RST | TH_ACK))
        });
        let find = |probe: u32, ino: u32, flags: u8| {
            events
                .iter()
                .position(|e| is(e, probe, ino, flags))
                .unwrap_or_else(|| panic!("{server}: missing {flags:#x}:\n{}", dump(&events)))
        };
        let steps = [
            find(TCP_SEND, client_ino, TH_SYN),
            find(TCP_RECEIVE, server_ns, TH_SYN),
            find(TCP_SEND, server_ns, TH_RST | TH_ACK),
            find(TCP_RECEIVE, client_ino, TH_RST | TH_ACK),
        ];
        assert!(
            steps.windows(2).all(|w| w[0] < w[1]),
            "{server}: order {steps:?}:\n{}",
            dump(&events)
        );
        let syn = events[steps[0]];
        let rst = events[steps[2]];
        assert_eq!((rst.seq, rst.ack), (0, syn.seq.wrapping_add(1)));
        assert_eq!(
            (rst.sport, rst.dport, rst.src_ip()),
            (port, syn.sport, server)
        );
        let sends = events.iter().filter(|e| e.hdr.probe == TCP_SEND).count();
        let recvs = events.iter().filter(|e| e.hdr.probe == TCP_RECEIVE).count();
        assert_eq!(
            (sends, recvs),
            (2, 2),
            "{server}: exactly SYN and RST|ACK each way:\n{}",
            dump(&events)
        );
    }
}

/// Two namespaces joined through a bridge in a third: every segment is
/// reported once as sent and once as received; nothing from the bridge's
/// namespace (port receives and forwarded sends).
#[test]
fn bridged_segments_are_not_duplicated() {
    let Some(mut src) = live_source() else { return };
    let ns = Namespaces::new("br", &["s", "c", "b"]);
    let tag = std::process::id() % 100_000;
    let bridge = ns.name(2);
    run(&[
        "ip",
        "-n",
        bridge,
        "link",
        "add",
        "br0",
        "type",
        "bridge",
        "forward_delay",
        "0",
        "stp_state",
        "0",
    ]);
    run(&["ip", "-n", bridge, "link", "set", "br0", "up"]);
    let (dev_s, port_s, dev_c, port_c) = (
        format!("rb{tag}s"),
        format!("rb{tag}p"),
        format!("rb{tag}c"),
        format!("rb{tag}q"),
    );
    veth(ns.name(0), &dev_s, "192.0.2.8/27", bridge, &port_s, "");
    veth(ns.name(1), &dev_c, "192.0.2.40/27", bridge, &port_c, "");
    route_to(ns.name(0), &dev_s, "192.0.2.40");
    route_to(ns.name(1), &dev_c, "192.0.2.8");
    run(&["ip", "-n", bridge, "link", "set", &port_s, "master", "br0"]);
    run(&["ip", "-n", bridge, "link", "set", &port_c, "master", "br0"]);
    for (n, d) in [
        (ns.name(0), &dev_s),
        (ns.name(1), &dev_c),
        (bridge, &port_s),
        (bridge, &port_c),
    ] {
        wait_ready(n, d);
    }
    let (s_ino, c_ino, b_ino) = (ns.inode(0), ns.inode(1), ns.inode(2));

    let conn = conversation(ns.name(0), ns.name(1), ip("192.0.2.8"));
    let mine = |e: &TcpEvent| {
        [s_ino, c_ino, b_ino].contains(&e.hdr.netns)
            && [e.sport, e.dport].contains(&conn.server_port)
            && [e.sport, e.dport].contains(&conn.client_port)
    };
    let events = collect(&mut src, mine, |ev| {
        conversation_done(ev, c_ino, s_ino, conn)
    });
    assert!(
        events.iter().all(|e| e.hdr.netns != b_ino),
        "bridge namespace reported:\n{}",
        dump(&events)
    );
    check_conversation(
        &events,
        c_ino,
        s_ino,
        conn,
        ip("192.0.2.40"),
        ip("192.0.2.8"),
    );
}

/// Dropping the source detaches its programs.
#[test]
fn programs_are_unloaded_on_drop() {
    let Some(src) = live_source() else { return };
    let ids = src.program_ids();
    assert_eq!(ids.len(), 3, "send, receive and state-change programs");
    let loaded = |id: u32| {
        let mut attr = [0u32; 4];
        attr[0] = id;
        // SAFETY: plain syscall with an attr union sized for BPF_PROG_GET_FD_BY_ID.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                13, /* BPF_PROG_GET_FD_BY_ID */
                attr.as_mut_ptr(),
                16,
            )
        };
        if fd >= 0 {
            // SAFETY: closes the descriptor the syscall above just returned.
            unsafe { libc::close(fd as i32) };
        }
        fd >= 0
    };
    assert!(ids.iter().all(|&id| loaded(id)));
    drop(src);
    // The kernel releases links and programs from deferred work.
    let end = Instant::now() + DEADLINE;
    while ids.iter().any(|&id| loaded(id)) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        ids.iter().all(|&id| !loaded(id)),
        "programs still loaded after drop"
    );
}

/// `netns` narrows tracing to one namespace; a full ring buffer drops
/// records and counts every one of them.
#[test]
fn netns_filter_and_drop_counting() {
    let Some(mut all) = live_source() else { return };
    let ns = Namespaces::new("flt", &["x", "y"]);
    let (x, y) = (ns.inode(0), ns.inode(1));
    // 4096 bytes hold 15 records (256 bytes + an 8-byte ring header each).
    let opts = LiveOptions {
        probes: vec![TCP_SEND, TCP_RECEIVE],
        bufsize: 4096,
        netns: Some(x),
        ..Default::default()
    };
    let mut small = LiveSource::open(&opts).expect("filtered source");
    let lo = ip("127.0.0.1");
    let conn_x = conversation(ns.name(0), ns.name(0), lo);
    let conn_y = conversation(ns.name(1), ns.name(1), lo);
    let events = collect(
        &mut all,
        |e| e.hdr.netns == x || e.hdr.netns == y,
        |ev| conversation_done(ev, x, x, conn_x) && conversation_done(ev, y, y, conn_y),
    );
    let in_x = events.iter().filter(|e| e.hdr.netns == x).count() as u64;
    assert!(events.iter().any(|e| e.hdr.netns == y));

    let mut got = Vec::new();
    for _ in 0..10 {
        small
            .poll(Duration::from_millis(10), &mut |b| {
                got.push(TcpEvent::read_from(b).unwrap())
            })
            .unwrap();
    }
    assert!(
        got.iter().all(|e| e.hdr.netns == x),
        "only the chosen namespace:\n{}",
        dump(&got)
    );
    let dropped: u64 = small.drops().iter().map(|&(_, n)| n).sum();
    assert_eq!(got.len(), 15, "a full 4 KiB ring holds 15 records");
    assert_eq!(
        got.len() as u64 + dropped,
        in_x,
        "every record is delivered or counted as a drop"
    );
}

/// IPv6 extension headers are walked to find TCP: a client socket with a
/// hop-by-hop option header (IPV6_HOPOPTS) on loopback.
#[test]
fn ipv6_extension_headers_are_walked() {
    let Some(mut src) = live_source() else { return };
    let ns = Namespaces::new("ext", &["l"]);
    let ino = ns.inode(0);
    let (tx, rx) = mpsc::channel::<u16>();
    let server = in_netns(ns.name(0), move || {
        let listener = TcpListener::bind("[::1]:0").unwrap();
        tx.send(listener.local_addr().unwrap().port()).unwrap();
        let (mut s, _) = listener.accept().unwrap();
        timeouts(&s);
        let mut buf = [0u8; 20];
        s.read_exact(&mut buf).unwrap();
    });
    let port = rx.recv_timeout(DEADLINE).unwrap();
    let client_port = in_netns(ns.name(0), move || {
        let s = hop_by_hop_client(port);
        timeouts(&s);
        (&s).write_all(&[3; 20]).unwrap();
        let port = s.local_addr().unwrap().port();
        let mut rest = Vec::new();
        (&s).read_to_end(&mut rest).unwrap();
        port
    })
    .join()
    .unwrap();
    server.join().unwrap();
    let mine =
        |e: &TcpEvent| e.hdr.netns == ino && (e.sport == client_port || e.dport == client_port);
    let data_from_client =
        |e: &TcpEvent| e.sport == client_port && e.ip_plength > e.tcp_offset as u32 + 8;
    let events = collect(&mut src, mine, |ev| {
        ev.iter().filter(|e| data_from_client(e)).count() == 2
    });
    let from_client: Vec<&TcpEvent> = events.iter().filter(|e| e.sport == client_port).collect();
    assert!(from_client.iter().any(|e| e.tcp_flags == TH_SYN));
    for e in from_client {
        // ip_plength is the IPv6 payload length: the 8-byte option header included.
        assert!(e.ip_plength >= e.tcp_offset as u32 + 8, "{}", dump(&[*e]));
        assert_eq!(e.dport, port);
    }
    let data: Vec<u32> = events
        .iter()
        .filter(|e| data_from_client(e))
        .map(|e| e.ip_plength - e.tcp_offset as u32 - 8)
        .collect();
    assert_eq!(data, vec![20, 20], "the 20 bytes, sent and received");
}

/// A TCP socket connected to [::1]:port that sends every segment with an
/// 8-byte hop-by-hop options header (one PadN option).
fn hop_by_hop_client(port: u16) -> TcpStream {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls on a fresh fd with correctly sized buffers.
    unsafe {
        let fd = libc::socket(libc::AF_INET6, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0);
        let stream = TcpStream::from_raw_fd(fd);
        let hbh: [u8; 8] = [0, 0, 1, 4, 0, 0, 0, 0];
        let r = libc::setsockopt(
            fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_HOPOPTS,
            hbh.as_ptr().cast(),
            8,
        );
        assert_eq!(r, 0, "IPV6_HOPOPTS: {}", std::io::Error::last_os_error());
        let mut addr: libc::sockaddr_in6 = std::mem::zeroed();
        addr.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        addr.sin6_port = port.to_be();
        addr.sin6_addr.s6_addr = std::net::Ipv6Addr::LOCALHOST.octets();
        let r = libc::connect(
            fd,
            (&addr as *const libc::sockaddr_in6).cast(),
            std::mem::size_of_val(&addr) as u32,
        );
        assert_eq!(r, 0, "connect: {}", std::io::Error::last_os_error());
        stream
    }
}

/// `stop` detaches the programs but keeps what is buffered for draining;
/// later traffic is not recorded.
#[test]
fn stop_keeps_buffered_records() {
    let Some(mut src) = live_source() else { return };
    let ns = Namespaces::new("stp", &["l"]);
    let ino = ns.inode(0);
    let lo = ip("127.0.0.1");
    let before = conversation(ns.name(0), ns.name(0), lo);
    src.stop();
    let after = conversation(ns.name(0), ns.name(0), lo);
    let mut got = Vec::new();
    for _ in 0..5 {
        src.poll(Duration::from_millis(10), &mut |b| {
            got.push(TcpEvent::read_from(b).unwrap())
        })
        .unwrap();
    }
    let of = |c: Conn| {
        got.iter()
            .filter(|e| {
                e.hdr.netns == ino && (e.sport == c.client_port || e.dport == c.client_port)
            })
            .count()
    };
    assert!(of(before) > 0, "records buffered before stop are delivered");
    assert_eq!(of(after), 0, "nothing is recorded after stop");
}

/// The raw_tp fallback programs see the same conversation.
#[test]
fn raw_tp_fallback() {
    let Some(mut src) = live_source_with(LiveSource::open_raw_tp) else {
        return;
    };
    assert_eq!(
        src.hooks(),
        [
            "raw_tp/net_dev_queue",
            "raw_tp/netif_receive_skb",
            "raw_tp/inet_sock_set_state"
        ]
    );
    let ns = Namespaces::new("raw", &["l"]);
    let ino = ns.inode(0);
    let lo = ip("127.0.0.1");
    let conn = conversation(ns.name(0), ns.name(0), lo);
    let mine = |e: &TcpEvent| {
        e.hdr.netns == ino
            && [e.sport, e.dport].contains(&conn.server_port)
            && [e.sport, e.dport].contains(&conn.client_port)
    };
    let events = collect(&mut src, mine, |ev| conversation_done(ev, ino, ino, conn));
    check_conversation(&events, ino, ino, conn, lo, lo);
}

/// Without the socket state (no clause reads it), send/receive need only
/// the two packet programs; any other tcp probe brings the state program.
#[test]
fn segments_alone_need_no_connection_tracking() {
    if live_source().is_none() {
        return;
    }
    let open = |probes: Vec<u32>| {
        LiveSource::open(&LiveOptions {
            probes,
            socket_state: false,
            ..Default::default()
        })
        .expect("live source")
    };
    assert_eq!(
        open(vec![TCP_SEND, TCP_RECEIVE]).hooks(),
        ["tp_btf/net_dev_queue", "tp_btf/netif_receive_skb"]
    );
    assert_eq!(
        open(vec![TCP_SEND, rdtrace_probes::TCP_STATE_CHANGE]).hooks(),
        [
            "tp_btf/net_dev_queue",
            "tp_btf/netif_receive_skb",
            "tp_btf/inet_sock_set_state"
        ]
    );
    assert_eq!(
        open(vec![rdtrace_probes::IP_SEND, rdtrace_probes::UDP_SEND]).hooks(),
        ["tp_btf/net_dev_queue"]
    );
}
