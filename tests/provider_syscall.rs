//! The syscall provider, live: `-c` runs a command doing known system
//! calls (on paths and bytes this test chose) and `/pid == $target/` keeps
//! only its events. Expected values are what the calls do, as DTrace
//! reports them: entry args from the registers, return `arg0`/`arg1` the
//! return value, `errno` the positive error number.

mod common;

use common::netns::live_tests_possible;
use common::{rdtrace, stderr, stdout};

fn trace(script: &str, command: &str) -> std::process::Output {
    rdtrace()
        .args(["-q", "-n", script, "-c", command])
        .output()
        .unwrap()
}

#[test]
fn openat_entry_and_return_with_errno() {
    if !live_tests_possible() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-file-for-rdtrace");
    let o = trace(
        "syscall::openat:entry /pid == $target/ { printf(\"entry dfd=%d flags=%x\\n\", args[0], args[2]); }
         syscall::openat:return /pid == $target/ { printf(\"return %d %d errno=%d\\n\", arg0, arg1, errno); }",
        &format!("cat {}", missing.display()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    // cat's last openat is the missing file: AT_FDCWD, O_RDONLY, ENOENT.
    let last_entry = lines
        .iter()
        .rposition(|l| l.starts_with("entry"))
        .expect(&out);
    assert_eq!(lines[last_entry], "entry dfd=-100 flags=0", "{out}");
    assert_eq!(lines[last_entry + 1], "return -2 -2 errno=2", "{out}");
    // The successful opens before it (libraries, locale) have errno 0.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("return ") && l.ends_with("errno=0")),
        "{out}"
    );
}

#[test]
fn write_arguments_and_return_value() {
    if !live_tests_possible() {
        return;
    }
    let o = trace(
        "syscall::write:entry /pid == $target/ { printf(\"fd=%d len=%d\\n\", arg0, arg2); }
         syscall::write:return /pid == $target/ { printf(\"wrote %d\\n\", arg1); }",
        "/bin/echo -n rdtrace-syscall-test",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // echo's own output (20 bytes) comes first on stdout, then the trace.
    let out = stdout(&o);
    assert!(out.starts_with("rdtrace-syscall-test"), "{out}");
    assert!(out.contains("fd=1 len=20\nwrote 20\n"), "{out}");
}

#[test]
fn wildcards_match_every_syscall_the_kernel_has() {
    let count = |desc: &str| -> usize {
        let o = rdtrace().args(["-l", "-n", desc]).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{desc}: {}", stderr(&o));
        stdout(&o).lines().count() - 1
    };
    let all = count("syscall:::");
    let entries = count("syscall:::entry");
    assert!(entries > 300, "{entries}");
    assert_eq!(all, 2 * entries);
    assert_eq!(count("syscall::openat:"), 2);
    assert_eq!(count("syscall:vmlinux:openat:entry"), 1);
    let read = count("syscall::*read*:");
    assert!(
        read >= 2 * 6,
        "read, pread64, readv, preadv, preadv2, readlink…: {read}"
    );
}

#[test]
fn listing_shows_module_and_argument_types() {
    let o = rdtrace()
        .args(["-lv", "-n", "syscall::openat:"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[1].ends_with("syscall           vmlinux                            openat entry"),
        "{out}"
    );
    assert!(
        out.contains(
            "\t\targs[0]: int\n\t\targs[1]: const char *\n\t\targs[2]: int\n\t\targs[3]: umode_t\n"
        ),
        "{out}"
    );
    let ret = out.split("openat return\n").nth(1).unwrap_or_default();
    assert!(
        ret.contains("\tArgument Types\n\t\targs[0]: long\n"),
        "{out}"
    );
}

/// A file this test owns, with a name no other test uses.
fn own_file(dir: &tempfile::TempDir, name: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, "x\n").unwrap();
    p
}

#[test]
fn copyinstr_of_an_entry_argument() {
    if !live_tests_possible() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = own_file(&dir, "rdtrace-copyinstr-entry");
    let o = trace(
        r#"syscall::openat:entry /pid == $target/ { printf("%s %s\n", execname, copyinstr(arg1)); }"#,
        &format!("cat {}", file.display()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains(&format!("cat {}\n", file.display())), "{out}");
}

#[test]
fn copyinstr_at_return_of_an_address_saved_at_entry() {
    if !live_tests_possible() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = own_file(&dir, "rdtrace-copyinstr-return");
    let missing = dir.path().join("rdtrace-copyinstr-missing");
    let o = trace(
        r#"syscall::openat:entry /pid == $target/ { self->path = arg1; }
           syscall::openat:return /self->path/ { printf("%s %d\n", copyinstr(self->path), errno); self->path = 0; }"#,
        &format!("cat {} {}", file.display(), missing.display()),
    );
    // dtrace's status is its own, not the command's (cat fails here).
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    let at = |want: String| {
        lines
            .iter()
            .position(|l| *l == want)
            .unwrap_or_else(|| panic!("no line {want:?} in {out}"))
    };
    // The file opened, then the missing one failed with ENOENT.
    assert!(at(format!("{} 0", file.display())) < at(format!("{} 2", missing.display())));
}

#[test]
fn copyin_of_written_bytes() {
    if !live_tests_possible() {
        return;
    }
    let o = trace(
        r#"syscall::write:entry /pid == $target/ { printf("[%s]", stringof(copyin(arg1, arg2))); }"#,
        "/bin/echo -n rdtrace-copyin-bytes",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        // dtrace ends its output with a newline.
        "rdtrace-copyin-bytes[rdtrace-copyin-bytes]\n"
    );
}

#[test]
fn a_bad_user_address_is_an_error_and_tracing_goes_on() {
    if !live_tests_possible() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = own_file(&dir, "rdtrace-bad-address");
    let o = trace(
        r#"syscall::openat:entry /pid == $target/ { printf("%s\n", copyinstr(0)); }
           syscall::openat:entry /pid == $target/ { printf("still tracing\n"); }
           dtrace:::ERROR { printf("ERROR fault %d addr %d\n", arg4, arg5); }"#,
        &format!("cat {}", file.display()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (out, err) = (stdout(&o), stderr(&o));
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("dtrace: error on enabled probe ID 1 (ID ")
            && first
                .ends_with(": syscall:vmlinux:openat:entry): invalid address (0x0) in action #1"),
        "{err}"
    );
    // DTRACEFLT_BADADDR is 1; each firing goes on with the next clause.
    assert!(
        out.contains("ERROR fault 1 addr 0\nstill tracing\n"),
        "{out}"
    );
}

#[test]
fn addresses_computed_after_the_event_are_refused_at_compile_time() {
    let o = rdtrace()
        .args([
            "-e",
            "-n",
            "syscall::openat:entry { this->p = arg1 + 1; trace(copyinstr(this->p)); }",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("copyinstr( ) address must be known when the probe fires"),
        "{e}"
    );
    let o = rdtrace()
        .args(["-e", "-n", "tcp:::send { trace(copyinstr(arg0)); }"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("copyinstr( ) cannot be used in probe tcp:vmlinux:net_dev_queue:send"),
        "{e}"
    );
    let o = rdtrace()
        .args([
            "-e",
            "-n",
            "syscall::read:entry { self->p = arg1; } syscall::openat:return { trace(copyinstr(self->p)); }",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("is set at syscall:vmlinux:read:entry"), "{e}");
}

#[test]
fn replay_says_once_that_syscall_probes_never_fire() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("empty.pcap");
    let conv = common::capture::Conversation {
        client: ("192.0.2.8".parse().unwrap(), 40000),
        server: ("192.0.2.40".parse().unwrap(), 80),
        start: std::time::Duration::from_secs(1_700_000_000),
        step: std::time::Duration::from_millis(1),
        segments: vec![common::capture::seg(common::capture::From::Client, "S", 0)],
    };
    common::capture::write_pcap(&conv, &pcap);
    let o = rdtrace()
        .args([
            "-n",
            "syscall:::entry { @ = count(); } syscall::read:return { trace(1); }",
            "--replay",
            pcap.to_str().unwrap(),
            "--local",
            "192.0.2.8",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert_eq!(
        e.matches("dtrace: syscall probes never fire in a replay")
            .count(),
        1,
        "{e}"
    );
}

/// `bash FILE` for a script of `text` in `dir` (-c takes words only).
fn script(dir: &tempfile::TempDir, text: &str) -> String {
    let path = dir.path().join("run.sh");
    std::fs::write(&path, text).unwrap();
    format!("bash {}", path.display())
}

/// A shell script that connects to `port` on 127.0.0.1 and `port + 1` on
/// ::1 (both refused: nothing listens there; bash's /dev/tcp).
fn connecting_script(dir: &tempfile::TempDir, port: u16) -> String {
    let path = dir.path().join("connect.sh");
    std::fs::write(
        &path,
        format!(
            "exec 3<>/dev/tcp/127.0.0.1/{port} 2>/dev/null\nexec 3<>/dev/tcp/::1/{} 2>/dev/null\ntrue\n",
            port + 1
        ),
    )
    .unwrap();
    format!("bash {}", path.display())
}

#[test]
fn connect_addresses_through_sockaddr_in_and_in6() {
    if !live_tests_possible() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = 47311;
    let o = trace(
        r#"syscall::connect:entry /pid == $target && arg2 == sizeof (struct sockaddr_in)/
        {
            this->s = (struct sockaddr_in *)copyin(arg1, sizeof (struct sockaddr_in));
            printf("%s:%d\n", inet_ntoa((ipaddr_t *)&this->s->sin_addr), ntohs(this->s->sin_port));
        }
        syscall::connect:entry /pid == $target && arg2 == sizeof (struct sockaddr_in6)/
        {
            this->s6 = (struct sockaddr_in6 *)copyin(arg1, sizeof (struct sockaddr_in6));
            printf("[%s]:%d %s family=%d\n", inet_ntoa6(&this->s6->sin6_addr),
                ntohs(this->s6->sin6_port),
                inet_ntop(AF_INET6, (in6_addr_t *)&this->s6->sin6_addr),
                this->s6->sin6_family);
        }"#,
        &connecting_script(&dir, port),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("127.0.0.1:{port}\n[::1]:{} ::1 family=10\n\n", port + 1)
    );
}

#[test]
fn tracemem_and_copyinto_of_user_memory() {
    if !live_tests_possible() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = trace(
        r#"syscall::write:entry /pid == $target/ { tracemem(copyin(arg1, arg2), 32, arg2); }
           syscall::connect:entry /pid == $target && arg2 == sizeof (struct sockaddr_in)/
           {
               this->sa = (struct sockaddr_in *)alloca(sizeof (struct sockaddr_in));
               copyinto(arg1, sizeof (struct sockaddr_in), this->sa);
               printf("connect port %d\n", ntohs(this->sa->sin_port));
           }"#,
        &script(
            &dir,
            "exec 3<>/dev/tcp/127.0.0.1/47313 2>/dev/null\nexec /bin/echo -n tm-0123456789abcdefghij\n",
        ),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("connect port 47313\n"), "{out}");
    let digits: String = "0123456789abcdef"
        .chars()
        .map(|c| format!("  {c}"))
        .collect();
    let dump = format!(
        "\n{}{digits}  0123456789abcdef\n         0: 74 6d 2d 30 31 32 33 34 35 36 37 38 39 61 62 63  tm-0123456789abc\n        10: 64 65 66 67 68 69 6a{}  defghij\n",
        " ".repeat(11),
        " ".repeat(9 * 3)
    );
    assert!(out.contains(&dump), "{out:?}");
}

#[test]
fn every_call_at_once_sees_what_one_call_sees() {
    if !live_tests_possible() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = own_file(&dir, "rdtrace-raw-mode");
    let command = format!("cat {} {}", file.display(), file.display());
    // One call: its own tracepoint. Every call: raw_syscalls' hooks and a
    // table of call numbers. Both must see cat's openat calls alike.
    let one = trace(
        r#"syscall::openat:entry /pid == $target/ { printf("%s\n", copyinstr(arg1)); }
           syscall::openat:return /pid == $target/ { printf("= %d\n", errno); }"#,
        &command,
    );
    let all = trace(
        r#"syscall:::entry /pid == $target && probefunc == "openat"/ { printf("%s\n", copyinstr(arg1)); }
           syscall:::return /pid == $target && probefunc == "openat"/ { printf("= %d\n", errno); }"#,
        &command,
    );
    assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
    assert_eq!(all.status.code(), Some(0), "{}", stderr(&all));
    // Only what is certain: cat's output goes to the same stdout, and a
    // string in a page the process has not touched yet cannot be read at
    // entry (either mode may then miss a library path).
    let mine = |out: &str| -> (usize, usize) {
        let lines: Vec<&str> = out.lines().collect();
        let own = lines
            .iter()
            .filter(|l| l.ends_with("rdtrace-raw-mode"))
            .count();
        let returns = lines.iter().filter(|l| l.starts_with("= ")).count();
        (own, returns)
    };
    let (a, b) = (stdout(&one), stdout(&all));
    assert_eq!(mine(&a).0, 2, "{a}");
    assert_eq!(mine(&a), mine(&b), "{a}\n---\n{b}");
}

#[test]
fn drops_are_reported_once_per_status_interval_not_per_poll() {
    if !live_tests_possible() {
        return;
    }
    // A 4 KB buffer drained 100 times a second cannot keep up with a
    // record per byte dd copies: drops, reported per CPU per second.
    let start = std::time::Instant::now();
    let o = rdtrace()
        .args([
            "-q",
            "-b",
            "4k",
            "-x",
            "switchrate=100hz",
            "-n",
            r#"syscall::read:entry,syscall::write:entry /pid == $target/ { printf("%d %s\n", arg0, execname); }"#,
            "-c",
            "dd if=/dev/zero of=/dev/null bs=1 count=100000",
        ])
        .output()
        .unwrap();
    let secs = start.elapsed().as_secs() + 1;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    let lines = e.lines().filter(|l| l.contains(" on CPU ")).count() as u64;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    assert!(lines >= 1, "no drops reported: {e}");
    assert!(
        lines <= (secs + 1) * cpus,
        "{lines} drop lines in {secs} s: {e}"
    );
}

/// curpsinfo and curlwpsinfo on syscall probes: read in the kernel when
/// the probe fires, alongside the user memory a clause copies.
#[test]
fn curpsinfo_on_syscall_probes() {
    if !live_tests_possible() {
        return;
    }
    let o = trace(
        r#"syscall::write:entry /pid == $target/ {
               printf("[%s] [%s] %d %d %d %c\n", curpsinfo->pr_psargs, copyinstr(arg1, 9),
                   curpsinfo->pr_pid == pid, curpsinfo->pr_ppid == ppid, curlwpsinfo->pr_lwpid == tid,
                   curlwpsinfo->pr_sname);
           }
           syscall::write:return /pid == $target/ { printf("fname %s %d\n", curpsinfo->pr_fname, vtimestamp > 0); }"#,
        "/bin/echo rdtrace-psargs-test",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("[/bin/echo rdtrace-psargs-test] [rdtrace-p] 1 1 1 O\nfname echo 1\n"),
        "{out}"
    );
}

/// `count()` and `sum()` of a probe whose clauses do nothing else are kept
/// in the kernel: exact however fast the calls come. dd with `status=none`
/// makes exactly N write(2)s of 1 byte each to fd 1 (its `of=`); through a
/// 4 KB buffer, which a record per call overflows (the test above), the
/// kernel's counts lose nothing, report no drop, and print as dtrace
/// prints aggregations; the user-space evaluation of the same script
/// (RDTRACE_NO_KERNEL_AGG=1, the records crossing a large buffer) agrees.
#[test]
fn counts_and_sums_kept_in_the_kernel_are_exact_at_any_rate() {
    if !live_tests_possible() {
        return;
    }
    const N: u64 = 200_000;
    let script = r#"syscall::write:entry /pid == $target && arg0 == 1/ { @calls[probefunc] = count(); @bytes[execname] = sum(arg2); }
        syscall::write:entry /pid == $target && arg0 == 1/ { @c2[probename, arg0] = count(); }"#;
    let command = format!("dd if=/dev/zero of=/dev/null bs=1 count={N} status=none");
    let run = |user_space: bool| {
        let mut cmd = rdtrace();
        let buf = if user_space {
            cmd.env("RDTRACE_NO_KERNEL_AGG", "1");
            "64m"
        } else {
            "4k"
        };
        cmd.args(["-q", "-b", buf, "-n", script, "-c", &command])
            .output()
            .unwrap()
    };
    let o = run(false);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(!e.contains("drop"), "{e}");
    let out = stdout(&o);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let n = N.to_string();
    for row in [vec!["write", &n], vec!["dd", &n], vec!["entry", "1", &n]] {
        assert!(rows.contains(&row), "no row {row:?} in {out}");
    }
    let user = run(true);
    assert_eq!(user.status.code(), Some(0), "{}", stderr(&user));
    assert_eq!(
        out,
        stdout(&user),
        "kernel (left) and user space (right) differ"
    );
}

/// Keys of only the task's name and the probe (`@[execname, probefunc] =
/// count()`, `sum(constant)`, no predicate) are made in the kernel without
/// building the record (`kagg_update` with `direct`): still exact. dd, copied under a
/// name of this test's own, makes exactly N write(2)s; other processes'
/// rows are ignored.
#[test]
fn counts_keyed_by_execname_and_probefunc_alone_are_exact() {
    if !live_tests_possible() {
        return;
    }
    const N: u64 = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let name = format!("kd{}", std::process::id() % 100_000_000);
    let bin = dir.path().join(&name);
    std::fs::copy("/bin/dd", &bin).unwrap();
    let script = r#"syscall::write:entry { @calls[execname, probefunc] = count(); }
        syscall::write:entry { @bytes[execname] = sum(3); }"#;
    let command = format!(
        "{} if=/dev/zero of=/dev/null bs=1 count={N} status=none",
        bin.display()
    );
    let o = rdtrace()
        .args(["-q", "-b", "4k", "-n", script, "-c", &command])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let (n, n3) = (N.to_string(), (3 * N).to_string());
    for row in [vec![name.as_str(), "write", &n], vec![name.as_str(), &n3]] {
        assert!(rows.contains(&row), "no row {row:?} in {out}");
    }
}
