//! Live ip and udp providers: UDP datagrams and ICMP echoes (from a raw
//! socket) between network namespaces over veth (IPv4) and on IPv6
//! loopback, printed by tests/provider_scripts/{udp,ip}_events.d.
//! Root + BPF; skipped with a reason elsewhere, failing in CI
//! (RDTRACE_REQUIRE_BPF=1).

mod common;
mod provider_support;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::mpsc;

use common::netns::{in_netns, seed_pair, Namespaces, DEADLINE};
use provider_support::{script, Tracer};

#[derive(Debug, Clone)]
struct Event {
    probe: String,
    f: HashMap<String, String>,
}

impl Event {
    fn get(&self, k: &str) -> &str {
        self.f
            .get(k)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no {k} in {self:?}"))
    }
    fn num(&self, k: &str) -> i64 {
        self.get(k)
            .parse()
            .unwrap_or_else(|_| panic!("{k} is not a number in {self:?}"))
    }
}

fn events(lines: &[String]) -> Vec<Event> {
    lines
        .iter()
        .filter_map(|l| {
            let mut words = l.split(' ');
            let probe = words.next()?.to_string();
            let f = words
                .filter_map(|w| w.split_once('=').map(|(k, v)| (k.into(), v.into())))
                .collect();
            Some(Event { probe, f })
        })
        .collect()
}

const SIZES: [usize; 3] = [100, 200, 1000];

/// Three datagrams from `client` (its namespace) to `server` (its
/// namespace): udp:::send on the client and udp:::receive on the server
/// for each, with lengths, addresses and ports.
fn check_udp(server_ns: &str, client_ns: &str, server: SocketAddr, client_ip: IpAddr) {
    let port = server.port();
    let Some(mut tracer) = Tracer::start(&["-s", &script("udp_events.d"), &port.to_string()])
    else {
        return;
    };
    let (ready_tx, ready_rx) = mpsc::channel();
    let receiver = in_netns(server_ns, move || {
        let s = UdpSocket::bind(server).unwrap();
        s.set_read_timeout(Some(DEADLINE)).unwrap();
        ready_tx.send(()).unwrap();
        let mut buf = [0u8; 2048];
        SIZES.map(|_| s.recv_from(&mut buf).unwrap().0)
    });
    ready_rx.recv_timeout(DEADLINE).unwrap();
    let sender = in_netns(client_ns, move || {
        let s = UdpSocket::bind(SocketAddr::new(client_ip, 0)).unwrap();
        for n in SIZES {
            s.send_to(&vec![0x55; n], server).unwrap();
        }
        s.local_addr().unwrap().port()
    });
    let cport = sender.join().unwrap();
    assert_eq!(receiver.join().unwrap(), SIZES);
    tracer.wait_for(|l| events(l).iter().filter(|e| e.probe == "receive").count() >= SIZES.len());
    let (lines, _) = tracer.stop();
    let ev = events(&lines);
    let (sip, cip) = (server.ip().to_string(), client_ip.to_string());
    for (probe, (src, sport), (dst, dport), (local, lport), (remote, rport)) in [
        (
            "send",
            (&cip, cport),
            (&sip, port),
            (&cip, cport),
            (&sip, port),
        ),
        (
            "receive",
            (&cip, cport),
            (&sip, port),
            (&sip, port),
            (&cip, cport),
        ),
    ] {
        let seen: Vec<&Event> = ev
            .iter()
            .filter(|e| e.probe == probe && e.num("sport") == cport as i64)
            .collect();
        let lengths: Vec<i64> = seen.iter().map(|e| e.num("length")).collect();
        let want: Vec<i64> = SIZES.iter().map(|&n| n as i64 + 8).collect();
        assert_eq!(
            lengths,
            want,
            "udp:::{probe} lengths in:\n{}",
            lines.join("\n")
        );
        for e in seen {
            assert_eq!(
                (e.get("saddr"), e.num("sport")),
                (src.as_str(), sport as i64)
            );
            assert_eq!(
                (e.get("daddr"), e.num("dport")),
                (dst.as_str(), dport as i64)
            );
            assert_eq!(
                (e.get("laddr"), e.num("lport")),
                (local.as_str(), lport as i64)
            );
            assert_eq!(
                (e.get("raddr"), e.num("rport")),
                (remote.as_str(), rport as i64)
            );
            assert_eq!(
                e.num("plen"),
                e.num("length"),
                "ip_plength of a datagram is its UDP length"
            );
        }
    }
}

/// Internet checksum (RFC 1071).
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32)
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

const PAYLOAD: usize = 56;

/// Sends one ICMP (or ICMPv6) echo request to `to` from a raw socket; the
/// kernel of the destination answers it.
fn send_echo(to: IpAddr) {
    let mut msg = vec![0u8; 8 + PAYLOAD];
    msg[0] = if to.is_ipv4() { 8 } else { 128 }; // echo request
    msg[4..6].copy_from_slice(&0x5244u16.to_be_bytes());
    msg[6..8].copy_from_slice(&1u16.to_be_bytes());
    if to.is_ipv4() {
        let c = checksum(&msg);
        msg[2..4].copy_from_slice(&c.to_be_bytes());
    } // ICMPv6 raw sockets have the kernel fill the checksum.
      // SAFETY: plain socket calls with valid, sized buffers.
    unsafe {
        let (fd, r) = match to {
            IpAddr::V4(a) => {
                let fd = libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP);
                assert!(fd >= 0, "raw socket: {}", std::io::Error::last_os_error());
                let mut sa: libc::sockaddr_in = std::mem::zeroed();
                sa.sin_family = libc::AF_INET as u16;
                sa.sin_addr.s_addr = u32::from_ne_bytes(a.octets());
                let r = libc::sendto(
                    fd,
                    msg.as_ptr().cast(),
                    msg.len(),
                    0,
                    (&sa as *const libc::sockaddr_in).cast(),
                    std::mem::size_of_val(&sa) as u32,
                );
                (fd, r)
            }
            IpAddr::V6(a) => {
                let fd = libc::socket(libc::AF_INET6, libc::SOCK_RAW, libc::IPPROTO_ICMPV6);
                assert!(fd >= 0, "raw socket: {}", std::io::Error::last_os_error());
                let mut sa: libc::sockaddr_in6 = std::mem::zeroed();
                sa.sin6_family = libc::AF_INET6 as u16;
                sa.sin6_addr.s6_addr = a.octets();
                let r = libc::sendto(
                    fd,
                    msg.as_ptr().cast(),
                    msg.len(),
                    0,
                    (&sa as *const libc::sockaddr_in6).cast(),
                    std::mem::size_of_val(&sa) as u32,
                );
                (fd, r)
            }
        };
        assert_eq!(
            r,
            msg.len() as isize,
            "sendto: {}",
            std::io::Error::last_os_error()
        );
        libc::close(fd);
    }
}

/// An echo request from `client` to `server` and the kernel's reply: each
/// is an ip:::send where it leaves and an ip:::receive where it arrives.
/// `ifname`: the one device all packets cross, or None for a veth pair.
fn check_echo(client_ns: &str, client: IpAddr, server: IpAddr, proto: &str, ifname: Option<&str>) {
    let Some(mut tracer) = Tracer::start(&["-s", &script("ip_events.d"), &client.to_string()])
    else {
        return;
    };
    in_netns(client_ns, move || send_echo(server))
        .join()
        .unwrap();
    let (c, s) = (client.to_string(), server.to_string());
    let is = |e: &Event, probe: &str, from: &str, to: &str| {
        e.probe == probe
            && e.get("saddr") == from
            && e.get("daddr") == to
            && e.get(proto_key(client)) == proto
    };
    let done = |l: &[String]| {
        let ev = events(l);
        let lo = client == server;
        // On loopback the request and the reply have the same addresses.
        let n = |probe| {
            ev.iter().filter(|e| is(e, probe, &s, &c)).count()
                + ev.iter().filter(|e| is(e, probe, &c, &s)).count()
        };
        if lo {
            n("receive") >= 4
        } else {
            n("receive") >= 2
        }
    };
    tracer.wait_for(|l| done(l));
    let (lines, _) = tracer.stop();
    let dump = lines.join("\n");
    let ev = events(&lines);
    let mut devices = Vec::new();
    for (probe, from, to) in [
        ("send", &c, &s),
        ("receive", &s, &c),
        ("receive", &c, &s),
        ("send", &s, &c),
    ] {
        let e = ev
            .iter()
            .find(|e| is(e, probe, from, to))
            .unwrap_or_else(|| panic!("no ip:::{probe} {from} > {to} in:\n{dump}"));
        assert_eq!(e.num("plen"), (8 + PAYLOAD) as i64, "{e:?}");
        devices.push(e.get("if").to_string());
        assert_eq!(e.num("local"), (e.get("if") == "lo") as i64, "{e:?}");
        if client.is_ipv4() {
            assert_eq!(
                (e.num("ver"), e.num("v4protocol"), e.num("v4ihl")),
                (4, 1, 20),
                "{e:?}"
            );
            assert_eq!(e.num("v4len"), (20 + 8 + PAYLOAD) as i64, "{e:?}");
            assert_eq!(e.get("v4saddr"), from.as_str());
            assert!(e.num("v4ttl") > 0);
        } else {
            assert_eq!(
                (e.num("ver"), e.num("v6nexthdr"), e.num("v6plen")),
                (6, 58, (8 + PAYLOAD) as i64),
                "{e:?}"
            );
            assert_eq!(e.get("v6daddr"), to.as_str());
            assert!(e.num("v6hlim") > 0);
        }
    }
    // The client's request leaves and its reply arrives by the client's
    // device; the server's by its own (all `lo` on loopback).
    assert_eq!(devices[0], devices[1], "{dump}");
    assert_eq!(devices[2], devices[3], "{dump}");
    match ifname {
        Some(lo) => assert!(devices.iter().all(|d| d == lo), "{dump}"),
        None => assert!(
            devices[0] != devices[2] && !devices[0].is_empty() && !devices[2].is_empty(),
            "{dump}"
        ),
    }
}

fn proto_key(a: IpAddr) -> &'static str {
    if a.is_ipv4() {
        "v4proto"
    } else {
        "v6next"
    }
}

#[test]
fn udp_ipv4_over_veth() {
    let ns = seed_pair("udp4", "192.0.2.10", "192.0.2.42");
    let server = SocketAddr::new("192.0.2.10".parse().unwrap(), 2311);
    check_udp(
        ns.name(0),
        ns.name(1),
        server,
        "192.0.2.42".parse().unwrap(),
    );
}

#[test]
fn udp_ipv6_on_loopback() {
    let ns = Namespaces::new("udp6", &[""]);
    let server = SocketAddr::new("::1".parse().unwrap(), 2312);
    check_udp(ns.name(0), ns.name(0), server, "::1".parse().unwrap());
}

#[test]
fn icmp_echo_ipv4_over_veth() {
    let ns = seed_pair("icmp4", "192.0.2.11", "192.0.2.43");
    check_echo(
        ns.name(1),
        "192.0.2.43".parse().unwrap(),
        "192.0.2.11".parse().unwrap(),
        "ICMP",
        None,
    );
}

#[test]
fn icmpv6_echo_on_loopback() {
    let ns = Namespaces::new("icmp6", &[""]);
    let lo: IpAddr = "::1".parse().unwrap();
    check_echo(ns.name(0), lo, lo, "ICMPv6", Some("lo"));
}
