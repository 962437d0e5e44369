//! rdtrace-runtime: JIT-compiled D clauses (cranelift), the D value model,
//! DTrace's printf, variables, and the consumer loop.

pub(crate) mod aggs;
pub mod arith;
pub mod compile;
pub mod consumer;
pub(crate) mod deferred;
pub mod error;
pub mod firing;
pub mod inet;
pub mod interp;
pub(crate) mod kernel_aggs;
pub mod metrics;
pub mod oformat;
pub mod options;
pub mod printf;
pub(crate) mod state;
pub mod strfuncs;
mod symbols;
pub(crate) mod trace;
pub mod usermem;

pub use compile::CompiledProgram;
pub use error::RuntimeError;
pub use firing::{AggSort, FireContext, FireResult, ERROR_ARGS_OFFSET, ERROR_RECORD_LEN};
pub use interp::Interpreter;
pub use options::Options;
