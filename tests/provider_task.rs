//! The proc, sched, io and sdt providers, live, with programs these tests
//! start (`-c`): each test keeps only its own process's events (`pid ==
//! $target`, `ppid == $target`) or its own loop device. Expected values
//! are what the programs do, as illumos's providers report them: exit
//! reasons CLD_EXITED 1 / CLD_KILLED 2, signal-send's target in args[1],
//! io:::start's byte counts per device, sdt's args[] in the tracepoint's
//! field order.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::netns::live_tests_possible;
use common::{rdtrace, read_until, stderr, stdout};

fn trace(script: &str, command: &str) -> std::process::Output {
    rdtrace()
        .args(["-q", "-n", script, "-c", command])
        .output()
        .unwrap()
}

/// An executable shell script `name` in `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    write!(f, "#!/bin/sh\n{body}").unwrap();
    drop(f);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn exec_fork_and_exit_of_a_known_program() {
    if !live_tests_possible() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let prog = script(
        dir.path(),
        "rdt-proc.sh",
        "/bin/true rdtrace-arg\n/nonexistent/rdtrace-cmd 2>/dev/null\nexit 3\n",
    );
    let o = trace(
        r#"proc:::exec-success /pid == $target/ { printf("exec-success %s\n", curpsinfo->pr_psargs); }
           proc:::exec-success /ppid == $target/ { printf("child %s %d\n", curpsinfo->pr_psargs, curpsinfo->pr_ppid == $target); }
           proc:::exec /ppid == $target/ { printf("exec %s\n", args[0]); }
           proc:::exec-failure /ppid == $target/ { printf("exec-failure %d\n", args[0]); }
           proc:::create /pid == $target/ { printf("create %d %d\n", args[0]->pr_ppid == $target, args[0]->pr_pid != $target); }
           proc:::exit /pid == $target/ { printf("exit %d %s\n", args[0], curpsinfo->pr_fname); }"#,
        &format!("{} one two", prog.display()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    // dtrace ends its output with an empty line.
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    let want = [
        format!("exec-success /bin/sh {} one two", prog.display()),
        "exec /bin/true".into(),
        "child /bin/true rdtrace-arg 1".into(),
        "exec /nonexistent/rdtrace-cmd".into(),
        "exec-failure 2".into(),
        "create 1 1".into(),
        // exit 3 is a normal exit: CLD_EXITED.
        "exit 1 rdt-proc.sh".into(),
    ];
    for w in &want {
        assert!(lines.contains(&w.as_str()), "{w:?} missing in:\n{out}");
    }
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("create")).count(),
        2,
        "{out}"
    );
    assert_eq!(lines.last(), Some(&"exit 1 rdt-proc.sh"), "{out}");
}

#[test]
fn sigterm_is_sent_and_kills() {
    if !live_tests_possible() {
        return;
    }
    let mut child = rdtrace()
        .args([
            "-q",
            "-n",
            r#"BEGIN { printf("target %d\n", $target); }
               proc:::signal-send /args[1]->pr_pid == $target/ { printf("send %d %d %d\n", pid, args[2], args[0]->pr_lwpid == $target); }
               proc:::signal-handle /pid == $target/ { printf("handle %d %d\n", args[0], args[2]); }
               proc:::exit /pid == $target/ { printf("exit %d\n", args[0]); }"#,
            "-c",
            "sleep 61",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut buf = Vec::new();
    read_until(&mut child, &mut buf, |s| s.contains('\n'));
    let first = String::from_utf8_lossy(&buf).to_string();
    let target: i32 = first
        .strip_prefix("target ")
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("no target line: {first:?}")
        });
    // SAFETY: kill(2) on the target rdtrace started for this test.
    assert_eq!(unsafe { libc::kill(target, libc::SIGTERM) }, 0);
    read_until(&mut child, &mut buf, |s| s.contains("exit "));
    let _ = child.kill();
    let o = child.wait_with_output().unwrap();
    let mut all = buf;
    all.extend_from_slice(&o.stdout);
    let out = String::from_utf8_lossy(&all).to_string();
    let me = std::process::id();
    assert!(out.contains(&format!("send {me} 15 1\n")), "{out}");
    // SIGTERM's default action: delivered without a handler, then killed.
    assert!(out.contains("handle 15 0\n"), "{out}");
    assert!(out.contains("exit 2\n"), "{out}");
}

#[test]
fn a_spinner_pinned_to_one_cpu_goes_on_and_off_it() {
    if !live_tests_possible() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Spins, then sleeps (off-cpu, sleep), five times.
    let prog = script(
        dir.path(),
        "rdt-spin.sh",
        "j=0\nwhile [ $j -lt 5 ]; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 0.05; j=$((j+1)); done\n",
    );
    let o = trace(
        r#"sched:::on-cpu /pid == $target && execname == "rdt-spin.sh"/ { self->ts = timestamp; self->vts = vtimestamp; @on[curcpu->cpu_id, curlwpsinfo->pr_onpro, curlwpsinfo->pr_sname] = count(); }
           sched:::off-cpu /self->ts/ { @cpu["on-cpu ns > 0"] = min(timestamp - self->ts > 0); @vt["vtime grows"] = min(vtimestamp >= self->vts); self->ts = 0; @off = count(); }
           sched:::sleep /pid == $target/ { @sleep = count(); }
           sched:::wakeup /args[1]->pr_pid == $target/ { @woken = count(); }
           END { printa("on %d %d %c %@d\n", @on); printa("%s %@d\n", @cpu); printa("%s %@d\n", @vt);
                 printa("off %@d\n", @off); printa("sleep %@d\n", @sleep); printa("woken %@d\n", @woken); }"#,
        &format!("taskset -c 0 {}", prog.display()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    // Every on-cpu of the target was on CPU 0, the thread itself running.
    let on: Vec<&&str> = lines.iter().filter(|l| l.starts_with("on ")).collect();
    assert_eq!(on.len(), 1, "{out}");
    let fields: Vec<&str> = on[0].split_whitespace().collect();
    assert_eq!(&fields[1..4], ["0", "0", "O"], "{out}");
    let count = |prefix: &str| -> u64 {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("{prefix} missing: {out}"))
    };
    // taskset execs the script and sh forks each sleep: at least the five
    // sleeps take the spinner off its CPU, and each is woken.
    assert!(fields[4].parse::<u64>().unwrap() >= 5, "{out}");
    assert!(count("off ") >= 5, "{out}");
    assert!(count("sleep ") >= 5, "{out}");
    assert!(count("woken ") >= 5, "{out}");
    assert_eq!(count("on-cpu ns > 0 "), 1, "{out}");
    assert_eq!(count("vtime grows "), 1, "{out}");
}

/// A loop device on a temporary file, detached when dropped.
struct LoopDevice {
    dev: String,
    _file: tempfile::NamedTempFile,
}

impl LoopDevice {
    fn new() -> LoopDevice {
        let file = tempfile::NamedTempFile::new().unwrap();
        file.as_file().set_len(4 << 20).unwrap();
        let o = Command::new("losetup")
            .args(["-f", "--show"])
            .arg(file.path())
            .output()
            .expect("losetup (util-linux) is needed for the io test");
        assert!(o.status.success(), "losetup: {}", stderr(&o));
        LoopDevice {
            dev: stdout(&o).trim().to_string(),
            _file: file,
        }
    }
    fn name(&self) -> &str {
        self.dev.trim_start_matches("/dev/")
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.dev]).status();
    }
}

#[test]
fn block_io_to_a_loop_device_counts_its_bytes() {
    if !live_tests_possible() {
        return;
    }
    let lo = LoopDevice::new();
    let o = trace(
        &format!(
            r#"io:::start /args[1]->dev_statname == "{n}"/ {{ @[args[1]->dev_statname, args[0]->b_flags & B_READ ? "R" : "W"] = sum(args[0]->b_bcount); @dev[args[1]->dev_pathname, args[1]->dev_major, args[1]->dev_minor, args[2]->fi_pathname] = count(); }}
               io:::done /args[1]->dev_statname == "{n}"/ {{ @done[args[0]->b_flags & B_DONE ? "done" : "?", args[0]->b_error, args[0]->b_resid] = sum(args[0]->b_bcount); }}
               END {{ printa("%s %s %@d\n", @); printa("%s %d %d %s %@d\n", @dev); printa("%s %d %d %@d\n", @done); }}"#,
            n = lo.name()
        ),
        &format!(
            "dd if=/dev/zero of={} bs=4096 count=16 oflag=direct status=none",
            lo.dev
        ),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let (major, minor) = {
        use std::os::unix::fs::MetadataExt;
        let rdev = std::fs::metadata(&lo.dev).unwrap().rdev();
        (libc::major(rdev), libc::minor(rdev))
    };
    assert!(out.contains(&format!("{} W 65536\n", lo.name())), "{out}");
    let requests: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{} {major} {minor} <unknown> ", lo.dev)))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no devinfo line: {out}"));
    assert!((1..=16).contains(&requests), "{out}");
    assert!(out.contains("done 0 0 65536\n"), "{out}");
}

#[test]
fn sdt_gives_a_tracepoints_fields_as_args() {
    if !live_tests_possible() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let prog = script(dir.path(), "rdt-fork.sh", "/bin/true\nexit 0\n");
    let o = trace(
        r#"sdt:sched::sched_process_fork /pid == $target/ { printf("%s %d %d\n", stringof(args[0]), args[1] == $target, args[3] != args[1]); }"#,
        &prog.display().to_string(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines, ["rdt-fork.sh 1 1"], "{out}");
    let o = rdtrace()
        .args(["-lv", "-n", "sdt:sched::sched_process_fork"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let listing = stdout(&o);
    assert!(
        listing.contains(
            "\t\targs[0]: string\n\t\targs[1]: pid_t\n\t\targs[2]: string\n\t\targs[3]: pid_t\n"
        ),
        "{listing}"
    );
}

/// A program built here that starts a thread, ignores SIGUSR1 and sends it
/// to itself, then forks.
const THREADS: &str = r#"
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
static void *run(void *arg) { return arg; }
int main(void) {
	pthread_t t;
	signal(SIGUSR1, SIG_IGN);
	kill(getpid(), SIGUSR1);
	if (pthread_create(&t, 0, run, 0)) return 1;
	pthread_join(t, 0);
	pid_t c = fork();
	if (c == 0) _exit(0);
	waitpid(c, 0, 0);
	return 0;
}
"#;

#[test]
fn threads_start_and_exit_and_an_ignored_signal_is_discarded() {
    if !live_tests_possible() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = common::build_c(dir.path(), "rdt-threads", THREADS, &["-pthread"]);
    let o = trace(
        r#"proc:::lwp-create /pid == $target/ { printf("lwp-create %d %d\n", args[0]->pr_lwpid != tid, args[1]->pr_pid == pid); }
           proc:::lwp-start /pid == $target/ { printf("lwp-start %d\n", tid != pid); }
           proc:::lwp-exit /pid == $target/ { printf("lwp-exit %d\n", tid != pid); }
           proc:::signal-discard /args[1]->pr_pid == $target && args[2] == SIGUSR1/ { printf("discard %d\n", pid == $target); }
           proc:::start /ppid == $target/ { printf("start %d\n", pid != $target); }
           proc:::exit /ppid == $target/ { printf("child exit %d\n", args[0]); }"#,
        &exe.display().to_string(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines,
        [
            "discard 1",
            "lwp-create 1 1",
            "lwp-start 1",
            "lwp-exit 1",
            "start 1",
            "child exit 1"
        ],
        "{out}"
    );
}

/// A program's catalog reads the tracefs formats only of the tracepoints
/// it may enable (reading all ~1,800 cost every start 45 ms and 10 MB):
/// the others are listed by name, for matching and suggestions, without
/// arguments.
#[test]
fn only_tracepoints_a_program_may_enable_have_their_formats_read() {
    if !live_tests_possible() {
        return;
    }
    let catalog = rdtrace_probes::catalog_for(&|p| p[3] == "sched_process_fork");
    let sdt = |name: &str| {
        catalog
            .probes
            .iter()
            .find(|p| p.provider == "sdt" && p.name == name)
            .unwrap_or_else(|| panic!("no sdt probe {name}"))
    };
    assert!(sdt("sched_process_fork").args.len() >= 4);
    assert!(sdt("sched_process_exec").args.is_empty());
    // The full catalog (as -l lists it) has every tracepoint's arguments.
    let full = rdtrace_probes::catalog();
    let exec = full
        .probes
        .iter()
        .find(|p| p.provider == "sdt" && p.name == "sched_process_exec")
        .expect("sched_process_exec");
    assert!(!exec.args.is_empty());
}
