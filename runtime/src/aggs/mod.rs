//! Aggregations (`@name[keys] = func(value)`) and their output, byte for
//! byte as libdtrace prints them: `printa()` with and without a format, the
//! quantize distributions, and the print of every unprinted aggregation at
//! exit. Shared by the JIT's helpers and the interpreter.

mod buckets;
mod export;
mod print;

use std::cmp::Ordering;

use hashbrown::HashMap;
use rdtrace_lang::typed::{AggDecl, AggFunc};
use rdtrace_lang::types::{IntType, Type};

use self::buckets::{
    bucket_val, llq_bucket, llq_labels, lq, quantize_bucket, stddev, Lq, NBUCKETS, ZERO_BUCKET,
};
use crate::error::RuntimeError;
use crate::firing::AggSort;
use crate::state::{Key, KeyPart, KeyRef, KeySlice};

#[derive(Debug, Clone)]
enum Data {
    Count(i64),
    Sum(i64),
    Avg {
        n: i64,
        sum: i64,
    },
    Min(i64),
    Max(i64),
    Stddev {
        n: i64,
        sum: i64,
        sumsq: u128,
    },
    /// Counts per bucket; lquantize has levels + 2 buckets (below, levels, above).
    Quantize(Dist),
    Lquantize(Dist),
    Llquantize(Dist),
}

/// A distribution's buckets, and the weighted sum of the values it took
/// (dtrace prints only the buckets; a Prometheus histogram also has the
/// sum of its observations).
#[derive(Debug, Clone)]
struct Dist {
    buckets: Box<[i64]>,
    sum: i64,
}

impl Dist {
    fn new(n: usize) -> Dist {
        Dist {
            buckets: vec![0; n].into_boxed_slice(),
            sum: 0,
        }
    }

    fn add(&mut self, bucket: usize, value: i64, incr: i64) {
        self.buckets[bucket] = self.buckets[bucket].wrapping_add(incr);
        self.sum = self.sum.wrapping_add(value.wrapping_mul(incr));
    }
}

impl std::ops::Deref for Dist {
    type Target = [i64];
    fn deref(&self) -> &[i64] {
        &self.buckets
    }
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
            AggFunc::Stddev => Data::Stddev {
                n: 0,
                sum: 0,
                sumsq: 0,
            },
            AggFunc::Quantize => Data::Quantize(Dist::new(NBUCKETS)),
            AggFunc::Lquantize { low, high, step } => {
                let levels = ((high - low) / step.max(1)).max(0) as usize;
                Data::Lquantize(Dist::new(levels + 2))
            }
            AggFunc::Llquantize {
                factor,
                low,
                high,
                steps,
            } => Data::Llquantize(Dist::new(
                llq_bucket(factor, low, high, steps, i64::MAX) + 1,
            )),
        }
    }
}

struct AggVar {
    func: AggFunc,
    keys: Vec<Type>,
    entries: HashMap<Key, Data>,
    normal: i64,
    printed: bool,
    /// No value has gone down yet: no clear/trunc/normalize, no negative
    /// sum() argument. While it holds, count and sum export as counters.
    grows: bool,
}

/// dtrace's default `aggsize`.
pub(crate) const DEFAULT_AGGSIZE: usize = 4 << 20;

/// Every aggregation of the program, in at most `limit` bytes of memory
/// as they are really stored (tables, keys, strings, buckets; the table a
/// trunc() leaves stays counted): a new key that does not fit is dropped
/// and counted per CPU, as dtrace's "aggregation drops" (an existing key
/// is always updated). Printing borrows the rows, so the exit print adds
/// a few words per row, not a copy.
pub(crate) struct Aggregations {
    vars: Vec<AggVar>,
    /// Each aggregation's name as the checker keeps it (`_` for `@`).
    names: Vec<String>,
    used: usize,
    limit: usize,
    /// How printa and the exit-time print order rows.
    sort: AggSort,
    /// CPU of the event being processed, to which drops are charged.
    cpu: u32,
    drops: std::collections::BTreeMap<u32, u64>,
    /// The stacks and symbols keys (and trace()) refer to by id, and how
    /// they print.
    pub symbols: crate::symbols::Symbols,
}

/// Bytes glibc's malloc takes for an allocation of `n` bytes (an 8-byte
/// header, 16-byte granules, 32 at least).
fn alloc_size(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        ((n + 8 + 15) & !15).max(32)
    }
}

/// Heap bytes an entry's key and data take besides its slot in the table:
/// the key's parts, its strings, a distribution's buckets.
fn heap_cost(key: &[KeyRef<'_>], data: &Data) -> usize {
    let parts = alloc_size(key.len() * size_of::<KeyPart>());
    let strings: usize = key
        .iter()
        .map(|p| match p {
            KeyRef::Int(_) => 0,
            KeyRef::Str(s) => alloc_size(s.len()),
        })
        .sum();
    let buckets = match data {
        Data::Quantize(b) | Data::Lquantize(b) | Data::Llquantize(b) => alloc_size(b.len() * 8),
        _ => 0,
    };
    parts + strings + buckets
}

/// Bytes a table with room for `n` entries takes (hashbrown: a power of
/// two of slots, at most 7/8 full, a control byte per slot).
fn table_cost(n: usize) -> usize {
    let slots = match n {
        0 => return 0,
        1..=3 => 4,
        4..=7 => 8,
        _ => (n * 8).div_ceil(7).next_power_of_two(),
    };
    alloc_size(slots * (size_of::<(Key, Data)>() + 1) + 16)
}

/// One update of `data` by `func(value)` with weight `incr`.
fn apply(data: &mut Data, grows: &mut bool, func: AggFunc, value: i64, incr: i64) {
    match data {
        Data::Count(c) => *c = c.wrapping_add(1),
        Data::Sum(s) => {
            *s = s.wrapping_add(value);
            *grows &= value >= 0;
        }
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
        Data::Quantize(b) => b.add(quantize_bucket(value), value, incr),
        Data::Llquantize(b) => {
            if let AggFunc::Llquantize {
                factor,
                low,
                high,
                steps,
            } = func
            {
                let i = llq_bucket(factor, low, high, steps, value).min(b.len() - 1);
                b.add(i, value, incr);
            }
        }
        Data::Lquantize(b) => {
            let Lq { base, step, levels } = lq(func);
            let i = if value < base {
                0
            } else {
                // In 128 bits: value - base overflows for a huge value and negative base.
                let level = (value as i128 - base as i128) / step as i128;
                if level < levels as i128 {
                    level as usize + 1
                } else {
                    levels as usize + 1
                }
            };
            b.add(i, value, incr);
        }
    }
}

impl Aggregations {
    pub fn with_symbols(mut self, symbols: crate::symbols::Symbols) -> Aggregations {
        self.symbols = symbols;
        self
    }

    pub fn new(
        decls: &[AggDecl],
        limit: usize,
        sort: AggSort,
    ) -> Result<Aggregations, RuntimeError> {
        let mut vars = Vec::new();
        for d in decls {
            if let AggFunc::Llquantize {
                factor,
                low,
                high,
                steps,
            } = d.func
            {
                // The checker enforces dtrace's rules; refuse rather than loop
                // or overflow if a program slips through without them.
                if factor < 2
                    || low < 0
                    || low >= high
                    || high > 64
                    || steps < factor
                    || steps % factor != 0
                {
                    return Err(RuntimeError::Invalid(format!(
                        "llquantize() parameters of @{}",
                        d.name
                    )));
                }
            }
            vars.push(AggVar {
                grows: true,
                func: d.func,
                keys: d.keys.clone(),
                entries: HashMap::new(),
                normal: 1,
                printed: false,
            });
        }
        Ok(Aggregations {
            vars,
            names: decls.iter().map(|d| d.name.clone()).collect(),
            used: 0,
            limit,
            sort,
            cpu: 0,
            drops: Default::default(),
            symbols: Default::default(),
        })
    }

    /// The CPU of the event about to be processed.
    pub fn set_cpu(&mut self, cpu: u32) {
        self.cpu = cpu;
    }

    /// Drops per CPU since the last call.
    pub fn take_drops(&mut self) -> Vec<(u32, u64)> {
        std::mem::take(&mut self.drops).into_iter().collect()
    }

    /// `@agg[key] = func(value)`; `incr` is quantize's optional weight.
    pub fn update(&mut self, agg: usize, key: &[KeyRef<'_>], value: i64, incr: i64) {
        self.with_entry(agg, key, |data, grows, func| {
            apply(data, grows, func, value, incr)
        });
    }

    /// Adds `delta` to count or sum `@agg[key]`: what the kernel counted or
    /// summed for it since the last fold (`kernel_aggs.rs`). The key is
    /// made (and charged to `aggsize`) as an update would make it.
    pub fn add_folded(&mut self, agg: usize, key: &[KeyRef<'_>], delta: i64) {
        self.with_entry(agg, key, |data, grows, _| match data {
            Data::Count(c) => *c = c.wrapping_add(delta),
            Data::Sum(s) => {
                *s = s.wrapping_add(delta);
                *grows &= delta >= 0;
            }
            _ => {}
        });
    }

    /// Drops of new keys the kernel could not keep, as this side's own.
    pub fn add_drops(&mut self, cpu: u32, n: u64) {
        *self.drops.entry(cpu).or_insert(0) += n;
    }

    /// Runs `f` on `@agg[key]`'s data (made when new and within the
    /// limit, else a drop is counted and `f` does not run), with the
    /// aggregation's `grows` flag and function.
    fn with_entry(
        &mut self,
        agg: usize,
        key: &[KeyRef<'_>],
        f: impl FnOnce(&mut Data, &mut bool, AggFunc),
    ) {
        let Some(var) = self.vars.get_mut(agg) else {
            return;
        };
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
            None => {
                let fresh = Data::new(func);
                // What the new key really takes: its heap, and the
                // table's growth when it is full.
                let (len, capacity) = (var.entries.len(), var.entries.capacity());
                let growth = if len < capacity {
                    0
                } else {
                    table_cost(len + 1).saturating_sub(table_cost(capacity))
                };
                let cost = heap_cost(key, &fresh) + growth;
                if self.used + cost > self.limit {
                    *self.drops.entry(self.cpu).or_insert(0) += 1;
                    return;
                }
                self.used += cost;
                var.entries.entry(Key::from_refs(key)).or_insert(fresh)
            }
        };
        f(data, &mut var.grows, func);
    }

    /// `clear(@a)`: values back to their initial state, keys kept.
    pub fn clear(&mut self, agg: usize) {
        if let Some(var) = self.vars.get_mut(agg) {
            let func = var.func;
            var.grows = false;
            for d in var.entries.values_mut() {
                *d = Data::new(func);
            }
        }
    }

    /// `trunc(@a)` / `trunc(@a, n)`: keep the n largest (n < 0: smallest).
    pub fn trunc(&mut self, agg: usize, keep: Option<i64>) {
        let Some(var) = self.vars.get_mut(agg) else {
            return;
        };
        var.grows = false;
        let mut order: Vec<Key> = var.entries.keys().cloned().collect();
        let n = keep.unwrap_or(0);
        if n != 0 {
            order.sort_by(|a, b| {
                compare(
                    var.func,
                    &var.keys,
                    (a, &var.entries[a]),
                    (b, &var.entries[b]),
                )
            });
            if n > 0 {
                order.reverse();
            }
        }
        for k in order.into_iter().skip(n.unsigned_abs() as usize) {
            if let Some(d) = var.entries.remove(&k) {
                let parts: Vec<KeyRef<'_>> = k.0.iter().map(KeyPart::as_ref).collect();
                self.used -= heap_cost(&parts, &d);
            }
        }
    }

    /// `normalize(@a, n)`; `denormalize(@a)` when `factor` is None.
    /// A factor of 0 or less is ignored (dtrace would divide by it).
    pub fn normalize(&mut self, agg: usize, factor: Option<i64>) {
        if let Some(var) = self.vars.get_mut(agg) {
            var.grows = false;
            match factor {
                None => var.normal = 1,
                Some(f) if f > 0 => var.normal = f,
                Some(_) => {}
            }
        }
    }
}

/// The rows printa shows for `aggs`: each key of any of them once, with
/// its value in each (`zeros[i]` where the key is missing from `aggs[i]`),
/// in `sort`'s order. Keys and values are borrowed: printing a large
/// aggregation takes a few words per row, not a copy of it.
fn rows<'a>(
    vars: &'a [AggVar],
    zeros: &'a [Data],
    sort: AggSort,
    aggs: &[usize],
) -> Vec<(&'a Key, Vec<&'a Data>)> {
    let mut rows = Vec::new();
    for (n, &a) in aggs.iter().enumerate() {
        for key in vars[a].entries.keys() {
            // A key of an earlier aggregation is already a row.
            if aggs[..n].iter().any(|&b| vars[b].entries.contains_key(key)) {
                continue;
            }
            let datas: Vec<&Data> = aggs
                .iter()
                .zip(zeros)
                .map(|(&b, zero)| vars[b].entries.get(key).unwrap_or(zero))
                .collect();
            rows.push((key, datas));
        }
    }
    let key_types = &vars[aggs[0]].keys;
    let keypos = if sort.keypos < key_types.len() {
        sort.keypos
    } else {
        0
    };
    let first_agg = if sort.pos < aggs.len() { sort.pos } else { 0 };
    rows.sort_by(|(ka, da), (kb, db)| {
        let values = || {
            (0..aggs.len())
                .map(|i| (i + first_agg) % aggs.len())
                .map(|i| value_cmp(vars[aggs[i]].func, da[i], db[i]))
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal)
        };
        let keys = || key_cmp(key_types, keypos, ka, kb);
        let o = if sort.key {
            keys().then_with(values)
        } else {
            values().then_with(keys)
        };
        if sort.rev {
            o.reverse()
        } else {
            o
        }
    });
    rows
}

/// The zero value of each of `aggs`, for keys one of them lacks.
fn zeros(vars: &[AggVar], aggs: &[usize]) -> Vec<Data> {
    aggs.iter().map(|&a| Data::zero(vars[a].func)).collect()
}

/// dtrace's default order: by value, then by key.
fn compare(func: AggFunc, types: &[Type], a: (&Key, &Data), b: (&Key, &Data)) -> Ordering {
    value_cmp(func, a.1, b.1).then_with(|| key_cmp(types, 0, a.0, b.0))
}

fn value_cmp(func: AggFunc, a: &Data, b: &Data) -> Ordering {
    match (a, b) {
        (Data::Count(x), Data::Count(y))
        | (Data::Sum(x), Data::Sum(y))
        | (Data::Min(x), Data::Min(y))
        | (Data::Max(x), Data::Max(y)) => x.cmp(y),
        (Data::Avg { n: n1, sum: s1 }, Data::Avg { n: n2, sum: s2 }) => {
            let avg = |n: i64, s: i64| if n == 0 { 0 } else { s / n };
            avg(*n1, *s1).cmp(&avg(*n2, *s2))
        }
        (
            Data::Stddev {
                n: n1,
                sum: s1,
                sumsq: q1,
            },
            Data::Stddev {
                n: n2,
                sum: s2,
                sumsq: q2,
            },
        ) => stddev(*n1, *s1, *q1, 1).cmp(&stddev(*n2, *s2, *q2, 1)),
        (Data::Quantize(x), Data::Quantize(y)) => {
            let total = |b: &[i64]| {
                (0..NBUCKETS)
                    .map(|i| bucket_val(i) as i128 * b[i] as i128)
                    .sum::<i128>()
            };
            total(x)
                .cmp(&total(y))
                .then(x[ZERO_BUCKET].cmp(&y[ZERO_BUCKET]))
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
/// size, strings bytewise; from key position `first` on, then wrapping
/// around (dtrace's aggsortkeypos).
fn key_cmp(types: &[Type], first: usize, a: &Key, b: &Key) -> Ordering {
    let n = a.0.len().min(b.0.len());
    for i in (0..n).map(|j| (j + first) % n) {
        let (x, y) = (&a.0[i], &b.0[i]);
        let o = match (x, y) {
            (KeyPart::Int(x), KeyPart::Int(y)) => {
                let it = types
                    .get(i)
                    .and_then(Type::as_int)
                    .unwrap_or(IntType::UINT64);
                let mask = |v: i64| {
                    IntType {
                        size: it.size,
                        signed: false,
                    }
                    .normalize(v) as u64
                };
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
