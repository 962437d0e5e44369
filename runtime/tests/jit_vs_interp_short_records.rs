//! Records shorter than their probe's layout (a header-only record, as a
//! truncated capture or a test can give): both engines read the missing
//! bytes as 0 and agree. The interpreter once sized its padding by its own
//! walk, which skipped aggregation keys, and panicked here.

mod jit_support;

use jit_support::*;
use rdtrace_lang::CheckOptions;

#[test]
fn header_only_tcp_record_reads_missing_fields_as_zero() {
    let src = "tcp:::send { @[args[3]->tcps_rtt] = count(); }";
    let program = rdtrace_lang::compile(
        "t.d",
        src,
        &rdtrace_probes::catalog(),
        &CheckOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{}", e.render()));
    let (mut jit, mut interp) = both(&program, &quiet());
    let id = program.probes[0].id;
    let rec = record(id, 0, 1, &[]);
    assert_eq!(rec.len(), HDR as usize);
    fire_both(&mut jit, &mut interp, 0, &rec);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    jit.print_aggregations(&mut a);
    interp.print_aggregations(&mut b);
    let a = String::from_utf8_lossy(&a);
    assert_eq!(a, String::from_utf8_lossy(&b));
    let row: Vec<&str> = a.split_whitespace().collect();
    assert_eq!(
        row,
        ["0", "1"],
        "tcps_rtt of a header-only record is 0: {a:?}"
    );
}
