#!/bin/sh
# CI check: the committed BPF objects must be what their sources compile to.
#   check-objects.sh           rebuild into a temp dir and cmp (skip without clang)
#   check-objects.sh --update  rebuild and overwrite the committed objects
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
objects="net"
if [ -z "${BPF_CLANG:-}" ] && ! command -v clang-19 >/dev/null 2>&1 && ! command -v clang >/dev/null 2>&1; then
	echo "check-objects: no clang; committed objects not checked"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for name in $objects; do
	"$dir/compile.sh" "$name" "$tmp/$name.bpf.o"
	if [ "${1:-}" = "--update" ]; then
		cp "$tmp/$name.bpf.o" "$dir/$name.bpf.o"
		echo "check-objects: updated $name.bpf.o"
	elif cmp -s "$tmp/$name.bpf.o" "$dir/$name.bpf.o"; then
		echo "check-objects: $name.bpf.o matches its source"
	else
		echo "check-objects: $name.bpf.o differs from what $name.bpf.c compiles to; run probes/bpf/check-objects.sh --update and commit" >&2
		status=1
	fi
done
exit $status
