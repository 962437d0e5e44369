//! Aggregations as metric families (for `--metrics`): the same keys and
//! values printa shows, as labels and samples.

use rdtrace_lang::typed::AggFunc;
use rdtrace_lang::types::Type;

use super::buckets::{llq_labels, llquantize_upper, lquantize_upper, quantize_upper, stddev};
use super::print::{div_normal, key_int, llquantize_range, lquantize_range, quantize_range};
use super::{rows, zeros, Aggregations, Data};
use crate::metrics::{Family, MetricKind, MetricsPlan, Sample, Value};
use crate::state::KeyPart;
use crate::symbols::Symbols;

impl Aggregations {
    /// Every aggregation of the program as a metric family, rows in
    /// printa's order.
    pub fn export(&mut self, plan: &MetricsPlan) -> Vec<Family> {
        let mut families = Vec::with_capacity(self.vars.len());
        for (a, m) in plan.aggs.iter().enumerate().take(self.vars.len()) {
            let func = self.vars[a].func;
            let kind = match func {
                AggFunc::Count | AggFunc::Sum if self.vars[a].grows && !m.resettable => {
                    MetricKind::Counter
                }
                AggFunc::Quantize | AggFunc::Lquantize { .. } | AggFunc::Llquantize { .. } => {
                    MetricKind::Histogram
                }
                _ => MetricKind::Gauge,
            };
            let types = &self.vars[a].keys;
            let normal = self.vars[a].normal;
            let zeros = zeros(&self.vars, &[a]);
            let rows = rows(&self.vars, &zeros, self.sort, &[a]);
            let mut samples = Vec::with_capacity(rows.len());
            for (key, datas) in rows {
                let labels = key
                    .0
                    .iter()
                    .enumerate()
                    .map(|(i, part)| {
                        let value = label_value(&mut self.symbols, types.get(i), part);
                        (m.labels.get(i).cloned().unwrap_or_default(), value)
                    })
                    .collect();
                samples.push(Sample {
                    labels,
                    value: value_of(func, datas[0], normal),
                });
            }
            families.push(Family {
                name: m.name.clone(),
                help: m.help.clone(),
                kind,
                samples,
            });
        }
        families
    }
}

/// A key as a label value: what printa shows for it, without padding
/// (a stack as its folded frames, outermost first).
fn label_value(symbols: &mut Symbols, ty: Option<&Type>, part: &KeyPart) -> String {
    match (ty, part) {
        (Some(Type::Symbolic(k)), KeyPart::Int(id)) if k.is_stack() => symbols.folded_text(*id),
        (Some(Type::Symbolic(_)), KeyPart::Int(id)) => symbols.symbol_text(*id),
        (ty, KeyPart::Int(v)) => key_int(ty, *v).to_string(),
        (_, KeyPart::Str(s)) => String::from_utf8_lossy(s).into_owned(),
    }
}

/// The value printa prints for `data`, normalized as it prints it.
fn value_of(func: AggFunc, data: &Data, normal: i64) -> Value {
    match data {
        Data::Count(v) | Data::Sum(v) | Data::Min(v) | Data::Max(v) => {
            Value::Int(div_normal(*v, normal))
        }
        Data::Avg { n, sum } => Value::Int(if *n == 0 { 0 } else { sum / normal.max(1) / n }),
        Data::Stddev { n, sum, sumsq } => Value::Int(stddev(*n, *sum, *sumsq, normal) as i64),
        Data::Quantize(d) => histogram(d, d.sum, normal, quantize_range(d), quantize_upper),
        Data::Lquantize(d) => histogram(d, d.sum, normal, lquantize_range(d), |i| {
            lquantize_upper(func, i)
        }),
        Data::Llquantize(d) => {
            let labels = llq_labels(func, d.len());
            histogram(d, d.sum, normal, llquantize_range(d), |i| {
                llquantize_upper(&labels, i)
            })
        }
    }
}

/// The buckets printa shows (`first..=last`: the data and one empty
/// bucket either side), each up to its largest value, then `+Inf`.
/// Counts are normalized as printa prints them; negative weights count 0.
fn histogram(
    buckets: &[i64],
    sum: i64,
    normal: i64,
    (first, last): (usize, usize),
    upper: impl Fn(usize) -> Option<i64>,
) -> Value {
    let count_of = |c: i64| div_normal(c, normal).max(0) as u64;
    let mut out = Vec::with_capacity(last + 2 - first);
    for (i, &c) in buckets.iter().enumerate().take(last + 1).skip(first) {
        out.push((upper(i).map_or(f64::INFINITY, |u| u as f64), count_of(c)));
    }
    // Buckets outside the range printa shows are empty.
    if out.last().is_none_or(|(u, _)| u.is_finite()) {
        out.push((f64::INFINITY, 0));
    }
    Value::Histogram {
        buckets: out,
        sum: sum / normal.max(1),
        count: buckets.iter().map(|&c| count_of(c)).sum(),
    }
}

impl Aggregations {
    /// printa(@a, …) under `-x oformat`: one `aggregation-data` item per
    /// aggregation, rows in printa's order (distributions: printa's rows
    /// as `buckets`).
    pub fn printa_structured(
        &mut self,
        aggs: &[usize],
        f: crate::oformat::Oformat,
        out: &mut Vec<u8>,
    ) {
        use crate::oformat::{AggItem, AggValue, Field};
        for &a in aggs {
            let Some(var) = self.vars.get_mut(a) else {
                continue;
            };
            var.printed = true;
            let (func, normal, types) = (var.func, var.normal, var.keys.clone());
            let zeros = zeros(&self.vars, &[a]);
            let rows = rows(&self.vars, &zeros, self.sort, &[a]);
            let mut texts: Vec<Vec<Vec<u8>>> = Vec::with_capacity(rows.len());
            for (key, _) in &rows {
                texts.push(
                    key.0
                        .iter()
                        .enumerate()
                        .map(|(i, part)| {
                            label_value(&mut self.symbols, types.get(i), part).into_bytes()
                        })
                        .collect(),
                );
            }
            let mut item_rows = Vec::with_capacity(rows.len());
            for ((key, datas), text) in rows.iter().zip(&texts) {
                let keys = key
                    .0
                    .iter()
                    .enumerate()
                    .map(|(i, part)| match (types.get(i), part) {
                        (Some(Type::Symbolic(_)), _) | (_, KeyPart::Str(_)) => Field::Str(&text[i]),
                        (ty, KeyPart::Int(v)) => Field::Int(key_int(ty, *v)),
                    })
                    .collect();
                let value = match value_of(func, datas[0], normal) {
                    Value::Int(v) => AggValue::Scalar(v),
                    Value::Histogram { .. } => {
                        AggValue::Buckets(distribution_rows(func, datas[0], normal))
                    }
                };
                item_rows.push((keys, value));
            }
            let name = self.names.get(a).map_or("_", String::as_str);
            let item = AggItem {
                name: if name == "_" { "" } else { name },
                func: func_name(func),
                rows: item_rows,
            };
            crate::oformat::aggregation(f, out, &item);
        }
    }
}

fn func_name(f: AggFunc) -> &'static str {
    match f {
        AggFunc::Count => "count",
        AggFunc::Sum => "sum",
        AggFunc::Avg => "avg",
        AggFunc::Min => "min",
        AggFunc::Max => "max",
        AggFunc::Stddev => "stddev",
        AggFunc::Quantize => "quantize",
        AggFunc::Lquantize { .. } => "lquantize",
        AggFunc::Llquantize { .. } => "llquantize",
    }
}

/// A distribution's rows as printa shows them: (the row's value, count).
fn distribution_rows(func: AggFunc, data: &Data, normal: i64) -> Vec<(i64, i64)> {
    use super::buckets::{bucket_val, lq, Lq};
    let count = |c: i64| div_normal(c, normal);
    match data {
        Data::Quantize(d) => {
            let (a, b) = quantize_range(d);
            (a..=b).map(|i| (bucket_val(i), count(d[i]))).collect()
        }
        Data::Lquantize(d) => {
            let Lq { base, step, .. } = lq(func);
            let (a, b) = lquantize_range(d);
            (a..=b)
                .map(|i| {
                    (
                        if i == 0 {
                            base - 1
                        } else {
                            base + (i as i64 - 1) * step
                        },
                        count(d[i]),
                    )
                })
                .collect()
        }
        Data::Llquantize(d) => {
            let labels = llq_labels(func, d.len());
            let (a, b) = llquantize_range(d);
            (a..=b)
                .map(|i| {
                    let v = labels[i].trim_start_matches("< ").trim_start_matches(">= ");
                    (v.parse().unwrap_or(0), count(d[i]))
                })
                .collect()
        }
        _ => Vec::new(),
    }
}
