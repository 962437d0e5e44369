//! rdtrace-session: one tracing session as a library. A front end (the
//! `rdtrace` binary) fills in a [`Request`]; [`Session::compile`] loads the
//! sources and compiles the whole program once (checker, options, JIT), and
//! [`Session::run`] picks the event source (live eBPF or a capture), prints
//! dtrace's notices and runs the consumer. Errors come back as a
//! [`Failure`] with the message and the exit status.

mod bundled;
mod compile;
mod cpp;
mod failure;
mod list;
mod progress;
mod request;
mod run;
mod sources;
mod target;

pub use cpp::CppOptions;
pub use failure::Failure;
pub use request::{ProgramSource, Request};

use rdtrace_lang::catalog::Catalog;

/// A compiled program and what it needs to run.
pub struct Session {
    request: Request,
    catalog: Catalog,
    sources: Vec<sources::LoadedSource>,
    compiled: compile::Compiled,
}

impl Session {
    /// Loads the sources and compiles them as one program.
    pub fn compile(request: Request) -> Result<Session, Failure> {
        let sources = sources::load(&request.sources, request.cpp.as_ref())?;
        let (compiled, catalog) = compile::compile(&request, &sources)?;
        Ok(Session {
            request,
            catalog,
            sources,
            compiled,
        })
    }

    /// `-l` with a program: the probes it enables, in dtrace's layout.
    pub fn listing(&self, verbose: bool) -> String {
        let ids: Vec<u32> = self.compiled.program.probes.iter().map(|p| p.id).collect();
        list::listing(&self.catalog, Some(&ids), verbose)
    }

    /// `-S`: each clause's intermediate code (its Cranelift IR, the
    /// functions rdtrace compiles to native code, as dtrace shows DIF),
    /// headed by the clause's probes.
    pub fn program_text(&self) -> String {
        let p = &self.compiled.program;
        let mut out = String::new();
        for (clause, ir) in p.clauses.iter().zip(self.compiled.jit.ir()) {
            let probes: Vec<String> = clause
                .probes
                .iter()
                .map(|&i| {
                    let e = &p.probes[i];
                    format!("{}:{}:{}:{}", e.provider, e.module, e.function, e.name)
                })
                .collect();
            out.push_str(&format!(
                "\nClause {} ({}), Cranelift IR:\n{ir}",
                clause.index,
                probes.join(", ")
            ));
        }
        out
    }

    /// Traces until the program exits, the source ends or a signal stops
    /// it; the exit status is the program's.
    pub fn run(self) -> Result<u8, Failure> {
        run::run(&self.request, &self.sources, self.compiled)
    }
}

/// `-l` alone: every probe rdtrace knows.
pub fn listing_all(verbose: bool) -> String {
    list::listing(&rdtrace_probes::catalog(), None, verbose)
}
