//! Byte spans into the script text. Every AST and typed-IR node carries one so
//! that diagnostics can point at the exact source.

/// Which of the program's sources (`-s`/`-n`, in command-line order) a span
/// is in: the index [`crate::compile_many`] gave it.
pub type SourceId = u16;

/// Half-open byte range `[start, end)` into source `source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
    pub source: SourceId,
}

impl Span {
    /// A span in source 0 (the only one of a single-source program).
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end as u32,
            source: 0,
        }
    }
    /// The same range, in source `source`.
    pub fn in_source(self, source: SourceId) -> Span {
        Span { source, ..self }
    }
    /// The smallest span covering both (both are in one source).
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
            source: self.source,
        }
    }
    pub fn contains(self, inner: Span) -> bool {
        self.start <= inner.start && inner.end <= self.end
    }
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.start as usize, s.len()).into()
    }
}
