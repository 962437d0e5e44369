//! Variable storage shared by the JIT's helpers and the interpreter:
//! fixed slots for globals and `this->` variables, and bounded maps for
//! dynamic variables (`self->` and associative arrays).

use std::hash::{Hash, Hasher};

use hashbrown::{Equivalent, HashMap};
use rdtrace_lang::typed::VarDecl;

/// Slots for scalar variables: an integer, or for a string variable the
/// address of the variable's own NUL-terminated buffer (`strsize + 1`
/// bytes, allocated once, so the address never changes).
pub(crate) struct VarArea {
    pub slots: Box<[i64]>,
    bufs: Vec<Option<Box<[u8]>>>,
}

impl VarArea {
    pub fn new(decls: &[VarDecl], strsize: usize) -> VarArea {
        let mut bufs: Vec<Option<Box<[u8]>>> = decls
            .iter()
            .map(|d| {
                d.ty.is_string()
                    .then(|| vec![0u8; strsize + 1].into_boxed_slice())
            })
            .collect();
        let slots = bufs
            .iter_mut()
            .map(|b| b.as_mut().map_or(0, |b| b.as_mut_ptr() as i64))
            .collect();
        VarArea { slots, bufs }
    }

    /// Every variable back to 0 / "".
    pub fn reset(&mut self) {
        for (slot, buf) in self.slots.iter_mut().zip(&mut self.bufs) {
            match buf {
                Some(b) => b[0] = 0,
                None => *slot = 0,
            }
        }
    }
}

/// One part of an associative array key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyPart {
    Int(i64),
    Str(Box<[u8]>),
}

/// A borrowed key part, for lookups that do not allocate.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeyRef<'a> {
    Int(i64),
    Str(&'a [u8]),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DynValue {
    Int(i64),
    Str(Box<[u8]>),
}

impl DynValue {
    fn cost(&self, strsize: usize) -> usize {
        match self {
            DynValue::Int(_) => 8,
            DynValue::Str(_) => strsize,
        }
    }
}

/// A value being stored into a dynamic variable.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ValueRef<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl ValueRef<'_> {
    fn to_owned(self) -> DynValue {
        match self {
            ValueRef::Int(v) => DynValue::Int(v),
            ValueRef::Str(s) => DynValue::Str(s.into()),
        }
    }
    /// DTrace frees a dynamic variable when 0 is assigned to it.
    fn deletes(self) -> bool {
        matches!(self, ValueRef::Int(0))
    }
}

fn hash_part<H: Hasher>(p: KeyRef<'_>, h: &mut H) {
    match p {
        KeyRef::Int(v) => {
            h.write_u8(0);
            h.write_i64(v);
        }
        KeyRef::Str(s) => {
            h.write_u8(1);
            h.write_usize(s.len());
            h.write(s);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AssocKey {
    assoc: usize,
    parts: Box<[KeyPart]>,
}

impl Hash for AssocKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_usize(self.assoc);
        for p in self.parts.iter() {
            hash_part(p.as_ref(), h);
        }
    }
}

impl KeyPart {
    pub fn as_ref(&self) -> KeyRef<'_> {
        match self {
            KeyPart::Int(v) => KeyRef::Int(*v),
            KeyPart::Str(s) => KeyRef::Str(s),
        }
    }
    fn cost(&self, strsize: usize) -> usize {
        match self {
            KeyPart::Int(_) => 8,
            KeyPart::Str(_) => strsize,
        }
    }
}

struct AssocKeyRef<'a> {
    assoc: usize,
    parts: &'a [KeyRef<'a>],
}

impl Hash for AssocKeyRef<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_usize(self.assoc);
        for p in self.parts {
            hash_part(*p, h);
        }
    }
}

impl Equivalent<AssocKey> for AssocKeyRef<'_> {
    fn equivalent(&self, key: &AssocKey) -> bool {
        self.assoc == key.assoc
            && self.parts.len() == key.parts.len()
            && self
                .parts
                .iter()
                .zip(key.parts.iter())
                .all(|(a, b)| match (a, b) {
                    (KeyRef::Int(x), KeyPart::Int(y)) => x == y,
                    (KeyRef::Str(x), KeyPart::Str(y)) => *x == &y[..],
                    _ => false,
                })
    }
}

/// An owned tuple key (aggregations), hashed like [`KeySlice`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key(pub Box<[KeyPart]>);

impl Hash for Key {
    fn hash<H: Hasher>(&self, h: &mut H) {
        for p in self.0.iter() {
            hash_part(p.as_ref(), h);
        }
    }
}

impl Key {
    pub fn from_refs(parts: &[KeyRef<'_>]) -> Key {
        Key(parts
            .iter()
            .map(|p| match p {
                KeyRef::Int(v) => KeyPart::Int(*v),
                KeyRef::Str(s) => KeyPart::Str((*s).into()),
            })
            .collect())
    }
}

/// A borrowed tuple key, to look up a [`Key`] without allocating.
pub(crate) struct KeySlice<'a>(pub &'a [KeyRef<'a>]);

impl Hash for KeySlice<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        for p in self.0 {
            hash_part(*p, h);
        }
    }
}

impl Equivalent<Key> for KeySlice<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.0.len() == key.0.len()
            && self.0.iter().zip(key.0.iter()).all(|(a, b)| match (a, b) {
                (KeyRef::Int(x), KeyPart::Int(y)) => x == y,
                (KeyRef::Str(x), KeyPart::Str(y)) => *x == &y[..],
                _ => false,
            })
    }
}

/// `self->` variables and associative arrays, bounded by `dynvarsize`.
/// A variable costs its key and value bytes as dtrace lays them out: 8 per
/// integer, `strsize` per string (a `self->` key is the tid, 8), so
/// `dynvarsize=80` holds five integer-keyed integers, as in dtrace-utils.
/// hashbrown's own overhead is not counted. A new variable that does not fit is dropped and counted, as DTrace
/// does ("dynamic variable drops").
pub(crate) struct DynVars {
    selfs: HashMap<(u64, usize), DynValue>,
    assocs: HashMap<AssocKey, DynValue>,
    used: usize,
    limit: usize,
    strsize: usize,
    drops: u64,
}

impl DynVars {
    pub fn new(limit: usize, strsize: usize) -> DynVars {
        DynVars {
            selfs: HashMap::new(),
            assocs: HashMap::new(),
            used: 0,
            limit,
            strsize,
            drops: 0,
        }
    }

    pub fn take_drops(&mut self) -> u64 {
        std::mem::take(&mut self.drops)
    }

    pub fn self_get(&self, tid: u64, var: usize) -> Option<&DynValue> {
        self.selfs.get(&(tid, var))
    }

    pub fn self_set(&mut self, tid: u64, var: usize, v: ValueRef<'_>) {
        let key = (tid, var);
        if v.deletes() {
            if let Some(old) = self.selfs.remove(&key) {
                self.used -= 8 + old.cost(self.strsize);
            }
            return;
        }
        let new = v.to_owned();
        match self.selfs.get_mut(&key) {
            Some(old) => {
                self.used = self.used - old.cost(self.strsize) + new.cost(self.strsize);
                *old = new;
            }
            None => {
                let cost = 8 + new.cost(self.strsize);
                if self.used + cost > self.limit {
                    self.drops += 1;
                    return;
                }
                self.used += cost;
                self.selfs.insert(key, new);
            }
        }
    }

    pub fn assoc_get(&self, assoc: usize, key: &[KeyRef<'_>]) -> Option<&DynValue> {
        self.assocs.get(&AssocKeyRef { assoc, parts: key })
    }

    pub fn assoc_set(&mut self, assoc: usize, key: &[KeyRef<'_>], v: ValueRef<'_>) {
        let kref = AssocKeyRef { assoc, parts: key };
        if v.deletes() {
            if let Some((k, old)) = self.assocs.remove_entry(&kref) {
                self.used -= k.parts.iter().map(|p| p.cost(self.strsize)).sum::<usize>()
                    + old.cost(self.strsize);
            }
            return;
        }
        let new = v.to_owned();
        if let Some(old) = self.assocs.get_mut(&kref) {
            self.used = self.used - old.cost(self.strsize) + new.cost(self.strsize);
            *old = new;
            return;
        }
        let parts: Box<[KeyPart]> = key
            .iter()
            .map(|p| match p {
                KeyRef::Int(v) => KeyPart::Int(*v),
                KeyRef::Str(s) => KeyPart::Str((*s).into()),
            })
            .collect();
        let cost =
            parts.iter().map(|p| p.cost(self.strsize)).sum::<usize>() + new.cost(self.strsize);
        if self.used + cost > self.limit {
            self.drops += 1;
            return;
        }
        self.used += cost;
        self.assocs.insert(AssocKey { assoc, parts }, new);
    }
}

/// rand(): a xorshift64* generator (same sequence in JIT and interpreter).
pub(crate) fn next_rand(state: &mut u64) -> i64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as i64
}

pub(crate) const RAND_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_deletes_and_limit_drops() {
        let mut d = DynVars::new(8 + 8, 256);
        d.self_set(1, 0, ValueRef::Int(5));
        assert_eq!(d.self_get(1, 0), Some(&DynValue::Int(5)));
        d.self_set(2, 0, ValueRef::Int(6)); // does not fit
        assert_eq!(d.self_get(2, 0), None);
        assert_eq!(d.take_drops(), 1);
        d.self_set(1, 0, ValueRef::Int(0)); // frees
        assert_eq!(d.self_get(1, 0), None);
        d.self_set(2, 0, ValueRef::Int(6));
        assert_eq!(d.self_get(2, 0), Some(&DynValue::Int(6)));
    }

    #[test]
    fn assoc_keys_by_value() {
        let mut d = DynVars::new(1 << 20, 256);
        d.assoc_set(0, &[KeyRef::Str(b"a"), KeyRef::Int(1)], ValueRef::Str(b"x"));
        assert_eq!(
            d.assoc_get(0, &[KeyRef::Str(b"a"), KeyRef::Int(1)]),
            Some(&DynValue::Str((*b"x").into()))
        );
        assert_eq!(d.assoc_get(0, &[KeyRef::Str(b"a"), KeyRef::Int(2)]), None);
        assert_eq!(d.assoc_get(1, &[KeyRef::Str(b"a"), KeyRef::Int(1)]), None);
    }
}
