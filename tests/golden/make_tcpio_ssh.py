# Writes tests/golden/tcpio-ssh.expected: what tcpio.d prints for the seed's ssh
# session (tests/golden.rs replays it). Computed with Python's %-formatting, which
# is C printf, from tcpio.d's own format strings -- independently of rdtrace.
# Run: python3 tests/golden/make_tcpio_ssh.py > tests/golden/tcpio-ssh.expected
import sys
L, R = ("192.0.2.8", 22), ("192.0.2.40", 60337)
# (direction, flags, payload) in chronological order; see tests/golden.rs
session = [
    ("<", "SYN", 0), (">", "SYN|ACK", 0), ("<", "ACK", 0),
    (">", "PUSH|ACK", 20), ("<", "ACK", 0), ("<", "PUSH|ACK", 20), (">", "ACK", 0),
    ("<", "PUSH|ACK", 376), (">", "PUSH|ACK", 464), ("<", "PUSH|ACK", 24), (">", "ACK", 0),
    (">", "PUSH|ACK", 736), ("<", "ACK", 0), (">", "PUSH|ACK", 48), ("<", "ACK", 0),
]
out = " %3s %15s:%-5s %15s:%-5s %6s %s\n" % ("CPU", "LADDR", "LPORT", "RADDR", "RPORT", "BYTES", "FLAGS")
order = ["FIN", "SYN", "RST", "PUSH", "ACK", "URG", "ECE", "CWR"]
for d, flags, n in session:
    arrow = "->" if d == ">" else "<-"
    out += " %3d %16s:%-5d %s %16s:%-5d %6d (" % (0, L[0], L[1], arrow, R[0], R[1], n)
    fl = flags.split("|")
    out += "".join(f + "|" for f in order if f in fl)
    out += "\b)\n"
out += "\n"  # dtrace prints a newline at exit
sys.stdout.write(out)
