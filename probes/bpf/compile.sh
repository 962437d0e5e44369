#!/bin/sh
# Compiles one BPF C source into a stripped, reproducible object:
#   compile.sh NAME OUT.o      (NAME.bpf.c in this directory)
# The clang binary comes from $BPF_CLANG, else clang-19, else clang; the
# matching llvm-strip removes DWARF (aya needs only .BTF/.BTF.ext).
# Used by ../build.rs and check-objects.sh so both use the same flags.
set -eu
name=$1
out=$2
dir=$(cd "$(dirname "$0")" && pwd)
clang=${BPF_CLANG:-}
if [ -z "$clang" ]; then
	for c in clang-19 clang; do
		if command -v "$c" >/dev/null 2>&1; then clang=$c; break; fi
	done
fi
[ -n "$clang" ] || { echo "compile.sh: no clang found (set BPF_CLANG)" >&2; exit 127; }
case "$clang" in
*-[0-9]*) strip="llvm-strip-${clang##*-}" ;;
*) strip=llvm-strip ;;
esac
command -v "$strip" >/dev/null 2>&1 || strip=llvm-strip
cd "$dir"
"$clang" -target bpf -O2 -g -Wall -Werror -fdebug-prefix-map="$dir"=. \
	-c "$name.bpf.c" -o "$out"
"$strip" -g "$out"
