//! What a hostile script, capture or signal does must end in a clear error
//! or the right result: never a crash, a hang or a lost END (issue:
//! reliability). Each test here failed before its fix.

mod common;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{rdtrace, stderr, stdout};

/// Runs `cmd`, killing it (and failing) if it has not ended by `limit`:
/// a hang is a failure, not a stuck CI.
fn run_bounded(cmd: &mut Command, limit: Duration) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_bounded(child, limit)
}

/// Waits for `child`, killing it (and failing) if it has not ended by `limit`.
fn wait_bounded(child: Child, limit: Duration) -> Output {
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            std::thread::sleep(Duration::from_millis(50));
            // SAFETY: probing our own child with signal 0.
            if unsafe { libc::kill(pid as i32, 0) } != 0 {
                return false;
            }
        }
        // SAFETY: killing our own child.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        true
    });
    let out = child.wait_with_output().unwrap();
    assert!(!watchdog.join().unwrap(), "still running after {limit:?}");
    out
}

fn no_crash(o: &Output) {
    let e = stderr(o);
    assert!(
        !e.contains("panicked") && !e.contains("internal error"),
        "{e}"
    );
    assert!(!e.contains("backtrace"), "{e}");
}

#[test]
fn substr_with_the_largest_length_is_the_rest_of_the_string() {
    let o = rdtrace()
        .args([
            "-q",
            "-n",
            r#"BEGIN { n = 9223372036854775807; printf("[%s]\n", substr("abc", 1, n)); exit(0); }"#,
        ])
        .output()
        .unwrap();
    no_crash(&o);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "[bc]\n\n");
}

#[test]
fn an_error_past_column_65535_is_a_normal_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("long.d");
    std::fs::write(
        &script,
        format!("BEGIN {{ {}nope(); }}\n", " ".repeat(70_000)),
    )
    .unwrap();
    let o = rdtrace().arg("-e").arg("-s").arg(&script).output().unwrap();
    no_crash(&o);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("unknown function nope( )"), "{e}");
    assert!(e.contains("long.d:1:70009]"), "{e}");
}

#[test]
fn lquantize_and_strsize_beyond_dtraces_bounds_are_refused() {
    for (args, want) in [
        (
            vec![
                "-e",
                "-n",
                "BEGIN { @ = lquantize(1, -2147483648, 2147483647, 1); }",
            ],
            "number of quantization levels must be a 16-bit",
        ),
        (
            vec!["-e", "-n", "BEGIN { @ = lquantize(1, 0, 1000000, 10); }"],
            "number of quantization levels must be a 16-bit",
        ),
        (
            vec![
                "-e",
                "-n",
                "BEGIN { @ = lquantize(1, 0, 4294967296, 100000); }",
            ],
            "limit (argument #3) must be a 32-bit quantity",
        ),
        (
            vec!["-x", "strsize=100g", "-n", "BEGIN { exit(0); }"],
            "failed to set option 'strsize' to '100g'",
        ),
    ] {
        let o = rdtrace().args(&args).output().unwrap();
        no_crash(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn a_tick_interval_past_64_bits_is_refused() {
    let o = rdtrace()
        .args(["-e", "-n", "tick-18446744073709551615ns { exit(0); }"])
        .output()
        .unwrap();
    no_crash(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("interval in tick-18446744073709551615ns is too large"));
}

#[test]
fn a_capture_clock_that_jumps_a_century_fires_the_gap_once() {
    use common::capture::{seg, write_pcap, Conversation, From::*};
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("jump.pcap");
    // 1970, then 2106: 4.3e9 seconds of capture time between two packets.
    let conv = Conversation {
        client: ("192.0.2.40".parse().unwrap(), 40000),
        server: ("192.0.2.8".parse().unwrap(), 22),
        start: Duration::from_secs(1),
        step: Duration::from_secs(4_294_967_000),
        segments: vec![seg(Client, "S", 0), seg(Server, "SA", 0)],
    };
    write_pcap(&conv, &pcap);
    let o = run_bounded(
        rdtrace()
            .args(["-q", "-n", "tick-1s { @ = count(); }", "--replay"])
            .arg(&pcap)
            .args(["--local", "192.0.2.8"]),
        Duration::from_secs(30),
    );
    no_crash(&o);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert_eq!(e.matches("the capture's clock jumps by").count(), 1, "{e}");
    let n: u64 = stdout(&o).trim().parse().unwrap();
    assert!(n <= 2, "the gap fires once, not per second: {n}");
}

#[test]
fn a_command_that_is_not_executable_is_named_so() {
    let o = rdtrace()
        .args(["-n", "BEGIN { exit(0); }", "-c", "/etc/passwd"])
        .output()
        .unwrap();
    no_crash(&o);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "rdtrace: failed to execute /etc/passwd: Permission denied\n"
    );
}

/// Waits (bounded) until `pid` is gone or a zombie.
fn gone(pid: u32) -> bool {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(s)
                if s.rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z')) =>
            {
                return true
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    false
}

#[test]
fn the_dash_c_command_dies_when_rdtrace_is_killed() {
    let mut child: Child = rdtrace()
        .args([
            "-q",
            "-n",
            r#"BEGIN { printf("%d\n", $target); }"#,
            "-c",
            "sleep 60",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut buf = Vec::new();
    common::read_until(&mut child, &mut buf, |s| s.contains('\n'));
    let target: u32 = String::from_utf8_lossy(&buf)
        .trim()
        .parse()
        .expect("target pid");
    // SAFETY: killing our own child (rdtrace) with SIGKILL.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    let dead = gone(target);
    if !dead {
        // SAFETY: clean up the stray process before failing.
        unsafe { libc::kill(target as i32, libc::SIGKILL) };
    }
    assert!(dead, "sleep {target} outlived rdtrace");
}

/// Compiles `text` as a script file; the output.
fn compile_file(text: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("deep.d");
    std::fs::write(&script, text).unwrap();
    run_bounded(
        rdtrace().arg("-e").arg("-s").arg(&script),
        Duration::from_secs(60),
    )
}

#[test]
fn long_and_deep_constructs_are_one_clear_error() {
    let comma = format!("BEGIN {{ {}; }}", vec!["1"; 11_000].join(", "));
    let mut elif = String::from("BEGIN { x = 1; if (x == 0) { y = 0; }");
    for i in 1..25_000 {
        elif += &format!(" else if (x == {i}) {{ y = {i}; }}");
    }
    elif += " }";
    let nested_ifs = format!("BEGIN {{ x = 1; {}y = 1; }}", "if (x) ".repeat(20_000));
    for (text, want) in [
        (comma, "expression is too deeply nested or too long"),
        (
            elif,
            "an if statement with more than 1000 else if arms is too long",
        ),
        (
            nested_ifs,
            "if statements nested deeper than 100 levels are not supported",
        ),
    ] {
        let o = compile_file(&text);
        no_crash(&o);
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains(want), "{}", stderr(&o));
        assert!(!stderr(&o).contains("syntax error"), "{}", stderr(&o));
    }
}

#[test]
fn a_thousand_else_if_arms_still_run() {
    let mut s = String::from("BEGIN { x = 999; if (x == 0) { y = 0; }");
    for i in 1..1000 {
        s += &format!(" else if (x == {i}) {{ y = {i}; }}");
    }
    s += " else { y = -1; } printf(\"%d\\n\", y); exit(0); }";
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("arms.d");
    std::fs::write(&script, s).unwrap();
    let o = run_bounded(
        rdtrace().arg("-q").arg("-s").arg(&script),
        Duration::from_secs(60),
    );
    no_crash(&o);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "999\n\n");
}

#[test]
fn a_capture_streamed_on_stdin_is_read_once() {
    use common::capture::{seg, write_pcap, Conversation, From::*};
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("s.pcap");
    let conv = Conversation {
        client: ("192.0.2.40".parse().unwrap(), 40000),
        server: ("192.0.2.8".parse().unwrap(), 22),
        start: Duration::from_secs(1_764_380_000),
        step: Duration::from_millis(1),
        segments: vec![
            seg(Client, "S", 0),
            seg(Server, "SA", 0),
            seg(Client, "A", 0),
        ],
    };
    write_pcap(&conv, &pcap);
    for path in ["-", "/dev/stdin"] {
        let o = run_bounded(
            rdtrace()
                .args([
                    "-q",
                    "-n",
                    "tcp:::receive { @ = count(); }",
                    "--replay",
                    path,
                ])
                .args(["--local", "192.0.2.8"])
                .stdin(std::fs::File::open(&pcap).unwrap()),
            Duration::from_secs(30),
        );
        no_crash(&o);
        assert_eq!(o.status.code(), Some(0), "{path}: {}", stderr(&o));
        assert_eq!(stdout(&o), "\n                2\n", "{path}");
    }
    // Through a pipe too (what `tcpdump -w - | rdtrace --replay -` does).
    let mut child = rdtrace()
        .args([
            "-q",
            "-n",
            "tcp:::receive { @ = count(); }",
            "--replay",
            "-",
        ])
        .args(["--local", "192.0.2.8"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&std::fs::read(&pcap).unwrap()).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "\n                2\n");
}

#[test]
fn a_second_interrupt_ends_rdtrace_even_blocked_on_a_full_pipe() {
    // Nobody reads rdtrace's output: the pipe fills and writes block.
    let mut child = rdtrace()
        .args([
            "-q",
            "-n",
            r#"tick-1ms { printf("%s\n", "a line of output that fills the pipe quickly enough"); }"#,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    for _ in 0..2 {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        std::thread::sleep(Duration::from_millis(100));
    }
    let end = Instant::now() + Duration::from_secs(10);
    let mut ended = false;
    while Instant::now() < end {
        if child.try_wait().unwrap().is_some() {
            ended = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if !ended {
        let _ = child.kill();
    }
    let _ = child.wait();
    assert!(ended, "two SIGINTs did not end rdtrace");
}

#[test]
fn a_script_that_is_not_utf8_is_refused_at_the_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("latin1.d");
    std::fs::write(&script, b"BEGIN {\n  trace(\"caf\xe9\");\n}\n").unwrap();
    let o = rdtrace().arg("-e").arg("-s").arg(&script).output().unwrap();
    no_crash(&o);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "rdtrace: {}:2:13: the script is not UTF-8 text (byte 0xe9)\n",
            script.display()
        )
    );
}

/// Item 13, checked against DTrace's sources: D evaluates integers in
/// 64-bit registers (dt_parser.c folds constants as uintmax_t; dt_cg.c
/// emits 64-bit ALU operations with no truncation), compares those 64-bit
/// values, and cuts a value to its type's size only where it is recorded
/// or stored (dt_cg_store_val; pfprint_sint reads an int as int32_t). An
/// int variable is stored at 4 bytes and sign-extended when loaded, as
/// dtrace-utils does. Constants take C's types (dt_node_int): 0x7fffffff
/// int, 0x80000000 unsigned int, 2147483648 long. `%hh` is not one of
/// dt_printf.c's conversions: "format conversion #1 is undefined".
#[test]
fn integer_arithmetic_is_dtraces_64_bit_registers_cut_where_recorded() {
    let o = rdtrace()
        .args([
            "-q",
            "-n",
            r#"BEGIN {
                printf("%d\n", 0x7fffffff + 1);
                printf("%d\n", 1 << 40);
                printf("%d\n", (0x7fffffff + 1) > 0);
                printf("%d\n", 2147483648);
                printf("%d\n", 0x80000000);
                x = 0x7fffffff; x = x + 1;
                printf("%d %d\n", x, x > 0);
                exit(0);
            }"#,
        ])
        .output()
        .unwrap();
    no_crash(&o);
    assert_eq!(
        stdout(&o),
        "-2147483648\n0\n1\n2147483648\n2147483648\n-2147483648 0\n\n"
    );
    let o = rdtrace()
        .args(["-e", "-n", r#"BEGIN { printf("%hhd\n", 300); }"#])
        .output()
        .unwrap();
    no_crash(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("format conversion #1 is undefined: %hhd"),
        "{}",
        stderr(&o)
    );
}

/// Peak RSS (KiB) of one run of rdtrace with `args`, from wait4's rusage
/// of that child alone (other tests' children do not count).
// The child is reaped by wait4 (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn peak_rss_kib(args: &[&str]) -> (i64, Output) {
    let child = rdtrace()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let (mut so, mut se) = (child.stdout.unwrap(), child.stderr.unwrap());
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let _ = se.read_to_end(&mut err);
        err
    });
    use std::io::Read;
    so.read_to_end(&mut out).unwrap();
    let err = reader.join().unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; wait4 fills it for our child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child, with valid out-pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    let output = Output {
        status: std::os::unix::process::ExitStatusExt::from_raw(status),
        stdout: out,
        stderr: err,
    };
    (usage.ru_maxrss, output)
}

/// Item 11: aggsize bounds the memory aggregations really take (within
/// 2×), the exit print included. 800,000 ticks of a capture's clock
/// each make a new key; at aggsize=8m most are dropped.
#[test]
fn aggsize_bounds_the_real_memory_of_aggregations() {
    use common::capture::{seg, write_pcap, Conversation, From::*};
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("ticks.pcap");
    write_pcap(
        &Conversation {
            client: ("192.0.2.91".parse().unwrap(), 40911),
            server: ("192.0.2.92".parse().unwrap(), 9191),
            start: Duration::from_secs(1_700_000_000),
            // 160 s of capture time: 800,000 ticks of 200 us, at most
            // 40,000 in each gap between packets (each a tcp:::send event,
            // before which the ticks due fire).
            step: Duration::from_secs(8),
            segments: vec![seg(Client, "A", 0); 21],
        },
        &pcap,
    );
    let replay = |clause: &str| {
        peak_rss_kib(&[
            "-q",
            "-x",
            "aggsize=8m",
            "-n",
            clause,
            "--replay",
            pcap.to_str().unwrap(),
            "--local",
            "192.0.2.91",
        ])
    };
    let (base, o) = replay("tcp:::send { y = 1; } tick-200us { x = timestamp; }");
    assert!(o.status.success(), "{}", stderr(&o));
    let (with_aggs, o) =
        replay("tcp:::send { y = 1; } tick-200us { @[timestamp, x++] = count(); }");
    no_crash(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    // Ticks fire on the CPU rdtrace runs on.
    assert!(
        stderr(&o).contains("aggregation drops on CPU "),
        "{}",
        stderr(&o)
    );
    let rows = stdout(&o).lines().filter(|l| !l.is_empty()).count();
    assert!(rows > 10_000, "{rows} keys kept");
    let grown_mib = (with_aggs - base) as f64 / 1024.0;
    eprintln!("{rows} keys: RSS {base} KiB without aggregations, {with_aggs} KiB with");
    assert!(
        grown_mib <= 16.0,
        "aggregations at aggsize=8m grew RSS by {grown_mib:.1} MiB ({rows} keys)"
    );
}

/// Item 7's last part: `--replay FIFO` with no writer yet waits in
/// poll(), not in open(), so the first SIGINT ends rdtrace.
#[test]
fn the_first_interrupt_ends_a_replay_of_a_fifo_without_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("capture.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let child = rdtrace()
        .args([
            "-n",
            "tcp:::send { }",
            "--replay",
            fifo.to_str().unwrap(),
            "--local",
            "192.0.2.1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let started = Instant::now();
    let o = wait_bounded(child, Duration::from_secs(10));
    assert!(started.elapsed() < Duration::from_secs(5));
    no_crash(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("interrupted before the capture had any data"),
        "{}",
        stderr(&o)
    );
}

/// Item 12: a long clause body is compiled in parts (bounded functions);
/// it still runs as one clause: statements in order, a fault in a later
/// part abandons the rest of the clause and names its action by number.
#[test]
fn a_long_clause_runs_in_order_and_a_fault_stops_it_where_it_is() {
    let mut body = String::from("z = 0; x = 0;\n");
    for _ in 0..700 {
        body.push_str("x = x + 1;\n");
    }
    body.push_str("y = 1 / z;\n");
    for _ in 0..300 {
        body.push_str("x = x + 1000;\n");
    }
    let script = format!("BEGIN {{\n{body}}}\nBEGIN {{ printf(\"%d\\n\", x); exit(0); }}\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.d");
    std::fs::write(&path, script).unwrap();
    let o = run_bounded(
        rdtrace().arg("-q").arg("-s").arg(&path),
        Duration::from_secs(60),
    );
    no_crash(&o);
    assert_eq!(stdout(&o), "700\n\n");
    // z = 0, x = 0, 700 additions: the division is action #703.
    assert!(
        stderr(&o).contains("divide-by-zero in action #703"),
        "{}",
        stderr(&o)
    );
}
