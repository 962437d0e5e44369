//! Opening a capture to replay so that Ctrl-C always works: a FIFO without
//! a writer (open() would block) and a pipe or stdin with nothing in it yet
//! (read() would block; both are restarted after a signal) are waited on
//! with poll() in short steps, asking `interrupted` in between.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long one poll() waits before `interrupted` is asked again.
const STEP: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub enum OpenError {
    Io(std::io::Error),
    /// `interrupted` said so before the capture had data.
    Interrupted,
}

/// Counts the bytes read through it (for a progress line).
struct Counting {
    inner: Box<dyn Read>,
    count: Arc<AtomicU64>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// [`open_capture`], its bytes counted into `count` as they are read.
pub fn open_counted(
    path: &Path,
    interrupted: &dyn Fn() -> bool,
    count: Arc<AtomicU64>,
) -> Result<Box<dyn Read>, OpenError> {
    let inner = open_capture(path, interrupted)?;
    Ok(Box::new(Counting { inner, count }))
}

/// The capture at `path` (`-`: standard input), ready to read.
pub fn open_capture(
    path: &Path,
    interrupted: &dyn Fn() -> bool,
) -> Result<Box<dyn Read>, OpenError> {
    if path.as_os_str() == "-" {
        let stdin = std::io::stdin();
        wait_readable(stdin.as_raw_fd(), interrupted)?;
        return Ok(Box::new(stdin));
    }
    let fifo = std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo());
    if !fifo {
        let file = File::open(path).map_err(OpenError::Io)?;
        // /dev/stdin, <(…): a pipe behind a path.
        if file.metadata().is_ok_and(|m| m.file_type().is_fifo()) {
            wait_readable(file.as_raw_fd(), interrupted)?;
        }
        return Ok(Box::new(file));
    }
    // Without O_NONBLOCK, opening a FIFO for reading blocks until a writer
    // opens it; with it, open() returns at once and poll() waits.
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|e| OpenError::Io(std::io::Error::other(e)))?;
    // SAFETY: a valid NUL-terminated path; the descriptor is owned below.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(OpenError::Io(std::io::Error::last_os_error()));
    }
    // SAFETY: `fd` was just opened and nothing else owns it.
    let file = unsafe { File::from_raw_fd(fd) };
    wait_readable(fd, interrupted)?;
    // Blocking reads from here on, as for any file.
    // SAFETY: fcntl on our own open descriptor.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) < 0 {
            return Err(OpenError::Io(std::io::Error::last_os_error()));
        }
    }
    Ok(Box::new(file))
}

/// Waits until `fd` has data or its writer has gone (then a read gives
/// what there is, or end of file).
fn wait_readable(fd: i32, interrupted: &dyn Fn() -> bool) -> Result<(), OpenError> {
    loop {
        if interrupted() {
            return Err(OpenError::Interrupted);
        }
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, STEP.as_millis() as i32) };
        if n > 0 {
            return Ok(());
        }
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(OpenError::Io(e));
            }
        }
    }
}
