//! Aggregations (`@name[keys] = func(value)`) and their output, byte for
//! byte as libdtrace prints them: `printa()` with and without a format, the
//! quantize distributions, and the print of every unprinted aggregation at
//! exit. Shared by the JIT's helpers and the interpreter.

use std::cmp::Ordering;
use std::io::Write;

use hashbrown::HashMap;
use rdtrace_lang::format::{Count, Format, Piece};
use rdtrace_lang::typed::{AggDecl, AggFunc};
use rdtrace_lang::types::{IntType, Type};

use crate::error::RuntimeError;
use crate::printf::{format_printf, PrintfArg, PrintfError};
use crate::state::{Key, KeyPart, KeyRef, KeySlice};

const NBUCKETS: usize = 127;
const ZERO_BUCKET: usize = 63;

/// Lower bound of quantize bucket `i` (DTRACE_QUANTIZE_BUCKETVAL).
fn bucket_val(i: usize) -> i64 {
    match i.cmp(&ZERO_BUCKET) {
        Ordering::Less => -(1i64 << (ZERO_BUCKET - 1 - i)),
        Ordering::Equal => 0,
        Ordering::Greater => 1i64 << (i - ZERO_BUCKET - 1),
    }
}

fn quantize_bucket(v: i64) -> usize {
    if v < 0 {
        (0..ZERO_BUCKET).find(|&i| v <= bucket_val(i)).unwrap_or(ZERO_BUCKET - 1)
    } else {
        (ZERO_BUCKET + 1..NBUCKETS).find(|&i| v < bucket_val(i)).map_or(NBUCKETS - 1, |i| i - 1)
    }
}

#[derive(Debug, Clone)]
enum Data {
    Count(i64),
    Sum(i64),
    Avg { n: i64, sum: i64 },
    Min(i64),
    Max(i64),
    Stddev { n: i64, sum: i64, sumsq: u128 },
    /// Counts per bucket; lquantize has levels + 2 buckets (below, levels, above).
    Quantize(Box<[i64]>),
    Lquantize(Box<[i64]>),
    Llquantize(Box<[i64]>),
}

struct Lq {
    base: i64,
    step: i64,
    levels: i64,
}

impl Data {
    /// The value of a key absent from one of several joined aggregations
    /// (dtrace uses zero-filled data).
    fn zero(func: AggFunc) -> Data {
        match Data::new(func) {
            Data::Min(_) => Data::Min(0),
            Data::Max(_) => Data::Max(0),
            d => d,
        }
    }

    fn new(func: AggFunc) -> Data {
        match func {
            AggFunc::Count => Data::Count(0),
            AggFunc::Sum => Data::Sum(0),
            AggFunc::Avg => Data::Avg { n: 0, sum: 0 },
            AggFunc::Min => Data::Min(i64::MAX),
            AggFunc::Max => Data::Max(i64::MIN),
            AggFunc::Stddev => Data::Stddev { n: 0, sum: 0, sumsq: 0 },
            AggFunc::Quantize => Data::Quantize(vec![0; NBUCKETS].into_boxed_slice()),
            AggFunc::Lquantize { low, high, step } => {
                let levels = ((high - low) / step.max(1)).max(0) as usize;
                Data::Lquantize(vec![0; levels + 2].into_boxed_slice())
            }
            AggFunc::Llquantize { factor, low, high, steps } => {
                Data::Llquantize(vec![0; llq_bucket(factor, low, high, steps, i64::MAX) + 1].into_boxed_slice())
            }
        }
    }
}

fn lq(func: AggFunc) -> Lq {
    match func {
        AggFunc::Lquantize { low, high, step } => Lq { base: low, step: step.max(1), levels: ((high - low) / step.max(1)).max(0) },
        _ => Lq { base: 0, step: 1, levels: 0 },
    }
}

fn stddev(n: i64, sum: i64, sumsq: u128, normal: i64) -> u64 {
    if n == 0 {
        return 0;
    }
    let normal = normal.max(1);
    let avg_sq = sumsq / normal as u128 / n as u128;
    let avg = (sum / normal / n).unsigned_abs() as u128;
    let diff = avg_sq.wrapping_sub(avg * avg);
    isqrt(diff) as u64
}

fn isqrt(v: u128) -> u128 {
    if v < 2 {
        return v;
    }
    let mut x = (v as f64).sqrt() as u128;
    while x * x > v {
        x -= 1;
    }
    while (x + 1) * (x + 1) <= v {
        x += 1;
    }
    x
}

struct AggVar {
    func: AggFunc,
    keys: Vec<Type>,
    entries: HashMap<Key, Data>,
    normal: i64,
    printed: bool,
}

pub(crate) struct Aggregations {
    vars: Vec<AggVar>,
}

impl Aggregations {
    pub fn new(decls: &[AggDecl]) -> Result<Aggregations, RuntimeError> {
        let mut vars = Vec::new();
        for d in decls {
            if let AggFunc::Llquantize { factor, low, high, steps } = d.func {
                // The checker enforces dtrace's rules; refuse rather than loop
                // or overflow if a program slips through without them.
                if factor < 2 || low < 0 || low >= high || high > 64 || steps < factor || steps % factor != 0 {
                    return Err(RuntimeError::Invalid(format!("llquantize() parameters of @{}", d.name)));
                }
            }
            vars.push(AggVar { func: d.func, keys: d.keys.clone(), entries: HashMap::new(), normal: 1, printed: false });
        }
        Ok(Aggregations { vars })
    }

    /// `@agg[key] = func(value)`; `incr` is quantize's optional weight.
    pub fn update(&mut self, agg: usize, key: &[KeyRef<'_>], value: i64, incr: i64) {
        let Some(var) = self.vars.get_mut(agg) else { return };
        // Integer keys are stored as their declared type holds them.
        let mut norm = [KeyRef::Int(0); 16];
        let n = key.len().min(16);
        for (i, k) in key.iter().take(n).enumerate() {
            norm[i] = match (k, var.keys.get(i).and_then(Type::as_int)) {
                (KeyRef::Int(v), Some(it)) => KeyRef::Int(it.normalize(*v)),
                (k, _) => *k,
            };
        }
        let key = &norm[..n];
        let func = var.func;
        let data = match var.entries.get_mut(&KeySlice(key)) {
            Some(d) => d,
            None => var.entries.entry(Key::from_refs(key)).or_insert_with(|| Data::new(func)),
        };
        match data {
            Data::Count(c) => *c = c.wrapping_add(1),
            Data::Sum(s) => *s = s.wrapping_add(value),
            Data::Avg { n, sum } => {
                *n += 1;
                *sum = sum.wrapping_add(value);
            }
            Data::Min(m) => *m = (*m).min(value),
            Data::Max(m) => *m = (*m).max(value),
            Data::Stddev { n, sum, sumsq } => {
                *n += 1;
                *sum = sum.wrapping_add(value);
                let a = value.unsigned_abs() as u128;
                *sumsq = sumsq.wrapping_add(a * a);
            }
            Data::Quantize(b) => {
                let i = quantize_bucket(value);
                b[i] = b[i].wrapping_add(incr);
            }
            Data::Llquantize(b) => {
                if let AggFunc::Llquantize { factor, low, high, steps } = func {
                    let i = llq_bucket(factor, low, high, steps, value).min(b.len() - 1);
                    b[i] = b[i].wrapping_add(incr);
                }
            }
            Data::Lquantize(b) => {
                let Lq { base, step, levels } = lq(func);
                let i = if value < base {
                    0
                } else {
                    let level = (value - base) / step;
                    if level < levels {
                        level as usize + 1
                    } else {
                        levels as usize + 1
                    }
                };
                b[i] = b[i].wrapping_add(incr);
            }
        }
    }

    /// `clear(@a)`: values back to their initial state, keys kept.
    pub fn clear(&mut self, agg: usize) {
        if let Some(var) = self.vars.get_mut(agg) {
            let func = var.func;
            for d in var.entries.values_mut() {
                *d = Data::new(func);
            }
        }
    }

    /// `trunc(@a)` / `trunc(@a, n)`: keep the n largest (n < 0: smallest).
    pub fn trunc(&mut self, agg: usize, keep: Option<i64>) {
        let Some(var) = self.vars.get_mut(agg) else { return };
        let Some(n) = keep.filter(|n| *n != 0) else {
            var.entries.clear();
            return;
        };
        let mut order: Vec<Key> = var.entries.keys().cloned().collect();
        order.sort_by(|a, b| compare(var.func, &var.keys, (a, &var.entries[a]), (b, &var.entries[b])));
        if n > 0 {
            order.reverse();
        }
        for k in order.into_iter().skip(n.unsigned_abs() as usize) {
            var.entries.remove(&k);
        }
    }

    /// `normalize(@a, n)`; `denormalize(@a)` when `factor` is None.
    /// A factor of 0 or less is ignored (dtrace would divide by it).
    pub fn normalize(&mut self, agg: usize, factor: Option<i64>) {
        if let Some(var) = self.vars.get_mut(agg) {
            match factor {
                None => var.normal = 1,
                Some(f) if f > 0 => var.normal = f,
                Some(_) => {}
            }
        }
    }

    /// `printa([format,] @a, @b…)`: one row per key of any of them (a
    /// missing value is zero), sorted by the values in order, then by key.
    pub fn printa(&mut self, aggs: &[usize], format: Option<&Format>, out: &mut Vec<u8>) -> Result<(), PrintfError> {
        if aggs.is_empty() || aggs.iter().any(|&a| a >= self.vars.len()) {
            return Ok(());
        }
        for &a in aggs {
            self.vars[a].printed = true;
        }
        let rows = self.rows(aggs);
        if format.is_none() {
            out.push(b'\n');
        }
        for (key, datas) in &rows {
            match format {
                None => self.print_row(aggs, key, datas, out),
                Some(f) => self.print_formatted(aggs, f, key, datas, out)?,
            }
        }
        Ok(())
    }

    /// Every aggregation not printed by `printa`, as dtrace prints them at exit.
    pub fn print_unprinted(&mut self, out: &mut Vec<u8>) {
        for a in 0..self.vars.len() {
            if !self.vars[a].printed {
                for (key, datas) in &self.rows(&[a]) {
                    self.print_row(&[a], key, datas, out);
                }
            }
        }
    }

    fn rows(&self, aggs: &[usize]) -> Vec<(Key, Vec<Data>)> {
        let mut seen = hashbrown::HashSet::new();
        let mut rows = Vec::new();
        for &a in aggs {
            for key in self.vars[a].entries.keys() {
                if seen.insert(key.clone()) {
                    let datas: Vec<Data> = aggs
                        .iter()
                        .map(|&b| {
                            let v = &self.vars[b];
                            v.entries.get(key).cloned().unwrap_or_else(|| Data::zero(v.func))
                        })
                        .collect();
                    rows.push((key.clone(), datas));
                }
            }
        }
        let key_types = &self.vars[aggs[0]].keys;
        rows.sort_by(|(ka, da), (kb, db)| {
            aggs.iter()
                .zip(da.iter().zip(db.iter()))
                .map(|(&g, (x, y))| value_cmp(self.vars[g].func, x, y))
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal)
                .then_with(|| key_cmp(key_types, ka, kb))
        });
        rows
    }

    /// A row as dt_print_aggs prints it: the keys, each value, a newline.
    fn print_row(&self, aggs: &[usize], key: &Key, datas: &[Data], out: &mut Vec<u8>) {
        let types = &self.vars[aggs[0]].keys;
        for (i, part) in key.0.iter().enumerate() {
            print_key(types.get(i), part, out);
        }
        for (&a, d) in aggs.iter().zip(datas) {
            print_value(self.vars[a].func, d, self.vars[a].normal, out);
        }
        out.push(b'\n');
    }

    /// A row through a printa format: conversions take the keys in order;
    /// each `%@…` takes the next aggregation's value.
    fn print_formatted(&self, aggs: &[usize], fmt: &Format, key: &Key, datas: &[Data], out: &mut Vec<u8>) -> Result<(), PrintfError> {
        let types = &self.vars[aggs[0]].keys;
        let mut values = aggs.iter().zip(datas).map(|(&a, d)| {
            let normal = self.vars[a].normal;
            match d {
                Data::Count(v) | Data::Sum(v) | Data::Min(v) | Data::Max(v) => PrintfArg::Int(div_normal(*v, normal), IntType::INT64),
                Data::Avg { n, sum } => PrintfArg::Int(if *n == 0 { 0 } else { sum / normal.max(1) / n }, IntType::INT64),
                Data::Stddev { n, sum, sumsq } => PrintfArg::Int(stddev(*n, *sum, *sumsq, normal) as i64, IntType::UINT64),
                // Refused at compile time (distributions inside a printa format).
                Data::Quantize(_) | Data::Lquantize(_) | Data::Llquantize(_) => PrintfArg::Int(0, IntType::INT64),
            }
        });
        let mut keys = key.0.iter().enumerate().map(|(i, k)| match k {
            KeyPart::Int(v) => PrintfArg::Int(*v, types.get(i).and_then(Type::as_int).unwrap_or(IntType::INT64)),
            KeyPart::Str(s) => PrintfArg::Str(s),
        });
        let mut args = Vec::new();
        for piece in &fmt.pieces {
            if let Piece::Conv(c) = piece {
                let stars = usize::from(c.width == Count::Star) + usize::from(c.precision == Some(Count::Star));
                for _ in 0..stars {
                    args.extend(keys.next());
                }
                if c.aggregation {
                    args.extend(values.next());
                } else {
                    args.extend(keys.next());
                }
            }
        }
        format_printf(out, fmt, &args)
    }
}

/// dtrace's default order: by value, then by key.
fn compare(func: AggFunc, types: &[Type], a: (&Key, &Data), b: (&Key, &Data)) -> Ordering {
    value_cmp(func, a.1, b.1).then_with(|| key_cmp(types, a.0, b.0))
}

fn value_cmp(func: AggFunc, a: &Data, b: &Data) -> Ordering {
    match (a, b) {
        (Data::Count(x), Data::Count(y)) | (Data::Sum(x), Data::Sum(y)) | (Data::Min(x), Data::Min(y)) | (Data::Max(x), Data::Max(y)) => x.cmp(y),
        (Data::Avg { n: n1, sum: s1 }, Data::Avg { n: n2, sum: s2 }) => {
            let avg = |n: i64, s: i64| if n == 0 { 0 } else { s / n };
            avg(*n1, *s1).cmp(&avg(*n2, *s2))
        }
        (Data::Stddev { n: n1, sum: s1, sumsq: q1 }, Data::Stddev { n: n2, sum: s2, sumsq: q2 }) => {
            stddev(*n1, *s1, *q1, 1).cmp(&stddev(*n2, *s2, *q2, 1))
        }
        (Data::Quantize(x), Data::Quantize(y)) => {
            let total = |b: &[i64]| (0..NBUCKETS).map(|i| bucket_val(i) as i128 * b[i] as i128).sum::<i128>();
            total(x).cmp(&total(y)).then(x[ZERO_BUCKET].cmp(&y[ZERO_BUCKET]))
        }
        (Data::Lquantize(x), Data::Lquantize(y)) => {
            let Lq { base, step, levels } = lq(func);
            let sum = |b: &[i64]| {
                let mut total = b[0] as i128 * (base - 1) as i128;
                let mut v = base;
                for i in 0..levels as usize {
                    total += b[i + 1] as i128 * v as i128;
                    v += step;
                }
                total + b[levels as usize + 1] as i128 * (v + 1) as i128
            };
            let zero = |b: &[i64]| {
                if base - 1 == 0 {
                    return b[0];
                }
                let mut v = base;
                for i in 0..levels as usize {
                    if v == 0 {
                        return b[i + 1];
                    }
                    v += step;
                }
                if v + 1 == 0 {
                    b[levels as usize + 1]
                } else {
                    0
                }
            };
            sum(x).cmp(&sum(y)).then(zero(x).cmp(&zero(y)))
        }
        (Data::Llquantize(x), Data::Llquantize(y)) => {
            // Weighted by each bucket's lower bound (the underflow bucket
            // weighs 0).
            let labels = llq_labels(func, x.len());
            let weight = |i: usize| labels[i].parse::<i128>().unwrap_or(0);
            let total = |b: &[i64]| (1..b.len()).map(|i| weight(i) * b[i] as i128).sum::<i128>();
            total(x).cmp(&total(y)).then(x[0].cmp(&y[0]))
        }
        _ => Ordering::Equal,
    }
}

/// Keys compare as their stored bytes would: integers unsigned at their
/// size, strings bytewise.
fn key_cmp(types: &[Type], a: &Key, b: &Key) -> Ordering {
    for (i, (x, y)) in a.0.iter().zip(b.0.iter()).enumerate() {
        let o = match (x, y) {
            (KeyPart::Int(x), KeyPart::Int(y)) => {
                let it = types.get(i).and_then(Type::as_int).unwrap_or(IntType::UINT64);
                let mask = |v: i64| IntType { size: it.size, signed: false }.normalize(v) as u64;
                mask(*x).cmp(&mask(*y))
            }
            (KeyPart::Str(x), KeyPart::Str(y)) => x.cmp(y),
            (KeyPart::Int(_), KeyPart::Str(_)) => Ordering::Less,
            (KeyPart::Str(_), KeyPart::Int(_)) => Ordering::Greater,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.0.len().cmp(&b.0.len())
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
        KeyPart::Int(v) => match ty.and_then(Type::as_int).map_or(8, |t| t.size) {
            1 => write!(out, " {:>3}", *v as u8),
            2 => write!(out, " {:>5}", *v as u16),
            4 => write!(out, " {:>8}", *v as i32),
            _ => write!(out, " {:>16}", v),
        },
    };
}

/// `(long long)value / normal` as C evaluates it: an unsigned division.
fn div_normal(v: i64, normal: i64) -> i64 {
    ((v as u64) / (normal.max(1) as u64)) as i64
}

fn print_value(func: AggFunc, data: &Data, normal: i64, out: &mut Vec<u8>) {
    let _ = match data {
        Data::Count(v) | Data::Sum(v) | Data::Min(v) | Data::Max(v) => write!(out, " {:>16}", div_normal(*v, normal)),
        Data::Avg { n, sum } => write!(out, " {:>16}", if *n == 0 { 0 } else { sum / normal.max(1) / n }),
        Data::Stddev { n, sum, sumsq } => write!(out, " {:>16}", stddev(*n, *sum, *sumsq, normal)),
        Data::Quantize(b) => {
            print_distribution(out, b, normal, |i| format!("{:>16} ", bucket_val(i)), quantize_range(b));
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
            print_distribution(out, b, normal, |i| format!("{:>16} ", labels[i]), llquantize_range(b));
            Ok(())
        }
    };
}

/// dtrace_aggregate_llquantize_bucket: bucket 0 holds values below
/// factor^low; each order of magnitude up to `high` has `steps` buckets
/// (fewer while factor^order is smaller), then one overflow bucket.
fn llq_bucket(factor: i64, low: i64, high: i64, nsteps: i64, value: i64) -> usize {
    let mut this: i64 = 1;
    let mut order = 0;
    while order < low {
        this = this.wrapping_mul(factor);
        order += 1;
    }
    if value < this {
        return 0;
    }
    let mut last = this;
    let mut value = value;
    let mut base: i64 = 1;
    this = this.wrapping_mul(factor);
    while order <= high {
        let nbuckets = this.min(nsteps);
        let next = this.wrapping_mul(factor);
        if next < this {
            value = this - 1;
        }
        if value < this {
            return (base + (value - last) / (this / nbuckets)) as usize;
        }
        base += nbuckets - nbuckets / factor;
        last = this;
        this = next;
        order += 1;
    }
    base as usize
}

/// Row labels of an llquantize distribution (dt_print_llquantize).
fn llq_labels(func: AggFunc, n: usize) -> Vec<String> {
    let AggFunc::Llquantize { factor, low, high, steps } = func else { return vec![String::new(); n] };
    let mut labels = Vec::with_capacity(n);
    let mut value: i64 = 1;
    for _ in 0..low {
        value = value.wrapping_mul(factor);
    }
    labels.push(format!("< {value}"));
    let mut next = value.wrapping_mul(factor);
    let mut step = if next > steps { next / steps } else { 1 };
    let mut order = low;
    while order <= high && labels.len() < n {
        labels.push(value.to_string());
        value += step;
        if value != next {
            continue;
        }
        next = value.wrapping_mul(factor);
        step = if next > steps { next / steps } else { 1 };
        order += 1;
    }
    labels.push(format!(">= {value}"));
    labels.resize(n, String::new());
    labels
}

fn llquantize_range(b: &[i64]) -> (usize, usize) {
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
fn quantize_range(b: &[i64]) -> (usize, usize) {
    let mut first = 0;
    while first < NBUCKETS - 1 && b[first] == 0 {
        first += 1;
    }
    if first == NBUCKETS - 1 {
        return (ZERO_BUCKET - 1, ZERO_BUCKET + 1);
    }
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

fn lquantize_range(b: &[i64]) -> (usize, usize) {
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

fn print_distribution(out: &mut Vec<u8>, b: &[i64], normal: i64, label: impl Fn(usize) -> String, (first, last): (usize, usize)) {
    let (mut positives, mut negatives, mut total) = (false, false, 0f64);
    for &v in &b[first..=last] {
        positives |= v > 0;
        negatives |= v < 0;
        total += (v as f64).abs();
    }
    let _ = write!(out, "\n{:>16} {:>41} {:<9}\n", "value", "------------- Distribution -------------", "count");
    for (i, &v) in b.iter().enumerate().take(last + 1).skip(first) {
        out.extend_from_slice(label(i).as_bytes());
        quant_line(out, v, normal, total, positives, negatives);
    }
}

/// One row's bar and count (dt_print_quantline).
fn quant_line(out: &mut Vec<u8>, val: i64, normal: i64, total: f64, positives: bool, negatives: bool) {
    let ats = "@".repeat(40);
    let spaces = " ".repeat(40);
    let count = div_normal(val, normal);
    let depth = |len: usize| if total == 0.0 { 0 } else { (((val as f64).abs() * len as f64) / total + 0.5) as usize };
    let _ = if !negatives {
        let d = if positives { depth(40) } else { 0 };
        writeln!(out, "|{}{} {:<9}", &ats[40 - d..], &spaces[d..], count)
    } else if !positives {
        let d = depth(40);
        writeln!(out, "{}{}| {:<9}", &spaces[d..], &ats[40 - d..], count)
    } else {
        let d = depth(20);
        if val <= 0 {
            writeln!(out, "{}{}|{:20} {:<9}", &spaces[20 + d..], &ats[40 - d..], "", count)
        } else {
            writeln!(out, "{:20}|{}{} {:<9}", "", &ats[40 - d..], &spaces[20 + d..], count)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_buckets() {
        assert_eq!(bucket_val(ZERO_BUCKET + 1), 1);
        assert_eq!(bucket_val(ZERO_BUCKET - 1), -1);
        assert_eq!(quantize_bucket(0), ZERO_BUCKET);
        assert_eq!(quantize_bucket(1), ZERO_BUCKET + 1);
        assert_eq!(quantize_bucket(3), ZERO_BUCKET + 2);
        assert_eq!(quantize_bucket(4), ZERO_BUCKET + 3);
        assert_eq!(quantize_bucket(-1), ZERO_BUCKET - 1);
        assert_eq!(quantize_bucket(-2), ZERO_BUCKET - 2);
        assert_eq!(quantize_bucket(i64::MAX), NBUCKETS - 1);
        assert_eq!(quantize_bucket(i64::MIN), 0);
    }

    #[test]
    fn llquantize_buckets() {
        // factor 10, magnitudes 0..2, 10 steps: [<1] [1..9] [10,20..90] [100..900] [>=1000]
        let b = |v| llq_bucket(10, 0, 2, 10, v);
        assert_eq!(b(0), 0);
        assert_eq!(b(1), 1);
        assert_eq!(b(9), 9);
        assert_eq!(b(10), 10);
        assert_eq!(b(99), 18);
        assert_eq!(b(100), 19);
        assert_eq!(b(999), 27);
        assert_eq!(b(1000), 28);
        assert_eq!(b(i64::MAX), 28);
        let labels = llq_labels(AggFunc::Llquantize { factor: 10, low: 0, high: 2, steps: 10 }, 29);
        assert_eq!(labels[0], "< 1");
        assert_eq!(labels[1], "1");
        assert_eq!(labels[10], "10");
        assert_eq!(labels[27], "900");
        assert_eq!(labels[28], ">= 1000");
    }

    #[test]
    fn stddev_of_known_values() {
        // 2, 4, 4, 4, 5, 5, 7, 9: population standard deviation 2.
        let vals = [2i64, 4, 4, 4, 5, 5, 7, 9];
        let sumsq = vals.iter().map(|v| (*v as u128) * (*v as u128)).sum();
        assert_eq!(stddev(8, vals.iter().sum(), sumsq, 1), 2);
    }
}
