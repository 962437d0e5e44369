//! `rdtrace --test DIR [--bless]`: golden-output tests of D scripts, the
//! way rdtrace tests its own. A case in DIR is a set of files:
//!
//! - `NAME.d`        the script, run as `-s NAME.d` from DIR; without it,
//!   `NAME.out` alone names a bundled script: `tcpbytes.in.out` runs
//!   `tcpbytes.d` (from an empty directory, so rdtrace's own copy is used);
//! - `NAME.pcap` / `NAME.pcapng`  the capture replayed (absent: an empty one);
//! - `NAME.args`     extra command-line words (optional): flags such as
//!   `--local 192.0.2.8` or `-x aggsortrev`, then after a line `--` the
//!   macro arguments `$1`…; `#` starts a comment;
//! - `NAME.out`, `NAME.err`, `NAME.status`  the expected stdout, stderr
//!   (absent: empty) and exit status (absent: 0).
//!
//! Each case runs in its own rdtrace process pinned to CPU 0 (BEGIN, END
//! and `cpu` are deterministic) over the capture's clock; `TZ` is passed on.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Case {
    name: String,
    /// `NAME.d`, or the bundled script a lone `NAME.out` names.
    script: String,
    bundled: bool,
}

fn cases(dir: &Path) -> std::io::Result<Vec<Case>> {
    let mut files: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    files.sort();
    let mut cases: Vec<Case> = files
        .iter()
        .filter_map(|f| f.strip_suffix(".d"))
        .map(|n| Case {
            name: n.to_string(),
            script: format!("{n}.d"),
            bundled: false,
        })
        .collect();
    for f in &files {
        let Some(name) = f.strip_suffix(".out") else {
            continue;
        };
        if !files.contains(&format!("{name}.d")) {
            let first = name.split('.').next().unwrap_or(name);
            cases.push(Case {
                name: name.to_string(),
                script: format!("{first}.d"),
                bundled: true,
            });
        }
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(cases)
}

/// What one run printed and returned.
struct Outcome {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: i32,
}

fn run_case(dir: &Path, case: &Case, scratch: &Path) -> Result<Outcome, String> {
    let file = |ext: &str| dir.join(format!("{}.{ext}", case.name));
    let args_text = std::fs::read_to_string(file("args")).unwrap_or_default();
    let mut words = args_text.lines().map(|l| l.split('#').next().unwrap_or(""));
    let flags: Vec<&str> = words
        .by_ref()
        .take_while(|l| l.trim() != "--")
        .flat_map(str::split_whitespace)
        .collect();
    let macros: Vec<&str> = words.flat_map(str::split_whitespace).collect();
    let capture = [file("pcap"), file("pcapng")]
        .into_iter()
        .find(|p| p.exists());
    let has_local = flags.contains(&"--local");
    let capture = match capture {
        Some(c) if !has_local => {
            return Err(format!(
                "{}.args must give --local ADDR (the traced host's addresses) for {}",
                case.name,
                c.display()
            ))
        }
        Some(c) => c,
        None => empty_capture(scratch).map_err(|e| format!("cannot write a capture: {e}"))?,
    };
    let cwd = if case.bundled {
        let d = scratch.join("empty");
        std::fs::create_dir_all(&d).map_err(|e| e.to_string())?;
        d
    } else {
        dir.to_path_buf()
    };
    let exe = std::env::current_exe().map_err(|e| format!("cannot find rdtrace itself: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.current_dir(&cwd)
        .args(&flags)
        .args(["-s", &case.script, "--replay"])
        .arg(&capture);
    if !has_local {
        // An empty capture has no hosts; --local is still required.
        cmd.args(["--local", "192.0.2.1"]);
    }
    cmd.args(&macros);
    on_cpu_zero(&mut cmd);
    let o = cmd
        .output()
        .map_err(|e| format!("cannot run rdtrace: {e}"))?;
    Ok(Outcome {
        stdout: o.stdout,
        stderr: o.stderr,
        status: o.status.code().unwrap_or(128),
    })
}

/// A pcap with no packets.
fn empty_capture(scratch: &Path) -> std::io::Result<PathBuf> {
    let path = scratch.join("empty.pcap");
    let mut header = Vec::with_capacity(24);
    header.extend_from_slice(&0xA1B2_C3D4u32.to_le_bytes());
    header.extend_from_slice(&2u16.to_le_bytes());
    header.extend_from_slice(&4u16.to_le_bytes());
    header.extend_from_slice(&[0; 8]);
    header.extend_from_slice(&65535u32.to_le_bytes());
    header.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
    std::fs::write(&path, header)?;
    Ok(path)
}

/// BEGIN and END fire on the CPU rdtrace runs on: CPU 0, always.
fn on_cpu_zero(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(0, &mut set);
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The first line where `want` and `got` differ, both shown.
fn first_difference(what: &str, want: &[u8], got: &[u8]) -> Option<String> {
    if want == got {
        return None;
    }
    let (w, g) = (String::from_utf8_lossy(want), String::from_utf8_lossy(got));
    let (wl, gl): (Vec<&str>, Vec<&str>) = (w.split('\n').collect(), g.split('\n').collect());
    let i = (0..wl.len().max(gl.len()))
        .find(|&i| wl.get(i) != gl.get(i))
        .unwrap_or(0);
    let show = |l: Option<&&str>| l.map_or("(no line)".to_string(), |l| format!("{l:?}"));
    Some(format!(
        "  {what} line {}:\n    expected: {}\n    got:      {}",
        i + 1,
        show(wl.get(i)),
        show(gl.get(i))
    ))
}

fn read_or_empty(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_default()
}

/// Runs (or with `bless`, records) every case in `dir`; the exit status.
pub fn run(dir: &Path, bless: bool) -> u8 {
    let cases = match cases(dir) {
        Ok(c) if !c.is_empty() => c,
        Ok(_) => {
            eprintln!(
                "rdtrace: {}: no test cases (NAME.d or NAME.out files)",
                dir.display()
            );
            return 2;
        }
        Err(e) => {
            eprintln!("rdtrace: {}: {e}", dir.display());
            return 2;
        }
    };
    let scratch = match tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("rdtrace: cannot make a scratch directory: {e}");
            return 2;
        }
    };
    let (mut passed, mut failed) = (0, 0);
    for case in &cases {
        let file = |ext: &str| dir.join(format!("{}.{ext}", case.name));
        let outcome = match run_case(dir, case, &scratch) {
            Ok(o) => o,
            Err(why) => {
                println!("FAIL {}\n  {why}", case.name);
                failed += 1;
                continue;
            }
        };
        if bless {
            match bless_case(&file, &outcome) {
                Ok(()) => println!("blessed {}", case.name),
                Err(e) => {
                    println!("FAIL {}\n  cannot write its expected files: {e}", case.name);
                    failed += 1;
                    continue;
                }
            }
            passed += 1;
            continue;
        }
        let want_status = std::fs::read_to_string(file("status"))
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .unwrap_or(0);
        let mut problems: Vec<String> = [
            first_difference("stdout", &read_or_empty(&file("out")), &outcome.stdout),
            first_difference("stderr", &read_or_empty(&file("err")), &outcome.stderr),
        ]
        .into_iter()
        .flatten()
        .collect();
        if outcome.status != want_status {
            problems.push(format!(
                "  exit status {}, expected {want_status}",
                outcome.status
            ));
        }
        if problems.is_empty() {
            println!("ok   {}", case.name);
            passed += 1;
        } else {
            println!("FAIL {}\n{}", case.name, problems.join("\n"));
            failed += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!("{passed} passed, {failed} failed");
    u8::from(failed > 0)
}

fn bless_case(file: &dyn Fn(&str) -> PathBuf, o: &Outcome) -> std::io::Result<()> {
    std::fs::write(file("out"), &o.stdout)?;
    write_or_remove(&file("err"), &o.stderr, o.stderr.is_empty())?;
    let status = format!("{}\n", o.status);
    write_or_remove(&file("status"), status.as_bytes(), o.status == 0)
}

/// Writes `bytes`, or removes the file when it would say the default.
fn write_or_remove(p: &Path, bytes: &[u8], default: bool) -> std::io::Result<()> {
    if default {
        match std::fs::remove_file(p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    } else {
        std::fs::write(p, bytes)
    }
}

/// A fresh directory under the system's temporary directory.
fn tempdir() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    for i in 0..100u32 {
        let d = base.join(format!("rdtrace-test-{}-{i}", std::process::id()));
        match std::fs::create_dir(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(
        "no free name for a scratch directory",
    ))
}
