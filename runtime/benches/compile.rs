//! Compile benchmark (section 5 of bench/run.sh), in process: parse + check,
//! and parse + check + JIT, of bench/scripts/200lines.d. A plain `Instant`
//! loop; prints the median of RUNS (default 200) runs in microseconds.
//!
//!     cargo bench -p rdtrace-runtime --bench compile

use rdtrace_lang::{compile_many, CheckOptions};
use rdtrace_runtime::{CompiledProgram, Options};
use std::hint::black_box;
use std::process::exit;
use std::time::Instant;

const NAME: &str = "200lines.d";
const SCRIPT: &str = include_str!("../../bench/scripts/200lines.d");

/// Median wall time of `f` in microseconds, after a few warm-up calls.
fn median_us(runs: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let runs = match std::env::var("RUNS").map(|v| v.parse::<usize>()) {
        Err(_) => 200,
        Ok(Ok(n)) if n > 0 => n,
        Ok(_) => {
            eprintln!("compile bench: RUNS must be a positive integer");
            exit(2);
        }
    };
    let catalog = rdtrace_probes::catalog();
    let check_opts = CheckOptions::default();
    let rt_opts = Options::default();
    let sources = [(NAME, SCRIPT)];

    // Fail with the diagnostics, not a panic inside the timed loop.
    let program = compile_many(&sources, &catalog, &check_opts).unwrap_or_else(|d| {
        eprintln!("{}", d.render());
        exit(1);
    });
    if let Err(e) = CompiledProgram::new(&program, &rt_opts) {
        eprintln!("compile bench: JIT of {NAME} failed: {e}");
        exit(1);
    }

    let check = median_us(runs, || {
        black_box(compile_many(&sources, &catalog, &check_opts).ok());
    });
    let jit = median_us(runs, || {
        let program = compile_many(&sources, &catalog, &check_opts).ok();
        black_box(program.map(|p| CompiledProgram::new(&p, &rt_opts).is_ok()));
    });
    println!(
        "parse_check: median {check:.1} us over {runs} runs ({NAME}, {} lines)",
        SCRIPT.lines().count()
    );
    println!("parse_check_jit: median {jit:.1} us over {runs} runs");
}
