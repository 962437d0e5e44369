#!/usr/bin/env python3
"""Precise timing helpers for bench/run.sh (standard library only).

  measure.py wall -- CMD...
      Runs CMD once (stdin, stdout and stderr to /dev/null) and prints its
      wall time in milliseconds. Exits 1 if CMD fails.

  measure.py ready PATTERN TIMEOUT_S -- CMD...
      Starts CMD with its stdout on a pseudo-terminal (as when a user types
      the command), prints the milliseconds until a line of its output
      contains PATTERN, then stops CMD with SIGINT (SIGKILL after 10 s).
      Exits 1 if PATTERN does not appear within TIMEOUT_S.

Each call measures one run so that run.sh can interleave the programs it
compares; the run-to-run process start-up of python itself is not inside
the measured interval.
"""

import os
import pty
import select
import signal
import subprocess
import sys
import time


def split_command(argv):
    if "--" not in argv:
        sys.exit("measure.py: missing -- before the command")
    i = argv.index("--")
    if i + 1 >= len(argv):
        sys.exit("measure.py: empty command")
    return argv[:i], argv[i + 1:]


def wall(cmd):
    dn = subprocess.DEVNULL
    t0 = time.perf_counter()
    rc = subprocess.call(cmd, stdin=dn, stdout=dn, stderr=dn)
    ms = (time.perf_counter() - t0) * 1000
    if rc != 0:
        sys.exit(f"measure.py: {cmd[0]} exited with status {rc}")
    print(f"{ms:.3f}")


def stop(proc):
    """SIGINT, then SIGKILL if the process ignores it for 10 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def ready(pattern, timeout_s, cmd):
    master, slave = pty.openpty()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.DEVNULL)
    os.close(slave)
    seen = b""
    found_ms = None
    deadline = t0 + timeout_s
    try:
        while found_ms is None:
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            r, _, _ = select.select([master], [], [], left)
            if not r:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal (it exited)
                break
            if not chunk:
                break
            seen += chunk
            if pattern.encode() in seen:
                found_ms = (time.perf_counter() - t0) * 1000
            seen = seen[-4096:]
    finally:
        stop(proc)
        os.close(master)
    if found_ms is None:
        sys.exit(f"measure.py: '{pattern}' did not appear within {timeout_s} s (exit status {proc.returncode})")
    print(f"{found_ms:.3f}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    mode, rest = sys.argv[1], sys.argv[2:]
    opts, cmd = split_command(rest)
    if mode == "wall" and not opts:
        wall(cmd)
    elif mode == "ready" and len(opts) == 2:
        ready(opts[0], float(opts[1]), cmd)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
