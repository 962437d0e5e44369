//! `-c CMD` and `-p PID`: the process whose lifetime bounds the trace and
//! whose pid is `$target`.

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
                if !executable(words[0]) {
                    return Err(Failure::new(format!(
                        "failed to execute {}: No such file or directory",
                        words[0]
                    )));
                }
                // The shell stops itself, then execs the command in its own
                // place: the pid we see is the command's.
                let child = Command::new("/bin/sh")
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

/// Whether `name` names an executable file, directly (with a `/`) or on PATH.
fn executable(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let is_exec = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        return is_exec(std::path::Path::new(name));
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| is_exec(&dir.join(name))))
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
