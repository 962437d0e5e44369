//! Errors raised while preparing a program for execution (not D runtime
//! faults, which are reported per firing on the error stream).

/// Why a checked program cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A construct the checker accepted but the runtime does not implement
    /// yet; names the construct.
    #[error("{0} is not implemented yet in rdtrace's runtime")]
    NotImplemented(String),
    /// A construct that can never run here (a malformed typed program).
    #[error("invalid program: {0}")]
    Invalid(String),
    /// The code generator failed (a bug in rdtrace).
    #[error("JIT compilation failed: {0}")]
    Jit(String),
    /// dtrace's "could not enable tracing" refusals (destructive actions
    /// without `-w`).
    #[error("could not enable tracing: {0}")]
    NotEnabled(String),
}
