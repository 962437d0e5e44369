//! The typed ABI between generated code and the Rust helpers: every helper
//! is declared once in [`helper_table!`] with its symbol, its Rust body and
//! its argument types. From that one declaration come the `extern "C"` shim
//! (registered with `JITBuilder::symbol`), the Cranelift signature (the
//! import declared with `Linkage::Import`) and the check that codegen calls
//! it with that many i64 values.
//!
//! This is the one unsafe boundary of the JIT: a shim turns the context
//! pointer into `&mut Runtime` once; the argument types below (`DStr`,
//! `Slots`, `RecordPtr`) carry the guarantee generated code gives for the
//! pointers it passes, so the helper bodies in `helpers.rs` are safe Rust.

use std::ffi::CStr;

use cranelift_codegen::ir::{types, AbiParam, Signature, Type};
use cranelift_codegen::isa::CallConv;

use super::ctx::{FiringCtx, Runtime};
use super::helpers as body;

/// A D string argument: 0 (NULL) or the address of a NUL-terminated string
/// generated code passes (an interned constant, a variable's buffer or a
/// scratch string), all alive for the clause being run. Only generated code
/// creates values of this type (it is an ABI parameter type only).
#[repr(transparent)]
#[derive(Clone, Copy)]
pub(crate) struct DStr(i64);

impl DStr {
    /// A string value generated code stored in an argument slot or passed
    /// as an untyped value (a `self->`/assoc store of a string variable):
    /// it carries the same guarantee as a `DStr` argument. Helpers call it
    /// only where the site's metadata says the value is a string.
    pub fn from_slot(v: i64) -> DStr {
        DStr(v)
    }

    pub fn is_null(self) -> bool {
        self.0 == 0
    }

    /// The bytes before the NUL; NULL reads as "".
    pub fn bytes<'a>(self) -> &'a [u8] {
        if self.0 == 0 {
            return &[];
        }
        // SAFETY: a DStr only comes from generated code, which passes
        // NUL-terminated strings that outlive the helper call (type doc).
        unsafe { CStr::from_ptr(self.0 as *const std::ffi::c_char) }.to_bytes()
    }
}

/// An array of i64 slots generated code spilled to its stack (printf
/// arguments, associative array keys): as many as the site's metadata
/// (`PrintfSite::args`, the key kinds) says.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub(crate) struct Slots(*const i64);

impl Slots {
    /// The first `n` slots; `n` must be the count the site was generated
    /// with (the caller reads it from the same metadata codegen used).
    pub fn get<'a>(self, n: usize) -> &'a [i64] {
        if n == 0 || self.0.is_null() {
            return &[];
        }
        // SAFETY: generated code spilled exactly the site's slot count to
        // an aligned stack array alive for the call; `n` is that count.
        unsafe { std::slice::from_raw_parts(self.0, n) }
    }
}

/// The event record being fired on. The driver pads it to the length the
/// capture plan gives (`DriverInfo::min_record_len`), which covers every
/// record field a clause reads, by load or helper argument.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub(crate) struct RecordPtr(*const u8);

impl RecordPtr {
    /// The whole record: `len` is the length `run_clause` was given (it
    /// keeps it in `Runtime::record_len` for the clause's duration).
    pub fn whole<'a>(self, len: usize) -> &'a [u8] {
        // SAFETY: run_clause passes the record slice's pointer and length
        // together; the slice outlives the clause.
        unsafe { std::slice::from_raw_parts(self.0, len) }
    }
    /// `len` bytes at `offset`; within the plan's record length.
    pub fn bytes<'a>(self, offset: usize, len: usize) -> &'a [u8] {
        // SAFETY: the driver pads the record past every field a clause
        // passes to a helper and the driver makes the record that long.
        unsafe { std::slice::from_raw_parts(self.0.add(offset), len) }
    }
}

/// The buffer of a string variable (strsize + 1 bytes), as loaded by
/// generated code from the variable's slot.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub(crate) struct VarBuf(*mut u8);

impl VarBuf {
    /// Copies `s` (at most `strsize` bytes) and a NUL into the buffer.
    /// `s` may point into the buffer itself (`x = x`).
    pub fn store(self, s: &[u8], strsize: usize) -> i64 {
        let n = s.len().min(strsize);
        // SAFETY: the buffer has strsize + 1 bytes (VarArea allocates it so)
        // and `n <= strsize`; `ptr::copy` allows `s` to overlap it.
        unsafe {
            std::ptr::copy(s.as_ptr(), self.0, n);
            *self.0.add(n) = 0;
        }
        self.0 as i64
    }
}

/// How a helper argument is passed: every one is a 64-bit integer or
/// pointer (generated code keeps every value in an i64).
pub(crate) trait AbiType {
    const TYPE: Type;
}

macro_rules! abi_i64 {
    ($($t:ty),*) => { $(impl AbiType for $t { const TYPE: Type = types::I64; })* };
}
abi_i64!(i64, DStr, Slots, RecordPtr, VarBuf);

/// One helper as the JIT sees it.
pub(crate) struct HelperDecl {
    pub symbol: &'static str,
    pub addr: *const u8,
    /// Parameters after the firing context.
    pub params: &'static [Type],
    pub returns: &'static [Type],
}

impl HelperDecl {
    /// The Cranelift signature: the context pointer, then `params`.
    pub fn signature(&self, call_conv: CallConv) -> Signature {
        let mut sig = Signature::new(call_conv);
        sig.params.push(AbiParam::new(types::I64));
        sig.params
            .extend(self.params.iter().map(|t| AbiParam::new(*t)));
        sig.returns
            .extend(self.returns.iter().map(|t| AbiParam::new(*t)));
        sig
    }

    /// Why a call with these argument types (context included) and this
    /// expectation of a result does not match the declaration, if it does not.
    pub fn check_call(&self, args: &[Type], wants_result: bool) -> Result<(), String> {
        let declared: Vec<Type> = std::iter::once(types::I64)
            .chain(self.params.iter().copied())
            .collect();
        if args != declared.as_slice() {
            return Err(format!(
                "helper {} called with arguments {args:?}, declared {declared:?}",
                self.symbol
            ));
        }
        if wants_result == self.returns.is_empty() {
            return Err(format!(
                "helper {} declared with {} results, called for {}",
                self.symbol,
                self.returns.len(),
                if wants_result { "a value" } else { "no value" }
            ));
        }
        Ok(())
    }
}

/// The runtime state behind the context pointer generated code passes.
///
/// # Safety
/// `ctx` is the `FiringCtx` that `JitRunner::run_clause` passed to the
/// clause function now calling the helper: valid, and not otherwise
/// borrowed while the helper runs (run_clause holds the only `&mut`).
unsafe fn runtime<'a>(ctx: *mut FiringCtx) -> &'a mut Runtime {
    // SAFETY: the caller guarantees `ctx` is valid and unaliased.
    unsafe { &mut (*ctx).rt }
}

/// Declares the helpers: `Variant => symbol = body(arg: Type, …) -> Ret;`.
/// Every helper receives the firing context first (not listed).
macro_rules! helper_table {
    ($( $(#[$doc:meta])* $variant:ident => $sym:ident = $body:ident ( $($arg:ident : $ty:ty),* ) $(-> $ret:ty)? ; )*) => {
        /// A helper generated code may call.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub(crate) enum Helper { $( $(#[$doc])* $variant ),* }

        $(
            extern "C" fn $sym(ctx: *mut FiringCtx, $($arg: $ty),*) $(-> $ret)? {
                // SAFETY: only generated code calls the shim, with the
                // context run_clause gave the clause (see `runtime`).
                let rt = unsafe { runtime(ctx) };
                // A panic cannot unwind through JIT frames: it becomes a D
                // runtime error of the clause (helpers are meant never to
                // panic; this is the second line of defence).
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    body::$body(&mut *rt, $($arg),*)
                })) {
                    Ok(v) => v,
                    Err(_) => {
                        body::trap(rt, crate::usermem::Trap {
                            kind: crate::firing::FaultKind::BadPrintf,
                            addr: 0,
                        });
                        Default::default()
                    }
                }
            }
        )*

        impl Helper {
            pub(crate) const ALL: &'static [Helper] = &[$(Helper::$variant),*];

            pub(crate) fn decl(self) -> HelperDecl {
                match self {
                    $(Helper::$variant => HelperDecl {
                        symbol: stringify!($sym),
                        addr: $sym as *const u8,
                        params: &[$(<$ty as AbiType>::TYPE),*],
                        returns: &[$(<$ret as AbiType>::TYPE)?],
                    },)*
                }
            }
        }
    };
}

helper_table! {
    /// printf(): nonzero when the arguments do not fit the format.
    Printf => rt_printf = printf(site: i64, args: Slots) -> i64;
    System => rt_system = system(site: i64, args: Slots) -> i64;
    Raise => rt_raise = raise(sig: i64, stop: i64);
    TraceInt => rt_trace_int = trace_int(v: i64, size: i64);
    TraceStr => rt_trace_str = trace_str(s: DStr);
    /// trace() of a stack or symbol (its id, its Symbolic code).
    TraceSymbolic => rt_trace_symbolic = trace_symbolic(id: i64, kind: i64);
    /// stack(), ustack(): the id of the record's captured stack.
    Stack => rt_stack = stack(record: RecordPtr, area: i64, user: i64, frames: i64) -> i64;
    /// func(), usym() …: the id of the address's symbol.
    Symbol => rt_symbol = symbol(record: RecordPtr, kind: i64, addr: i64) -> i64;
    Exit => rt_exit = exit(status: i64);
    Inet => rt_inet = inet(record: RecordPtr, addr: i64, version: i64) -> i64;
    Chars => rt_chars = chars(record: RecordPtr, offset: i64, len: i64) -> i64;
    DataLoc => rt_data_loc = data_loc(record: RecordPtr, loc: i64, base: i64, max: i64) -> i64;
    Strcmp => rt_strcmp = strcmp(a: DStr, b: DStr) -> i64;
    StrcpyVar => rt_strcpy_var = strcpy_var(dst: VarBuf, src: DStr) -> i64;
    SelfLoad => rt_self_load = self_load(var: i64) -> i64;
    SelfStore => rt_self_store = self_store(var: i64, v: i64) -> i64;
    AssocLoad => rt_assoc_load = assoc_load(assoc: i64, keys: Slots) -> i64;
    AssocStore => rt_assoc_store = assoc_store(assoc: i64, keys: Slots, v: i64) -> i64;
    Strlen => rt_strlen = strlen(s: DStr) -> i64;
    Strjoin => rt_strjoin = strjoin(a: DStr, b: DStr) -> i64;
    Substr => rt_substr = substr(s: DStr, index: i64, len: i64, has_len: i64) -> i64;
    Index => rt_index = index(s: DStr, sub: DStr, start: i64, has_start: i64, reverse: i64) -> i64;
    /// strchr (reverse 0) and strrchr (reverse 1).
    Strchr => rt_strchr = strchr(s: DStr, c: i64, reverse: i64) -> i64;
    Strstr => rt_strstr = strstr(s: DStr, needle: DStr) -> i64;
    Strtok => rt_strtok = strtok(s: DStr, delims: DStr) -> i64;
    Lltostr => rt_lltostr = lltostr(v: i64, base: i64, has_base: i64) -> i64;
    Case => rt_case = change_case(s: DStr, upper: i64) -> i64;
    InetNtoa => rt_inet_ntoa = inet_ntoa(v: i64) -> i64;
    Rand => rt_rand = rand() -> i64;
    AggUpdate => rt_agg_update = agg_update(agg: i64, keys: Slots, value: i64, incr: i64);
    Printa => rt_printa = printa(site: i64) -> i64;
    AggOp => rt_agg_op = agg_op(agg: i64, op: i64, n: i64, has_n: i64);
    /// copyin/copyinstr: the captured bytes as a scratch string, or 0 with
    /// the fault left in `Runtime::trap`. `area` is count_at << 32 |
    /// data_at; `mode` is 1 for copyinstr, 2 for copyin, +4 with a length.
    CopyIn => rt_copyin = copyin(record: RecordPtr, site: i64, area: i64, mode: i64, addr: i64, len: i64) -> i64;
    /// Copied-in buffers (handles from copyin/buf_slice; see `Runtime::bufs`):
    /// an integer member (`size`, 8 more when signed); a member's bytes as
    /// a new buffer; stringof; inet_ntoa/inet_ntoa6 of address bytes.
    BufLoad => rt_buf_load = buf_load(buf: i64, offset: i64, int: i64) -> i64;
    BufSlice => rt_buf_slice = buf_slice(buf: i64, offset: i64, len: i64) -> i64;
    BufString => rt_buf_string = buf_string(buf: i64) -> i64;
    /// alloca(n): a buffer of n zero bytes.
    BufAlloc => rt_buf_alloc = buf_alloc(len: i64) -> i64;
    BufInet => rt_buf_inet = buf_inet(buf: i64, v6: i64) -> i64;
    /// tracemem(buf, size[, dsize]): 0, or nonzero (the fault in `trap`).
    Tracemem => rt_tracemem = tracemem(buf: i64, size: i64, dsize: i64, has_dsize: i64) -> i64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_unique_and_signatures_are_i64() {
        let mut seen = std::collections::HashSet::new();
        for h in Helper::ALL {
            let d = h.decl();
            assert!(seen.insert(d.symbol), "duplicate symbol {}", d.symbol);
            let sig = d.signature(CallConv::SystemV);
            assert_eq!(sig.params.len(), 1 + d.params.len());
            assert!(sig.params.iter().all(|p| p.value_type == types::I64));
            assert!(sig.returns.len() <= 1);
        }
    }

    #[test]
    fn check_call_rejects_wrong_arity_and_result() {
        let d = Helper::Strlen.decl();
        assert!(d.check_call(&[types::I64, types::I64], true).is_ok());
        assert!(d.check_call(&[types::I64], true).is_err());
        assert!(d.check_call(&[types::I64, types::I32], true).is_err());
        assert!(d.check_call(&[types::I64, types::I64], false).is_err());
        let d = Helper::Exit.decl();
        assert!(d.check_call(&[types::I64, types::I64], true).is_err());
    }
}
