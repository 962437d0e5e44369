//! Constants generated code points at: string literals, probe names and
//! inline string tables, owned by the compiled program so that their
//! addresses stay valid as long as the code.

use hashbrown::HashMap;

#[derive(Default)]
pub(crate) struct Interned {
    strings: Vec<Box<[u8]>>,
    by_value: HashMap<Vec<u8>, usize>,
    tables: Vec<Box<[i64]>>,
}

impl Interned {
    /// Address of a NUL-terminated copy of `bytes`.
    pub fn str_ptr(&mut self, bytes: &[u8]) -> i64 {
        let i = match self.by_value.get(bytes) {
            Some(i) => *i,
            None => {
                let mut v = bytes.to_vec();
                v.push(0);
                self.strings.push(v.into_boxed_slice());
                self.by_value.insert(bytes.to_vec(), self.strings.len() - 1);
                self.strings.len() - 1
            }
        };
        self.strings[i].as_ptr() as i64
    }

    /// Address of an array of string addresses: `entries` followed by "",
    /// which out-of-range indexes are clamped to.
    pub fn table(&mut self, entries: &[String]) -> i64 {
        let mut t: Vec<i64> = entries.iter().map(|e| self.str_ptr(e.as_bytes())).collect();
        t.push(self.str_ptr(b""));
        self.tables.push(t.into_boxed_slice());
        self.tables.last().map_or(0, |t| t.as_ptr() as i64)
    }
}
