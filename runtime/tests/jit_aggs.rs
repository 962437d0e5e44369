//! Aggregations from D text: updates, printa with and without a format,
//! clear, trunc, normalize, and the exit print, in dtrace's layouts. The
//! expected text is written out by hand from libdtrace's formats
//! (" %16lld" values, "  %-50s" string keys, the quantize table).

mod jit_support;

use rdtrace_lang::CheckOptions;
use rdtrace_probes::catalog::{catalog, DTRACE_BEGIN, DTRACE_END};
use rdtrace_probes::event::EventHeader;
use rdtrace_runtime::{CompiledProgram, FireContext, Interpreter, Options};

struct Run {
    jit: CompiledProgram,
    interp: Interpreter,
}

impl Run {
    fn new(src: &str) -> Run {
        let program =
            match rdtrace_lang::compile("aggs.d", src, &catalog(), &CheckOptions::default()) {
                Ok(p) => p,
                Err(d) => panic!("{d:?}"),
            };
        let opts = Options {
            quiet: true,
            ..Default::default()
        };
        Run {
            jit: CompiledProgram::new(&program, &opts).expect("jit"),
            interp: Interpreter::new(&program, &opts).expect("interp"),
        }
    }

    /// Fires probe `id` (BEGIN/END) in both engines; returns stdout.
    fn fire(&mut self, id: u32) -> String {
        let rec = {
            let h = EventHeader {
                probe: id,
                ..Default::default()
            };
            // SAFETY: plain repr(C) data.
            unsafe {
                std::slice::from_raw_parts(
                    &h as *const EventHeader as *const u8,
                    std::mem::size_of::<EventHeader>(),
                )
            }
            .to_vec()
        };
        let Some(probe) = self.jit.program().probes.iter().position(|p| p.id == id) else {
            return String::new();
        };
        let ctx = FireContext::default();
        let (mut o1, mut e1, mut o2, mut e2) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        self.jit.fire(probe, &rec, &ctx, &mut o1, &mut e1);
        self.interp.fire(probe, &rec, &ctx, &mut o2, &mut e2);
        assert_eq!((&o1, &e1), (&o2, &e2), "JIT and interpreter disagree");
        assert!(e1.is_empty(), "{}", String::from_utf8_lossy(&e1));
        String::from_utf8(o1).unwrap()
    }

    fn at_exit(&mut self) -> String {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        self.jit.print_aggregations(&mut a);
        self.interp.print_aggregations(&mut b);
        assert_eq!(a, b);
        String::from_utf8(a).unwrap()
    }
}

fn row(key: &str, v: i64) -> String {
    format!("  {key:<50} {v:>16}\n")
}

#[test]
fn count_sum_avg_min_max_sorted_by_value() {
    let mut r = Run::new(
        r#"BEGIN {
            @c["b"] = count(); @c["a"] = count(); @c["b"] = count();
            @s["x"] = sum(5); @s["y"] = sum(-3);
            @v = avg(3); @v = avg(4);
            @mn = min(7); @mn = min(-2);
            @mx = max(7); @mx = max(-2);
        }"#,
    );
    assert_eq!(r.fire(DTRACE_BEGIN), "");
    let want = row("a", 1)
        + &row("b", 2)
        + &row("y", -3)
        + &row("x", 5)
        + &format!(" {:>16}\n {:>16}\n {:>16}\n", 3, -2, 7);
    assert_eq!(r.at_exit(), want);
}

#[test]
fn printa_marks_printed_and_formats() {
    let mut r = Run::new(
        r#"BEGIN { @n["ssh", 22] = count(); @n["http", 80] = count(); @n["http", 80] = count(); @t = sum(10); }
           END { printa("%s:%d %@d\n", @n); printa(@t); }"#,
    );
    r.fire(DTRACE_BEGIN);
    assert_eq!(
        r.fire(DTRACE_END),
        format!("ssh:22 1\nhttp:80 2\n\n {:>16}\n", 10)
    );
    assert_eq!(r.at_exit(), "");
}

#[test]
fn integer_keys_print_by_size() {
    let mut r = Run::new("BEGIN { @a[(char)-2] = sum(1); @b[(short)-2] = sum(1); @c[-2] = sum(1); @d[(long long)-2] = sum(1); }");
    r.fire(DTRACE_BEGIN);
    assert_eq!(
        r.at_exit(),
        format!(
            " {:>3} {:>16}\n {:>5} {:>16}\n {:>8} {:>16}\n {:>16} {:>16}\n",
            254, 1, 65534, 1, -2, 1, -2, 1
        )
    );
}

#[test]
fn clear_trunc_normalize() {
    let mut r = Run::new(
        r#"BEGIN { @a["a"] = sum(1); @a["b"] = sum(2); @a["c"] = sum(3); @a["d"] = sum(40); }
           BEGIN { trunc(@a, 2); printa(@a); trunc(@a, -1); printa(@a); normalize(@a, 4); printa(@a); clear(@a); printa(@a); trunc(@a); printa(@a); }"#,
    );
    let want = String::from("\n")
        + &row("c", 3)
        + &row("d", 40)
        + "\n"
        + &row("c", 3)
        + "\n"
        + &row("c", 0)
        + "\n"
        + &row("c", 0)
        + "\n";
    assert_eq!(r.fire(DTRACE_BEGIN), want);
}

#[test]
fn quantize_table() {
    let mut r = Run::new("BEGIN { @q = quantize(0); @q = quantize(1); @q = quantize(3); @q = quantize(3); @q = quantize(1000); }");
    r.fire(DTRACE_BEGIN);
    let bar = |n: usize| "@".repeat(n) + &" ".repeat(40 - n);
    let want = format!(
        "\n{:>16} {:>41} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n",
        "value", "------------- Distribution -------------", "count",
        -1, bar(0), 0,
        0, bar(8), 1,
        1, bar(8), 1,
        2, bar(16), 2,
        4, bar(0), 0,
        8, bar(0), 0,
        16, bar(0), 0,
        32, bar(0), 0,
        64, bar(0), 0,
        128, bar(0), 0,
        256, bar(0), 0,
        512, bar(8), 1,
        1024, bar(0), 0,
    );
    assert_eq!(r.at_exit(), want + "\n");
}

#[test]
fn lquantize_table_with_out_of_range_rows() {
    let mut r = Run::new("BEGIN { @l = lquantize(-5, 0, 30, 10); @l = lquantize(15, 0, 30, 10); @l = lquantize(99, 0, 30, 10); }");
    r.fire(DTRACE_BEGIN);
    let bar = |n: usize| "@".repeat(n) + &" ".repeat(40 - n);
    let want = format!(
        "\n{:>16} {:>41} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n{:>16} |{} {:<9}\n\n",
        "value", "------------- Distribution -------------", "count",
        "< 0", bar(13), 1,
        0, bar(0), 0,
        10, bar(13), 1,
        20, bar(0), 0,
        ">= 30", bar(13), 1,
    );
    assert_eq!(r.at_exit(), want);
}

#[test]
fn empty_aggregation_prints_nothing_at_exit() {
    let mut r = Run::new("BEGIN { @a = count(); trunc(@a); }");
    r.fire(DTRACE_BEGIN);
    assert_eq!(r.at_exit(), "");
}

#[test]
fn printa_of_several_aggregations_joins_their_keys() {
    let mut r = Run::new(
        r#"BEGIN { @c["a"] = count(); @c["b"] = count(); @c["b"] = count(); @s["b"] = sum(7); @s["z"] = sum(1); }
           END { printa(@c, @s); printa("%s %@d %@d\n", @c, @s); }"#,
    );
    r.fire(DTRACE_BEGIN);
    let line = |k: &str, a: i64, b: i64| format!("  {k:<50} {a:>16} {b:>16}\n");
    let want = String::from("\n")
        + &line("z", 0, 1)
        + &line("a", 1, 0)
        + &line("b", 2, 7)
        + "z 0 1\na 1 0\nb 2 7\n";
    assert_eq!(r.fire(DTRACE_END), want);
    assert_eq!(r.at_exit(), "");
}

#[test]
fn llquantize_table() {
    let mut r = Run::new("BEGIN { @ = llquantize(5, 10, 0, 2, 10); @ = llquantize(50, 10, 0, 2, 10); @ = llquantize(5000, 10, 0, 2, 10); }");
    r.fire(DTRACE_BEGIN);
    // Rows from 4 (one below the first value) to the overflow row.
    let mut labels: Vec<String> = (4..10).map(|v: i64| v.to_string()).collect();
    labels.extend((1..10).map(|v: i64| (v * 10).to_string()));
    labels.extend((1..10).map(|v: i64| (v * 100).to_string()));
    labels.push(">= 1000".into());
    let mut want = format!(
        "\n{:>16} {:>41} {:<9}\n",
        "value", "------------- Distribution -------------", "count"
    );
    for l in &labels {
        let hit = l == "5" || l == "50" || l == ">= 1000";
        let bar = if hit {
            "@".repeat(13) + &" ".repeat(27)
        } else {
            " ".repeat(40)
        };
        want += &format!("{:>16} |{} {:<9}\n", l, bar, hit as i32);
    }
    assert_eq!(r.at_exit(), want + "\n");
}
