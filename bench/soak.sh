#!/bin/bash
# Soak: rdtrace under sustained load, as root.
#
#   bench/soak.sh MINUTES        (the reliability issue asks for 30)
#
# For MINUTES, iperf3 -P 4 runs over loopback while two tracers run side by
# side: tcpio.d (one line per segment, counted by wc -l) and an aggregation
# script (tcpbytes.d's keys plus a quantize of segment sizes, also served
# with --metrics and scraped every second, so the metrics path soaks too).
# Each tracer's RSS is sampled every second. At the end both get SIGINT; the
# script prints a Markdown summary (RSS in the first and last minute, peak,
# lines, drops reported, scrapes) for bench/RESULTS.md.
#
# Environment: RDTRACE (a binary instead of building one), PORT [25301]
# (iperf3), METRICS_PORT [25302], OUT [bench-out/soak].
set -u
MINUTES=${1:?usage: bench/soak.sh MINUTES}
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
PORT=${PORT:-25301}
METRICS_PORT=${METRICS_PORT:-25302}
OUT=${OUT:-$REPO/bench-out/soak}
mkdir -p "$OUT"
SECONDS_TOTAL=$((MINUTES * 60))

[ "$(id -u)" = 0 ] || { echo "soak.sh: run as root (live tracing)" >&2; exit 1; }
command -v iperf3 >/dev/null || { apt-get update -qq && apt-get install -y -qq iperf3 >/dev/null; }
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
if [ -z "${RDTRACE:-}" ]; then
  (cd "$REPO" && cargo build --release --locked -q) || exit 1
  RDTRACE=$REPO/target/release/rdtrace
fi

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

cat > "$OUT/aggs.d" <<'D'
#pragma D option quiet
tcp:::receive { @bytes[args[2]->ip_saddr, args[4]->tcp_dport, "in"] = sum(args[2]->ip_plength - args[4]->tcp_offset); }
tcp:::send { @bytes[args[2]->ip_daddr, args[4]->tcp_sport, "out"] = sum(args[2]->ip_plength - args[4]->tcp_offset); }
tcp:::send, tcp:::receive { @size[probename] = quantize(args[2]->ip_plength); @segments = count(); }
D

iperf3 -s -B 127.0.0.1 -p "$PORT" > "$OUT/iperf3-server.log" 2>&1 &
PIDS+=($!)
"$RDTRACE" -s tcpio.d > >(wc -l > "$OUT/tcpio.lines") 2> "$OUT/tcpio.err" &
TCPIO=$!
PIDS+=($TCPIO)
"$RDTRACE" -s "$OUT/aggs.d" --metrics "127.0.0.1:$METRICS_PORT" > "$OUT/aggs.out" 2> "$OUT/aggs.err" &
AGGS=$!
PIDS+=($AGGS)
sleep 3
for p in $TCPIO $AGGS; do
  kill -0 "$p" 2>/dev/null || { echo "soak.sh: a tracer did not start:" >&2; cat "$OUT"/*.err >&2; exit 1; }
done

iperf3 -c 127.0.0.1 -p "$PORT" -P 4 -t "$SECONDS_TOTAL" -i 60 > "$OUT/iperf3-client.log" 2>&1 &
CLIENT=$!
PIDS+=($CLIENT)

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
echo "t tcpio_kb aggs_kb" > "$OUT/rss.txt"
scrapes=0
failed_scrapes=0
for t in $(seq 1 "$SECONDS_TOTAL"); do
  sleep 1
  echo "$t $(rss $TCPIO) $(rss $AGGS)" >> "$OUT/rss.txt"
  if curl -sf -m 2 "http://127.0.0.1:$METRICS_PORT/metrics" -o "$OUT/last-scrape.txt"; then
    scrapes=$((scrapes + 1))
  else
    failed_scrapes=$((failed_scrapes + 1))
  fi
  kill -0 $TCPIO 2>/dev/null && kill -0 $AGGS 2>/dev/null || { echo "soak.sh: a tracer died at ${t}s" >&2; break; }
done
wait $CLIENT 2>/dev/null
kill -INT $TCPIO $AGGS 2>/dev/null
wait $TCPIO $AGGS 2>/dev/null
sleep 1

drops() { awk '/drops? on CPU/ {n += $2} END {print n + 0}' "$1"; }
window() { # window FIRST LAST COLUMN: median RSS (MB) of the seconds FIRST..LAST
  awk -v a="$1" -v b="$2" -v c="$3" 'NR > 1 && $1 >= a && $1 <= b {print $c}' "$OUT/rss.txt" |
    sort -n | awk '{v[NR] = $1} END {if (NR) printf "%.1f", v[int((NR + 1) / 2)] / 1024; else print "-"}'
}
peak() { awk -v c="$1" 'NR > 1 && $c > m {m = $c} END {printf "%.1f", m / 1024}' "$OUT/rss.txt"; }
last=$(tail -n 1 "$OUT/rss.txt" | cut -d' ' -f1)
gbits=$(awk '/SUM.*receiver/ {print $6, $7}' "$OUT/iperf3-client.log" | tail -n 1)
segments=$(awk '/^rdtrace_segments_total/ {print $2}' "$OUT/last-scrape.txt")

echo "## Soak ($(date -u +%F), ${MINUTES} min, iperf3 -P 4 over loopback: ${gbits:-?})"
echo
echo "| tracer | RSS MB, minute 1 (median) | RSS MB, last minute (median) | peak RSS MB | output | drops reported |"
echo "|---|---|---|---|---|---|"
echo "| tcpio.d | $(window 1 60 2) | $(window $((last - 59)) "$last" 2) | $(peak 2) | $(cat "$OUT/tcpio.lines") lines | $(drops "$OUT/tcpio.err") |"
echo "| aggregations + --metrics | $(window 1 60 3) | $(window $((last - 59)) "$last" 3) | $(peak 3) | $(wc -l < "$OUT/aggs.out") lines at exit; ${segments:-?} segments counted at the last scrape | $(drops "$OUT/aggs.err") |"
echo
echo "Scrapes: $scrapes answered, $failed_scrapes failed. Samples: $OUT/rss.txt."
