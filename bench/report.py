#!/usr/bin/env python3
"""Turns the raw numbers of bench/run.sh into bench/RESULTS.md (on stdout).

usage: report.py OUT_DIR [OLD_RESULTS]
    (reads OUT_DIR/meta.env and OUT_DIR/measurements.tsv; from OLD_RESULTS,
    the RESULTS.md being replaced, keeps the numbered sections this script
    does not write: results of other tools, dated, written by hand)

measurements.tsv has one line per raw number: section, metric, round, value.
Ratios are computed per round (the two programs ran side by side in that
round) and then the median of those ratios is taken, which cancels the slow
drift of a noisy machine better than a ratio of two medians.
"""

import statistics
import sys
from collections import defaultdict
from pathlib import Path

MB = 1_000_000  # the targets say MB; /usr/bin/time reports KiB


def load(out):
    meta = {}
    for line in (out / "meta.env").read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            meta[k] = v
    data = defaultdict(dict)
    tsv = out / "measurements.tsv"
    for line in tsv.read_text().splitlines() if tsv.exists() else []:
        parts = line.split("\t")
        if len(parts) != 4:
            continue
        section, metric, rnd, value = parts
        try:
            data[(section, metric)][int(rnd)] = float(value)
        except ValueError:
            pass
    return meta, data


class Report:
    def __init__(self, meta, data):
        self.meta = meta
        self.data = data
        self.lines = []
        self.verdicts = []

    def get(self, section, metric):
        return self.data.get((section, metric), {})

    def out(self, text=""):
        self.lines.append(text)

    def table(self, rows):
        self.out("| measurement | median | rounds | target | result |")
        self.out("|---|---|---|---|---|")
        for r in rows:
            self.out("| " + " | ".join(r) + " |")
        self.out()

    def verdict(self, name, ok):
        """MET / MISSED / NO DATA, remembered for the summary."""
        word = "NO DATA" if ok is None else ("MET" if ok else "MISSED")
        self.verdicts.append((name, word))
        return f"**{word}**"


def med(values):
    return statistics.median(values) if values else None


def ratios(num, den):
    """Per-round num/den for the rounds that have both."""
    return [num[r] / den[r] for r in sorted(num) if r in den and den[r] > 0]


def fmt(v, digits=2, unit=""):
    if v is None:
        return "—"
    return f"{v:,.{digits}f}{unit}"


def rounds(values, digits=2, scale=1.0):
    if not values:
        return "—"
    vals = list(values.values() if isinstance(values, dict) else values)
    if len(vals) > 10:  # startup and compile: many short runs
        return f"{min(vals) * scale:.{digits}f} … {max(vals) * scale:.{digits}f} ({len(vals)} runs)"
    return " ".join(f"{v * scale:.{digits}f}" for v in vals)


def live(rep):
    g = lambda m: rep.get("live", m)
    none, rd, bt = g("bulk_none_gbps"), g("bulk_rdtrace_gbps"), g("bulk_bpftrace_gbps")
    p4none, p4rd, events, p4drops = g("p4_none_gbps"), g("p4_rdtrace_gbps"), g("p4_events"), g("p4_drops")
    r_rd, r_bt, r_p4 = ratios(rd, none), ratios(bt, none), ratios(p4rd, p4none)
    rd_ratio = med(r_rd)
    max_drops = max(p4drops.values()) if p4drops else None
    duration = float(rep.meta.get("duration", "0") or 0)
    eps = [e / duration for e in events.values()] if duration else []
    rep.out(f"## 1. Live overhead (loopback iperf3, {rep.meta.get('duration')} s per run)")
    rep.out()
    rep.out("Each round runs, one after the other: iperf3 with no tracer; under "
            "`rdtrace -s tcpio.d > /dev/null`; under `bpftrace bench/tcpio.bt > /dev/null`; "
            "`iperf3 -P 4` with no tracer; `iperf3 -P 4` under rdtrace with its output counted "
            "through a pipe (`grep -c .`). iperf3 starts once the tracer holds a loaded BPF program "
            f"plus {rep.meta.get('attach_wait')} s (output to /dev/null), or once rdtrace's header line "
            "has come out (-P 4). Tracers are stopped with SIGINT. Ratios are taken within a round, "
            "then the median over rounds.")
    rep.out()
    rep.table([
        ["throughput, no tracer", fmt(med(list(none.values())), 2, " Gbit/s"), rounds(none), "", ""],
        ["throughput, rdtrace tcpio.d", fmt(med(list(rd.values())), 2, " Gbit/s"), rounds(rd), "", ""],
        ["throughput, bpftrace tcpio.bt", fmt(med(list(bt.values())), 2, " Gbit/s"), rounds(bt), "", ""],
        ["**rdtrace / no tracer**", fmt(rd_ratio, 3), rounds(r_rd, 3), "≥ 0.90",
         rep.verdict("live throughput ratio", None if rd_ratio is None else rd_ratio >= 0.90)],
        ["bpftrace / no tracer", fmt(med(r_bt), 3), rounds(r_bt, 3), "(reference: about 0.56)", ""],
        ["rdtrace drops, bulk", fmt(max(g("bulk_rdtrace_drops").values(), default=None), 0), rounds(g("bulk_rdtrace_drops"), 0), "", ""],
        ["bpftrace lost events, bulk", fmt(max(g("bulk_bpftrace_lost").values(), default=None), 0), rounds(g("bulk_bpftrace_lost"), 0), "", ""],
        ["CPU s (user+sys), rdtrace bulk", fmt(med(list(g("bulk_rdtrace_cpu_s").values()))), rounds(g("bulk_rdtrace_cpu_s")), "", ""],
        ["CPU s (user+sys), bpftrace bulk", fmt(med(list(g("bulk_bpftrace_cpu_s").values()))), rounds(g("bulk_bpftrace_cpu_s")), "", ""],
        ["-P 4 throughput, no tracer", fmt(med(list(p4none.values())), 2, " Gbit/s"), rounds(p4none), "", ""],
        ["-P 4 throughput, rdtrace (output counted)", fmt(med(list(p4rd.values())), 2, " Gbit/s"), rounds(p4rd), "", ""],
        ["-P 4 rdtrace / no tracer", fmt(med(r_p4), 3), rounds(r_p4, 3), "", ""],
        ["-P 4 events seen by rdtrace", fmt(med(list(events.values())), 0), rounds(events, 0), "", ""],
        ["-P 4 events per second", fmt(med(eps), 0), rounds(eps, 0), "", ""],
        ["**-P 4 drops (worst round)**", fmt(max_drops, 0), rounds(p4drops, 0), "0",
         rep.verdict("no drops at -P 4", None if max_drops is None else max_drops == 0)],
    ])


def replay(rep):
    g = lambda m: rep.get("replay", m)
    rd_ms, td_ms = g("rdtrace_ms"), g("tcpdump_ms")
    events = g("rdtrace_events").get(0)
    packets = g("tcpdump_packets").get(0)
    rd_eps = {r: events / (ms / 1000) for r, ms in rd_ms.items()} if events else {}
    td_pps = {r: packets / (ms / 1000) for r, ms in td_ms.items()} if packets else {}
    rr = ratios(rd_eps, td_pps)
    ratio = med(rr)
    rep.out(f"## 2. Replay throughput ({rep.meta.get('segments')} generated TCP segments)")
    rep.out()
    rep.out("`bench/gen_capture.py` writes an Ethernet/IPv4/TCP pcap (several concurrent connections, "
            "handshakes with options and ECN, request/response data with delayed ACKs, FIN and RST "
            "closes). Each round times `rdtrace -q -s tcpio.d --replay FILE --local 192.0.2.8 > /dev/null` "
            "and `tcpdump -nn -r FILE > /dev/null` back to back, page cache warm. Event and packet "
            f"counts come from one untimed run of each: rdtrace {fmt(events, 0)} events, "
            f"tcpdump {fmt(packets, 0)} packets.")
    rep.out()
    rep.table([
        ["rdtrace wall time", fmt(med(list(rd_ms.values())), 0, " ms"), rounds(rd_ms, 0), "", ""],
        ["tcpdump wall time", fmt(med(list(td_ms.values())), 0, " ms"), rounds(td_ms, 0), "", ""],
        ["rdtrace events/s", fmt(med(list(rd_eps.values())), 0), rounds(rd_eps, 0), "", ""],
        ["tcpdump packets/s", fmt(med(list(td_pps.values())), 0), rounds(td_pps, 0), "", ""],
        ["**rdtrace / tcpdump**", fmt(ratio, 2, "×"), rounds(rr), "≥ 3×",
         rep.verdict("replay vs tcpdump", None if ratio is None else ratio >= 3)],
    ])


def startup(rep):
    g = lambda m: rep.get("startup", m)
    rb, bb, ra, ba = g("rdtrace_begin_ms"), g("bpftrace_begin_ms"), g("rdtrace_attach_ms"), g("bpftrace_attach_ms")
    m_rb, m_bb, m_ra, m_ba = (med(list(x.values())) for x in (rb, bb, ra, ba))
    speedup = m_bb / m_rb if m_rb and m_bb else None
    attach_speedup = m_ba / m_ra if m_ra and m_ba else None
    rep.out(f"## 3. Startup ({rep.meta.get('startup_runs')} interleaved runs each)")
    rep.out()
    rep.out("Wall time of `rdtrace -n 'BEGIN { exit(0); }'` and `bpftrace -e 'BEGIN { exit(); }'`; and the "
            "time from starting `rdtrace -s tcpio.d` until its header line (printed by BEGIN, which fires "
            "once the probes are attached) appears on its terminal, against bpftrace running tcpio.bt "
            "with a BEGIN clause added that prints a line (bpftrace also fires BEGIN after attaching). "
            "Output goes to a pseudo-terminal, as for a user at a shell.")
    rep.out()
    rep.table([
        ["**rdtrace `BEGIN { exit(0); }`**", fmt(m_rb, 1, " ms"), rounds(rb, 1), "< 50 ms",
         rep.verdict("startup < 50 ms", None if m_rb is None else m_rb < 50)],
        ["bpftrace `BEGIN { exit(); }`", fmt(m_bb, 1, " ms"), rounds(bb, 1), "", ""],
        ["**bpftrace / rdtrace**", fmt(speedup, 1, "×"), "", "≥ 5×",
         rep.verdict("startup ≥ 5× bpftrace", None if speedup is None else speedup >= 5)],
        ["rdtrace tcpio.d until attached", fmt(m_ra, 1, " ms"), rounds(ra, 1), "", ""],
        ["bpftrace tcpio.bt until attached", fmt(m_ba, 1, " ms"), rounds(ba, 1), "", ""],
        ["bpftrace / rdtrace, attach", fmt(attach_speedup, 1, "×"), "", "", ""],
    ])


def memory(rep):
    g = lambda m: rep.get("memory", m)
    rows = []
    for metric, what in (("rss_live_bulk_kb", "rdtrace, live bulk (§1)"),
                         ("rss_live_p4_kb", "rdtrace, live -P 4 (§1)"),
                         ("rss_replay_kb", "rdtrace, replay (§2)")):
        v = g(metric)
        peak = max(v.values()) * 1024 / MB if v else None
        rows.append([f"**peak RSS, {what}**", fmt(peak, 1, " MB") + " (max)", rounds(v, 1, 1024 / MB), "< 30 MB",
                     rep.verdict(f"peak RSS {what}", None if peak is None else peak < 30)])
    v = g("rss_bpftrace_bulk_kb")
    rows.append(["peak RSS, bpftrace, live bulk", fmt(max(v.values()) * 1024 / MB if v else None, 1, " MB") + " (max)",
                 rounds(v, 1, 1024 / MB), "", ""])
    rep.out("## 4. Memory (peak RSS from `/usr/bin/time -f %M` around each run; 1 MB = 10^6 bytes)")
    rep.out()
    rep.table(rows)


def compile_(rep):
    g = lambda m: rep.get("compile", m)
    script, empty = g("script_ms"), g("empty_ms")
    m_s, m_e = med(list(script.values())), med(list(empty.values()))
    diff = m_s - m_e if m_s is not None and m_e is not None else None
    rep.out(f"## 5. Compile ({rep.meta.get('compile_runs')} interleaved runs each)")
    rep.out()
    rep.out("Parse + check + JIT of `bench/scripts/200lines.d`: the median wall time of "
            "`rdtrace -e -s 200lines.d` minus that of `rdtrace -e -n 'BEGIN{}'` (process start, "
            "catalog and an empty program).")
    rep.out()
    rows = [
        ["`rdtrace -e -s 200lines.d`", fmt(m_s, 2, " ms"), rounds(script, 1), "", ""],
        ["`rdtrace -e -n 'BEGIN{}'`", fmt(m_e, 2, " ms"), rounds(empty, 1), "", ""],
        ["**difference (200-line script)**", fmt(diff, 2, " ms"), "", "< 5 ms",
         rep.verdict("compile < 5 ms", None if diff is None else diff < 5)],
    ]
    for metric, what in (("bench_parse_check_us", "parse + check"), ("bench_parse_check_jit_us", "parse + check + JIT")):
        v = g(metric).get(0)
        if v is not None:
            rows.append([f"in process, {what} (`cargo bench -p rdtrace-runtime --bench compile`)",
                         fmt(v / 1000, 3, " ms"), "", "", ""])
    rep.table(rows)


SYSCALL_SCENARIOS = (
    ("count", "`syscall:::entry { @[execname] = count(); }`", 0.60),
    ("reject", "`syscall:::entry /pid == 1/ { @[execname] = count(); }`", 0.70),
    ("openat", "`syscall::openat:entry { @ = count(); }` (the storm does read/write)", 0.90),
    ("printf", "`syscall::read:entry { printf(\"%s %d\\n\", execname, arg2); }` to a file", 0.30),
    ("floor", "floor: `syscall::[a-q]*:entry { @ = count(); }` (read/write not traced: the least a "
              "program on raw_syscalls:sys_enter does)", None),
)
SYSCALL_TITLE = "## 11. System calls at storm rates"


def syscall(rep):
    rep.out(f"{SYSCALL_TITLE} (`bench/syscall_rates.sh`, issue 16)")
    rep.out()
    rep.out("A storm of 4M read/write calls (`dd if=/dev/zero of=/dev/null bs=1 count=2000000`) "
            "untraced and under each tracer, scenarios and tracers interleaved in each round; the "
            "ratio is untraced time / traced time within a round, then the median over rounds. "
            "`rdtrace-user`: the same binary with its in-kernel filter and aggregation off (every "
            "event crosses the ring buffer). bpftrace runs the equivalent tracepoint programs. "
            "Drops: rounds in which the tracer reported any.")
    rep.out()
    rows = []
    for sc, label, target in SYSCALL_SCENARIOS:
        for tracer in ("rdtrace", "rdtrace-user", "bpftrace"):
            r = rep.get("syscall", f"{tracer}/{sc}/ratio")
            if not r:
                continue
            m = med(list(r.values()))
            dropped = sum(1 for v in rep.get("syscall", f"{tracer}/{sc}/drops").values() if v > 0)
            result, tgt = "", ""
            if tracer == "rdtrace" and target is not None:
                ok = m >= target and (sc != "printf" or dropped == 0)
                tgt = f"≥ {target:.2f}" + (", 0 drops" if sc == "printf" else "")
                result = rep.verdict(f"syscall {sc} ≥ {target:.2f}", ok)
            rows.append([f"{label}, {tracer} (drops in {dropped} rounds)", fmt(m), rounds(r), tgt, result])
    rep.table(rows)


def kept_sections(old, sections):
    """Numbered sections of the old RESULTS.md that this run does not
    write (sections not run, other tools' results), each marked with the
    old run's date and commit when it came from bench/run.sh."""
    if old is None or not old.exists():
        return []
    titles = {"live": ["## 1. ", "## 4. "], "replay": ["## 2. ", "## 4. "], "startup": ["## 3. "],
              "compile": ["## 5. "], "syscall": [SYSCALL_TITLE]}
    written = tuple(t for name in sections for t in titles.get(name, []))
    generated = ("## 1. ", "## 2. ", "## 3. ", "## 4. ", "## 5. ", SYSCALL_TITLE)
    lines = old.read_text().splitlines()
    meta = {}
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 2 and cells[0] in ("date", "rdtrace commit"):
            meta.setdefault(cells[0], cells[1])
    kept, keep = [], False
    for line in lines:
        if line.startswith("## "):
            keep = line[3:4].isdigit() and not (written and line.startswith(written))
            if keep:
                kept.append(line)
                if line.startswith(generated):
                    kept.append("")
                    kept.append(f"(Not measured in this run: from the run of {meta.get('date', '?')}, "
                                f"commit {meta.get('rdtrace commit', '?')}.)")
                continue
        if keep:
            kept.append(line)
    return kept


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    meta, data = load(Path(sys.argv[1]))
    rep = Report(meta, data)
    sections = meta.get("sections", "").split()
    body = Report(meta, data)
    for name, fn in (("live", live), ("replay", replay), ("startup", startup)):
        if name in sections:
            fn(body)
    if "live" in sections or "replay" in sections:
        memory(body)
    if "compile" in sections:
        compile_(body)
    # After the kept sections (6–10), in number order.
    late = Report(meta, data)
    if "syscall" in sections:
        syscall(late)
    body.verdicts += late.verdicts

    rep.out("# rdtrace benchmark results")
    rep.out()
    rep.out("Written by `bench/run.sh` (one command, as root); raw numbers and logs in `bench-out/`.")
    rep.out()
    rep.out("| | |")
    rep.out("|---|---|")
    for key, label in (("date", "date"), ("commit", "rdtrace commit"), ("cpu", "CPU"), ("nproc", "cores (nproc)"),
                       ("memory", "memory"), ("kernel", "kernel"), ("iperf3", "iperf3"), ("bpftrace", "bpftrace"),
                       ("tcpdump", "tcpdump"), ("rounds", "rounds (live, replay)")):
        rep.out(f"| {label} | {meta.get(key, '?')} |")
    rep.out()
    rep.out("## Summary")
    rep.out()
    rep.out("| target | result |")
    rep.out("|---|---|")
    for name, word in body.verdicts:
        rep.out(f"| {name} | {word} |")
    rep.out()
    rep.lines += body.lines
    kept = kept_sections(Path(sys.argv[2]) if len(sys.argv) == 3 else None, sections)
    if kept:
        if rep.lines[-1] != "":
            rep.out()
        rep.lines += kept
    if late.lines:
        if rep.lines[-1] != "":
            rep.out()
        rep.lines += late.lines
    print("\n".join(rep.lines))


if __name__ == "__main__":
    main()
