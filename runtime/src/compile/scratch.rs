//! Per-firing scratch space for derived strings (formatted addresses,
//! `strjoin` results, copies of comm arrays …). Reset at every firing;
//! memory is kept across firings, so the hot path does not allocate once
//! warmed up. Chunks never move, so pointers handed to JIT code stay valid
//! until the next reset.

pub(crate) struct Scratch {
    chunks: Vec<Box<[u8]>>,
    /// Chunk being filled and the first free byte in it.
    chunk: usize,
    used: usize,
}

const CHUNK: usize = 64 * 1024;

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            chunks: vec![vec![0u8; CHUNK].into_boxed_slice()],
            chunk: 0,
            used: 0,
        }
    }

    pub fn reset(&mut self) {
        self.chunk = 0;
        self.used = 0;
    }

    /// Copies `bytes` and a terminating NUL; returns the copy's address.
    pub fn push_str(&mut self, bytes: &[u8]) -> *const u8 {
        let need = bytes.len() + 1;
        let dst = self.alloc(need);
        dst[..bytes.len()].copy_from_slice(bytes);
        dst[bytes.len()] = 0;
        dst.as_ptr()
    }

    fn alloc(&mut self, need: usize) -> &mut [u8] {
        if self.used + need > self.chunks[self.chunk].len() {
            self.chunk += 1;
            self.used = 0;
            if self.chunk == self.chunks.len() || self.chunks[self.chunk].len() < need {
                let size = need.max(CHUNK);
                self.chunks
                    .insert(self.chunk, vec![0u8; size].into_boxed_slice());
            }
        }
        let start = self.used;
        self.used += need;
        &mut self.chunks[self.chunk][start..start + need]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_stay_valid_across_chunks() {
        let mut s = Scratch::new();
        let a = s.push_str(b"first");
        let big = vec![b'x'; CHUNK * 2];
        let b = s.push_str(&big);
        let c = s.push_str(b"third");
        // SAFETY: push_str returns NUL-terminated strings that stay valid
        // until the next reset, which comes after these reads.
        unsafe {
            assert_eq!(std::ffi::CStr::from_ptr(a.cast()).to_bytes(), b"first");
            assert_eq!(
                std::ffi::CStr::from_ptr(b.cast()).to_bytes().len(),
                CHUNK * 2
            );
            assert_eq!(std::ffi::CStr::from_ptr(c.cast()).to_bytes(), b"third");
        }
        s.reset();
        let d = s.push_str(b"again");
        assert_eq!(d, a);
    }
}
