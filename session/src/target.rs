//! `-c CMD` and `-p PID`: the process whose lifetime bounds the trace and
//! whose pid is `$target`.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

use crate::Failure;

pub enum Target {
    /// Started by `-c`, stopped until BEGIN has fired.
    Command(Child),
    /// Grabbed by `-p` (only watched: rdtrace does not stop it).
    Pid(u32),
}

impl Target {
    /// Starts `-c`'s command stopped (so that no event of it is missed), or
    /// checks that `-p`'s process exists.
    pub fn start(command: Option<&str>, pid: Option<&str>) -> Result<Option<Target>, Failure> {
        match (command, pid) {
            (Some(_), Some(_)) => Err(Failure::new("-c and -p cannot be used together")),
            (Some(cmd), None) => {
                let words: Vec<&str> = cmd.split_whitespace().collect();
                if words.is_empty() {
                    return Err(Failure::new("-c needs a command"));
                }
                if let Err(why) = executable(words[0]) {
                    return Err(Failure::new(format!(
                        "failed to execute {}: {why}",
                        words[0]
                    )));
                }
                // The shell stops itself, then execs the command in its own
                // place: the pid we see is the command's.
                let mut command = Command::new("/bin/sh");
                // The command dies with rdtrace even when rdtrace is killed
                // (SIGKILL leaves no chance to clean up): the kernel sends
                // it SIGKILL when its parent goes.
                // SAFETY: prctl is async-signal-safe; nothing else runs
                // between fork and exec.
                unsafe {
                    command.pre_exec(|| {
                        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                        Ok(())
                    });
                }
                let child = command
                    .arg("-c")
                    .arg("kill -STOP $$; exec \"$@\"")
                    .arg("sh")
                    .args(&words)
                    .spawn()
                    .map_err(|e| Failure::new(format!("failed to execute {}: {e}", words[0])))?;
                let mut status = 0;
                // SAFETY: waiting for our own child to stop.
                let r = unsafe { libc::waitpid(child.id() as i32, &mut status, libc::WUNTRACED) };
                if r < 0 || !libc::WIFSTOPPED(status) {
                    return Err(Failure::new(format!(
                        "failed to execute {}: the process did not start",
                        words[0]
                    )));
                }
                Ok(Some(Target::Command(child)))
            }
            (None, Some(p)) => {
                let pid: u32 = p
                    .parse()
                    .map_err(|_| Failure::new(format!("invalid pid: {p}")))?;
                if !alive(pid) {
                    return Err(Failure::new(format!(
                        "failed to grab pid {pid}: No such process"
                    )));
                }
                Ok(Some(Target::Pid(pid)))
            }
            (None, None) => Ok(None),
        }
    }

    pub fn pid(&self) -> u32 {
        match self {
            Target::Command(c) => c.id(),
            Target::Pid(p) => *p,
        }
    }

    /// Lets `-c`'s command run.
    pub fn resume(&self) {
        if let Target::Command(c) = self {
            // SAFETY: signalling our own (stopped) child.
            unsafe { libc::kill(c.id() as i32, libc::SIGCONT) };
        }
    }

    /// Whether the process has exited (reaping `-c`'s child).
    pub fn exited(&mut self) -> bool {
        match self {
            Target::Command(c) => !matches!(c.try_wait(), Ok(None)),
            Target::Pid(p) => !alive(*p),
        }
    }
}

/// `-c`'s command dies with rdtrace, as dtrace's grabbed children do.
impl Drop for Target {
    fn drop(&mut self) {
        if let Target::Command(c) = self {
            if matches!(c.try_wait(), Ok(None)) {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

/// Whether `name` names an executable file, directly (with a `/`) or on
/// PATH; else why not, as execve would say.
fn executable(name: &str) -> Result<(), &'static str> {
    use std::os::unix::fs::PermissionsExt;
    let check = |p: &std::path::Path| match std::fs::metadata(p) {
        Err(_) => Err("No such file or directory"),
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Ok(()),
        Ok(_) => Err("Permission denied"),
    };
    if name.contains('/') {
        return check(std::path::Path::new(name));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut why = "No such file or directory";
    for dir in std::env::split_paths(&path) {
        match check(&dir.join(name)) {
            Ok(()) => return Ok(()),
            Err(e @ "Permission denied") => why = e,
            Err(_) => {}
        }
    }
    Err(why)
}

/// A process exists and is not a zombie.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next())
                != Some('Z')
        }
        Err(_) => false,
    }
}
