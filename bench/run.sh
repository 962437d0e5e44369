#!/bin/bash
# The rdtrace benchmark suite: one command, as root.
#
#   bench/run.sh
#
# Installs what it needs (iperf3, bpftrace, tcpdump, GNU time), builds rdtrace
# release, measures the five sections of issue 7 with the programs compared
# interleaved round by round, and writes bench/RESULTS.md (bench/report.py).
# Logs and raw numbers go to bench-out/ (gitignored).
#
# Environment (defaults in brackets):
#   ROUNDS [5]          rounds of the live and replay sections
#   DURATION [5]        seconds of each iperf3 run
#   SEGMENTS [1000000]  TCP segments in the replay capture
#   STARTUP_RUNS [20]   runs of each startup measurement
#   COMPILE_RUNS [40]   runs of each compile measurement
#   ATTACH_WAIT [1]     seconds to wait, once a tracer whose output goes to
#                       /dev/null holds a loaded BPF program, before starting
#                       iperf3 (there is no output to wait for; section 3
#                       measures how long attaching really takes)
#   SECTIONS ["live replay startup compile syscall"]  which sections to run
#   PORT [25201]        the iperf3 server's port on 127.0.0.1
#   RDTRACE             an rdtrace binary to use instead of building one
#   OUT [bench-out]     where logs and raw numbers go
#   RESULTS [bench/RESULTS.md]
set -u

BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
SEGMENTS=${SEGMENTS:-1000000}
STARTUP_RUNS=${STARTUP_RUNS:-20}
COMPILE_RUNS=${COMPILE_RUNS:-40}
ATTACH_WAIT=${ATTACH_WAIT:-1}
SECTIONS=${SECTIONS:-live replay startup compile syscall}
OUT=${OUT:-$REPO/bench-out}
RESULTS=${RESULTS:-$BENCH/RESULTS.md}
TCPIO=$REPO/scripts/tcpio.d
LOCAL_ADDR=192.0.2.8   # the local host of bench/gen_capture.py's traffic
PORT=${PORT:-25201}   # iperf3 server, on 127.0.0.1
MEASURE="python3 $BENCH/measure.py"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
DATA=$OUT/measurements.tsv
LOG=$OUT/run.log
: > "$LOG"

log() { echo "[$(date +%T)] $*" | tee -a "$LOG" >&2; }
die() { log "FATAL: $*"; exit 1; }

# record SECTION METRIC ROUND VALUE: one raw number for report.py.
record() {
  [ -n "$4" ] || { log "no value for $1/$2 round $3"; return; }
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$DATA"
}

# ---- background processes: every one we start is tracked and killed on exit.
BG=()
track() { BG+=("$1"); }
cleanup() {
  local p
  for p in "${BG[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      pkill -KILL -P "$p" 2>/dev/null   # the tracer under /usr/bin/time
      kill -KILL "$p" 2>/dev/null
    fi
  done
  wait 2>/dev/null
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# wait_exit PID SECONDS: true if PID ended within SECONDS.
wait_exit() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
    sleep 0.1
  done
  return 1
}

# stop_timed PID: SIGINT to the tracer that /usr/bin/time (PID) runs, then wait.
stop_timed() {
  local child
  child=$(pgrep -P "$1")
  [ -n "$child" ] && kill -INT $child 2>/dev/null
  if ! wait_exit "$1" 15; then
    log "tracer under pid $1 ignored SIGINT for 15 s; killing it"
    pkill -KILL -P "$1" 2>/dev/null
    wait "$1" 2>/dev/null
  fi
}

# wait_attached PID: for a tracer run under /usr/bin/time (PID) whose output
# goes to /dev/null: waits (30 s at most) until the tracer holds a loaded BPF
# program, then ATTACH_WAIT seconds more for it to attach its probes.
wait_attached() {
  local i child=
  for ((i = 0; i < 300; i++)); do
    kill -0 "$1" 2>/dev/null || return 1
    [ -n "$child" ] || child=$(pgrep -P "$1")
    if [ -n "$child" ] && ls -l "/proc/$child/fd" 2>/dev/null | grep -q 'anon_inode:bpf-prog'; then
      sleep "$ATTACH_WAIT"
      kill -0 "$1" 2>/dev/null
      return
    fi
    sleep 0.1
  done
  return 1
}

# rss_kb TIMEFILE: the peak RSS that `/usr/bin/time -f '%M ...'` wrote (last line).
rss_kb() { tail -n 1 "$1" 2>/dev/null | awk '{print $1}'; }
# cpu_s TIMEFILE: user + system seconds.
cpu_s() { tail -n 1 "$1" 2>/dev/null | awk '{printf "%.2f", $2 + $3}'; }
# drops ERRFILE: the sum of dtrace-style "N drops on CPU c" reports.
drops() { grep -oE '[0-9]+ drops? on CPU' "$1" | awk '{s += $1} END {print s + 0}'; }

# ---- setup
install_tools() {
  local need=()
  command -v iperf3 >/dev/null || need+=(iperf3)
  command -v bpftrace >/dev/null || need+=(bpftrace)
  command -v tcpdump >/dev/null || need+=(tcpdump)
  [ -x /usr/bin/time ] || need+=(time)
  command -v python3 >/dev/null || need+=(python3)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq >> "$LOG" 2>&1 || log "apt-get update failed (see $LOG); trying the install anyway"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >> "$LOG" 2>&1 ||
      die "apt-get install ${need[*]} failed (see $LOG)"
  fi
  # bpftrace finds classic tracepoints through tracefs, which may not be mounted.
  if [ ! -d /sys/kernel/tracing/events ]; then
    mount -t tracefs nodev /sys/kernel/tracing 2>> "$LOG" || log "could not mount tracefs; bpftrace runs may fail"
  fi
}

build_rdtrace() {
  if [ -n "${RDTRACE:-}" ]; then
    log "using RDTRACE=$RDTRACE (no build)"
  else
    log "building rdtrace (cargo build --release)"
    (cd "$REPO" && cargo build --release >> "$LOG" 2>&1) || die "cargo build --release failed (see $LOG)"
    local target=${CARGO_TARGET_DIR:-$REPO/target}
    case $target in /*) ;; *) target=$REPO/$target ;; esac
    RDTRACE=$target/release/rdtrace
  fi
  [ -x "$RDTRACE" ] || die "no rdtrace binary at $RDTRACE"
  "$RDTRACE" -n 'BEGIN { exit(0); }' > /dev/null 2>> "$LOG" || die "rdtrace -n 'BEGIN { exit(0); }' fails (see $LOG)"
}

write_meta() {
  local commit dirty=
  commit=$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
  git -C "$REPO" diff --quiet HEAD -- . ':!bench' 2>/dev/null || dirty=" (with uncommitted changes outside bench/)"
  {
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "nproc=$(nproc)"
    echo "kernel=$(uname -r)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "memory=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "commit=$commit$dirty"
    echo "rdtrace=$RDTRACE"
    echo "iperf3=$(iperf3 --version | head -n 1)"
    echo "bpftrace=$(bpftrace --version 2>&1 | head -n 1)"
    echo "tcpdump=$(tcpdump --version 2>&1 | head -n 1)"
    echo "rounds=$ROUNDS"
    echo "duration=$DURATION"
    echo "segments=$SEGMENTS"
    echo "startup_runs=$STARTUP_RUNS"
    echo "compile_runs=$COMPILE_RUNS"
    echo "attach_wait=$ATTACH_WAIT"
    echo "sections=$SECTIONS"
  } > "$OUT/meta.env"
}

# ---- 1. live overhead
# iperf LABEL [IPERF_ARGS...]: one client run; prints received Gbit/s.
iperf() {
  local label=$1; shift
  iperf3 -c 127.0.0.1 -p $PORT -t "$DURATION" "$@" -J > "$D/$label.json" 2>&1 || {
    log "iperf3 $label failed (see $D/$label.json)"; return; }
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print('%.3f' % (j['end']['sum_received']['bits_per_second'] / 1e9))" "$D/$label.json"
}

# rdtrace_devnull ROUND: bulk iperf3 under `rdtrace -s tcpio.d > /dev/null`.
rdtrace_devnull() {
  local r=$1 tp gbps
  /usr/bin/time -f '%M %U %S' -o "$D/rd_$r.time" "$RDTRACE" -s "$TCPIO" > /dev/null 2> "$D/rd_$r.err" &
  tp=$!; track $tp
  wait_attached $tp || { log "rdtrace did not load its programs (see $D/rd_$r.err)"; stop_timed $tp; return; }
  gbps=$(iperf rd_$r)
  stop_timed $tp
  record live bulk_rdtrace_gbps "$r" "$gbps"
  record live bulk_rdtrace_drops "$r" "$(drops "$D/rd_$r.err")"
  record memory rss_live_bulk_kb "$r" "$(rss_kb "$D/rd_$r.time")"
  record live bulk_rdtrace_cpu_s "$r" "$(cpu_s "$D/rd_$r.time")"
}

# bpftrace_devnull ROUND: bulk iperf3 under `bpftrace tcpio.bt > /dev/null`.
bpftrace_devnull() {
  local r=$1 tp gbps
  /usr/bin/time -f '%M %U %S' -o "$D/bt_$r.time" bpftrace "$BENCH/tcpio.bt" > /dev/null 2> "$D/bt_$r.err" &
  tp=$!; track $tp
  wait_attached $tp || { log "bpftrace did not load its programs (see $D/bt_$r.err)"; stop_timed $tp; return; }
  gbps=$(iperf bt_$r)
  stop_timed $tp
  record live bulk_bpftrace_gbps "$r" "$gbps"
  record live bulk_bpftrace_lost "$r" "$(grep -oE 'Lost [0-9]+' "$D/bt_$r.err" | awk '{s += $2} END {print s + 0}')"
  record memory rss_bpftrace_bulk_kb "$r" "$(rss_kb "$D/bt_$r.time")"
  record live bulk_bpftrace_cpu_s "$r" "$(cpu_s "$D/bt_$r.time")"
}

# rdtrace_counting ROUND: iperf3 -P 4 under rdtrace, its output counted
# through a FIFO; iperf3 starts once the header line has come out.
rdtrace_counting() {
  local r=$1 tp reader gbps i fifo=$D/p4_$r.fifo
  rm -f "$fifo" "$D/p4_$r.ready" "$D/p4_$r.count"
  mkfifo "$fifo"
  # `read` takes exactly the header line; grep counts the non-empty lines
  # after it (dtrace ends its output with one empty line).
  { IFS= read -r first && printf '%s\n' "$first" > "$D/p4_$r.ready"; grep -c . > "$D/p4_$r.count"; } < "$fifo" &
  reader=$!; track $reader
  /usr/bin/time -f '%M %U %S' -o "$D/p4_$r.time" "$RDTRACE" -s "$TCPIO" > "$fifo" 2> "$D/p4_$r.err" &
  tp=$!; track $tp
  for ((i = 0; i < 150; i++)); do
    [ -s "$D/p4_$r.ready" ] && break
    kill -0 $tp 2>/dev/null || break
    sleep 0.1
  done
  if ! [ -s "$D/p4_$r.ready" ] || ! kill -0 $tp 2>/dev/null; then
    log "rdtrace printed no header within 15 s (see $D/p4_$r.err)"
    stop_timed $tp; wait_exit $reader 5 || kill $reader 2>/dev/null
    return
  fi
  gbps=$(iperf p4rd_$r -P 4)
  stop_timed $tp
  wait_exit $reader 30 || { log "counting reader did not finish"; kill $reader 2>/dev/null; }
  record live p4_rdtrace_gbps "$r" "$gbps"
  record live p4_events "$r" "$(cat "$D/p4_$r.count" 2>/dev/null)"
  record live p4_drops "$r" "$(drops "$D/p4_$r.err")"
  record memory rss_live_p4_kb "$r" "$(rss_kb "$D/p4_$r.time")"
  record live p4_rdtrace_cpu_s "$r" "$(cpu_s "$D/p4_$r.time")"
  rm -f "$fifo"
}

section_live() {
  D=$OUT/live; mkdir -p "$D"
  log "1. live overhead: $ROUNDS rounds of iperf3 -t $DURATION on loopback"
  ss -ltn | grep -q "127.0.0.1:$PORT " && die "port $PORT is in use on 127.0.0.1 (set PORT)"
  iperf3 -s -p $PORT -B 127.0.0.1 > "$D/server.log" 2>&1 &
  local srv=$! r
  track $srv
  sleep 1
  kill -0 $srv 2>/dev/null || die "iperf3 server did not start (see $D/server.log)"
  for ((r = 1; r <= ROUNDS; r++)); do
    record live bulk_none_gbps "$r" "$(iperf none_$r)"
    rdtrace_devnull "$r"
    bpftrace_devnull "$r"
    record live p4_none_gbps "$r" "$(iperf p4none_$r -P 4)"
    rdtrace_counting "$r"
    log "   round $r done: $(grep -P "^live\t.*\t$r\t" "$DATA" | cut -f2,4 | tr '\t\n' '= ' )"
  done
  kill $srv 2>/dev/null; wait $srv 2>/dev/null
}

# ---- 2. replay throughput
section_replay() {
  D=$OUT/replay; mkdir -p "$D"
  local cap=$OUT/capture-$SEGMENTS.pcap r ms lines
  if [ ! -s "$cap" ] || [ "$BENCH/gen_capture.py" -nt "$cap" ]; then
    log "2. generating $cap"
    python3 "$BENCH/gen_capture.py" "$cap" --segments "$SEGMENTS" --local $LOCAL_ADDR >> "$LOG" 2>&1 ||
      die "gen_capture.py failed"
  fi
  # Every segment has LOCAL_ADDR at one end, so each is one event; count
  # them once (untimed) rather than trust that.
  lines=$(set -o pipefail; "$RDTRACE" -q -s "$TCPIO" --replay "$cap" --local $LOCAL_ADDR 2> "$D/verify.err" | grep -c .) ||
    { log "rdtrace --replay fails (see $D/verify.err); skipping the replay section"; return; }
  record replay rdtrace_events 0 "$((lines - 1))"   # minus the header line
  record replay tcpdump_packets 0 "$(tcpdump -nn -r "$cap" 2>/dev/null | wc -l)"
  log "2. replay: $ROUNDS rounds over $cap ($((lines - 1)) events)"
  # Warm the page cache so that neither program pays for the first read.
  cat "$cap" > /dev/null
  for ((r = 1; r <= ROUNDS; r++)); do
    ms=$($MEASURE wall -- /usr/bin/time -f '%M' -o "$D/rd_$r.time" \
      "$RDTRACE" -q -s "$TCPIO" --replay "$cap" --local $LOCAL_ADDR) || log "rdtrace replay round $r failed"
    record replay rdtrace_ms "$r" "$ms"
    record memory rss_replay_kb "$r" "$(rss_kb "$D/rd_$r.time")"
    ms=$($MEASURE wall -- tcpdump -nn -r "$cap") || log "tcpdump round $r failed"
    record replay tcpdump_ms "$r" "$ms"
  done
}

# ---- 3. startup
section_startup() {
  D=$OUT/startup; mkdir -p "$D"
  # tcpio.bt with a BEGIN clause: bpftrace fires BEGIN once its probes are
  # attached, as rdtrace runs tcpio.d's BEGIN (which prints the header).
  { echo 'BEGIN { printf("ATTACHED\n"); }'; cat "$BENCH/tcpio.bt"; } > "$D/tcpio_begin.bt"
  log "3. startup: $STARTUP_RUNS interleaved runs each"
  local i
  for ((i = 1; i <= STARTUP_RUNS; i++)); do
    record startup rdtrace_begin_ms "$i" "$($MEASURE wall -- "$RDTRACE" -n 'BEGIN { exit(0); }' 2>> "$LOG")"
    record startup bpftrace_begin_ms "$i" "$($MEASURE wall -- bpftrace -e 'BEGIN { exit(); }' 2>> "$LOG")"
    record startup rdtrace_attach_ms "$i" "$($MEASURE ready LADDR 30 -- "$RDTRACE" -s "$TCPIO" 2>> "$LOG")"
    record startup bpftrace_attach_ms "$i" "$($MEASURE ready ATTACHED 30 -- bpftrace "$D/tcpio_begin.bt" 2>> "$LOG")"
  done
}

# ---- 5. compile
section_compile() {
  D=$OUT/compile; mkdir -p "$D"
  local script=$BENCH/scripts/200lines.d i
  if "$RDTRACE" -e -s "$script" > "$D/check.out" 2>&1; then
    log "5. compile: $COMPILE_RUNS interleaved runs each"
    for ((i = 1; i <= COMPILE_RUNS; i++)); do
      record compile script_ms "$i" "$($MEASURE wall -- "$RDTRACE" -e -s "$script" 2>> "$LOG")"
      record compile empty_ms "$i" "$($MEASURE wall -- "$RDTRACE" -e -n 'BEGIN{}' 2>> "$LOG")"
    done
  else
    log "rdtrace -e -s $script fails (see $D/check.out); no command-line compile times"
  fi
  # The same script in process, without process start-up: parse + check, and
  # parse + check + JIT (runtime/benches/compile.rs, the bench profile).
  log "5. cargo bench -p rdtrace-runtime --bench compile"
  if (cd "$REPO" && cargo bench -p rdtrace-runtime --bench compile) > "$D/cargo_bench.out" 2>> "$LOG"; then
    record compile bench_parse_check_us 0 "$(awk '$1 == "parse_check:" {print $3}' "$D/cargo_bench.out")"
    record compile bench_parse_check_jit_us 0 "$(awk '$1 == "parse_check_jit:" {print $3}' "$D/cargo_bench.out")"
  else
    log "cargo bench failed (see $LOG)"
  fi
}

# ---- main
[ "$(id -u)" = 0 ] || die "run as root (live tracing needs BPF)"
install_tools
build_rdtrace
: > "$DATA"
write_meta
# ---- 6. system calls at storm rates (issue 16): bench/syscall_rates.sh
section_syscall() {
  log "syscall: $ROUNDS rounds of 5 scenarios (bench/syscall_rates.sh)"
  OUT=$OUT/syscall RDTRACE=$RDTRACE DATA=$DATA "$BENCH/syscall_rates.sh" "$ROUNDS" \
    > "$OUT/syscall.md" 2>> "$LOG" || log "syscall_rates.sh failed (see $LOG)"
}

log "rdtrace $RDTRACE, sections: $SECTIONS; raw numbers in $DATA"
for s in $SECTIONS; do
  case $s in
    live) section_live ;;
    replay) section_replay ;;
    startup) section_startup ;;
    compile) section_compile ;;
    syscall) section_syscall ;;
    *) die "unknown section '$s' (live replay startup compile syscall)" ;;
  esac
done
# The sections report.py does not write (other tools' results) are kept.
python3 "$BENCH/report.py" "$OUT" "$RESULTS" > "$OUT/RESULTS.md" || die "report.py failed"
cp "$OUT/RESULTS.md" "$RESULTS"
log "wrote $RESULTS"
