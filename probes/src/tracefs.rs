//! tracefs, where the kernel describes its tracepoints. It is not mounted
//! by default on some systems: as root, rdtrace mounts it at
//! `/sys/kernel/tracing` when absent (as `mount -t tracefs nodev …`).

use rdtrace_record::{ProbeError, ProbeErrorKind};
use std::path::{Path, PathBuf};

pub const TRACEFS: &str = "/sys/kernel/tracing";

/// The tracefs directory, mounting it first when it is absent and we may.
pub fn mounted() -> Result<PathBuf, ProbeError> {
    let root = Path::new(TRACEFS);
    if root.join("events").is_dir() {
        return Ok(root.to_path_buf());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err(ProbeError::new(
            ProbeErrorKind::Permission,
            format!("tracefs is not mounted at {TRACEFS} and only root can mount it"),
        ));
    }
    let c = |s: &str| std::ffi::CString::new(s).expect("no NUL");
    let (src, target, fstype) = (c("nodev"), c(TRACEFS), c("tracefs"));
    // SAFETY: valid NUL-terminated strings; no mount data.
    let r = unsafe {
        libc::mount(
            src.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if r != 0 || !root.join("events").is_dir() {
        return Err(ProbeError::new(
            ProbeErrorKind::Unsupported,
            format!(
                "cannot mount tracefs at {TRACEFS}: {}",
                std::io::Error::last_os_error()
            ),
        ));
    }
    Ok(root.to_path_buf())
}

/// The event id of tracepoint `category/name` (what its records carry in
/// `common_type`).
pub fn event_id(category: &str, name: &str) -> Result<u32, ProbeError> {
    let path = mounted()?
        .join("events")
        .join(category)
        .join(name)
        .join("id");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        ProbeError::new(
            ProbeErrorKind::Unsupported,
            format!(
                "tracepoint {category}:{name} is not in this kernel ({}: {e})",
                path.display()
            ),
        )
    })?;
    text.trim().parse().map_err(|_| {
        ProbeError::new(
            ProbeErrorKind::Unsupported,
            format!("{}: not a number: {text:?}", path.display()),
        )
    })
}

/// The argument fields of a tracepoint's format description: (C type,
/// name) of each field after `after` (e.g. `__syscall_nr`).
pub fn format_fields(format: &str, after: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let mut seen = false;
    for line in format.lines() {
        let Some(decl) = line
            .trim()
            .strip_prefix("field:")
            .and_then(|f| f.split(';').next())
        else {
            continue;
        };
        let Some((ty, name)) = decl.rsplit_once(' ') else {
            continue;
        };
        if seen {
            fields.push((ty.trim().to_string(), name.to_string()));
        } else if name == after {
            seen = true;
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    #[test]
    fn format_fields_after_the_syscall_number() {
        let f = "name: sys_enter_openat\nID: 782\nformat:\n\
            \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
            \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
            \tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\
            \tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;\n\
            \tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n\n\
            print fmt: \"dfd: 0x%08lx\"\n";
        assert_eq!(
            super::format_fields(f, "__syscall_nr"),
            [
                ("int".to_string(), "dfd".to_string()),
                ("const char *".to_string(), "filename".to_string())
            ]
        );
    }
}
