#!/bin/sh
# bench/syscall_filter.sh [ROUNDS]: the in-kernel predicate at system-call
# rates. A storm of 2M read/write calls (dd bs=1 count=1M to /dev/null),
# untraced and under `syscall:::entry /pid == 1/ { @ = count(); }` (the
# predicate rejects every call) with rdtrace's kernel filter, without it
# (RDTRACE_NO_KERNEL_FILTER=1) and under bpftrace's equivalent; rounds
# interleaved, medians of the storm's wall time printed as markdown rows
# (throughput ratio = untraced time / traced time). Root; builds rdtrace.
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
cargo build --release --locked -q
RD=./target/release/rdtrace
STORM='dd if=/dev/zero of=/dev/null bs=1 count=1000000 2>/dev/null'
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
storm() { /usr/bin/time -f %e sh -c "$STORM" 2>&1 | tail -n 1; }
# traced NAME CMD...: the storm's time while CMD runs (started, given 3 s to
# attach, stopped with SIGINT after).
traced() {
  name=$1; shift
  "$@" > /dev/null 2>> "$T/err" &
  pid=$!
  sleep 3
  storm >> "$T/$name"
  kill -INT $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
}
for r in $(seq "$ROUNDS"); do
  storm >> "$T/untraced"
  traced rdtrace_kfilter $RD -q -n 'syscall:::entry /pid == 1/ { @ = count(); }'
  traced rdtrace_userspace env RDTRACE_NO_KERNEL_FILTER=1 $RD -q -n 'syscall:::entry /pid == 1/ { @ = count(); }'
  if command -v bpftrace > /dev/null; then
    traced bpftrace bpftrace -e 'tracepoint:raw_syscalls:sys_enter /pid == 1/ { @ = count(); }'
  fi
done
median() { sort -n "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
base=$(median "$T/untraced")
echo "| run | storm s (median of $ROUNDS) | throughput / untraced |"
echo "|---|---|---|"
for n in untraced rdtrace_kfilter rdtrace_userspace bpftrace; do
  [ -f "$T/$n" ] || continue
  m=$(median "$T/$n")
  echo "| $n | $m | $(echo "$base $m" | awk '{printf "%.2f", $1 / $2}') |"
done
