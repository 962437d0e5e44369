#!/bin/bash
# bench/syscall_rates.sh [ROUNDS]: issue 16's system-call scenarios.
#
# A storm of 4M read/write calls (dd bs=1 count=2M, /dev/zero to /dev/null)
# runs untraced and under each tracer below, rounds interleaved; each row is
# the median over rounds of (untraced storm time / traced storm time) taken
# within a round (these machines are noisy). Printed as markdown rows; raw
# times, output line counts and drop reports in $OUT (bench-out/syscall).
#
#   count     syscall:::entry { @[execname] = count(); }
#   reject    syscall:::entry /pid == 1/ { @[execname] = count(); }
#   openat    syscall::openat:entry { @ = count(); }
#   printf    syscall::read:entry { printf("%s %d\n", execname, arg2); } to a file
#   floor     syscall::[a-q]*:entry { @ = count(); }: rdtrace only; the
#             storm's read/write are not traced, so each call runs the
#             least any program on raw_syscalls:sys_enter runs (one array
#             lookup): the floor under the other scenarios
#
# rdtrace runs each with its in-kernel work (filters, aggregation) and, as
# `-user`, with it off (RDTRACE_NO_KERNEL_FILTER=1, RDTRACE_NO_KERNEL_AGG=1:
# every event crosses the ring buffer). bpftrace runs its equivalents.
# Root; builds rdtrace release unless RDTRACE names a binary. With DATA set
# (bench/run.sh's section `syscall`), each round's ratio and drop reports
# are appended to that measurements file for bench/report.py.
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
OUT=${OUT:-bench-out/syscall}
COUNT=${COUNT:-2000000}
if [ -z "${RDTRACE:-}" ]; then
  cargo build --release --locked -q
  RDTRACE=./target/release/rdtrace
fi
mkdir -p "$OUT"
rm -f "$OUT"/*.times "$OUT"/*.lines "$OUT"/*.drops
STORM="dd if=/dev/zero of=/dev/null bs=1 count=$COUNT 2>/dev/null"
storm() { /usr/bin/time -f %e sh -c "$STORM" 2>&1 | tail -n 1; }

declare -A RD BT
RD[count]='syscall:::entry { @[execname] = count(); }'
RD[reject]='syscall:::entry /pid == 1/ { @[execname] = count(); }'
RD[openat]='syscall::openat:entry { @ = count(); }'
RD[printf]='syscall::read:entry { printf("%s %d\n", execname, arg2); }'
RD[floor]='syscall::[a-q]*:entry { @ = count(); }'
BT[count]='tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'
BT[reject]='tracepoint:raw_syscalls:sys_enter /pid == 1/ { @[comm] = count(); }'
BT[openat]='tracepoint:syscalls:sys_enter_openat { @ = count(); }'
BT[printf]='tracepoint:syscalls:sys_enter_read { printf("%s %d\n", comm, args->count); }'
SCENARIOS="count reject openat printf floor"

# traced NAME SCENARIO CMD...: the storm's time while CMD runs (started,
# given 3 s to attach, stopped with SIGINT after); its output goes to a
# file whose lines are counted; drop reports on stderr are counted.
traced() {
  local name=$1 sc=$2 pid
  shift 2
  "$@" > "$OUT/out" 2> "$OUT/err" &
  pid=$!
  sleep 3
  storm >> "$OUT/$name-$sc.times"
  kill -INT $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  wc -l < "$OUT/out" >> "$OUT/$name-$sc.lines"
  { grep -ciE 'drop|lost' "$OUT/err" || true; } >> "$OUT/$name-$sc.drops"
}

for r in $(seq "$ROUNDS"); do
  for sc in $SCENARIOS; do
    storm >> "$OUT/untraced-$sc.times"
    traced rdtrace "$sc" "$RDTRACE" -q -n "${RD[$sc]}"
    [ "$sc" = floor ] && continue
    traced rdtrace-user "$sc" env RDTRACE_NO_KERNEL_FILTER=1 RDTRACE_NO_KERNEL_AGG=1 \
      "$RDTRACE" -q -n "${RD[$sc]}"
    if command -v bpftrace > /dev/null; then
      traced bpftrace "$sc" bpftrace -e "${BT[$sc]}"
    fi
  done
done

if [ -n "${DATA:-}" ]; then
  for sc in $SCENARIOS; do
    for t in rdtrace rdtrace-user bpftrace; do
      [ -f "$OUT/$t-$sc.times" ] || continue
      paste "$OUT/untraced-$sc.times" "$OUT/$t-$sc.times" "$OUT/$t-$sc.drops" |
        awk -v m="$t/$sc" '{printf "syscall\t%s/ratio\t%d\t%.4f\nsyscall\t%s/drops\t%d\t%d\n", m, NR, $1 / $2, m, NR, $3}' >> "$DATA"
    done
  done
fi

# ratios FILE_UNTRACED FILE_TRACED: per-round ratios, then their median.
ratios() { paste "$1" "$2" | awk '{printf "%.2f\n", $1 / $2}'; }
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "| scenario | tracer | storm s (median) | throughput / untraced (median of rounds) | rounds | output lines (median) | rounds reporting drops |"
echo "|---|---|---|---|---|---|---|"
for sc in $SCENARIOS; do
  echo "| $sc | untraced | $(median < "$OUT/untraced-$sc.times") | 1.00 | | | |"
  for t in rdtrace rdtrace-user bpftrace; do
    f=$OUT/$t-$sc.times
    [ -f "$f" ] || continue
    rs=$(ratios "$OUT/untraced-$sc.times" "$f")
    echo "| $sc | $t | $(median < "$f") | $(echo "$rs" | median) | $(echo $rs) | $(median < "$OUT/$t-$sc.lines") | $(awk '$1 > 0' "$OUT/$t-$sc.drops" | wc -l) |"
  done
done
