#!/usr/bin/env python3
"""Writes a pcap of N Ethernet/IPv4/TCP segments for the replay benchmark.

The traffic is that of one host (LOCAL, default 192.0.2.8) talking to a few
peers over several concurrent connections: handshakes (with SYN options and
ECN negotiation on some), request/response exchanges with MSS-sized data
segments and delayed ACKs, and closes by FIN or by RST. Sequence and
acknowledgement numbers follow each side's stream. Every segment has LOCAL
as its source or its destination, so a replay with `--local LOCAL` turns
each one into exactly one tcp:::send or tcp:::receive event.

IPv4 header checksums are correct; TCP checksums are left 0 (as in a capture
taken with checksum offload), which neither tcpdump -nn nor rdtrace checks.
Standard library only; deterministic for a given --seed.

usage: gen_capture.py OUT.pcap [--segments N] [--local ADDR] [--seed S]
"""

import argparse
import random
import socket
import struct
import sys

MSS = 1448
CONCURRENT = 4

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80

PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # usec, LINKTYPE_ETHERNET
RECORD = struct.Struct("<IIII")
IPV4 = struct.Struct("!BBHHHBBH4s4s")
TCP = struct.Struct("!HHIIBBHHH")

# SYN options as Linux sends them: MSS, SACK permitted, timestamps, NOP, window scale.
SYN_OPTIONS = bytes.fromhex("020405b4" "0402080a") + b"\0" * 8 + bytes.fromhex("01030307")
# NOP, NOP, timestamps: the options of every later segment when timestamps are on.
TS_OPTIONS = bytes.fromhex("0101080a") + b"\0" * 8

PAYLOAD = bytes(range(256)) * (65536 // 256)


class Endpoint:
    """One side of a connection: address, port, MAC and next sequence number."""

    def __init__(self, addr, port, mac, isn):
        self.addr = socket.inet_aton(addr)
        self.port = port
        self.mac = mac
        self.nxt = isn


class Writer:
    """Accumulates pcap records and writes them in large blocks."""

    def __init__(self, out, limit):
        self.out = out
        self.limit = limit
        self.count = 0
        self.chunks = []
        self.ts_us = 1_700_000_000 * 1_000_000
        self.ip_id = 0

    def segment(self, src, dst, flags, payload_len, options, window):
        """Appends one segment from src to dst and advances src's sequence number."""
        tcp_len = 20 + len(options)
        total = 20 + tcp_len + payload_len
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        ip = IPV4.pack(0x45, 0, total, self.ip_id, 0x4000, 64, 6, 0, src.addr, dst.addr)
        ip = ip[:10] + struct.pack("!H", ipv4_checksum(ip)) + ip[12:]
        ack = dst.nxt if flags & ACK else 0
        tcp = TCP.pack(src.port, dst.port, src.nxt, ack, (tcp_len // 4) << 4, flags, window, 0, 0)
        frame = dst.mac + src.mac + b"\x08\x00" + ip + tcp + options + PAYLOAD[:payload_len]
        self.ts_us += random.choice((3, 7, 12, 40, 250))
        self.chunks.append(RECORD.pack(self.ts_us // 1_000_000, self.ts_us % 1_000_000, len(frame), len(frame)))
        self.chunks.append(frame)
        src.nxt = (src.nxt + payload_len + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF
        self.count += 1
        if len(self.chunks) >= 16384:
            self.flush()

    def full(self):
        return self.count >= self.limit

    def flush(self):
        self.out.write(b"".join(self.chunks))
        self.chunks = []


def ipv4_checksum(header):
    s = sum(struct.unpack("!10H", header))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def connection(w, local, remote, local_is_client):
    """Yields once per segment written, so that connections interleave."""
    client, server = (local, remote) if local_is_client else (remote, local)
    timestamps = random.random() < 0.8
    opts = TS_OPTIONS if timestamps else b""
    ecn = random.random() < 0.25
    win = random.choice((502, 1024, 4096, 65535))

    w.segment(client, server, SYN | (ECE | CWR if ecn else 0), 0, SYN_OPTIONS, 64240)
    yield
    w.segment(server, client, SYN | ACK | (ECE if ecn else 0), 0, SYN_OPTIONS, 65160)
    yield
    w.segment(client, server, ACK, 0, opts, win)
    yield

    for _ in range(random.randint(1, 40)):
        request = random.choice((1, 40, 77, 310, 517, 1200))
        w.segment(client, server, PSH | ACK, request, opts, win)
        yield
        response = random.choice((0, 1, 120, 600, 1448, 4000, 16384, 65536))
        if response == 0:
            w.segment(server, client, ACK, 0, opts, win)
            yield
        unacked = 0
        while response > 0:
            size = min(MSS, response)
            response -= size
            urgent = URG if random.random() < 0.0005 else 0
            w.segment(server, client, ACK | urgent | (PSH if response == 0 else 0), size, opts, win)
            yield
            unacked += 1
            if unacked == 2 or response == 0:  # delayed ACK: one per two full segments
                w.segment(client, server, ACK, 0, opts, win)
                unacked = 0
                yield

    if random.random() < 0.1:
        sender, receiver = (client, server) if random.random() < 0.5 else (server, client)
        w.segment(sender, receiver, RST | ACK, 0, b"", 0)
        yield
        return
    first, second = (client, server) if random.random() < 0.6 else (server, client)
    w.segment(first, second, FIN | ACK, 0, opts, win)
    yield
    w.segment(second, first, FIN | ACK, 0, opts, win)
    yield
    w.segment(first, second, ACK, 0, opts, win)
    yield


def new_connection(w, local_addr, serial):
    local_mac = bytes.fromhex("020000000008")
    remote_mac = bytes.fromhex("020000000028")
    remote_addr = random.choice(("192.0.2.40", "198.51.100.7", "203.0.113.19"))
    local_is_client = random.random() < 0.7
    ephemeral = 32768 + (serial * 7919) % 28000
    if local_is_client:
        local = Endpoint(local_addr, ephemeral, local_mac, random.getrandbits(32))
        remote = Endpoint(remote_addr, random.choice((80, 443, 5201, 8080)), remote_mac, random.getrandbits(32))
    else:
        local = Endpoint(local_addr, random.choice((22, 443)), local_mac, random.getrandbits(32))
        remote = Endpoint(remote_addr, ephemeral, remote_mac, random.getrandbits(32))
    return connection(w, local, remote, local_is_client)


def generate(out, segments, local_addr):
    out.write(PCAP_HEADER)
    w = Writer(out, segments)
    serial = 0
    active = []
    while not w.full():
        while len(active) < CONCURRENT:
            active.append(new_connection(w, local_addr, serial))
            serial += 1
        i = random.randrange(len(active))
        try:
            next(active[i])
        except StopIteration:
            active.pop(i)
    w.flush()
    return w.count, serial


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--segments", type=int, default=1_000_000)
    p.add_argument("--local", default="192.0.2.8")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if a.segments <= 0:
        sys.exit("gen_capture.py: --segments must be positive")
    random.seed(a.seed)
    with open(a.out, "wb") as out:
        count, conns = generate(out, a.segments, a.local)
    print(f"{a.out}: {count} segments, {conns} connections, local {a.local}")


if __name__ == "__main__":
    main()
