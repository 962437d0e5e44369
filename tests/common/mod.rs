#![allow(dead_code)]
pub mod capture;
pub mod netns;
pub mod prometheus;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The rdtrace binary under test.
pub fn rdtrace() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rdtrace"))
}

pub fn repo_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Reads a running rdtrace's stdout into `buf` until `done(buf)` holds, the
/// output ends, or `netns::DEADLINE` passes.
pub fn read_until(child: &mut std::process::Child, buf: &mut Vec<u8>, done: impl Fn(&str) -> bool) {
    use std::io::Read;
    let out = child.stdout.as_mut().expect("stdout is piped");
    let end = std::time::Instant::now() + netns::DEADLINE;
    let mut chunk = [0u8; 4096];
    while std::time::Instant::now() < end && !done(&String::from_utf8_lossy(buf)) {
        match out.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("reading rdtrace's output: {e}"),
        }
    }
}

/// Compiles the C program `source` into `dir/name` with `cc` (or $CC).
pub fn build_c(dir: &std::path::Path, name: &str, source: &str, flags: &[&str]) -> PathBuf {
    let src = dir.join(format!("{name}.c"));
    let exe = dir.join(name);
    std::fs::write(&src, source).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let o = Command::new(&cc)
        .args(flags)
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("a C compiler ({cc}, or $CC) is needed: {e}"));
    assert!(o.status.success(), "{cc}: {}", stderr(&o));
    exe
}
