//! The `extern "C"` functions generated code calls. Each receives the
//! firing context; strings are NUL-terminated byte pointers. Helpers never
//! panic (a panic cannot unwind through JIT frames).

use std::ffi::CStr;

use super::ctx::{ArgKind, FiringCtx, Runtime};
use crate::deferred::Deferred;
use crate::inet;
use crate::printf::{format_printf_with, PrintfArg};
use crate::state::{next_rand, DynValue, KeyRef, ValueRef};
use crate::strfuncs;
use crate::trace::{trace_int, trace_str};

/// The empty D string.
pub(crate) static EMPTY: [u8; 1] = [0];

/// Most key parts an associative array may have.
pub(crate) const MAX_KEYS: usize = 8;

/// # Safety
/// `p` is a NUL-terminated string that outlives the returned slice.
unsafe fn cstr<'a>(p: i64) -> &'a [u8] {
    if p == 0 {
        return &[];
    }
    CStr::from_ptr(p as *const std::ffi::c_char).to_bytes()
}

fn rt<'a>(ctx: *mut FiringCtx) -> &'a mut Runtime {
    // SAFETY: generated code passes the context CompiledProgram::fire gave it.
    unsafe { &mut (*ctx).rt }
}

/// Builds a derived string in the reusable buffer, then copies it (bounded
/// by strsize) into scratch space.
fn derived(rt: &mut Runtime, build: impl FnOnce(&mut Vec<u8>, usize)) -> i64 {
    let mut tmp = std::mem::take(&mut rt.tmp);
    tmp.clear();
    build(&mut tmp, rt.strsize);
    tmp.truncate(rt.strsize);
    let p = rt.scratch.push_str(&tmp) as i64;
    rt.tmp = tmp;
    p
}

/// Renders printf site `site` with the JIT-filled argument slots `args`
/// into `out`; false when the arguments do not fit the format.
fn render_site(rt: &Runtime, site: i64, args: *const i64, out: &mut Vec<u8>) -> bool {
    let Some(site) = rt.sites.get(site as usize) else {
        return false;
    };
    let n = site.args.len();
    let raw: &[i64] = if n == 0 {
        &[]
    } else {
        // SAFETY: the generated code spilled `n` slots at `args`.
        unsafe { std::slice::from_raw_parts(args, n) }
    };
    let mut i = 0;
    let next = || {
        let arg = match *site.args.get(i)? {
            ArgKind::Int(t) => PrintfArg::Int(raw[i], t),
            ArgKind::Str => PrintfArg::Str(unsafe { cstr(raw[i]) }),
        };
        i += 1;
        Some(arg)
    };
    format_printf_with(out, &site.format, next).is_ok()
}

pub(crate) extern "C" fn rt_printf(ctx: *mut FiringCtx, site: i64, args: *const i64) -> i64 {
    let rt = rt(ctx);
    // SAFETY: `out` points at the clause buffer for the duration of the clause.
    let out = unsafe { &mut *rt.out };
    !render_site(rt, site, args, out) as i64
}

/// system(fmt, …): formats the command now, runs it when the clause completes.
pub(crate) extern "C" fn rt_system(ctx: *mut FiringCtx, site: i64, args: *const i64) -> i64 {
    let rt = rt(ctx);
    let mut cmd = Vec::new();
    if !render_site(rt, site, args, &mut cmd) {
        return 1;
    }
    // SAFETY: `out` points at the clause buffer for the duration of the clause.
    let at = unsafe { (*rt.out).len() };
    rt.deferred.push(Deferred::System { at, cmd });
    0
}

/// raise(sig) (stop() is raise of SIGSTOP, marked by `stop != 0`).
pub(crate) extern "C" fn rt_raise(ctx: *mut FiringCtx, sig: i64, stop: i64) {
    let rt = rt(ctx);
    rt.deferred.push(if stop != 0 {
        Deferred::Stop
    } else {
        Deferred::Raise(sig as i32)
    });
}

pub(crate) extern "C" fn rt_trace_int(ctx: *mut FiringCtx, v: i64, size: i64) {
    let rt = rt(ctx);
    let out = unsafe { &mut *rt.out };
    trace_int(out, v, size as u8, rt.quiet);
}

pub(crate) extern "C" fn rt_trace_str(ctx: *mut FiringCtx, s: i64) {
    let rt = rt(ctx);
    let out = unsafe { &mut *rt.out };
    trace_str(out, unsafe { cstr(s) }, rt.quiet);
}

pub(crate) extern "C" fn rt_exit(ctx: *mut FiringCtx, status: i64) {
    rt(ctx).exit = Some(status as i32);
}

/// An address field of the record as a string.
pub(crate) extern "C" fn rt_inet(
    ctx: *mut FiringCtx,
    record: *const u8,
    addr: i64,
    version: i64,
) -> i64 {
    let rt = rt(ctx);
    // SAFETY: the driver guarantees the record covers every field offset.
    let (bytes, ver) = unsafe {
        let mut a = [0u8; 16];
        std::ptr::copy_nonoverlapping(record.add(addr as usize), a.as_mut_ptr(), 16);
        (a, *record.add(version as usize))
    };
    derived(rt, |out, _| inet::format_addr(&bytes, ver, out))
}

/// A NUL-padded char array of the record as a string.
pub(crate) extern "C" fn rt_chars(ctx: *mut FiringCtx, p: *const u8, len: i64) -> i64 {
    let rt = rt(ctx);
    let bytes = unsafe { std::slice::from_raw_parts(p, len as usize) };
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    derived(rt, |out, _| out.extend_from_slice(&bytes[..end]))
}

pub(crate) extern "C" fn rt_strcmp(a: i64, b: i64) -> i64 {
    let (a, b) = unsafe { (cstr(a), cstr(b)) };
    match a.cmp(b) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}

/// Copies `src` into a string variable's buffer `dst` (strsize + 1 bytes).
pub(crate) extern "C" fn rt_strcpy_var(ctx: *mut FiringCtx, dst: i64, src: i64) -> i64 {
    let rt = rt(ctx);
    let s = unsafe { cstr(src) };
    let n = s.len().min(rt.strsize);
    // SAFETY: dst has strsize + 1 bytes; src may overlap it (x = x).
    unsafe {
        std::ptr::copy(s.as_ptr(), dst as *mut u8, n);
        *(dst as *mut u8).add(n) = 0;
    }
    dst
}

/// The value read from a dynamic variable: strings are copied to scratch
/// (the variable may change before the value is used); unset reads 0 / "".
fn load_dyn(scratch: &mut super::scratch::Scratch, v: Option<&DynValue>, is_str: bool) -> i64 {
    match v {
        Some(DynValue::Int(i)) => *i,
        Some(DynValue::Str(s)) => scratch.push_str(s) as i64,
        None if is_str => EMPTY.as_ptr() as i64,
        None => 0,
    }
}

pub(crate) extern "C" fn rt_self_load(ctx: *mut FiringCtx, var: i64) -> i64 {
    let rt = rt(ctx);
    let var = var as usize;
    load_dyn(
        &mut rt.scratch,
        rt.dynvars.self_get(rt.tid, var),
        rt.self_is_str[var],
    )
}

/// Stores into a `self->` variable; returns the stored value.
pub(crate) extern "C" fn rt_self_store(ctx: *mut FiringCtx, var: i64, v: i64) -> i64 {
    let rt = rt(ctx);
    let var = var as usize;
    if rt.self_is_str[var] {
        let s = unsafe { cstr(v) };
        let s = &s[..s.len().min(rt.strsize)];
        rt.dynvars.self_set(rt.tid, var, ValueRef::Str(s));
        rt.scratch.push_str(s) as i64
    } else {
        rt.dynvars.self_set(rt.tid, var, ValueRef::Int(v));
        v
    }
}

/// The key of an associative array access from its argument slots.
fn with_key<R>(
    kinds: &[bool],
    strsize: usize,
    keys: *const i64,
    f: impl FnOnce(&[KeyRef<'_>]) -> R,
) -> R {
    let n = kinds.len();
    let raw: &[i64] = if n == 0 {
        &[]
    } else {
        unsafe { std::slice::from_raw_parts(keys, n) }
    };
    let key: [KeyRef; MAX_KEYS] = std::array::from_fn(|i| {
        if i >= n {
            KeyRef::Int(0)
        } else if kinds[i] {
            let s = unsafe { cstr(raw[i]) };
            KeyRef::Str(&s[..s.len().min(strsize)])
        } else {
            KeyRef::Int(raw[i])
        }
    });
    f(&key[..n])
}

pub(crate) extern "C" fn rt_assoc_load(ctx: *mut FiringCtx, assoc: i64, keys: *const i64) -> i64 {
    let rt = rt(ctx);
    let assoc = assoc as usize;
    let is_str = rt.assoc_is_str[assoc];
    let (dynvars, scratch) = (&rt.dynvars, &mut rt.scratch);
    with_key(&rt.assoc_key_is_str[assoc], rt.strsize, keys, |k| {
        load_dyn(scratch, dynvars.assoc_get(assoc, k), is_str)
    })
}

pub(crate) extern "C" fn rt_assoc_store(
    ctx: *mut FiringCtx,
    assoc: i64,
    keys: *const i64,
    v: i64,
) -> i64 {
    let rt = rt(ctx);
    let assoc = assoc as usize;
    let strsize = rt.strsize;
    let vref = if rt.assoc_is_str[assoc] {
        let s = unsafe { cstr(v) };
        ValueRef::Str(&s[..s.len().min(strsize)])
    } else {
        ValueRef::Int(v)
    };
    let dynvars = &mut rt.dynvars;
    with_key(&rt.assoc_key_is_str[assoc], strsize, keys, |k| {
        dynvars.assoc_set(assoc, k, vref)
    });
    match vref {
        ValueRef::Str(s) => rt.scratch.push_str(s) as i64,
        ValueRef::Int(_) => v,
    }
}

pub(crate) extern "C" fn rt_strlen(ctx: *mut FiringCtx, s: i64) -> i64 {
    let rt = rt(ctx);
    unsafe { cstr(s) }.len().min(rt.strsize) as i64
}

pub(crate) extern "C" fn rt_strjoin(ctx: *mut FiringCtx, a: i64, b: i64) -> i64 {
    let rt = rt(ctx);
    let (a, b) = unsafe { (cstr(a), cstr(b)) };
    derived(rt, |out, strsize| strfuncs::strjoin(a, b, strsize, out))
}

pub(crate) extern "C" fn rt_substr(
    ctx: *mut FiringCtx,
    s: i64,
    index: i64,
    len: i64,
    has_len: i64,
) -> i64 {
    let rt = rt(ctx);
    let s = unsafe { cstr(s) };
    let len = (has_len != 0).then_some(len);
    derived(rt, |out, strsize| {
        strfuncs::substr(s, index, len, strsize, out)
    })
}

pub(crate) extern "C" fn rt_index(
    s: i64,
    sub: i64,
    start: i64,
    has_start: i64,
    reverse: i64,
) -> i64 {
    let (s, sub) = unsafe { (cstr(s), cstr(sub)) };
    let start = (has_start != 0).then_some(start);
    if reverse != 0 {
        strfuncs::rindex(s, sub, start)
    } else {
        strfuncs::index(s, sub, start)
    }
}

/// strchr/strrchr/strstr: the tail of `s` from the match, or "" when none.
pub(crate) extern "C" fn rt_strfind(ctx: *mut FiringCtx, s: i64, needle: i64, kind: i64) -> i64 {
    let rt = rt(ctx);
    let text = unsafe { cstr(s) };
    let at = match kind {
        0 => strfuncs::strchr(text, needle as u8),
        1 => strfuncs::strrchr(text, needle as u8),
        _ => strfuncs::strstr(text, unsafe { cstr(needle) }),
    };
    match at {
        Some(off) => derived(rt, |out, _| out.extend_from_slice(&text[off..])),
        None => EMPTY.as_ptr() as i64,
    }
}

/// strtok(s, delims); a NULL `s` (0) continues the previous string.
pub(crate) extern "C" fn rt_strtok(ctx: *mut FiringCtx, s: i64, delims: i64) -> i64 {
    let rt = rt(ctx);
    if s != 0 {
        let text = unsafe { cstr(s) };
        rt.strtok.0.clear();
        rt.strtok
            .0
            .extend_from_slice(&text[..text.len().min(rt.strsize)]);
        rt.strtok.1 = 0;
    }
    let delims = unsafe { cstr(delims) };
    let (text, pos) = (&rt.strtok.0, &mut rt.strtok.1);
    match strfuncs::strtok_next(text, pos, delims, rt.strsize) {
        Some(tok) => rt.scratch.push_str(tok) as i64,
        None => EMPTY.as_ptr() as i64,
    }
}

pub(crate) extern "C" fn rt_lltostr(ctx: *mut FiringCtx, v: i64, base: i64, has_base: i64) -> i64 {
    let rt = rt(ctx);
    let base = (has_base != 0).then_some(base);
    derived(rt, |out, _| strfuncs::lltostr(v, base, out))
}

pub(crate) extern "C" fn rt_case(ctx: *mut FiringCtx, s: i64, upper: i64) -> i64 {
    let rt = rt(ctx);
    let s = unsafe { cstr(s) };
    derived(rt, |out, _| strfuncs::change_case(s, upper != 0, out))
}

/// inet_ntoa of an IPv4 address held as the native-endian load of its four
/// network-order bytes.
pub(crate) extern "C" fn rt_inet_ntoa(ctx: *mut FiringCtx, v: i64) -> i64 {
    let rt = rt(ctx);
    let bytes = (v as u32).to_ne_bytes();
    derived(rt, |out, _| inet::format_ipv4(bytes, out))
}

pub(crate) extern "C" fn rt_rand(ctx: *mut FiringCtx) -> i64 {
    next_rand(&mut rt(ctx).rand)
}

pub(crate) extern "C" fn rt_agg_update(
    ctx: *mut FiringCtx,
    agg: i64,
    keys: *const i64,
    value: i64,
    incr: i64,
) {
    let rt = rt(ctx);
    let agg = agg as usize;
    let aggs = &mut rt.aggs;
    with_key(&rt.agg_key_is_str[agg], rt.strsize, keys, |k| {
        aggs.update(agg, k, value, incr)
    });
}

/// Returns nonzero when the printf engine refused a printa format.
pub(crate) extern "C" fn rt_printa(ctx: *mut FiringCtx, site: i64) -> i64 {
    let rt = rt(ctx);
    let Some((format, agg)) = rt.printa_sites.get(site as usize) else {
        return 1;
    };
    // SAFETY: `out` points at the clause buffer for the duration of the clause.
    let out = unsafe { &mut *rt.out };
    rt.aggs.printa(agg, format.as_ref(), out).is_err() as i64
}

/// clear (op 0), trunc (op 1) and normalize (op 2) of an aggregation.
pub(crate) extern "C" fn rt_agg_op(ctx: *mut FiringCtx, agg: i64, op: i64, n: i64, has_n: i64) {
    let rt = rt(ctx);
    let n = (has_n != 0).then_some(n);
    match op {
        0 => rt.aggs.clear(agg as usize),
        1 => rt.aggs.trunc(agg as usize, n),
        _ => rt.aggs.normalize(agg as usize, n),
    }
}
