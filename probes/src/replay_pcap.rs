//! Classic pcap records, read through a buffer small enough to stay in
//! the CPU's cache.
//!
//! pcap-file's `PcapReader` reads into an 8 MB buffer: every record was
//! copied by read() into memory that had left the cache by the time it was
//! parsed (~20% of a replay with payloads went to the copy, its compaction
//! and the misses). Here the same parser (`PcapParser`) runs over a
//! 256 KiB buffer, grown only for a record longer than that.

use pcap_file::pcap::{PcapHeader, PcapParser, RawPcapPacket};
use pcap_file::{Endianness, PcapError};
use std::io::{ErrorKind, Read};

/// Bytes read at a time: a small part of the L2 caches of these machines.
const CAPACITY: usize = 256 * 1024;

/// The longest record accepted (header and data). Captures use snap
/// lengths up to 262144 bytes; a longer length field is corruption, not a
/// reason to allocate gigabytes.
pub(crate) const MAX_RECORD: usize = 16 << 20;

/// Length of a record's header (timestamp, incl_len, orig_len).
const RECORD_HEADER: usize = 16;

pub(crate) struct PcapStream {
    input: Box<dyn Read>,
    parser: PcapParser,
    buf: Vec<u8>,
    /// The unparsed bytes are `buf[pos..len]`.
    pos: usize,
    len: usize,
    eof: bool,
}

impl PcapStream {
    /// Reads the capture's global header from `input`.
    pub(crate) fn new(input: Box<dyn Read>) -> Result<PcapStream, PcapError> {
        let mut buf = vec![0; CAPACITY];
        let mut len = 0;
        let mut eof = false;
        let mut input = input;
        // The header is 24 bytes; a pipe may hand them over in pieces.
        let (rest, parser) = loop {
            match PcapParser::new(&buf[..len]) {
                Ok((rest, parser)) => break (rest.len(), parser),
                Err(PcapError::IncompleteBuffer) if !eof => {
                    let n = read_some(&mut input, &mut buf[len..]).map_err(PcapError::IoError)?;
                    eof = n == 0;
                    len += n;
                }
                Err(PcapError::IncompleteBuffer) => return Err(unexpected_eof()),
                Err(e) => return Err(e),
            }
        };
        Ok(PcapStream {
            input,
            parser,
            buf,
            pos: len - rest,
            len,
            eof,
        })
    }

    pub(crate) fn header(&self) -> PcapHeader {
        self.parser.header()
    }

    /// The next record, None at the end of the capture; an error for a
    /// record the file ends in the middle of, or one longer than MAX_RECORD.
    pub(crate) fn next_raw_packet(&mut self) -> Option<Result<RawPcapPacket<'_>, PcapError>> {
        loop {
            let avail = &self.buf[self.pos..self.len];
            match self.parser.next_raw_packet(avail) {
                Ok((rest, _)) => {
                    let start = self.pos;
                    self.pos = self.len - rest.len();
                    let record = &self.buf[start..self.pos];
                    return Some(self.parser.next_raw_packet(record).map(|(_, p)| p));
                }
                Err(PcapError::IncompleteBuffer) => {}
                Err(e) => return Some(Err(e)),
            }
            if self.eof {
                return (self.pos < self.len).then(|| Err(unexpected_eof()));
            }
            if let Err(e) = self.refill() {
                return Some(Err(e));
            }
        }
    }

    /// Moves the unparsed bytes to the front, makes room for the record
    /// they begin, and reads more.
    fn refill(&mut self) -> Result<(), PcapError> {
        let avail = self.len - self.pos;
        let need = if avail >= RECORD_HEADER {
            RECORD_HEADER + self.incl_len(&self.buf[self.pos + 8..self.pos + 12]) as usize
        } else {
            RECORD_HEADER
        };
        if need > MAX_RECORD {
            return Err(PcapError::InvalidField(
                "record length exceeds 16 MiB (a corrupt length field)",
            ));
        }
        self.buf.copy_within(self.pos..self.len, 0);
        self.pos = 0;
        self.len = avail;
        if need > self.buf.len() {
            self.buf.resize(need, 0);
        }
        let n = read_some(&mut self.input, &mut self.buf[avail..]).map_err(PcapError::IoError)?;
        self.eof = n == 0;
        self.len += n;
        Ok(())
    }

    fn incl_len(&self, field: &[u8]) -> u32 {
        let bytes = [field[0], field[1], field[2], field[3]];
        match self.parser.header().endianness {
            Endianness::Big => u32::from_be_bytes(bytes),
            Endianness::Little => u32::from_le_bytes(bytes),
        }
    }
}

/// One read(), retried when a signal interrupted it.
fn read_some(input: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match input.read(buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

fn unexpected_eof() -> PcapError {
    PcapError::IoError(ErrorKind::UnexpectedEof.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian microsecond capture with records of these lengths.
    fn capture(lens: &[usize]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 262_144, 1] {
            v.extend_from_slice(&w.to_le_bytes());
        }
        for (i, &n) in lens.iter().enumerate() {
            for w in [i as u32, 0, n as u32, n as u32] {
                v.extend_from_slice(&w.to_le_bytes());
            }
            v.extend(std::iter::repeat_n(i as u8, n));
        }
        v
    }

    /// Hands over at most `step` bytes per read, like a pipe.
    struct Trickle(std::io::Cursor<Vec<u8>>, usize);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.1);
            self.0.read(&mut buf[..n])
        }
    }

    fn records(bytes: Vec<u8>, step: usize) -> Vec<Result<(u32, Vec<u8>), PcapError>> {
        let mut s =
            PcapStream::new(Box::new(Trickle(std::io::Cursor::new(bytes), step))).expect("header");
        let mut out = Vec::new();
        while let Some(r) = s.next_raw_packet() {
            let failed = r.is_err();
            out.push(r.map(|p| (p.ts_sec, p.data.to_vec())));
            if failed {
                break;
            }
        }
        out
    }

    #[test]
    fn records_across_refills_and_longer_than_the_buffer_come_whole() {
        let lens = [0, 1, 60, 1448, CAPACITY + 100, 3, CAPACITY - 16, 7];
        for step in [1 << 30, 4096, 7] {
            let got = records(capture(&lens), step);
            assert_eq!(got.len(), lens.len(), "step {step}");
            for (i, (r, &n)) in got.iter().zip(&lens).enumerate() {
                let (ts, data) = r.as_ref().expect("record");
                assert_eq!((*ts as usize, data.len()), (i, n));
                assert!(data.iter().all(|&b| b == i as u8));
            }
        }
    }

    #[test]
    fn a_file_ending_inside_a_record_or_a_huge_length_is_an_error() {
        let mut bytes = capture(&[10, 20]);
        bytes.truncate(bytes.len() - 5);
        let got = records(bytes, 4096);
        assert!(got[0].is_ok());
        assert!(
            matches!(&got[1], Err(PcapError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof),
            "{got:?}"
        );

        let mut bytes = capture(&[10]);
        bytes[24 + 8..24 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        let got = records(bytes, 4096);
        assert!(
            matches!(&got[0], Err(PcapError::InvalidField(m)) if m.contains("16 MiB")),
            "{got:?}"
        );
    }

    #[test]
    fn a_short_header_is_an_error() {
        let bytes = capture(&[])[..10].to_vec();
        let r = PcapStream::new(Box::new(std::io::Cursor::new(bytes)));
        assert!(matches!(r, Err(PcapError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof));
    }
}
