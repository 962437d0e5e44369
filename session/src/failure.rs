//! Why a session stops early, with the message to print and the exit status.

pub struct Failure {
    /// Already formatted: `rdtrace: …`, or rendered diagnostics.
    pub message: String,
    pub status: u8,
}

impl Failure {
    /// A runtime or setup error: `rdtrace: message`, status 1.
    pub fn new(message: impl std::fmt::Display) -> Failure {
        Failure {
            message: format!("rdtrace: {message}"),
            status: 1,
        }
    }
    /// Already-rendered diagnostics (compile errors), status 1.
    pub fn rendered(text: String) -> Failure {
        Failure {
            message: text,
            status: 1,
        }
    }
}
