//! Live tcp provider: state-change, connect-*, accept-* and the socket state
//! in tcpsinfo_t, in network namespaces (IPv4 over veth, IPv6 on loopback),
//! printed by tests/provider_scripts/tcp_events.d. Root + BPF; skipped with
//! a reason elsewhere, failing in CI (RDTRACE_REQUIRE_BPF=1).

mod common;
mod provider_support;

use std::collections::HashMap;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;

use common::netns::{in_netns, seed_pair, Namespaces, DEADLINE};
use provider_support::{script, Tracer};

/// One printed event: the probe name and its key=value fields.
#[derive(Debug, Clone)]
struct Event {
    probe: String,
    f: HashMap<String, String>,
}

impl Event {
    fn parse(line: &str) -> Option<Event> {
        let mut words = line.split(' ');
        let probe = words.next()?.to_string();
        let f = words
            .filter_map(|w| {
                w.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        Some(Event { probe, f })
    }
    fn get(&self, k: &str) -> &str {
        self.f
            .get(k)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no {k} in {self:?}"))
    }
    fn num(&self, k: &str) -> u64 {
        self.get(k)
            .parse()
            .unwrap_or_else(|_| panic!("{k} is not a number in {self:?}"))
    }
    /// Local end is `addr:port`.
    fn local_is(&self, addr: &str, port: u16) -> bool {
        self.get("laddr") == addr && self.num("lport") == port as u64
    }
    fn remote_is(&self, addr: &str, port: u16) -> bool {
        self.get("raddr") == addr && self.num("rport") == port as u64
    }
}

fn events(lines: &[String]) -> Vec<Event> {
    lines.iter().filter_map(|l| Event::parse(l)).collect()
}

/// old→new pairs of the state changes of the connection local→remote.
fn transitions(ev: &[Event], local: (&str, u16), remote: (&str, u16)) -> Vec<(String, String)> {
    ev.iter()
        .filter(|e| {
            e.probe == "state-change"
                && e.local_is(local.0, local.1)
                && e.remote_is(remote.0, remote.1)
        })
        .map(|e| (e.get("old").to_string(), e.get("new").to_string()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (format!("state-{a}"), format!("state-{b}")))
        .collect()
}

/// The single event of `probe` on the connection local→remote.
fn only<'a>(ev: &'a [Event], probe: &str, local: (&str, u16), remote: (&str, u16)) -> &'a Event {
    let found: Vec<&Event> = ev
        .iter()
        .filter(|e| {
            e.probe == probe && e.local_is(local.0, local.1) && e.remote_is(remote.0, remote.1)
        })
        .collect();
    assert_eq!(found.len(), 1, "one {probe} expected, got {found:#?}");
    found[0]
}

const TH_FIN: u64 = 0x01;
const TH_SYN: u64 = 0x02;
const TH_RST: u64 = 0x04;
const TH_ACK: u64 = 0x10;

/// A connection from the client namespace to a listener in the server
/// namespace, where the server closes first; the listener stays open
/// until `close_listener` is sent. Returns the client's port.
fn server_closes_first(
    server_ns: &str,
    client_ns: &str,
    server: SocketAddr,
) -> (u16, mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (ready_tx, ready_rx) = mpsc::channel();
    let (close_tx, close_rx) = mpsc::channel::<()>();
    let server_thread = in_netns(server_ns, move || {
        let l = TcpListener::bind(server).unwrap();
        ready_tx.send(()).unwrap();
        let (s, _) = l.accept().unwrap();
        drop(s); // the server closes first
        let _ = close_rx.recv_timeout(DEADLINE);
    });
    ready_rx.recv_timeout(DEADLINE).expect("listening");
    let client = in_netns(client_ns, move || {
        let mut c = TcpStream::connect_timeout(&server, DEADLINE).unwrap();
        c.set_read_timeout(Some(DEADLINE)).unwrap();
        let port = c.local_addr().unwrap().port();
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).unwrap(); // the server's FIN
        port // dropping the stream closes the client's side
    });
    (client.join().expect("client"), close_tx, server_thread)
}

/// Runs the server-closes-first connection under tcp_events.d and checks
/// every state change, the handshake probes and their tcpsinfo_t.
fn check_connection(server_ns: &str, client_ns: &str, server_ip: &str, client_ip: &str, port: u16) {
    let Some(mut tracer) = Tracer::start(&["-s", &script("tcp_events.d"), &port.to_string()])
    else {
        return;
    };
    let server: SocketAddr = SocketAddr::new(server_ip.parse::<IpAddr>().unwrap(), port);
    let (cport, close_listener, server_thread) = server_closes_first(server_ns, client_ns, server);
    let (s, c) = ((server_ip, port), (client_ip, cport));
    tracer.wait_for(|l| {
        let ev = events(l);
        transitions(&ev, s, c)
            .last()
            .is_some_and(|t| t.1 == "state-time-wait")
            && transitions(&ev, c, s)
                .last()
                .is_some_and(|t| t.1 == "state-closed")
    });
    let (lines, _) = tracer.stop();
    close_listener.send(()).unwrap();
    server_thread.join().unwrap();
    let ev = events(&lines);
    let dump = lines.join("\n");

    assert_eq!(
        transitions(&ev, c, s),
        pairs(&[
            ("closed", "syn-sent"),
            ("syn-sent", "established"),
            ("established", "close-wait"),
            ("close-wait", "last-ack"),
            ("last-ack", "closed")
        ]),
        "client states in:\n{dump}"
    );
    let any = if server_ip.contains(':') {
        "::"
    } else {
        "0.0.0.0"
    };
    assert_eq!(
        transitions(&ev, s, (any, 0)),
        pairs(&[("closed", "listen")]),
        "listener states in:\n{dump}"
    );
    assert_eq!(
        transitions(&ev, s, c),
        pairs(&[
            ("listen", "syn-received"),
            ("syn-received", "established"),
            ("established", "fin-wait-1"),
            ("fin-wait-1", "fin-wait-2"),
            ("fin-wait-2", "time-wait")
        ]),
        "server connection states in:\n{dump}"
    );

    // connect-request: the SYN sent.
    let req = only(&ev, "connect-request", c, s);
    assert_eq!(req.get("state"), "state-syn-sent");
    assert_eq!(
        (req.get("saddr"), req.num("sport")),
        (client_ip, cport as u64)
    );
    assert_eq!(
        (req.get("daddr"), req.num("dport")),
        (server_ip, port as u64)
    );
    assert_eq!(req.num("flags"), TH_SYN);
    let client_iss = req.num("seq");
    assert_eq!(
        req.num("iss"),
        client_iss,
        "tcps_iss is the SYN's sequence number"
    );

    // connect-established: the SYN|ACK received.
    let est = only(&ev, "connect-established", c, s);
    assert_eq!(est.get("state"), "state-established");
    assert_eq!(
        (est.get("saddr"), est.num("sport")),
        (server_ip, port as u64)
    );
    assert_eq!(
        (est.get("daddr"), est.num("dport")),
        (client_ip, cport as u64)
    );
    assert_eq!(est.num("flags"), TH_SYN | TH_ACK);
    assert_eq!(est.num("ack"), (client_iss + 1) & 0xffff_ffff);
    let server_iss = est.num("seq");
    assert_eq!((est.num("iss"), est.num("irs")), (client_iss, server_iss));
    assert_eq!(est.num("snxt"), (client_iss + 1) & 0xffff_ffff);
    assert_eq!(est.num("rnxt"), (server_iss + 1) & 0xffff_ffff);
    assert!(est.num("mss") > 0);

    // accept-established: the ACK that completed the handshake.
    let acc = only(&ev, "accept-established", s, c);
    assert_eq!(acc.get("state"), "state-established");
    assert_eq!(
        (acc.get("saddr"), acc.num("sport")),
        (client_ip, cport as u64)
    );
    assert_eq!(
        (acc.get("daddr"), acc.num("dport")),
        (server_ip, port as u64)
    );
    assert_eq!(acc.num("flags") & (TH_SYN | TH_ACK | TH_RST), TH_ACK);
    assert_eq!(acc.num("ack"), (server_iss + 1) & 0xffff_ffff);
    assert_eq!((acc.num("iss"), acc.num("irs")), (server_iss, client_iss));
    assert_ne!(
        acc.get("cid"),
        est.get("cid"),
        "two sockets, two connection ids"
    );
    // This process connected, and listened (an accepted connection belongs
    // to the listener's process, as on illumos).
    let me = std::process::id() as u64;
    assert_eq!(
        (req.num("pid"), est.num("pid"), acc.num("pid")),
        (me, me, me)
    );

    // The SYN reaches the listener: its state.
    let syn = ev
        .iter()
        .find(|e| e.probe == "receive" && e.local_is(s.0, s.1) && e.num("flags") == TH_SYN)
        .unwrap_or_else(|| panic!("no SYN received in:\n{dump}"));
    assert_eq!(
        (syn.get("state"), syn.get("raddr")),
        ("state-listen", client_ip)
    );
    // Every segment sent carries its connection's state and ends.
    for e in ev.iter().filter(|e| e.probe == "send") {
        assert_ne!(e.get("state"), "state-idle", "{e:?}");
        assert_eq!(
            (e.get("laddr"), e.get("lport")),
            (e.get("saddr"), e.get("sport")),
            "{e:?}"
        );
        assert_eq!(
            (e.get("raddr"), e.get("rport")),
            (e.get("daddr"), e.get("dport")),
            "{e:?}"
        );
    }
    // The client's socket keeps its id from the SYN to its last segment.
    let client_cids: Vec<&str> = ev
        .iter()
        .filter(|e| e.probe == "send" && e.local_is(c.0, c.1))
        .map(|e| e.get("cid"))
        .collect();
    assert!(
        client_cids.len() >= 3 && client_cids.iter().all(|&x| x == req.get("cid")),
        "{dump}"
    );
    // The server's FIN is reported sent, and received by the client.
    assert!(ev
        .iter()
        .any(|e| e.probe == "receive" && e.local_is(c.0, c.1) && e.num("flags") & TH_FIN != 0));
}

/// A connection to a port nobody listens on: the client's connect-refused
/// (the RST received) and the server side's accept-refused (the RST sent).
fn check_refused(client_ns: &str, server_ip: &str, client_ip: &str, port: u16) {
    let Some(mut tracer) = Tracer::start(&["-s", &script("tcp_events.d"), &port.to_string()])
    else {
        return;
    };
    let server = SocketAddr::new(server_ip.parse::<IpAddr>().unwrap(), port);
    let client = in_netns(client_ns, move || {
        let err = TcpStream::connect_timeout(&server, DEADLINE).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    });
    client.join().expect("client");
    tracer.wait_for(|l| {
        let ev = events(l);
        ev.iter().any(|e| e.probe == "connect-refused")
            && ev.iter().any(|e| e.probe == "accept-refused")
    });
    let (lines, _) = tracer.stop();
    let ev = events(&lines);
    let dump = lines.join("\n");
    let req = ev
        .iter()
        .find(|e| e.probe == "connect-request")
        .unwrap_or_else(|| panic!("{dump}"));
    let cport = req.num("lport") as u16;
    let (s, c) = ((server_ip, port), (client_ip, cport));
    let iss = req.num("seq");

    let refused = only(&ev, "connect-refused", c, s);
    assert_eq!(refused.get("state"), "state-syn-sent");
    assert_eq!(
        (refused.get("saddr"), refused.num("sport")),
        (server_ip, port as u64)
    );
    assert_eq!(refused.num("flags"), TH_RST | TH_ACK);
    assert_eq!(refused.num("ack"), (iss + 1) & 0xffff_ffff);

    let rst = only(&ev, "accept-refused", s, c);
    assert_eq!(rst.get("state"), "state-closed");
    assert_eq!(
        (rst.get("saddr"), rst.num("sport")),
        (server_ip, port as u64)
    );
    assert_eq!(
        (rst.get("daddr"), rst.num("dport")),
        (client_ip, cport as u64)
    );
    assert_eq!((rst.num("flags"), rst.num("seq")), (TH_RST | TH_ACK, 0));
    assert_eq!(rst.num("ack"), (iss + 1) & 0xffff_ffff);

    assert_eq!(
        transitions(&ev, c, s),
        pairs(&[("closed", "syn-sent"), ("syn-sent", "closed")]),
        "client states in:\n{dump}"
    );
}

#[test]
fn ipv4_server_closes_first() {
    let ns = seed_pair("tcpst", "192.0.2.8", "192.0.2.40");
    check_connection(ns.name(0), ns.name(1), "192.0.2.8", "192.0.2.40", 2301);
}

#[test]
fn ipv4_closed_port_is_refused() {
    let ns = seed_pair("tcprf", "192.0.2.9", "192.0.2.41");
    check_refused(ns.name(1), "192.0.2.9", "192.0.2.41", 2302);
}

#[test]
fn ipv6_loopback_server_closes_first() {
    let ns = Namespaces::new("tcp6st", &[""]);
    check_connection(ns.name(0), ns.name(0), "::1", "::1", 2303);
}

#[test]
fn ipv6_loopback_closed_port_is_refused() {
    let ns = Namespaces::new("tcp6rf", &[""]);
    check_refused(ns.name(0), "::1", "::1", 2304);
}
