//! DTrace's string variables are references to their storage: an operand
//! that assigns one has the variable's final value once all operands are
//! evaluated. A random property test once found the interpreter copying
//! instead (`strjoin(g = "", g = probename)`); both engines agree now.

mod jit_support;

use jit_support::*;
use rdtrace_lang::CheckOptions;

#[test]
fn an_assigned_string_variable_is_a_reference_in_both_engines() {
    for v in ["g", "this->g"] {
        let src = format!(
            r#"BEGIN {{ printf("%s|", strjoin({v} = "", {v} = probename)); printf("%s %s\n", {v} = "a", {v} = "b"); }}"#
        );
        let p = rdtrace_lang::compile(
            "t.d",
            &src,
            &rdtrace_probes::catalog(),
            &CheckOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{}", e.render()));
        let (mut jit, mut interp) = both(&p, &quiet());
        let rec = record(p.probes[0].id, 0, 1, &[]);
        assert_eq!(
            fire_both(&mut jit, &mut interp, 0, &rec).out,
            "BEGINBEGIN|b b\n",
            "{v}"
        );
    }
}
