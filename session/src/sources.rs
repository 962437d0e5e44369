//! The program's sources read in: scripts from files (or bundled by name),
//! clauses as given.

use crate::request::ProgramSource;
use crate::{bundled, Failure};

/// A piece of the program with the name diagnostics and notices use.
pub struct LoadedSource {
    pub name: String,
    pub text: String,
    pub is_script: bool,
}

impl LoadedSource {
    /// The text as the compiler sees it: dtrace accepts a bare probe
    /// description on `-n` (the default action), which the grammar only
    /// takes with a body.
    pub fn program_text(&self) -> String {
        if !self.is_script && !self.text.contains('{') {
            format!("{} {{}}", self.text)
        } else {
            self.text.clone()
        }
    }
}

pub fn load(sources: &[ProgramSource]) -> Result<Vec<LoadedSource>, Failure> {
    sources
        .iter()
        .map(|s| match s {
            ProgramSource::Script(path) => {
                let text = match std::fs::read_to_string(path) {
                    Ok(t) => t,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        bundled::find(path).map(str::to_string).ok_or_else(|| {
                            Failure::new(format!(
                                "failed to open {path}: No such file or directory"
                            ))
                        })?
                    }
                    Err(e) => return Err(Failure::new(format!("failed to open {path}: {e}"))),
                };
                Ok(LoadedSource {
                    name: path.clone(),
                    text,
                    is_script: true,
                })
            }
            ProgramSource::Clause(text) => Ok(LoadedSource {
                name: text.clone(),
                text: text.clone(),
                is_script: false,
            }),
        })
        .collect()
}
