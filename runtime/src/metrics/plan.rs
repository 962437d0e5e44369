//! What each aggregation of a program exports as: its metric name
//! (`@name` → `rdtrace_name`, `@` → `rdtrace_agg`), its label names (`key0`,
//! `key1`, … or those `metriclabels` gives), and whether the program can
//! make its values go down (then count and sum are gauges from the start,
//! so a metric's type does not change under Prometheus).

use rdtrace_lang::typed::{AggFunc, Program, Stmt};
use rdtrace_lang::visit::any_stmt;

use super::exposition::TRACER_SAMPLES;

#[derive(Debug, Clone, PartialEq)]
pub struct AggMetric {
    pub name: String,
    pub help: String,
    pub labels: Vec<String>,
    /// clear(), trunc(), normalize() or denormalize() of it appear in the
    /// program.
    pub resettable: bool,
}

/// One entry per aggregation of the program, in its order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsPlan {
    pub aggs: Vec<AggMetric>,
    pub probes_enabled: u64,
}

/// The metric name of aggregation `name` as the checker keeps it (`_` is
/// the anonymous `@`).
pub fn metric_name(agg: &str) -> String {
    if agg == "_" {
        "rdtrace_agg".to_string()
    } else {
        format!("rdtrace_{agg}")
    }
}

fn func_text(f: AggFunc) -> String {
    match f {
        AggFunc::Count => "count()".into(),
        AggFunc::Sum => "sum()".into(),
        AggFunc::Avg => "avg()".into(),
        AggFunc::Min => "min()".into(),
        AggFunc::Max => "max()".into(),
        AggFunc::Stddev => "stddev()".into(),
        AggFunc::Quantize => "quantize()".into(),
        AggFunc::Lquantize { low, high, step } => format!("lquantize(expr, {low}, {high}, {step})"),
        AggFunc::Llquantize {
            factor,
            low,
            high,
            steps,
        } => format!("llquantize(expr, {factor}, {low}, {high}, {steps})"),
    }
}

impl MetricsPlan {
    /// `labels`: the `metriclabels` settings, (aggregation, label names).
    pub fn new(program: &Program, labels: &[(String, Vec<String>)]) -> Result<MetricsPlan, String> {
        for (agg, _) in labels {
            if !program.aggs.iter().any(|d| &d.name == agg) {
                let shown = if agg == "_" { "" } else { agg };
                return Err(format!(
                    "metriclabels names @{shown}, which the program does not use"
                ));
            }
        }
        let mut aggs = Vec::new();
        for (id, d) in program.aggs.iter().enumerate() {
            let shown = if d.name == "_" {
                "@".to_string()
            } else {
                format!("@{}", d.name)
            };
            let names = match labels.iter().rev().find(|(a, _)| *a == d.name) {
                Some((_, names)) => {
                    if names.len() != d.keys.len() {
                        return Err(format!(
                            "metriclabels gives {} label{} for {shown}, which has {} key{}",
                            names.len(),
                            if names.len() == 1 { "" } else { "s" },
                            d.keys.len(),
                            if d.keys.len() == 1 { "" } else { "s" },
                        ));
                    }
                    names.clone()
                }
                None => (0..d.keys.len()).map(|i| format!("key{i}")).collect(),
            };
            let histogram = matches!(
                d.func,
                AggFunc::Quantize | AggFunc::Lquantize { .. } | AggFunc::Llquantize { .. }
            );
            for (i, n) in names.iter().enumerate() {
                if names[..i].contains(n) {
                    return Err(format!("metriclabels names label '{n}' twice for {shown}"));
                }
                if histogram && n == "le" {
                    return Err(format!(
                        "{shown} is a histogram, whose buckets use the label 'le': name its key otherwise"
                    ));
                }
            }
            let resettable = program.clauses.iter().any(|c| {
                any_stmt(&c.body, |s| match s {
                    Stmt::Clear { agg, .. }
                    | Stmt::Trunc { agg, .. }
                    | Stmt::Normalize { agg, .. } => *agg == id,
                    _ => false,
                })
            });
            aggs.push(AggMetric {
                name: metric_name(&d.name),
                help: format!("{shown} = {}", func_text(d.func)),
                labels: names,
                resettable,
            });
        }
        check_unique(&aggs, program)?;
        Ok(MetricsPlan {
            aggs,
            probes_enabled: program.probes.len() as u64,
        })
    }
}

/// Every sample name an aggregation can produce must be its own: `@x`
/// (a counter, `rdtrace_x_total`) and `@x_total` (a gauge) would clash,
/// and so would `@tracer_events` with rdtrace's own metrics.
fn check_unique(aggs: &[AggMetric], program: &Program) -> Result<(), String> {
    let mut seen: hashbrown::HashMap<String, String> = TRACER_SAMPLES
        .iter()
        .map(|s| (s.to_string(), "rdtrace's own metrics".to_string()))
        .collect();
    for (m, d) in aggs.iter().zip(&program.aggs) {
        let suffixes: &[&str] = match d.func {
            AggFunc::Count | AggFunc::Sum => &["", "_total"],
            AggFunc::Quantize | AggFunc::Lquantize { .. } | AggFunc::Llquantize { .. } => {
                &["_bucket", "_sum", "_count"]
            }
            _ => &[""],
        };
        let shown = if d.name == "_" {
            "@".to_string()
        } else {
            format!("@{}", d.name)
        };
        for s in suffixes {
            let sample = format!("{}{s}", m.name);
            if let Some(other) = seen.insert(sample.clone(), shown.clone()) {
                return Err(format!(
                    "{shown} would be exported as {sample}, which {other} already uses: rename the aggregation"
                ));
            }
        }
    }
    Ok(())
}

/// A Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with
/// `__` (reserved).
pub fn valid_label_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !n.starts_with("__")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(src: &str) -> Program {
        rdtrace_lang::compile("t.d", src, &rdtrace_probes::catalog(), &Default::default()).unwrap()
    }

    #[test]
    fn names_labels_and_resets() {
        let p = program(
            "BEGIN { @[\"a\", 1] = count(); @bytes[1] = sum(2); @lat = quantize(3); } \
             END { trunc(@bytes, 1); }",
        );
        let plan = MetricsPlan::new(&p, &[("bytes".into(), vec!["dport".into()])]).unwrap();
        let names: Vec<&str> = plan.aggs.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["rdtrace_agg", "rdtrace_bytes", "rdtrace_lat"]);
        assert_eq!(plan.aggs[0].labels, ["key0", "key1"]);
        assert_eq!(plan.aggs[1].labels, ["dport"]);
        assert!(!plan.aggs[0].resettable);
        assert!(plan.aggs[1].resettable);
        assert_eq!(plan.aggs[2].help, "@lat = quantize()");
    }

    #[test]
    fn refusals() {
        let p = program("BEGIN { @x[1, 2] = count(); @h[3] = quantize(1); }");
        let err = |l: &[(&str, &[&str])]| {
            let l: Vec<(String, Vec<String>)> = l
                .iter()
                .map(|(a, n)| (a.to_string(), n.iter().map(|s| s.to_string()).collect()))
                .collect();
            MetricsPlan::new(&p, &l).unwrap_err()
        };
        assert!(err(&[("y", &["a"])]).contains("@y, which the program does not use"));
        assert!(err(&[("x", &["a"])]).contains("1 label for @x, which has 2 keys"));
        assert!(err(&[("x", &["a", "a"])]).contains("'a' twice"));
        assert!(err(&[("h", &["le"])]).contains("histogram"));
        let clash = program("BEGIN { @x = count(); @x_total = max(1); }");
        assert!(MetricsPlan::new(&clash, &[])
            .unwrap_err()
            .contains("rdtrace_x_total"));
        let own = program("BEGIN { @tracer_events = count(); }");
        assert!(MetricsPlan::new(&own, &[])
            .unwrap_err()
            .contains("rdtrace's own"));
    }

    #[test]
    fn label_names() {
        assert!(valid_label_name("daddr"));
        assert!(valid_label_name("_x1"));
        assert!(!valid_label_name("1x"));
        assert!(!valid_label_name("__name"));
        assert!(!valid_label_name("a-b"));
        assert!(!valid_label_name(""));
    }
}
