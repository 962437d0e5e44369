//! Destructive actions (`system`, `raise`, `stop`; only with `-w`). As in
//! dtrace, they are records of the clause's output: they take effect when
//! the clause completes, in order with what it printed, and not at all when
//! the clause is abandoned by a fault.

use std::io::Read;
use std::process::{Command, Stdio};

/// A destructive action a running clause asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Deferred {
    /// `system(fmt, …)`: the formatted command, and where in the clause's
    /// output it was asked for.
    System { at: usize, cmd: Vec<u8> },
    /// `raise(sig)`: a signal for the process of the event.
    Raise(i32),
    /// `stop()`: SIGSTOP for the process of the event.
    Stop,
}

/// Carries out the actions of a completed clause whose output is `buf`;
/// `pid` is the process the event belongs to. A system() command runs
/// through `sh -c` and its standard output is spliced into `buf` where it
/// was asked for: dtrace flushes its output before running the command,
/// so the command's output comes right after what the clause printed
/// before it. Signals go only to a real process (`pid > 0`; replayed
/// events have none).
pub(crate) fn run(
    actions: &mut Vec<Deferred>,
    buf: &mut Vec<u8>,
    pid: u32,
    oformat: crate::oformat::Oformat,
) {
    let mut shift = 0;
    for a in actions.drain(..) {
        match a {
            Deferred::System { at, cmd } => {
                let at = (at + shift).min(buf.len());
                let mut text = command_output(&cmd);
                if oformat.structured() {
                    // The command's output is one `message` item among the
                    // clause's items.
                    let mut item = Vec::new();
                    crate::oformat::item(
                        oformat,
                        &mut item,
                        "message",
                        crate::oformat::Field::Str(&text),
                    );
                    if oformat == crate::oformat::Oformat::Json {
                        if at > 0 {
                            item.insert(0, b',');
                        }
                        if at < buf.len() {
                            item.push(b',');
                        }
                    }
                    text = item;
                }
                buf.splice(at..at, text.iter().copied());
                shift += text.len();
            }
            Deferred::Raise(sig) => signal(pid, sig),
            Deferred::Stop => signal(pid, libc::SIGSTOP),
        }
    }
}

/// The standard output of `sh -c cmd` (stdin and stderr are rdtrace's).
fn command_output(cmd: &[u8]) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let child = Command::new("/bin/sh")
        .arg("-c")
        .arg(std::ffi::OsStr::from_bytes(cmd))
        .stdout(Stdio::piped())
        .spawn();
    let mut out = Vec::new();
    match child {
        Ok(mut c) => {
            if let Some(mut so) = c.stdout.take() {
                let _ = so.read_to_end(&mut out);
            }
            let _ = c.wait();
        }
        Err(e) => eprintln!(
            "dtrace: failed to run command '{}': {e}",
            String::from_utf8_lossy(cmd)
        ),
    }
    out
}

fn signal(pid: u32, sig: i32) {
    if pid == 0 || pid > i32::MAX as u32 {
        return;
    }
    // SAFETY: kill(2) with a positive pid only sends a signal.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_output_lands_where_it_was_asked_for() {
        let mut buf = b"before after".to_vec();
        let mut actions = vec![
            Deferred::System {
                at: 7,
                cmd: b"printf 'one '".to_vec(),
            },
            Deferred::System {
                at: 7,
                cmd: b"printf two; printf ' '".to_vec(),
            },
        ];
        run(&mut actions, &mut buf, 0, Default::default());
        assert_eq!(buf, b"before one two after");
        assert!(actions.is_empty());
    }

    #[test]
    fn signals_skip_events_without_a_process() {
        // pid 0 would signal our own process group: it must be ignored.
        let mut actions = vec![Deferred::Raise(libc::SIGTERM), Deferred::Stop];
        run(&mut actions, &mut Vec::new(), 0, Default::default());
    }
}
