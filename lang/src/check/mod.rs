//! The checker: [`ast::Script`] + [`Catalog`] → [`typed::Program`].
//!
//! One file per concern: `probes` matches probe descriptions, `types` maps
//! declared type names and C's arithmetic conversions, `vars` keeps the
//! variable tables, `expr` types expressions (and `consts` folds them),
//! `builtins` resolves built-in variables, `stmt` checks statements and
//! actions, `printf` checks formats against arguments, `funcs` knows the
//! subroutines and actions.

mod builtins;
mod consts;
mod copyin;
mod ctypes;
mod expr;
mod funcs;
mod printf;
mod probes;
pub use probes::may_enable;
mod stacks;
mod stmt;
mod suggest;
mod types;
mod userbuf;
mod vars;

use std::collections::HashMap;

use crate::ast;
use crate::catalog::{Catalog, ProbeDef};
use crate::diag::{Diagnostic, Diagnostics};
use crate::span::Span;
use crate::typed::{self, Program};

/// What the command line decides about checking.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// `-Z`: a probe description that matches nothing is not an error.
    pub allow_zero_matches: bool,
    /// `-w`. The checker accepts destructive actions (`system`, `raise`,
    /// `stop`) either way; the runtime refuses to enable them without `-w`
    /// or `#pragma D option destructive`, as dtrace does.
    pub destructive: bool,
    /// Macro arguments: `$0` is the script name, `$1`… the trailing
    /// command-line arguments.
    pub macro_args: Vec<String>,
    /// `-x defaultargs`: a macro argument that was not given reads as 0
    /// (`$N`) or "" (`$$N`) instead of being an error. `#pragma D option
    /// defaultargs` turns it on too.
    pub default_args: bool,
}

/// Checks one parsed script.
pub fn check(
    script: &ast::Script,
    catalog: &Catalog,
    opts: &CheckOptions,
) -> Result<Program, Diagnostics> {
    let mut c = Checker::new(catalog, opts);
    c.script(script);
    c.finish()
}

/// Checks several scripts as one program, in order (dtrace concatenates the
/// programs given by several `-s`/`-n`). Each diagnostic carries the text of
/// the script it points into.
pub fn check_many(
    scripts: &[(&str, &str, &ast::Script)],
    catalog: &Catalog,
    opts: &CheckOptions,
) -> Result<Program, Diagnostics> {
    let mut c = Checker::new(catalog, opts);
    let mut all = Vec::new();
    let sources: Vec<(&str, &str)> = scripts.iter().map(|(n, t, _)| (*n, *t)).collect();
    for (i, (_, _, script)) in scripts.iter().enumerate() {
        // Counted here, in the one check of the whole program, so that a
        // source using another's inline or declarations counts its probes.
        let first_clause = c.program.clauses.len();
        c.script(script);
        // As dtrace: each clause's enablings, so three clauses on two
        // probes (Oracle's countdown.d) "matched 3 probes".
        let matched: usize = c.program.clauses[first_clause..]
            .iter()
            .map(|cl| cl.probes.len())
            .sum();
        c.program.matched_per_source.push(matched);
        let errs = std::mem::take(&mut c.errors);
        if !errs.is_empty() {
            // An error's span names its source: one in an inline defined
            // by an earlier script points there.
            all.extend(Diagnostics { items: errs }.with_sources(&sources, i).items);
        }
    }
    c.errors = all;
    // Whole-program errors stay without text unless they point somewhere.
    c.finish().map_err(|d| d.with_sources(&sources, usize::MAX))
}

/// A `tick-N`/`profile-N` probe made up on first use.
pub(crate) struct SynthProbe {
    pub def: ProbeDef,
}

/// An `inline` definition: re-checked at each use, in the user's context.
pub(crate) struct InlineDef {
    pub ty: crate::types::Type,
    pub value: ast::Expr,
}

pub(crate) struct Checker<'a> {
    pub catalog: &'a Catalog,
    pub opts: &'a CheckOptions,
    pub errors: Vec<Diagnostic>,
    pub program: Program,
    /// Catalog probe ID → index in `program.probes`.
    pub enabled: HashMap<u32, usize>,
    /// Synthesised tick/profile probes by name (`tick-1s`).
    pub synth: Vec<SynthProbe>,
    pub next_synth_id: u32,
    pub vars: vars::Vars,
    pub inlines: HashMap<String, InlineDef>,
    /// Inline names being expanded (guards against self-reference).
    pub expanding: Vec<String>,
    /// `defaultargs`, from the options or a pragma seen so far.
    pub default_args: bool,
    /// Variables whose first assignment failed to check: their later uses
    /// are not reported again (one error, not a cascade).
    pub poisoned: std::collections::HashSet<String>,
    /// copyin/copyinstr capture sites numbered so far.
    pub copy_sites: u16,
}

impl<'a> Checker<'a> {
    fn new(catalog: &'a Catalog, opts: &'a CheckOptions) -> Self {
        let max_id = catalog.probes.iter().map(|p| p.id).max().unwrap_or(0);
        Checker {
            catalog,
            opts,
            errors: Vec::new(),
            program: Program {
                options: vec![],
                probes: vec![],
                clauses: vec![],
                globals: vec![],
                this_vars: vec![],
                self_vars: vec![],
                assocs: vec![],
                aggs: vec![],
                matched_per_source: vec![],
                warnings: vec![],
            },
            enabled: HashMap::new(),
            synth: Vec::new(),
            next_synth_id: max_id + 1,
            vars: vars::Vars::default(),
            inlines: HashMap::new(),
            expanding: Vec::new(),
            default_args: opts.default_args,
            poisoned: Default::default(),
            copy_sites: 0,
        }
    }

    pub fn error(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    pub fn err(&mut self, msg: impl Into<String>, span: Span) {
        self.errors.push(Diagnostic::new(msg, span));
    }

    fn finish(mut self) -> Result<Program, Diagnostics> {
        if !self.errors.is_empty() {
            return Err(Diagnostics { items: self.errors });
        }
        self.vars.export(&mut self.program);
        Ok(self.program)
    }

    fn script(&mut self, script: &ast::Script) {
        for item in &script.items {
            match item {
                ast::Item::Pragma(p) => self.pragma(p),
                ast::Item::Clause(c) => self.clause(c),
                ast::Item::Decl(d) => self.decl(d),
                ast::Item::Inline(i) => self.inline(i),
                ast::Item::Unsupported { what, span } => {
                    let d =
                        Diagnostic::new(format!("{what} definitions are not supported yet"), *span)
                            .with_label(format!("{what} definition"));
                    self.error(d)
                }
            }
        }
    }

    fn pragma(&mut self, p: &ast::Pragma) {
        match &p.kind {
            ast::PragmaKind::Option { name, value } => {
                if name == "defaultargs" {
                    self.default_args = true;
                }
                self.program.options.push(typed::OptionSetting {
                    name: name.clone(),
                    value: value.clone(),
                    span: p.span,
                })
            }
            ast::PragmaKind::Other(text) => {
                let words: Vec<&str> = text[1..].split_whitespace().collect();
                match words.as_slice() {
                    // C compilers ignore pragmas that are not theirs; so does dtrace.
                    ["pragma", first, ..] if *first != "D" => {}
                    ["pragma", "D", "option"] => self.error(
                        Diagnostic::new("#pragma D option requires an option name", p.span)
                            .with_help(
                                "write `#pragma D option name` or `#pragma D option name=value`",
                            ),
                    ),
                    ["pragma", "D", "option", ..] => self.error(
                        Diagnostic::new("malformed #pragma D option", p.span).with_help(
                            "write `#pragma D option name=value` with no blanks around `=`",
                        ),
                    ),
                    ["pragma", "D", what, ..] => self.error(
                        Diagnostic::new(
                            format!("#pragma D {what} is not supported by rdtrace"),
                            p.span,
                        )
                        .with_label("unsupported pragma"),
                    ),
                    ["pragma", "D"] | ["pragma"] => {
                        self.error(Diagnostic::new("malformed #pragma", p.span))
                    }
                    _ => self.error(
                        Diagnostic::new(
                            format!(
                                "preprocessor directive {} is not supported by rdtrace",
                                words.first().map_or("#", |w| w)
                            ),
                            p.span,
                        )
                        .with_label("needs the C preprocessor")
                        .with_help(
                            "run with -C to preprocess the program with cpp, as dtrace -C does",
                        ),
                    ),
                }
            }
        }
    }

    fn clause(&mut self, c: &ast::Clause) {
        let probe_idx = self.clause_probes(c);
        let defs: Vec<ProbeDef> = probe_idx.iter().map(|&i| self.probe_def_of(i)).collect();
        let mut cx = expr::Cx::clause(defs);
        // Like dtrace, a predicate may use a variable the clause's own
        // actions create (`/x == 0/ { x++; }`): when the predicate fails
        // only on unknown names, it is checked again after the actions.
        let mark = self.errors.len();
        let mut predicate = c.predicate.as_ref().and_then(|p| self.expr(&mut cx, p));
        let retry = c.predicate.is_some()
            && predicate.is_none()
            && self.errors.len() > mark
            && self.errors[mark..]
                .iter()
                .all(|d| d.message.starts_with("failed to resolve "));
        if retry {
            self.errors.truncate(mark);
        }
        let body = match &c.body {
            Some(stmts) => self.stmts(&mut cx, stmts),
            None => vec![],
        };
        if retry {
            predicate = c.predicate.as_ref().and_then(|p| self.expr(&mut cx, p));
            // Report in source order (the predicate's errors come last here).
            self.errors[mark..].sort_by_key(|d| d.span.map(|s| s.start));
        }
        if let Some(e) = &predicate {
            self.require_int(e, "predicate");
        }
        // `/x = 1/` is valid D (the value assigned decides), but it is
        // nearly always a `==` typo.
        if let Some(p) = &c.predicate {
            if let ast::ExprKind::Assign { op: None, .. } = &p.kind {
                self.program.warnings.push(
                    Diagnostic::new("assignment in a predicate", p.span)
                        .with_label("this assigns; the clause runs when the value is non-zero")
                        .with_help("write `==` to compare")
                        .as_warning(),
                );
            }
        }
        // A clause that enables nothing (-Z) is checked but not emitted: it
        // can never run, and its probe-dependent sources are unknown.
        if probe_idx.is_empty() {
            return;
        }
        let index = self.program.clauses.len();
        self.program.clauses.push(typed::Clause {
            index,
            span: c.span,
            probes: probe_idx,
            predicate,
            body,
        });
    }

    fn decl(&mut self, d: &ast::Decl) {
        let Some(ty) = self.value_type(&d.ty) else {
            return;
        };
        let keys = match &d.keys {
            None => None,
            Some(ks) => {
                let out: Vec<_> = ks.iter().filter_map(|k| self.value_type(k)).collect();
                if out.len() != ks.len() {
                    return;
                }
                Some(out)
            }
        };
        let global = d.scope == ast::Scope::Global;
        if global
            && (builtins::is_reserved(&d.name.name)
                || self.catalog.constant(&d.name.name).is_some())
        {
            self.err(
                format!("cannot declare {}: the name is reserved", d.name.name),
                d.name.span,
            );
            return;
        }
        let r = match (d.scope, keys) {
            (ast::Scope::Global, None) => self.vars.declare_global(&d.name.name, ty),
            (ast::Scope::Global, Some(keys)) => self.vars.declare_assoc(&d.name.name, keys, ty),
            (ast::Scope::This, None) => self.vars.declare_this(&d.name.name, ty),
            (ast::Scope::Self_, None) => self.vars.declare_self(&d.name.name, ty),
            (_, Some(_)) => Err(format!(
                "associative arrays of {}-> variables are not supported by rdtrace",
                if d.scope == ast::Scope::This {
                    "this"
                } else {
                    "self"
                }
            )),
        };
        if let Err(msg) = r {
            self.error(Diagnostic::new(msg, d.name.span).with_label("declared here"));
        }
    }

    fn inline(&mut self, i: &ast::Inline) {
        let Some(ty) = self.value_type(&i.ty) else {
            return;
        };
        if self.inlines.contains_key(&i.name.name) || self.vars.exists(&i.name.name) {
            self.err(
                format!("identifier {} is already defined", i.name.name),
                i.name.span,
            );
            return;
        }
        // Checked once here (outside any clause) so that errors point at the
        // definition; each use re-checks it in the user's clause.
        let mut cx = expr::Cx::inline_def();
        if let Some(v) = self.expr(&mut cx, &i.value) {
            if !types::assignable(&ty, &v.ty) {
                self.err(
                    format!(
                        "inline {} of type {} cannot be given a value of type {}",
                        i.name.name,
                        ty.name(),
                        v.ty.name()
                    ),
                    i.value.span,
                );
                return;
            }
        }
        self.inlines.insert(
            i.name.name.clone(),
            InlineDef {
                ty,
                value: i.value.clone(),
            },
        );
    }
}
