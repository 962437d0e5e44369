#!/bin/sh
# Fuzzes for SECONDS (default 60): mutated D programs through parse, check
# and JIT compile, BEGIN fired on the JIT and the interpreter (outputs must
# agree), and mutated captures through the replay reader. Any panic or
# disagreement is a failure, written to fuzz/failures/. The last line is
# "fuzz: N inputs, M failures". A seed (second argument) repeats a run.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p rdtrace-fuzz
exec target/release/rdtrace-fuzz "${1:-60}" ${2:+"$2"}
