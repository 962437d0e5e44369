//! stack(), ustack() and the symbol functions, live: a program built here
//! with frame pointers and known function names (nested functions that
//! spin, a named function that writes to a pipe its child reads) under
//! `-c`. Expected frames are those functions, and the kernel's pipe write
//! path for the wakeup the write causes; the layout is dtrace's (frames
//! indented 14 columns, `module`function+0xoffset`, the count after).

mod common;

use std::path::{Path, PathBuf};

use common::netns::live_tests_possible;
use common::{rdtrace, stderr, stdout};

const PROGRAM: &str = r#"
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
volatile unsigned long sink;
__attribute__((noinline)) void rdt_leaf_spin(unsigned long n) { for (unsigned long i = 0; i < n; i++) sink += i; }
__attribute__((noinline)) void rdt_middle(unsigned long n) { rdt_leaf_spin(n); sink++; }
/* The system call from this function itself (libc's write keeps no frame
 * pointer: unwinding from inside it would skip its caller's frame). */
__attribute__((noinline)) void rdt_do_write(int fd) {
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "0"(1L), "D"((long)fd), "S"("x"), "d"(1L) : "rcx", "r11", "memory");
	sink += ret;
}
int main(int argc, char **argv) {
	unsigned long n = argc > 1 ? strtoul(argv[1], 0, 10) : 1000;
	int p[2];
	if (pipe(p)) return 1;
	pid_t c = fork();
	if (c == 0) { char b; close(p[1]); if (read(p[0], &b, 1) < 0) _exit(1); _exit(0); }
	close(p[0]);
	rdt_middle(n);
	usleep(100000);
	rdt_do_write(p[1]);
	waitpid(c, 0, 0);
	/* Alive until rdtrace has consumed the events (switchrate 1s): user
	 * frames are resolved through the living process's mappings. */
	usleep(1500000);
	return 0;
}
"#;

/// The test program, compiled with frame pointers and without
/// optimisation (every function keeps its frame).
fn program(dir: &Path) -> PathBuf {
    common::build_c(
        dir,
        "rdt-stacks",
        PROGRAM,
        &["-O0", "-g", "-fno-omit-frame-pointer"],
    )
}

fn trace(script: &str, command: &str) -> String {
    let o = rdtrace()
        .args(["-q", "-n", script, "-c", command])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    stdout(&o)
}

/// The stacks of an aggregation's default print: (frames, count) per
/// row. A frame is indented 14 columns; the count follows, right-aligned
/// in 17.
fn stack_rows(out: &str) -> Vec<(Vec<String>, u64)> {
    let mut rows = Vec::new();
    let mut frames = Vec::new();
    for line in out.lines() {
        let indent = line.len() - line.trim_start().len();
        match line.trim().parse::<u64>() {
            Ok(n) if indent >= 14 => rows.push((std::mem::take(&mut frames), n)),
            _ if indent == 14 => frames.push(line.trim().to_string()),
            _ => frames.clear(),
        }
    }
    rows
}

#[test]
fn profile_samples_name_the_spinning_functions() {
    if !live_tests_possible() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = program(dir.path());
    let out = trace(
        "profile-997 /pid == $target/ { @[ustack()] = count(); }",
        &format!("{} 3000000000", exe.display()),
    );
    let rows = stack_rows(&out);
    let spinning: u64 = rows
        .iter()
        .filter(|(f, _)| {
            f.first()
                .is_some_and(|t| t.starts_with("rdt-stacks`rdt_leaf_spin+0x"))
                && f.get(1)
                    .is_some_and(|t| t.starts_with("rdt-stacks`rdt_middle+0x"))
                && f.get(2)
                    .is_some_and(|t| t.starts_with("rdt-stacks`main+0x"))
        })
        .map(|(_, n)| n)
        .sum();
    let all: u64 = rows.iter().map(|(_, n)| n).sum();
    // Most samples are in the spin (the rest: exec, exit, and any the
    // consumer saw after the process was gone, which print as hex).
    assert!(
        spinning > 100 && spinning * 2 > all,
        "{spinning} of {all}:\n{out}"
    );
}

#[test]
fn write_shows_its_caller_and_the_kernel_pipe_path() {
    if !live_tests_possible() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = program(dir.path());
    let out = trace(
        "syscall::write:entry /pid == $target/ { @[ustack()] = count(); }
         sched:::wakeup /pid == $target && args[1]->pr_ppid == $target/ { @k[stack()] = count(); }
         syscall::write:entry /pid == $target/ { @s[stack(2)] = count(); }",
        &format!("{} 1000", exe.display()),
    );
    let rows = stack_rows(&out);
    assert!(
        rows.iter().any(|(f, n)| *n == 1
            && f.iter()
                .any(|t| t.starts_with("rdt-stacks`rdt_do_write+0x"))
            && f.iter().any(|t| t.starts_with("rdt-stacks`main+0x"))),
        "{out}"
    );
    // Waking the reader happens inside write(2): the pipe's write
    // (anon_pipe_write on 6.18), vfs_write, ksys_write.
    assert!(
        rows.iter().any(|(f, _)| [
            "pipe_write+0x",
            "vmlinux`vfs_write+0x",
            "vmlinux`ksys_write+0x"
        ]
        .iter()
        .all(|want| f.iter().any(|t| t.contains(want)))),
        "{out}"
    );
    // stack(2) at the syscall's entry: the entry path, two frames, none
    // of the tracing machinery.
    assert!(
        rows.iter().any(|(f, _)| f.len() == 2
            && f[0].starts_with("vmlinux`do_syscall_64+0x")
            && f[1].starts_with("vmlinux`entry_SYSCALL_64")),
        "{out}"
    );
}

#[test]
fn symbol_functions_group_by_function_and_module() {
    if !live_tests_possible() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = program(dir.path());
    let out = trace(
        r#"profile-997 /pid == $target && arg1/ { @f[ufunc(arg1)] = count(); @m[umod(arg1)] = count(); }
           profile-997 /pid == $target/ { @pc[arg0 == 0 && arg1 != 0 ? "user" : "kernel"] = count(); }
           END { printa("%s %@d\n", @f); printa("%s %@d\n", @m); printa("pc %s %@d\n", @pc); }"#,
        &format!("{} 3000000000", exe.display()),
    );
    let count = |key: &str| -> u64 {
        let hits: Vec<u64> = out
            .lines()
            .filter_map(|l| l.strip_prefix(key)?.trim().parse().ok())
            .collect();
        // One row per function, however many addresses were sampled.
        assert_eq!(hits.len(), 1, "{key}: {out}");
        hits[0]
    };
    let spin = count("rdt-stacks`rdt_leaf_spin ");
    let module = count("rdt-stacks ");
    assert!(spin > 100 && module >= spin, "{out}");
    // arg0 is the kernel PC (0 in user mode), arg1 the user PC: a user
    // spin is sampled in user mode (but for the odd interrupt).
    assert!(count("pc user ") * 10 >= spin * 9, "{out}");
}

#[test]
fn a_kernel_symbol_of_an_address_prints_as_dtrace_does() {
    if !live_tests_possible() {
        return;
    }
    // ksys_write's address from kallsyms (root sees real addresses).
    let kallsyms = std::fs::read_to_string("/proc/kallsyms").unwrap();
    let addr = kallsyms
        .lines()
        .find_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() == 3 && w[2] == "ksys_write").then(|| u64::from_str_radix(w[0], 16).ok())?
        })
        .expect("ksys_write in /proc/kallsyms");
    assert_ne!(addr, 0, "kallsyms addresses are hidden");
    let out = trace(
        &format!(
            "syscall::write:entry /pid == $target/ {{ trace(func({addr})); trace(mod({addr})); trace(func({})); exit(0); }}",
            addr + 5
        ),
        "/bin/echo x",
    );
    assert!(
        out.contains(&format!(
            "  {:<50}  {:<50}  {:<50}",
            "vmlinux`ksys_write", "vmlinux", "vmlinux`ksys_write"
        )),
        "{out:?}"
    );
}

#[test]
fn stacks_are_refused_where_nothing_captures_them() {
    let o = rdtrace()
        .args(["-e", "-n", "tcp:::send { @[stack()] = count(); }"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("stack( ) cannot be used in probe tcp"),
        "{}",
        stderr(&o)
    );
    let o = rdtrace()
        .args(["-e", "-n", "BEGIN { x = stack(); }"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let o = rdtrace()
        .args(["-e", "-x", "stackframes=500", "-n", "BEGIN { exit(0); }"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn folded_stacks_for_flame_graphs() {
    if !live_tests_possible() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = program(dir.path());
    let o = rdtrace()
        .args([
            "-q",
            "-x",
            "stackformat=folded",
            "-n",
            "profile-997 /pid == $target/ { @[ustack()] = count(); }",
            "-c",
            &format!("{} 1000000000", exe.display()),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    // Outermost frame first, `;` between frames, then the count.
    let spin: u64 = out
        .lines()
        .filter_map(|l| {
            let (frames, n) = l.rsplit_once(' ')?;
            frames
                .ends_with("rdt-stacks`main;rdt-stacks`rdt_middle;rdt-stacks`rdt_leaf_spin")
                .then(|| n.parse::<u64>().ok())?
        })
        .sum();
    assert!(spin > 100, "{out}");
}
