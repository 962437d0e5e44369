//! The tcp provider in replay: follows each connection through the
//! segments of a capture, the way the kernel's socket would, to report
//! `tcp:::send`/`receive` with a tcpsinfo_t, and the probes that segments
//! imply: `connect-request` (a SYN sent), `connect-established` (the
//! SYN|ACK received), `connect-refused` (an RST answering our SYN),
//! `accept-established` (the ACK completing a handshake we answered),
//! `accept-refused` (an RST|ACK answering a SYN received) and
//! `state-change`.
//!
//! What a capture cannot tell: listeners (no closed→listen), windows and
//! congestion state beyond what segments carry (tcpsinfo_t has the state,
//! iss/irs, suna/snxt/rnxt, swnd/rwnd as raw header windows; the rest 0),
//! the socket (cs_cid/tcps_addr 0) and the owner. A connection first seen
//! after its handshake is taken to be established (without a state-change).

use crate::catalog::{
    TCP_ACCEPT_ESTABLISHED, TCP_ACCEPT_REFUSED, TCP_CONNECT_ESTABLISHED, TCP_CONNECT_REFUSED,
    TCP_CONNECT_REQUEST, TCP_RECEIVE, TCP_SEND, TCP_STATE_CHANGE,
};
use crate::event::{Record, TcpEvent, TcpSockState, DIR_SEND};
use hashbrown::HashMap;

use crate::providers::tcp::flag::{ACK, FIN, RST, SYN};
use crate::providers::tcp::state::{
    CLOSED, CLOSE_WAIT, CLOSING, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, LAST_ACK, LISTEN,
    SYN_RECEIVED, SYN_SENT, TIME_WAIT,
};

/// Local address and port, remote address and port.
type Key = ([u8; 16], u16, [u8; 16], u16);

#[derive(Debug, Default)]
struct Conn {
    /// 0 while only a SYN from the peer has been seen.
    state: i32,
    active: bool,
    iss: u32,
    irs: u32,
    suna: u32,
    snxt: u32,
    rnxt: u32,
    swnd: u32,
    rwnd: u32,
    /// Sequence number of the FIN we sent.
    fin_sent: Option<u32>,
    /// The peer's SYN, when it has not been answered yet.
    syn_received: Option<u32>,
}

/// Connection tracking for the enabled tcp probes.
#[derive(Debug)]
pub(crate) struct TcpTracker {
    probes: Vec<u32>,
    conns: HashMap<Key, Conn>,
}

/// `a` is after `b` in sequence space.
fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl TcpTracker {
    pub(crate) fn new(probes: &[u32]) -> TcpTracker {
        TcpTracker {
            probes: probes.to_vec(),
            conns: HashMap::new(),
        }
    }

    fn on(&self, probe: u32) -> bool {
        self.probes.contains(&probe)
    }

    /// Reports segment `ev` (direction and local/remote fields set) and
    /// what it implies, in the order the live probes fire.
    pub(crate) fn segment(&mut self, ev: TcpEvent, f: &mut dyn FnMut(&[u8])) {
        if ev.dir == DIR_SEND {
            self.sent(ev, f)
        } else {
            self.received(ev, f)
        }
    }

    fn sent(&mut self, mut ev: TcpEvent, f: &mut dyn FnMut(&[u8])) {
        let key = (ev.laddr, ev.lport, ev.raddr, ev.rport);
        let flags = ev.tcp_flags;
        let mut out: Vec<TcpEvent> = Vec::new();
        let conn = self.conns.entry(key).or_default();
        let mut changes = Vec::new();
        if flags & (SYN | ACK) == SYN && matches!(conn.state, 0 | CLOSED) {
            *conn = Conn {
                state: SYN_SENT,
                active: true,
                iss: ev.seq,
                suna: ev.seq,
                ..Conn::default()
            };
            changes.push((CLOSED, SYN_SENT));
        } else if flags & (SYN | ACK) == SYN | ACK && conn.state == 0 {
            conn.state = SYN_RECEIVED;
            conn.iss = ev.seq;
            conn.suna = ev.seq;
            conn.irs = ev.ack.wrapping_sub(1);
            conn.rnxt = ev.ack;
            conn.syn_received = None;
            changes.push((LISTEN, SYN_RECEIVED));
        } else if flags & RST == 0
            && flags & SYN == 0
            && conn.state == 0
            && conn.syn_received.is_none()
        {
            conn.state = ESTABLISHED; // first seen mid-connection
        }
        let refused = flags & (RST | ACK) == RST | ACK
            && ev.seq == 0
            && conn
                .syn_received
                .is_some_and(|s| ev.ack == s.wrapping_add(1));
        if flags & FIN != 0 {
            let next = match conn.state {
                ESTABLISHED | SYN_RECEIVED => FIN_WAIT_1,
                CLOSE_WAIT => LAST_ACK,
                _ => 0,
            };
            if next != 0 {
                changes.push((conn.state, next));
                conn.state = next;
                conn.fin_sent = Some(ev.seq.wrapping_add(ev.payload_len()));
            }
        }
        let end = ev
            .seq
            .wrapping_add(ev.payload_len() + (flags & (SYN | FIN) != 0) as u32);
        if conn.snxt == 0 || after(end, conn.snxt) {
            conn.snxt = end;
        }
        if flags & ACK != 0 {
            conn.rnxt = ev.ack;
        }
        conn.rwnd = ev.window as u32;
        let after_state = conn.state;

        for &(old, new) in &changes {
            out.push(self.state_change(&ev, old, new));
        }
        let st = self.sockstate(&key, &ev);
        ev.sock = st;
        if refused {
            ev.sock.state = CLOSED;
            self.conns.remove(&key);
            out.push(with_probe(&ev, TCP_ACCEPT_REFUSED));
        } else if changes.iter().any(|&(_, n)| n == SYN_SENT) {
            out.push(with_probe(&ev, TCP_CONNECT_REQUEST));
        }
        out.push(with_probe(&ev, TCP_SEND));
        if flags & RST != 0 {
            if !refused && after_state != 0 {
                out.push(self.state_change(&ev, after_state, CLOSED));
            }
            self.conns.remove(&key);
        }
        self.deliver(out, f);
    }

    fn received(&mut self, mut ev: TcpEvent, f: &mut dyn FnMut(&[u8])) {
        let key = (ev.laddr, ev.lport, ev.raddr, ev.rport);
        let flags = ev.tcp_flags;
        let mut out = Vec::new();
        let known = self.conns.contains_key(&key);
        if !known && flags & (SYN | ACK) == SYN {
            self.conns.insert(
                key,
                Conn {
                    syn_received: Some(ev.seq),
                    irs: ev.seq,
                    ..Conn::default()
                },
            );
        } else if !known && flags & (SYN | RST) == 0 {
            self.conns.insert(
                key,
                Conn {
                    state: ESTABLISHED, // first seen mid-connection
                    ..Conn::default()
                },
            );
        }
        ev.sock = self.sockstate(&key, &ev);
        out.push(with_probe(&ev, TCP_RECEIVE));

        let Some(conn) = self.conns.get_mut(&key) else {
            return self.deliver(out, f);
        };
        let mut changes = Vec::new();
        let mut established = None;
        let acks_syn = flags & ACK != 0 && ev.ack == conn.iss.wrapping_add(1);
        if flags & RST != 0 {
            if conn.state == SYN_SENT && acks_syn {
                out.push(with_probe(&ev, TCP_CONNECT_REFUSED));
            }
            if conn.state != 0 {
                changes.push((conn.state, CLOSED));
            }
            conn.state = CLOSED;
        } else {
            if conn.state == SYN_SENT && flags & SYN != 0 && acks_syn {
                conn.irs = ev.seq;
                conn.rnxt = ev.seq.wrapping_add(1);
                changes.push((SYN_SENT, ESTABLISHED));
                conn.state = ESTABLISHED;
                established = Some(TCP_CONNECT_ESTABLISHED);
            } else if conn.state == SYN_RECEIVED && flags & SYN == 0 && acks_syn {
                changes.push((SYN_RECEIVED, ESTABLISHED));
                conn.state = ESTABLISHED;
                established = Some(TCP_ACCEPT_ESTABLISHED);
            }
            if flags & ACK != 0 {
                if after(ev.ack, conn.suna) || conn.suna == 0 {
                    conn.suna = ev.ack;
                }
                conn.swnd = ev.window as u32;
                if conn.fin_sent.is_some_and(|s| ev.ack == s.wrapping_add(1)) {
                    let next = match conn.state {
                        FIN_WAIT_1 => FIN_WAIT_2,
                        CLOSING => TIME_WAIT,
                        LAST_ACK => CLOSED,
                        _ => 0,
                    };
                    if next != 0 {
                        changes.push((conn.state, next));
                        conn.state = next;
                    }
                }
            }
            let end = ev
                .seq
                .wrapping_add(ev.payload_len() + (flags & (SYN | FIN) != 0) as u32);
            if conn.state != 0 && (conn.rnxt == 0 || after(end, conn.rnxt)) {
                conn.rnxt = end;
            }
            if flags & FIN != 0 {
                let next = match conn.state {
                    ESTABLISHED => CLOSE_WAIT,
                    FIN_WAIT_1 => CLOSING,
                    FIN_WAIT_2 => TIME_WAIT,
                    _ => 0,
                };
                if next != 0 {
                    changes.push((conn.state, next));
                    conn.state = next;
                }
            }
        }
        let closed = conn.state == CLOSED;
        for &(old, new) in &changes {
            let mut e = self.state_change(&ev, old, new);
            if let Some(probe) = established.filter(|_| new == ESTABLISHED) {
                out.push(e);
                let mut seg = ev;
                seg.sock = e.sock;
                seg.sock.prev_state = 0;
                e = with_probe(&seg, probe);
            }
            out.push(e);
        }
        if closed {
            self.conns.remove(&key);
        }
        self.deliver(out, f);
    }

    /// A state-change record for the connection of `ev` (no segment).
    fn state_change(&self, ev: &TcpEvent, old: i32, new: i32) -> TcpEvent {
        let key = (ev.laddr, ev.lport, ev.raddr, ev.rport);
        let mut e = TcpEvent {
            hdr: ev.hdr,
            ipver: ev.ipver,
            dir: ev.dir,
            laddr: ev.laddr,
            raddr: ev.raddr,
            lport: ev.lport,
            rport: ev.rport,
            ..TcpEvent::default()
        };
        e.hdr.probe = TCP_STATE_CHANGE;
        e.sock = self.sockstate(&key, ev);
        e.sock.state = new;
        e.sock.prev_state = old;
        e
    }

    fn sockstate(&self, key: &Key, ev: &TcpEvent) -> TcpSockState {
        let Some(c) = self.conns.get(key) else {
            return TcpSockState::default();
        };
        let n = if ev.ipver == 4 { 4 } else { 16 };
        let loopback = if ev.ipver == 4 {
            ev.raddr[0] == 127
        } else {
            ev.raddr == std::net::Ipv6Addr::LOCALHOST.octets()
        };
        TcpSockState {
            state: c.state,
            active: c.active as u8,
            local: (loopback || ev.laddr[..n] == ev.raddr[..n]) as u8,
            iss: c.iss,
            irs: c.irs,
            suna: c.suna,
            snxt: c.snxt,
            rnxt: c.rnxt,
            swnd: c.swnd,
            rwnd: c.rwnd,
            ..TcpSockState::default()
        }
    }

    fn deliver(&self, out: Vec<TcpEvent>, f: &mut dyn FnMut(&[u8])) {
        for e in out.iter().filter(|e| self.on(e.hdr.probe)) {
            f(e.as_bytes());
        }
    }
}

fn with_probe(ev: &TcpEvent, probe: u32) -> TcpEvent {
    let mut e = *ev;
    e.hdr.probe = probe;
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::DIR_RECEIVE;

    const L: [u8; 16] = [192, 0, 2, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const R: [u8; 16] = [192, 0, 2, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// A segment sent (`out`) or received on L:80 <-> R:5000.
    fn seg(out: bool, flags: u8, seq: u32, ack: u32) -> TcpEvent {
        let (s, d, sp, dp) = if out {
            (L, R, 80, 5000)
        } else {
            (R, L, 5000, 80)
        };
        TcpEvent {
            dir: if out { DIR_SEND } else { DIR_RECEIVE },
            ipver: 4,
            tcp_flags: flags,
            tcp_offset: 20,
            ip_plength: 20,
            seq,
            ack,
            saddr: s,
            daddr: d,
            sport: sp,
            dport: dp,
            laddr: L,
            raddr: R,
            lport: 80,
            rport: 5000,
            ..TcpEvent::default()
        }
    }

    /// (probe, old state, new state or the record's state) of what `segs` report.
    fn run(segs: &[TcpEvent]) -> Vec<(u32, i32, i32)> {
        let all: Vec<u32> = (TCP_SEND..=crate::catalog::TCP_ACCEPT_REFUSED).collect();
        let mut t = TcpTracker::new(&all);
        let mut out = Vec::new();
        for s in segs {
            t.segment(*s, &mut |b| {
                let e = TcpEvent::read_from(b).unwrap();
                out.push((e.hdr.probe, e.sock.prev_state, e.sock.state));
            });
        }
        out
    }

    fn changes(out: &[(u32, i32, i32)]) -> Vec<(i32, i32)> {
        out.iter()
            .filter(|e| e.0 == TCP_STATE_CHANGE)
            .map(|e| (e.1, e.2))
            .collect()
    }

    #[test]
    fn simultaneous_close_goes_through_closing() {
        let out = run(&[
            seg(true, FIN | ACK, 100, 500),
            seg(false, FIN | ACK, 500, 100),
            seg(false, ACK, 501, 101),
        ]);
        // first seen mid-connection: established, without a state change
        assert_eq!(
            changes(&out),
            [
                (ESTABLISHED, FIN_WAIT_1),
                (FIN_WAIT_1, CLOSING),
                (CLOSING, TIME_WAIT)
            ]
        );
    }

    #[test]
    fn reset_closes_and_forgets_the_connection() {
        let out = run(&[
            seg(false, SYN, 10, 0),
            seg(true, SYN | ACK, 90, 11),
            seg(false, ACK, 11, 91),
            seg(false, RST, 11, 0),
            seg(true, ACK, 91, 11),
        ]);
        assert_eq!(
            changes(&out),
            [
                (LISTEN, SYN_RECEIVED),
                (SYN_RECEIVED, ESTABLISHED),
                (ESTABLISHED, CLOSED)
            ]
        );
        assert!(out
            .iter()
            .any(|e| e.0 == TCP_ACCEPT_ESTABLISHED && e.2 == ESTABLISHED));
        // a later segment starts over as a connection seen mid-stream
        assert_eq!(out.last(), Some(&(TCP_SEND, 0, ESTABLISHED)));
    }

    #[test]
    fn a_syn_answered_by_rst_is_refused_not_accepted() {
        let out = run(&[seg(false, SYN, 10, 0), seg(true, RST | ACK, 0, 11)]);
        assert_eq!(out[1].0, TCP_ACCEPT_REFUSED);
        assert_eq!(out[1].2, CLOSED);
        assert!(changes(&out).is_empty());
        // a RST that answers no SYN is not a refusal
        let out = run(&[seg(true, RST | ACK, 0, 11)]);
        assert!(out.iter().all(|e| e.0 != TCP_ACCEPT_REFUSED));
    }
}
