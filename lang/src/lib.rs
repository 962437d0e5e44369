//! rdtrace-lang: DTrace's D language — grammar (pest), AST with byte spans,
//! semantic checks against a probe catalog, and miette diagnostics.
//! No code generation and no kernel access live here.

pub mod ast;
pub mod catalog;
pub mod check;
pub mod diag;
pub mod filter;
pub mod format;
pub mod kagg;
pub mod parser;
pub mod plan;
pub mod span;
pub mod typed;
pub mod types;
pub mod units;
pub mod visit;

pub use check::{check, check_many, CheckOptions};
pub use diag::{Diagnostic, Diagnostics};

/// Parses and checks one script; diagnostics carry its text under `name`.
pub fn compile(
    name: &str,
    src: &str,
    catalog: &catalog::Catalog,
    opts: &CheckOptions,
) -> Result<typed::Program, Diagnostics> {
    compile_many(&[(name, src)], catalog, opts)
}

/// Parses and checks several scripts as one program, in order (as dtrace
/// combines several `-s`/`-n`). All parse errors are reported before any
/// check runs.
pub fn compile_many(
    sources: &[(&str, &str)],
    catalog: &catalog::Catalog,
    opts: &CheckOptions,
) -> Result<typed::Program, Diagnostics> {
    let (scripts, _) = parse_many(sources)?;
    let refs: Vec<(&str, &str, &ast::Script)> =
        scripts.iter().map(|(n, s, a)| (*n, *s, a)).collect();
    check_many(&refs, catalog, opts)
}

/// [`compile_many`] with the catalog made once the sources are parsed, by
/// `make_catalog`, told which probes the program may enable (see
/// [`check::may_enable`]); the catalog is returned with the program.
pub fn compile_many_for(
    sources: &[(&str, &str)],
    make_catalog: impl FnOnce(&dyn Fn(&[&str; 4]) -> bool) -> catalog::Catalog,
    opts: &CheckOptions,
) -> Result<(typed::Program, catalog::Catalog), Diagnostics> {
    let (scripts, descs) = parse_many(sources)?;
    let descs: Vec<&str> = descs.iter().map(String::as_str).collect();
    let catalog = make_catalog(&|probe| check::may_enable(&descs, probe));
    let refs: Vec<(&str, &str, &ast::Script)> =
        scripts.iter().map(|(n, s, a)| (*n, *s, a)).collect();
    let program = check_many(&refs, &catalog, opts)?;
    Ok((program, catalog))
}

type Parsed<'a> = Vec<(&'a str, &'a str, ast::Script)>;

/// Every source parsed (all parse errors reported together), and the
/// probe descriptions of their clauses.
fn parse_many<'a>(
    sources: &[(&'a str, &'a str)],
) -> Result<(Parsed<'a>, Vec<String>), Diagnostics> {
    let mut scripts = Vec::new();
    let mut errors = Vec::new();
    for (i, (name, src)) in sources.iter().enumerate() {
        let id = span::SourceId::try_from(i).map_err(|_| {
            Diagnostics::one(Diagnostic::global(format!(
                "too many program sources ({}): at most {}",
                sources.len(),
                span::SourceId::MAX
            )))
        })?;
        match parser::parse_source(src, id) {
            Ok(s) => scripts.push((*name, *src, s)),
            Err(d) => errors.extend(d.with_source(name, src).items),
        }
    }
    if !errors.is_empty() {
        return Err(Diagnostics { items: errors });
    }
    let descs = scripts
        .iter()
        .flat_map(|(_, _, s)| &s.items)
        .filter_map(|item| match item {
            ast::Item::Clause(c) => Some(c.probes.iter().map(|d| d.text.clone())),
            _ => None,
        })
        .flatten()
        .collect();
    Ok((scripts, descs))
}
