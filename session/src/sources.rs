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
    /// The name a diagnostic's header shows: the script's path, or `-n`
    /// for text given on the command line (which the diagnostic shows).
    pub fn diagnostic_name(&self) -> &str {
        if self.is_script {
            &self.name
        } else {
            "-n"
        }
    }

    /// The text as the compiler sees it.
    pub fn program_text(&self) -> String {
        // A description without a body (`-n BEGIN`, `-n 'tick-1s /i/'`) is
        // a clause as it is: diagnostics show what was typed.
        self.text.clone()
    }
}

pub fn load(
    sources: &[ProgramSource],
    cpp: Option<&crate::cpp::CppOptions>,
) -> Result<Vec<LoadedSource>, Failure> {
    let mut loaded = read(sources)?;
    if let Some(opts) = cpp {
        for s in &mut loaded {
            s.text = crate::cpp::preprocess(&s.name, &s.text, opts)?;
        }
    }
    Ok(loaded)
}

fn read(sources: &[ProgramSource]) -> Result<Vec<LoadedSource>, Failure> {
    sources
        .iter()
        .map(|s| match s {
            ProgramSource::Script(path) => {
                let text = match std::fs::read(path) {
                    Ok(bytes) => utf8(path, bytes)?,
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
            ProgramSource::Described { shown, description } => Ok(LoadedSource {
                name: shown.clone(),
                text: description.clone(),
                is_script: false,
            }),
            ProgramSource::ProbeId(id) => {
                let catalog = rdtrace_probes::catalog();
                let p = id
                    .parse::<u32>()
                    .ok()
                    .and_then(|n| catalog.probe(n))
                    .ok_or_else(|| Failure::new(format!("invalid probe identifier {id}")))?;
                Ok(LoadedSource {
                    name: id.clone(),
                    text: format!("{}:{}:{}:{}", p.provider, p.module, p.function, p.name),
                    is_script: false,
                })
            }
        })
        .collect()
}

/// The script's text; a byte that is not UTF-8 is an error at its place.
fn utf8(path: &str, bytes: Vec<u8>) -> Result<String, Failure> {
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let col = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
        Failure::new(format!(
            "{path}:{line}:{col}: the script is not UTF-8 text (byte 0x{:02x})",
            e.as_bytes()[good.len()]
        ))
    })
}
