//! Aggregation output, byte for byte as libdtrace prints it: printa()
//! rows (keys by size, " %16lld" values), formatted printa, and the
//! quantize/lquantize/llquantize distributions.

use std::io::Write;

use rdtrace_lang::format::{Count, Format, Piece};
use rdtrace_lang::typed::AggFunc;
use rdtrace_lang::types::{IntType, Type};

use super::buckets::{bucket_val, llq_labels, lq, stddev, Lq, NBUCKETS, ZERO_BUCKET};
use super::{rows, zeros, AggVar, Aggregations, Data};
use crate::printf::{format_printf, PrintfArg, PrintfError};
use crate::state::{Key, KeyPart};
use crate::symbols::Symbols;

impl Aggregations {
    /// `printa([format,] @a, @b…)`: one row per key of any of them (a
    /// missing value is zero), sorted by the values in order, then by key.
    pub fn printa(
        &mut self,
        aggs: &[usize],
        format: Option<&Format>,
        out: &mut Vec<u8>,
    ) -> Result<(), PrintfError> {
        if aggs.is_empty() || aggs.iter().any(|&a| a >= self.vars.len()) {
            return Ok(());
        }
        for &a in aggs {
            self.vars[a].printed = true;
        }
        let zeros = zeros(&self.vars, aggs);
        let rows = rows(&self.vars, &zeros, self.sort, aggs);
        let mut p = Printer {
            vars: &self.vars,
            symbols: &mut self.symbols,
        };
        if format.is_none() {
            out.push(b'\n');
        }
        for (key, datas) in &rows {
            match format {
                None => p.print_row(aggs, key, datas, out),
                Some(f) => p.print_formatted(aggs, f, key, datas, out)?,
            }
        }
        Ok(())
    }

    /// Every aggregation not printed by `printa`, as dtrace prints them at
    /// exit. `flush` is given `out` whenever it holds 64 KiB or more, so a
    /// large aggregation streams out instead of doubling in memory.
    pub fn print_unprinted(&mut self, out: &mut Vec<u8>, flush: &mut dyn FnMut(&mut Vec<u8>)) {
        // In order of first use; aggsortrev reverses that too.
        let mut order: Vec<usize> = (0..self.vars.len()).collect();
        if self.sort.rev {
            order.reverse();
        }
        for a in order {
            if !self.vars[a].printed {
                let zeros = zeros(&self.vars, &[a]);
                let mut p = Printer {
                    vars: &self.vars,
                    symbols: &mut self.symbols,
                };
                for (key, datas) in &rows(&self.vars, &zeros, self.sort, &[a]) {
                    p.print_row(&[a], key, datas, out);
                    if out.len() >= 64 << 10 {
                        flush(out);
                    }
                }
            }
        }
    }
}

/// Prints rows: the aggregations' declarations, and the symbols stacks
/// and addresses print through.
struct Printer<'a> {
    vars: &'a [AggVar],
    symbols: &'a mut Symbols,
}

impl Printer<'_> {
    /// A row as dt_print_aggs prints it: the keys, each value, a newline.
    fn print_row(&mut self, aggs: &[usize], key: &Key, datas: &[&Data], out: &mut Vec<u8>) {
        let types = self.vars[aggs[0]].keys.clone();
        if self.symbols.folded && self.folded_row(&types, key, datas, aggs, out) {
            return;
        }
        for (i, part) in key.0.iter().enumerate() {
            match (types.get(i), part) {
                (Some(Type::Symbolic(kind)), KeyPart::Int(id)) => {
                    self.symbols.print(*id, *kind, out)
                }
                (ty, part) => print_key(ty, part, out),
            }
        }
        for (&a, d) in aggs.iter().zip(datas) {
            print_value(self.vars[a].func, d, self.vars[a].normal, out);
        }
        out.push(b'\n');
    }

    /// `stackformat=folded`: a row whose keys include a stack and whose
    /// values are scalars as one line, keys joined by `;` (a stack's
    /// frames outermost first), a space and the values. False: the row is
    /// not of that kind.
    fn folded_row(
        &mut self,
        types: &[Type],
        key: &Key,
        datas: &[&Data],
        aggs: &[usize],
        out: &mut Vec<u8>,
    ) -> bool {
        let has_stack = types
            .iter()
            .any(|t| matches!(t, Type::Symbolic(k) if k.is_stack()));
        let scalar = datas.iter().all(|d| {
            matches!(
                d,
                Data::Count(_) | Data::Sum(_) | Data::Min(_) | Data::Max(_)
            )
        });
        if !has_stack || !scalar {
            return false;
        }
        let mut parts = Vec::new();
        for (i, part) in key.0.iter().enumerate() {
            parts.push(match (types.get(i), part) {
                (Some(Type::Symbolic(k)), KeyPart::Int(id)) if k.is_stack() => {
                    self.symbols.folded_text(*id)
                }
                (Some(Type::Symbolic(_)), KeyPart::Int(id)) => self.symbols.symbol_text(*id),
                (_, KeyPart::Int(v)) => v.to_string(),
                (_, KeyPart::Str(s)) => String::from_utf8_lossy(s).into_owned(),
            });
        }
        let _ = write!(out, "{}", parts.join(";"));
        for (&a, d) in aggs.iter().zip(datas) {
            let normal = self.vars[a].normal;
            if let Data::Count(v) | Data::Sum(v) | Data::Min(v) | Data::Max(v) = d {
                let _ = write!(out, " {}", div_normal(*v, normal));
            }
        }
        out.push(b'\n');
        true
    }

    /// A row through a printa format: conversions take the keys in order;
    /// each `%@…` takes the next aggregation's value.
    fn print_formatted(
        &mut self,
        aggs: &[usize],
        fmt: &Format,
        key: &Key,
        datas: &[&Data],
        out: &mut Vec<u8>,
    ) -> Result<(), PrintfError> {
        let types = self.vars[aggs[0]].keys.clone();
        // A scalar value is a printf argument; a distribution is printed
        // whole where its %@ conversion is (libdtrace ignores the width).
        let values: Vec<_> = aggs
            .iter()
            .zip(datas)
            .map(|(&a, d)| {
                let normal = self.vars[a].normal;
                match d {
                    Data::Count(v) | Data::Sum(v) | Data::Min(v) | Data::Max(v) => {
                        Ok(PrintfArg::Int(div_normal(*v, normal), IntType::INT64))
                    }
                    Data::Avg { n, sum } => Ok(PrintfArg::Int(
                        if *n == 0 { 0 } else { sum / normal.max(1) / n },
                        IntType::INT64,
                    )),
                    Data::Stddev { n, sum, sumsq } => Ok(PrintfArg::Int(
                        stddev(*n, *sum, *sumsq, normal) as i64,
                        IntType::UINT64,
                    )),
                    Data::Quantize(_) | Data::Lquantize(_) | Data::Llquantize(_) => Err((a, d)),
                }
            })
            .collect();
        // Each %@ takes the next aggregation; extra ones repeat the last
        // (libdtrace's dt_printf_format stops advancing at the last one).
        let mut next_agg = 0;
        // Stacks and symbols are printed as their text (%k, %s, %a).
        let texts: Vec<Option<Vec<u8>>> = key
            .0
            .iter()
            .enumerate()
            .map(|(i, k)| match (types.get(i), k) {
                (Some(Type::Symbolic(kind)), KeyPart::Int(id)) => {
                    let mut t = Vec::new();
                    if kind.is_stack() {
                        self.symbols.print(*id, *kind, &mut t);
                    } else {
                        t = self.symbols.symbol_text(*id).into_bytes();
                    }
                    Some(t)
                }
                _ => None,
            })
            .collect();
        let mut keys = key.0.iter().enumerate().map(|(i, k)| match k {
            _ if texts[i].is_some() => PrintfArg::Str(texts[i].as_deref().unwrap_or_default()),
            KeyPart::Int(v) => PrintfArg::Int(
                *v,
                types
                    .get(i)
                    .and_then(Type::as_int)
                    .unwrap_or(IntType::INT64),
            ),
            KeyPart::Str(s) => PrintfArg::Str(s),
        });
        // The format is printed in runs of pieces that end at a
        // distribution's conversion.
        let start = out.len();
        let mut run = Format { pieces: Vec::new() };
        let mut args = Vec::new();
        for piece in &fmt.pieces {
            let Piece::Conv(c) = piece else {
                run.pieces.push(piece.clone());
                continue;
            };
            let stars =
                usize::from(c.width == Count::Star) + usize::from(c.precision == Some(Count::Star));
            for _ in 0..stars {
                args.extend(keys.next());
            }
            if !c.aggregation {
                args.extend(keys.next());
                run.pieces.push(piece.clone());
                continue;
            }
            let value = values.get(next_agg.min(values.len() - 1)).copied();
            next_agg += 1;
            match value {
                Some(Ok(v)) => {
                    args.push(v);
                    run.pieces.push(piece.clone());
                }
                Some(Err((a, d))) => {
                    if let Err(e) = format_printf(out, &run, &args) {
                        out.truncate(start);
                        return Err(e);
                    }
                    run.pieces.clear();
                    args.clear();
                    print_value(self.vars[a].func, d, self.vars[a].normal, out);
                }
                None => run.pieces.push(piece.clone()),
            }
        }
        let result = format_printf(out, &run, &args);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }
}

/// A key as dt_print_datum prints it: integers by size (1- and 2-byte
/// values unsigned), strings left-justified in 50 columns.
fn print_key(ty: Option<&Type>, part: &KeyPart, out: &mut Vec<u8>) {
    let _ = match part {
        KeyPart::Str(s) => {
            out.extend_from_slice(b"  ");
            out.extend_from_slice(s);
            for _ in s.len()..50 {
                out.push(b' ');
            }
            Ok(())
        }
        KeyPart::Int(v) => {
            let shown = key_int(ty, *v);
            match ty.and_then(Type::as_int).map_or(8, |t| t.size) {
                1 => write!(out, " {shown:>3}"),
                2 => write!(out, " {shown:>5}"),
                4 => write!(out, " {shown:>8}"),
                _ => write!(out, " {shown:>16}"),
            }
        }
    };
}

/// An integer key as printa shows it: 1- and 2-byte values unsigned,
/// 4-byte values as int, the rest as long long.
pub(super) fn key_int(ty: Option<&Type>, v: i64) -> i64 {
    match ty.and_then(Type::as_int).map_or(8, |t| t.size) {
        1 => i64::from(v as u8),
        2 => i64::from(v as u16),
        4 => i64::from(v as i32),
        _ => v,
    }
}

/// `(long long)value / normal` as C evaluates it: an unsigned division.
pub(super) fn div_normal(v: i64, normal: i64) -> i64 {
    ((v as u64) / (normal.max(1) as u64)) as i64
}

fn print_value(func: AggFunc, data: &Data, normal: i64, out: &mut Vec<u8>) {
    let _ = match data {
        Data::Count(v) | Data::Sum(v) | Data::Min(v) | Data::Max(v) => {
            write!(out, " {:>16}", div_normal(*v, normal))
        }
        Data::Avg { n, sum } => write!(
            out,
            " {:>16}",
            if *n == 0 { 0 } else { sum / normal.max(1) / n }
        ),
        Data::Stddev { n, sum, sumsq } => write!(out, " {:>16}", stddev(*n, *sum, *sumsq, normal)),
        Data::Quantize(b) => {
            print_distribution(
                out,
                b,
                normal,
                |i| format!("{:>16} ", bucket_val(i)),
                quantize_range(b),
            );
            Ok(())
        }
        Data::Lquantize(b) => {
            let Lq { base, step, levels } = lq(func);
            let label = |i: usize| {
                if i == 0 {
                    format!("{:>16} ", format!("< {base}"))
                } else if i == levels as usize + 1 {
                    format!("{:>16} ", format!(">= {}", base + levels * step))
                } else {
                    format!("{:>16} ", base + (i as i64 - 1) * step)
                }
            };
            print_distribution(out, b, normal, label, lquantize_range(b));
            Ok(())
        }
        Data::Llquantize(b) => {
            let labels = llq_labels(func, b.len());
            print_distribution(
                out,
                b,
                normal,
                |i| format!("{:>16} ", labels[i]),
                llquantize_range(b),
            );
            Ok(())
        }
    };
}

pub(super) fn llquantize_range(b: &[i64]) -> (usize, usize) {
    let levels = b.len();
    let mut first = 0;
    while first < levels && b[first] == 0 {
        first += 1;
    }
    if first == levels {
        return (0, 1.min(levels - 1));
    }
    first = first.saturating_sub(1);
    let mut last = levels - 1;
    while last > 0 && b[last] == 0 {
        last -= 1;
    }
    if last < levels - 1 {
        last += 1;
    }
    (first, last)
}

/// Rows dt_print_quantize shows: one zero row around the data.
pub(super) fn quantize_range(b: &[i64]) -> (usize, usize) {
    let Some(mut first) = b.iter().position(|&v| v != 0) else {
        return (ZERO_BUCKET - 1, ZERO_BUCKET + 1);
    };
    first = first.saturating_sub(1);
    let mut last = NBUCKETS - 1;
    while last > 0 && b[last] == 0 {
        last -= 1;
    }
    if last < NBUCKETS - 1 {
        last += 1;
    }
    (first, last)
}

pub(super) fn lquantize_range(b: &[i64]) -> (usize, usize) {
    let top = b.len() - 1;
    let mut first = 0;
    while first <= top && b[first] == 0 {
        first += 1;
    }
    if first > top {
        return (0, 2.min(top));
    }
    first = first.saturating_sub(1);
    let mut last = top;
    while last > 0 && b[last] == 0 {
        last -= 1;
    }
    if last < top {
        last += 1;
    }
    (first, last)
}

fn print_distribution(
    out: &mut Vec<u8>,
    b: &[i64],
    normal: i64,
    label: impl Fn(usize) -> String,
    (first, last): (usize, usize),
) {
    let (mut positives, mut negatives, mut total) = (false, false, 0f64);
    for &v in &b[first..=last] {
        positives |= v > 0;
        negatives |= v < 0;
        total += (v as f64).abs();
    }
    let _ = write!(
        out,
        "\n{:>16} {:>41} {:<9}\n",
        "value", "------------- Distribution -------------", "count"
    );
    for (i, &v) in b.iter().enumerate().take(last + 1).skip(first) {
        out.extend_from_slice(label(i).as_bytes());
        quant_line(out, v, normal, total, positives, negatives);
    }
}

/// One row's bar and count (dt_print_quantline).
fn quant_line(
    out: &mut Vec<u8>,
    val: i64,
    normal: i64,
    total: f64,
    positives: bool,
    negatives: bool,
) {
    let ats = "@".repeat(40);
    let spaces = " ".repeat(40);
    let count = div_normal(val, normal);
    let depth = |len: usize| {
        if total == 0.0 {
            0
        } else {
            (((val as f64).abs() * len as f64) / total + 0.5) as usize
        }
    };
    let _ = if !negatives {
        let d = if positives { depth(40) } else { 0 };
        writeln!(out, "|{}{} {:<9}", &ats[40 - d..], &spaces[d..], count)
    } else if !positives {
        let d = depth(40);
        writeln!(out, "{}{}| {:<9}", &spaces[d..], &ats[40 - d..], count)
    } else {
        let d = depth(20);
        if val <= 0 {
            writeln!(
                out,
                "{}{}|{:20} {:<9}",
                &spaces[20 + d..],
                &ats[40 - d..],
                "",
                count
            )
        } else {
            writeln!(
                out,
                "{:20}|{}{} {:<9}",
                "",
                &ats[40 - d..],
                &spaces[20 + d..],
                count
            )
        }
    };
}
