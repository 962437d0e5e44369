//! rdtrace-lang: DTrace's D language — grammar (pest), AST with byte spans,
//! semantic checks against a probe catalog, and miette diagnostics.
//! No code generation and no kernel access live here.

pub mod catalog;
pub mod format;
pub mod span;
pub mod typed;
pub mod types;
pub mod ast;
pub mod diag;
pub mod parser;
