//! `-C`: the program through the system C preprocessor first, as dtrace
//! does (`-D`, `-U`, `-I` and `-H` passed on), so `#define`, `#include`
//! and `#if` work in scripts.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::Failure;

/// What `-C`, `-D`, `-U`, `-I` and `-H` asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CppOptions {
    /// `-D name[=value]`
    pub defines: Vec<String>,
    /// `-U name`
    pub undefines: Vec<String>,
    /// `-I dir`
    pub include_dirs: Vec<String>,
    /// `-H`: cpp lists the files it includes on stderr.
    pub show_includes: bool,
}

/// `text` (named `name` in messages) as cpp outputs it. A `#!` first line
/// is blanked (cpp would refuse it); cpp's line markers become blank lines
/// that keep the script's own lines where they were, so diagnostics point
/// at the right line.
pub fn preprocess(name: &str, text: &str, opts: &CppOptions) -> Result<String, Failure> {
    let input = match text.strip_prefix("#!") {
        Some(rest) => rest
            .find('\n')
            .map_or(String::new(), |i| rest[i..].to_string()),
        None => text.to_string(),
    };
    let mut cmd = Command::new("cpp");
    cmd.arg("-D__linux__").arg("-D__rdtrace__");
    for d in &opts.defines {
        cmd.arg(format!("-D{d}"));
    }
    for u in &opts.undefines {
        cmd.arg(format!("-U{u}"));
    }
    for i in &opts.include_dirs {
        cmd.arg(format!("-I{i}"));
    }
    if opts.show_includes {
        cmd.arg("-H");
    }
    let mut child = cmd
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Failure::new(format!("-C: cannot run cpp (the C preprocessor): {e}")))?;
    // Write on a thread: cpp may fill its stdout before reading all input.
    let mut stdin = child.stdin.take().expect("piped");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| Failure::new(format!("-C: cpp: {e}")))?;
    let _ = writer.join();
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let first = err
            .lines()
            .find(|l| l.contains("error"))
            .unwrap_or(err.trim());
        return Err(Failure::new(format!(
            "failed to preprocess {name}: {}",
            first.trim_start_matches("<stdin>:")
        )));
    }
    if opts.show_includes {
        eprint!("{err}");
    }
    Ok(without_line_markers(&String::from_utf8_lossy(&out.stdout)))
}

/// Drops cpp's `# N "file" …` lines, padding with blank lines where one
/// says the next line of the script is further on, so the script's lines
/// stay where they were (lines of included files come in addition).
fn without_line_markers(cpp_out: &str) -> String {
    let mut out = String::new();
    let mut next = 1usize; // the line number the next line written gets
    for l in cpp_out.lines() {
        let marker = l
            .strip_prefix("# ")
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse::<usize>().ok());
        match marker {
            Some(n) => {
                if l.contains("\"<stdin>\"") {
                    while next < n {
                        out.push('\n');
                        next += 1;
                    }
                }
            }
            None => {
                out.push_str(l);
                out.push('\n');
                next += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_become_blank_lines_and_keep_lines_in_place() {
        let out = without_line_markers(
            "# 0 \"<stdin>\"\n# 0 \"<built-in>\"\n# 1 \"<stdin>\"\n\n# 5 \"<stdin>\"\nBEGIN\n",
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.iter().position(|l| *l == "BEGIN"), Some(4), "{out:?}");
    }
}
