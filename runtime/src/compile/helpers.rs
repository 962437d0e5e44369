//! The bodies of the helpers generated code calls, as safe Rust on the
//! runtime state. Their ABI (symbols, `extern "C"` shims, signatures) is
//! declared once in `abi.rs`. Helpers never panic (a panic cannot unwind
//! through JIT frames).

use super::abi::{DStr, RecordPtr, Slots, VarBuf};
use super::ctx::{ArgKind, Plain, Runtime};
use super::scratch::Scratch;
use crate::deferred::Deferred;
use crate::inet;
use crate::printf::{format_printf_with, PrintfArg};
use crate::state::{next_rand, DynValue, KeyRef, ValueRef};
use crate::strfuncs;

/// The empty D string.
pub(crate) static EMPTY: [u8; 1] = [0];

/// Most key parts an associative array may have.
pub(crate) const MAX_KEYS: usize = 8;

/// The clause output buffer.
fn out(rt: &mut Runtime) -> &mut Vec<u8> {
    // SAFETY: `run_clause` points `out` at the clause buffer, which it
    // does not touch, for exactly the duration of the clause; helpers only
    // run inside a clause.
    unsafe { &mut *rt.out }
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
fn render_site(rt: &Runtime, site: i64, args: Slots, out: &mut Vec<u8>) -> bool {
    let Some(site) = rt.sites.get(site as usize) else {
        return false;
    };
    let raw = args.get(site.args.len());
    match &site.plain {
        Plain::Lit(text) => {
            out.extend_from_slice(text);
            return true;
        }
        // What the engine does for a flagless %s: the bytes before a NUL.
        Plain::Str => {
            out.extend_from_slice(as_dstr(raw[0]).bytes());
            return true;
        }
        Plain::No => {}
    }
    // Symbols' texts, made before formatting borrows them. Most sites have
    // none, and allocating this per call was ~9% of a replay of tcpio.d
    // (eleven printf calls per segment).
    let texts: Vec<Vec<u8>> = if site.args.contains(&ArgKind::Symbol) {
        site.args
            .iter()
            .enumerate()
            .map(|(i, k)| match k {
                ArgKind::Symbol => rt.aggs.symbols.symbol_text(raw[i]).into_bytes(),
                _ => Vec::new(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut i = 0;
    let next = || {
        let arg = match *site.args.get(i)? {
            ArgKind::Int(t) => PrintfArg::Int(raw[i], t),
            // The slot of a string argument holds the string's address.
            ArgKind::Str => PrintfArg::Str(as_dstr(raw[i]).bytes()),
            ArgKind::Symbol => PrintfArg::Str(&texts[i]),
        };
        i += 1;
        Some(arg)
    };
    format_printf_with(out, &site.format, next).is_ok()
}

/// A string held in a slot generated code filled (printf argument, key).
fn as_dstr(slot: i64) -> DStr {
    // The slot was filled by generated code with a D string value, so it
    // carries the same guarantee as a DStr argument.
    DStr::from_slot(slot)
}

pub(crate) fn printf(rt: &mut Runtime, site: i64, args: Slots) -> i64 {
    if rt.oformat.structured() {
        return printf_structured(rt, site, args);
    }
    let mut buf = std::mem::take(out(rt));
    let failed = !render_site(rt, site, args, &mut buf);
    *out(rt) = buf;
    failed as i64
}

/// printf under `-x oformat`: `{"message": …}`, then a `{"value": …}` per
/// argument (FreeBSD dtrace's items).
fn printf_structured(rt: &mut Runtime, site: i64, args: Slots) -> i64 {
    use crate::oformat::{item, Field};
    let mut text = Vec::new();
    if !render_site(rt, site, args, &mut text) {
        return 1;
    }
    let f = rt.oformat;
    let Some(kinds) = rt.sites.get(site as usize).map(|s| s.args.clone()) else {
        return 1;
    };
    let raw = args.get(kinds.len()).to_vec();
    let symbols: Vec<Vec<u8>> = kinds
        .iter()
        .zip(&raw)
        .map(|(k, &v)| match k {
            ArgKind::Symbol => rt.aggs.symbols.symbol_text(v).into_bytes(),
            _ => Vec::new(),
        })
        .collect();
    let o = out(rt);
    item(f, o, "message", Field::Str(&text));
    for (i, k) in kinds.iter().enumerate() {
        let v = match k {
            ArgKind::Int(_) => Field::Int(raw[i]),
            ArgKind::Str => Field::Str(as_dstr(raw[i]).bytes()),
            ArgKind::Symbol => Field::Str(&symbols[i]),
        };
        item(f, o, "value", v);
    }
    0
}

/// system(fmt, …): formats the command now, runs it when the clause completes.
pub(crate) fn system(rt: &mut Runtime, site: i64, args: Slots) -> i64 {
    let mut cmd = Vec::new();
    if !render_site(rt, site, args, &mut cmd) {
        return 1;
    }
    let at = out(rt).len();
    rt.deferred.push(Deferred::System { at, cmd });
    0
}

/// raise(sig) (stop() is raise of SIGSTOP, marked by `stop != 0`).
pub(crate) fn raise(rt: &mut Runtime, sig: i64, stop: i64) {
    rt.deferred.push(if stop != 0 {
        Deferred::Stop
    } else {
        Deferred::Raise(sig as i32)
    });
}

pub(crate) fn trace_int(rt: &mut Runtime, v: i64, size: i64) {
    if rt.oformat.structured() {
        let f = rt.oformat;
        crate::oformat::item(f, out(rt), "value", crate::oformat::Field::Int(v));
        return;
    }
    let quiet = rt.quiet;
    crate::trace::trace_int(out(rt), v, size as u8, quiet);
}

pub(crate) fn trace_str(rt: &mut Runtime, s: DStr) {
    if rt.oformat.structured() {
        let f = rt.oformat;
        crate::oformat::item(f, out(rt), "value", crate::oformat::Field::Str(s.bytes()));
        return;
    }
    let quiet = rt.quiet;
    crate::trace::trace_str(out(rt), s.bytes(), quiet);
}

pub(crate) fn trace_symbolic(rt: &mut Runtime, id: i64, kind: i64) {
    let mut text = Vec::new();
    rt.aggs
        .symbols
        .print(id, crate::symbols::from_code(kind), &mut text);
    emit_text(rt, &text);
}

/// Text an action prints as it is (stacks, symbols, tracemem): under
/// `-x oformat` one `message` item holding it.
fn emit_text(rt: &mut Runtime, text: &[u8]) {
    let f = rt.oformat;
    if f.structured() {
        crate::oformat::item(f, out(rt), "message", crate::oformat::Field::Str(text));
    } else {
        out(rt).extend_from_slice(text);
    }
}

pub(crate) fn stack(rt: &mut Runtime, record: RecordPtr, area: i64, user: i64, frames: i64) -> i64 {
    let area = rdtrace_lang::catalog::CaptureArea {
        count_at: (area >> 32) as u32,
        data_at: area as u32,
        user: false,
    };
    let record = record.whole(rt.record_len);
    let bytes = crate::symbols::captured_stack(record, area, user != 0);
    let pid = crate::symbols::record_pid(record);
    rt.aggs.symbols.stack(bytes, user != 0, pid, frames as u32)
}

pub(crate) fn symbol(rt: &mut Runtime, record: RecordPtr, kind: i64, addr: i64) -> i64 {
    let pid = crate::symbols::record_pid(record.whole(rt.record_len));
    rt.aggs
        .symbols
        .symbol(crate::symbols::from_code(kind), pid, addr as u64)
}

pub(crate) fn exit(rt: &mut Runtime, status: i64) {
    rt.exit = Some(status as i32);
}

/// An address field of the record as a string.
pub(crate) fn inet(rt: &mut Runtime, record: RecordPtr, addr: i64, version: i64) -> i64 {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(record.bytes(addr as usize, 16));
    let ver = record.bytes(version as usize, 1)[0];
    derived(rt, |out, _| inet::format_addr(&bytes, ver, out))
}

/// A NUL-padded char array of the record as a string.
pub(crate) fn chars(rt: &mut Runtime, record: RecordPtr, offset: i64, len: i64) -> i64 {
    let bytes = record.bytes(offset as usize, len as usize);
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    derived(rt, |out, _| out.extend_from_slice(&bytes[..end]))
}

/// A tracepoint's `__data_loc` string (`FieldSource::DataLoc`); the plan
/// pads the record over `base .. base + max`.
pub(crate) fn data_loc(rt: &mut Runtime, record: RecordPtr, loc: i64, base: i64, max: i64) -> i64 {
    let all = record.bytes(0, (base + max) as usize);
    let bytes = crate::interp::data_loc(all, loc as u32, base as u32, max as u32);
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    derived(rt, |out, _| out.extend_from_slice(&bytes[..end]))
}

pub(crate) fn strcmp(_rt: &mut Runtime, a: DStr, b: DStr) -> i64 {
    match a.bytes().cmp(b.bytes()) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}

/// Copies `src` into a string variable's buffer `dst` (strsize + 1 bytes).
pub(crate) fn strcpy_var(rt: &mut Runtime, dst: VarBuf, src: DStr) -> i64 {
    dst.store(src.bytes(), rt.strsize)
}

/// The value read from a dynamic variable: strings are copied to scratch
/// (the variable may change before the value is used); unset reads 0 / "".
fn load_dyn(scratch: &mut Scratch, v: Option<&DynValue>, is_str: bool) -> i64 {
    match v {
        Some(DynValue::Int(i)) => *i,
        Some(DynValue::Str(s)) => scratch.push_str(s) as i64,
        None if is_str => EMPTY.as_ptr() as i64,
        None => 0,
    }
}

pub(crate) fn self_load(rt: &mut Runtime, var: i64) -> i64 {
    let var = var as usize;
    load_dyn(
        &mut rt.scratch,
        rt.dynvars.self_get(rt.tid, var),
        rt.self_is_str[var],
    )
}

/// Stores into a `self->` variable; returns the stored value.
pub(crate) fn self_store(rt: &mut Runtime, var: i64, v: i64) -> i64 {
    let var = var as usize;
    if rt.self_is_str[var] {
        let s = as_dstr(v).bytes();
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
    keys: Slots,
    f: impl FnOnce(&[KeyRef<'_>]) -> R,
) -> R {
    let n = kinds.len().min(MAX_KEYS);
    let raw = keys.get(n);
    let key: [KeyRef; MAX_KEYS] = std::array::from_fn(|i| {
        if i >= n {
            KeyRef::Int(0)
        } else if kinds[i] {
            let s = as_dstr(raw[i]).bytes();
            KeyRef::Str(&s[..s.len().min(strsize)])
        } else {
            KeyRef::Int(raw[i])
        }
    });
    f(&key[..n])
}

pub(crate) fn assoc_load(rt: &mut Runtime, assoc: i64, keys: Slots) -> i64 {
    let assoc = assoc as usize;
    let is_str = rt.assoc_is_str[assoc];
    let (dynvars, scratch) = (&rt.dynvars, &mut rt.scratch);
    with_key(&rt.assoc_key_is_str[assoc], rt.strsize, keys, |k| {
        load_dyn(scratch, dynvars.assoc_get(assoc, k), is_str)
    })
}

pub(crate) fn assoc_store(rt: &mut Runtime, assoc: i64, keys: Slots, v: i64) -> i64 {
    let assoc = assoc as usize;
    let strsize = rt.strsize;
    let vref = if rt.assoc_is_str[assoc] {
        let s = as_dstr(v).bytes();
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

pub(crate) fn strlen(rt: &mut Runtime, s: DStr) -> i64 {
    s.bytes().len().min(rt.strsize) as i64
}

pub(crate) fn strjoin(rt: &mut Runtime, a: DStr, b: DStr) -> i64 {
    let (a, b) = (a.bytes(), b.bytes());
    derived(rt, |out, strsize| strfuncs::strjoin(a, b, strsize, out))
}

pub(crate) fn substr(rt: &mut Runtime, s: DStr, index: i64, len: i64, has_len: i64) -> i64 {
    let s = s.bytes();
    let len = (has_len != 0).then_some(len);
    derived(rt, |out, strsize| {
        strfuncs::substr(s, index, len, strsize, out)
    })
}

pub(crate) fn index(
    _rt: &mut Runtime,
    s: DStr,
    sub: DStr,
    start: i64,
    has_start: i64,
    reverse: i64,
) -> i64 {
    let (s, sub) = (s.bytes(), sub.bytes());
    let start = (has_start != 0).then_some(start);
    if reverse != 0 {
        strfuncs::rindex(s, sub, start)
    } else {
        strfuncs::index(s, sub, start)
    }
}

/// The tail of `text` from `at`, or "" when there is no match.
fn tail_from(rt: &mut Runtime, text: &[u8], at: Option<usize>) -> i64 {
    match at {
        Some(off) => derived(rt, |out, _| out.extend_from_slice(&text[off..])),
        None => EMPTY.as_ptr() as i64,
    }
}

/// strchr (reverse 0) / strrchr (reverse 1).
pub(crate) fn strchr(rt: &mut Runtime, s: DStr, c: i64, reverse: i64) -> i64 {
    let text = s.bytes();
    let at = if reverse != 0 {
        strfuncs::strrchr(text, c as u8)
    } else {
        strfuncs::strchr(text, c as u8)
    };
    tail_from(rt, text, at)
}

pub(crate) fn strstr(rt: &mut Runtime, s: DStr, needle: DStr) -> i64 {
    let text = s.bytes();
    let at = strfuncs::strstr(text, needle.bytes());
    tail_from(rt, text, at)
}

/// strtok(s, delims); a NULL `s` continues the previous string.
pub(crate) fn strtok(rt: &mut Runtime, s: DStr, delims: DStr) -> i64 {
    if !s.is_null() {
        let text = s.bytes();
        rt.strtok.0.clear();
        rt.strtok
            .0
            .extend_from_slice(&text[..text.len().min(rt.strsize)]);
        rt.strtok.1 = 0;
    }
    let delims = delims.bytes();
    let (text, pos) = (&rt.strtok.0, &mut rt.strtok.1);
    match strfuncs::strtok_next(text, pos, delims, rt.strsize) {
        Some(tok) => rt.scratch.push_str(tok) as i64,
        None => EMPTY.as_ptr() as i64,
    }
}

pub(crate) fn lltostr(rt: &mut Runtime, v: i64, base: i64, has_base: i64) -> i64 {
    let base = (has_base != 0).then_some(base);
    derived(rt, |out, _| strfuncs::lltostr(v, base, out))
}

pub(crate) fn change_case(rt: &mut Runtime, s: DStr, upper: i64) -> i64 {
    let s = s.bytes();
    derived(rt, |out, _| strfuncs::change_case(s, upper != 0, out))
}

/// inet_ntoa of an IPv4 address held as the native-endian load of its four
/// network-order bytes.
pub(crate) fn inet_ntoa(rt: &mut Runtime, v: i64) -> i64 {
    let bytes = (v as u32).to_ne_bytes();
    derived(rt, |out, _| inet::format_ipv4(bytes, out))
}

pub(crate) fn rand(rt: &mut Runtime) -> i64 {
    next_rand(&mut rt.rand)
}

pub(crate) fn agg_update(rt: &mut Runtime, agg: i64, keys: Slots, value: i64, incr: i64) {
    let agg = agg as usize;
    let aggs = &mut rt.aggs;
    with_key(&rt.agg_key_is_str[agg], rt.strsize, keys, |k| {
        aggs.update(agg, k, value, incr)
    });
}

/// Returns nonzero when the printf engine refused a printa format.
pub(crate) fn printa(rt: &mut Runtime, site: i64) -> i64 {
    let mut buf = std::mem::take(out(rt));
    let f = rt.oformat;
    let failed = match rt.printa_sites.get(site as usize) {
        Some((_, agg)) if f.structured() => {
            rt.aggs.printa_structured(agg, f, &mut buf);
            false
        }
        Some((format, agg)) => rt.aggs.printa(agg, format.as_ref(), &mut buf).is_err(),
        None => true,
    };
    *out(rt) = buf;
    failed as i64
}

/// clear (op 0), trunc (op 1) and normalize (op 2) of an aggregation.
pub(crate) fn agg_op(rt: &mut Runtime, agg: i64, op: i64, n: i64, has_n: i64) {
    let n = (has_n != 0).then_some(n);
    match op {
        0 => rt.aggs.clear(agg as usize),
        1 => rt.aggs.trunc(agg as usize, n),
        _ => rt.aggs.normalize(agg as usize, n),
    }
}

/// copyin/copyinstr (see `usermem`): the bytes as a scratch string, or 0
/// after recording the fault in `rt.trap`.
pub(crate) fn copyin(
    rt: &mut Runtime,
    record: RecordPtr,
    site: i64,
    area: i64,
    mode: i64,
    addr: i64,
    len: i64,
) -> i64 {
    let area = rdtrace_lang::catalog::CaptureArea {
        count_at: (area >> 32) as u32,
        data_at: area as u32,
        user: false,
    };
    let kind = if mode & 3 == 1 {
        rdtrace_lang::typed::CopyKind::Str
    } else {
        rdtrace_lang::typed::CopyKind::Bytes
    };
    let len = (mode & 4 != 0).then_some(len);
    let record = record.whole(rt.record_len);
    match crate::usermem::copied(
        record,
        area,
        site as u16,
        kind,
        addr as u64,
        len,
        rt.strsize,
    ) {
        Ok(bytes) if kind == rdtrace_lang::typed::CopyKind::Bytes => {
            let bytes = bytes.to_vec();
            new_buf(rt, bytes)
        }
        Ok(bytes) => {
            let n = bytes.len().min(rt.strsize);
            rt.scratch.push_str(&bytes[..n]) as i64
        }
        Err(t) => trap(rt, t),
    }
}

/// Keeps a copied-in buffer for the firing; its handle (index + 1).
fn new_buf(rt: &mut Runtime, bytes: Vec<u8>) -> i64 {
    rt.bufs.push(bytes);
    rt.bufs.len() as i64
}

/// The bytes of buffer handle `h` (none for 0 or a stale handle).
fn buf_bytes(rt: &Runtime, h: i64) -> &[u8] {
    usize::try_from(h - 1)
        .ok()
        .and_then(|i| rt.bufs.get(i))
        .map_or(&[], |b| b.as_slice())
}

/// Records a fault for the clause (generated code checks `trapped` after
/// every helper call); the helper's result is then unused.
pub(crate) fn trap(rt: &mut Runtime, t: crate::usermem::Trap) -> i64 {
    rt.trap = Some(t);
    rt.trapped = 1;
    0
}

/// `int` is the member's size, plus 8 when signed.
pub(crate) fn buf_load(rt: &mut Runtime, buf: i64, offset: i64, int: i64) -> i64 {
    let it = rdtrace_lang::types::IntType {
        size: (int & 7) as u8 + if int & 7 == 0 { 8 } else { 0 },
        signed: int & 8 != 0,
    };
    match crate::usermem::buf::load(buf_bytes(rt, buf), offset as u32, it) {
        Ok(v) => v,
        Err(t) => trap(rt, t),
    }
}

pub(crate) fn buf_slice(rt: &mut Runtime, buf: i64, offset: i64, len: i64) -> i64 {
    match crate::usermem::buf::slice(buf_bytes(rt, buf), offset as u32, len as u32) {
        Ok(b) => {
            let b = b.to_vec();
            new_buf(rt, b)
        }
        Err(t) => trap(rt, t),
    }
}

pub(crate) fn buf_alloc(rt: &mut Runtime, len: i64) -> i64 {
    new_buf(rt, vec![0; len.clamp(0, 1 << 20) as usize])
}

pub(crate) fn buf_string(rt: &mut Runtime, buf: i64) -> i64 {
    let s = crate::usermem::buf::string(buf_bytes(rt, buf), rt.strsize).to_vec();
    rt.scratch.push_str(&s) as i64
}

pub(crate) fn buf_inet(rt: &mut Runtime, buf: i64, v6: i64) -> i64 {
    let mut out = Vec::new();
    match crate::usermem::buf::inet(buf_bytes(rt, buf), v6 != 0, &mut out) {
        Ok(()) => rt.scratch.push_str(&out) as i64,
        Err(t) => trap(rt, t),
    }
}

pub(crate) fn tracemem(rt: &mut Runtime, buf: i64, size: i64, dsize: i64, has_dsize: i64) -> i64 {
    let n = crate::usermem::buf::tracemem_len(size, (has_dsize != 0).then_some(dsize));
    // The bytes printed must have been copied (the rest of `size` need not).
    match crate::usermem::buf::slice(buf_bytes(rt, buf), 0, n as u32) {
        Ok(bytes) => {
            let bytes = bytes.to_vec();
            let mut text = Vec::new();
            crate::trace::tracemem(&mut text, &bytes);
            emit_text(rt, &text);
            0
        }
        Err(t) => trap(rt, t),
    }
}
