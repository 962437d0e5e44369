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
    assert!(
        out.contains("openat return\n\n\tArgument Types\n\t\targs[0]: long\n"),
        "{out}"
    );
}
