//! Bucket arithmetic of the distributions (quantize, lquantize,
//! llquantize) and stddev, transcribed from dtrace's kernel and libdtrace.

use std::cmp::Ordering;

use rdtrace_lang::typed::AggFunc;

pub(super) const NBUCKETS: usize = 127;
pub(super) const ZERO_BUCKET: usize = 63;

/// Lower bound of quantize bucket `i` (DTRACE_QUANTIZE_BUCKETVAL).
pub(super) fn bucket_val(i: usize) -> i64 {
    match i.cmp(&ZERO_BUCKET) {
        Ordering::Less => -(1i64 << (ZERO_BUCKET - 1 - i)),
        Ordering::Equal => 0,
        Ordering::Greater => 1i64 << (i - ZERO_BUCKET - 1),
    }
}

pub(super) fn quantize_bucket(v: i64) -> usize {
    if v < 0 {
        (0..ZERO_BUCKET)
            .find(|&i| v <= bucket_val(i))
            .unwrap_or(ZERO_BUCKET - 1)
    } else {
        (ZERO_BUCKET + 1..NBUCKETS)
            .find(|&i| v < bucket_val(i))
            .map_or(NBUCKETS - 1, |i| i - 1)
    }
}

pub(super) struct Lq {
    pub base: i64,
    pub step: i64,
    pub levels: i64,
}

pub(super) fn lq(func: AggFunc) -> Lq {
    match func {
        AggFunc::Lquantize { low, high, step } => Lq {
            base: low,
            step: step.max(1),
            levels: ((high - low) / step.max(1)).max(0),
        },
        _ => Lq {
            base: 0,
            step: 1,
            levels: 0,
        },
    }
}

pub(super) fn stddev(n: i64, sum: i64, sumsq: u128, normal: i64) -> u64 {
    if n == 0 {
        return 0;
    }
    let normal = normal.max(1);
    let avg_sq = sumsq / normal as u128 / n as u128;
    let avg = (sum / normal / n).unsigned_abs() as u128;
    let diff = avg_sq.wrapping_sub(avg * avg);
    isqrt(diff) as u64
}

pub(super) fn isqrt(v: u128) -> u128 {
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

/// dtrace_aggregate_llquantize_bucket: bucket 0 holds values below
/// factor^low; each order of magnitude up to `high` has `steps` buckets
/// (fewer while factor^order is smaller), then one overflow bucket.
pub(super) fn llq_bucket(factor: i64, low: i64, high: i64, nsteps: i64, value: i64) -> usize {
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
pub(super) fn llq_labels(func: AggFunc, n: usize) -> Vec<String> {
    let AggFunc::Llquantize {
        factor,
        low,
        high,
        steps,
    } = func
    else {
        return vec![String::new(); n];
    };
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

/// The largest value quantize bucket `i` holds (a histogram's `le`);
/// None for the last bucket, which goes on to i64::MAX (`+Inf`).
pub(super) fn quantize_upper(i: usize) -> Option<i64> {
    match i.cmp(&ZERO_BUCKET) {
        Ordering::Less | Ordering::Equal => Some(bucket_val(i)),
        Ordering::Greater => (i + 1 < NBUCKETS).then(|| bucket_val(i + 1) - 1),
    }
}

/// The largest value lquantize bucket `i` holds; None for the last.
pub(super) fn lquantize_upper(func: AggFunc, i: usize) -> Option<i64> {
    let Lq { base, step, levels } = lq(func);
    (i as i64 <= levels).then(|| base.saturating_add((i as i64).saturating_mul(step)) - 1)
}

/// The largest value llquantize bucket `i` holds, given the rows'
/// labels (`llq_labels`): one below the next bucket's lower bound; None
/// for the last.
pub(super) fn llquantize_upper(labels: &[String], i: usize) -> Option<i64> {
    let next = labels.get(i + 1)?.trim_start_matches(">= ");
    next.parse::<i64>().ok().map(|v| v - 1)
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
        let labels = llq_labels(
            AggFunc::Llquantize {
                factor: 10,
                low: 0,
                high: 2,
                steps: 10,
            },
            29,
        );
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
