//! Data-driven parser and checker tests.
//!
//! - `tests/data/valid/NAME.d` must parse and check against the test catalog;
//!   `NAME.snap` holds the AST and the typed program in a compact text form.
//! - `tests/data/invalid/NAME.d` must fail; `NAME.expected` holds the
//!   rendered diagnostics (miette, no colors).
//!
//! A first line `/* opts: -Z -w $1=foo $2=bar */` sets check options.
//! Run with `UPDATE_SNAPSHOTS=1` to (re)write missing or changed expected
//! files — then review them by hand before committing.

mod common;

use std::path::{Path, PathBuf};

use rdtrace_lang::{compile, parser, CheckOptions};

fn options(src: &str, name: &str) -> CheckOptions {
    let mut o = CheckOptions {
        macro_args: vec![name.to_string()],
        ..Default::default()
    };
    let first = src.lines().next().unwrap_or("");
    if let Some(rest) = first.strip_prefix("/* opts:") {
        for w in rest.trim_end_matches("*/").split_whitespace() {
            match w {
                "-Z" => o.allow_zero_matches = true,
                "-w" => o.destructive = true,
                arg if arg.starts_with('$') => {
                    let (n, v) = arg[1..].split_once('=').expect("$N=value");
                    let n: usize = n.parse().expect("macro number");
                    if o.macro_args.len() <= n {
                        o.macro_args.resize(n + 1, String::new());
                    }
                    o.macro_args[n] = v.to_string();
                }
                other => panic!("unknown test option {other}"),
            }
        }
    }
    o
}

fn scripts(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "d"))
        .collect();
    v.sort();
    v
}

/// Compares `actual` with the file, or writes it under UPDATE_SNAPSHOTS.
/// Returns a failure description.
fn compare(path: &Path, actual: &str) -> Option<String> {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => None,
        _ if update => {
            std::fs::write(path, actual).unwrap();
            None
        }
        Ok(expected) => Some(format!(
            "{} differs.\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        )),
        Err(_) => Some(format!("{} is missing; actual:\n{actual}", path.display())),
    }
}

#[test]
fn valid_scripts_parse_check_and_match_snapshots() {
    let catalog = common::catalog();
    let mut failures = Vec::new();
    let files = scripts("valid");
    assert!(!files.is_empty());
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let src = std::fs::read_to_string(&path).unwrap();
        let opts = options(&src, &name);
        let ast = match parser::parse(&src) {
            Ok(a) => a,
            Err(d) => {
                failures.push(format!(
                    "{name}: parse failed:\n{}",
                    d.with_source(&name, &src).render()
                ));
                continue;
            }
        };
        let prog = match compile(&name, &src, &catalog, &opts) {
            Ok(p) => p,
            Err(d) => {
                failures.push(format!("{name}: check failed:\n{}", d.render()));
                continue;
            }
        };
        let snap = format!(
            "== ast\n{}== program\n{}",
            common::print::script(&ast),
            common::print::program(&prog)
        );
        if let Some(f) = compare(&path.with_extension("snap"), &snap) {
            failures.push(f);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn invalid_scripts_fail_with_expected_diagnostics() {
    let catalog = common::catalog();
    let mut failures = Vec::new();
    let files = scripts("invalid");
    assert!(!files.is_empty());
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let src = std::fs::read_to_string(&path).unwrap();
        let opts = options(&src, &name);
        match compile(&name, &src, &catalog, &opts) {
            Ok(p) => failures.push(format!(
                "{name}: compiled but should fail:\n{}",
                common::print::program(&p)
            )),
            Err(d) => {
                if let Some(f) = compare(&path.with_extension("expected"), &d.render()) {
                    failures.push(f);
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
