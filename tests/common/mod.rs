#![allow(dead_code)]
pub mod capture;
pub mod netns;

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
