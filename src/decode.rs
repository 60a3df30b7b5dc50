//! Decompression of a blob, detected by its magic bytes (never by its name or
//! media type), as one `Read` of uncompressed bytes.
//!
//! Every decoder is driven through `read(buf)`, so its output per call is
//! bounded by the caller's buffer: a few MB that expand to GiBs cost time,
//! never memory. zstd frames asking for a window over 128 MiB are refused.
//! gzip members back to back (pigz, eStargz) are read as one stream; bytes
//! after the last member that are not another member are flagged as garbage
//! and still read, so the blob digest covers the whole blob.

use std::io::{self, BufRead, Read};

use crate::blob::{Source, SourceError, Tee};

pub const CHUNK: usize = 1 << 20;
/// zstd's own default limit (2^27 = 128 MiB): a frame asking for more is refused.
const MAX_ZSTD_WINDOW_LOG: u32 = 27;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Xz,
    Bzip2,
}

impl Compression {
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
            Compression::Bzip2 => "bzip2",
        }
    }
}

pub fn detect(head: &[u8]) -> Compression {
    if head.starts_with(b"\x1f\x8b") {
        Compression::Gzip
    } else if head.starts_with(b"\x28\xb5\x2f\xfd") {
        Compression::Zstd
    } else if head.starts_with(b"\xfd7zXZ\x00") {
        Compression::Xz
    } else if head.starts_with(b"BZh") {
        Compression::Bzip2
    } else {
        Compression::None
    }
}

enum Stage {
    Plain(Raw),
    Gzip(Box<flate2::bufread::GzDecoder<Raw>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, Raw>>),
    Xz(Box<liblzma::bufread::XzDecoder<Raw>>),
    Bzip2(Box<bzip2::bufread::BzDecoder<Raw>>),
    Done(Raw),
    Gone,
}

/// The uncompressed bytes of one blob, with the digest of its raw bytes.
pub struct Decoded {
    stage: Stage,
    pub compression: Compression,
    name: String,
    /// Bytes follow the compressed data that are neither zeros nor another member.
    pub trailing_garbage: bool,
}

/// The source itself failed (a stalled download, a read error): not bad
/// data. Named after the blob, told once.
fn source_failed(name: &str, e: &io::Error) -> Option<io::Error> {
    e.get_ref()
        .and_then(|i| i.downcast_ref::<SourceError>())
        .map(|src| io::Error::other(format!("{name}: {src}")))
}

fn corrupt(name: &str, kind: Compression, e: &io::Error) -> io::Error {
    if let Some(failed) = source_failed(name, e) {
        return failed;
    }
    let msg = if e.kind() == io::ErrorKind::UnexpectedEof {
        format!("{name}: {} stream is truncated", kind.name())
    } else {
        format!("{name}: corrupt {} data ({e})", kind.name())
    };
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl Decoded {
    /// Opens `source`; `verify` hashes the raw bytes for the blob digest.
    pub fn new(source: Source, name: &str, verify: bool) -> io::Result<Decoded> {
        let mut raw = Raw::new(Tee::new(source, verify));
        let compression = detect(raw.peek(6)?);
        if compression == Compression::None {
            // An uncompressed blob's digest is its diff_id: hash it once.
            raw.get_mut().stop_hashing();
        }
        let stage = Self::decoder(compression, raw, name)?;
        Ok(Decoded {
            stage,
            compression,
            name: name.to_string(),
            trailing_garbage: false,
        })
    }

    fn decoder(kind: Compression, raw: Raw, name: &str) -> io::Result<Stage> {
        Ok(match kind {
            Compression::None => Stage::Plain(raw),
            Compression::Gzip => Stage::Gzip(Box::new(flate2::bufread::GzDecoder::new(raw))),
            Compression::Zstd => {
                let mut d = zstd::stream::read::Decoder::with_buffer(raw)
                    .map_err(|e| corrupt(name, kind, &e))?;
                d.window_log_max(MAX_ZSTD_WINDOW_LOG)
                    .map_err(|e| corrupt(name, kind, &e))?;
                Stage::Zstd(Box::new(d))
            }
            Compression::Xz => Stage::Xz(Box::new(liblzma::bufread::XzDecoder::new(raw))),
            Compression::Bzip2 => Stage::Bzip2(Box::new(bzip2::bufread::BzDecoder::new(raw))),
        })
    }

    /// Moves the raw position to `offset` of an uncompressed, seekable blob.
    pub fn seek_plain(&mut self, offset: u64) -> bool {
        if let Stage::Plain(raw) = &mut self.stage {
            // Still in the buffer (the next small file of a read in offset
            // order): no new read of a whole buffer for a few bytes.
            if let Some(at) = raw.get_ref().inner().position() {
                let held = (raw.end - raw.pos) as u64;
                if at >= held && offset >= at - held && offset <= at {
                    raw.pos += (offset - (at - held)) as usize;
                    return true;
                }
            }
            if raw.get_mut().get_mut().seek_to(offset) {
                // Drop what the buffer held from the old position.
                raw.clear();
                return true;
            }
        }
        false
    }

    fn raw_mut(&mut self) -> Option<&mut Raw> {
        match &mut self.stage {
            Stage::Plain(r) | Stage::Done(r) => Some(r),
            Stage::Gzip(d) => Some(d.get_mut()),
            Stage::Zstd(d) => Some(d.get_mut()),
            Stage::Xz(d) => Some(d.get_mut()),
            Stage::Bzip2(d) => Some(d.get_mut()),
            Stage::Gone => None,
        }
    }

    /// Reads (and hashes) whatever raw bytes are left, so the blob digest is checkable.
    pub fn drain_raw(&mut self) -> io::Result<()> {
        if let Some(raw) = self.raw_mut() {
            loop {
                let n = raw.fill_buf()?.len();
                if n == 0 {
                    break;
                }
                raw.consume(n);
            }
        }
        Ok(())
    }

    /// `sha256:` of the raw blob read so far (None for an uncompressed blob).
    pub fn raw_digest(&mut self) -> Option<String> {
        self.raw_mut().and_then(|r| r.get_ref().digest())
    }

    /// After a decoder's end: another gzip member, zeros, or garbage.
    fn after_end(&mut self, raw: Raw) -> io::Result<()> {
        let mut raw = raw;
        let head = raw.peek(2)?;
        if head.is_empty() {
            self.stage = Stage::Done(raw);
            return Ok(());
        }
        if self.compression == Compression::Gzip && head.starts_with(b"\x1f\x8b") {
            self.stage = Stage::Gzip(Box::new(flate2::bufread::GzDecoder::new(raw)));
            return Ok(());
        }
        loop {
            let buf = raw.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            if !self.trailing_garbage && buf.iter().any(|&b| b != 0) {
                self.trailing_garbage = true;
            }
            let n = buf.len();
            raw.consume(n);
        }
        self.stage = Stage::Done(raw);
        Ok(())
    }
}

/// A read buffer over the raw blob that can look `n` bytes ahead across refills
/// (a gzip member's magic may straddle two reads), unlike `BufReader`.
pub struct Raw {
    inner: Tee<Source>,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
}

impl Raw {
    fn new(inner: Tee<Source>) -> Raw {
        Raw {
            inner,
            buf: vec![0; CHUNK],
            pos: 0,
            end: 0,
        }
    }

    pub fn get_ref(&self) -> &Tee<Source> {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut Tee<Source> {
        &mut self.inner
    }

    fn clear(&mut self) {
        self.pos = 0;
        self.end = 0;
    }

    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.end - self.pos < n {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
            while self.end < n.min(self.buf.len()) {
                let got = self.inner.read(&mut self.buf[self.end..])?;
                if got == 0 {
                    break;
                }
                self.end += got;
            }
        }
        let have = (self.end - self.pos).min(n);
        Ok(&self.buf[self.pos..self.pos + have])
    }
}

impl Read for Raw {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.end && out.len() >= self.buf.len() {
            return self.inner.read(out); // big reads bypass the buffer
        }
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(out.len());
            out[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Raw {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end {
            self.clear();
            self.end = self.inner.read(&mut self.buf)?;
        }
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.end);
    }
}

impl Read for Decoded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let kind = self.compression;
            let got = match &mut self.stage {
                Stage::Plain(r) => {
                    return r
                        .read(buf)
                        .map_err(|e| source_failed(&self.name, &e).unwrap_or(e))
                }
                Stage::Done(_) | Stage::Gone => return Ok(0),
                Stage::Gzip(d) => d.read(buf),
                Stage::Zstd(d) => d.read(buf),
                Stage::Xz(d) => d.read(buf),
                Stage::Bzip2(d) => d.read(buf),
            };
            match got {
                Ok(0) => {
                    let raw = match std::mem::replace(&mut self.stage, Stage::Gone) {
                        Stage::Gzip(d) => d.into_inner(),
                        Stage::Zstd(d) => d.finish(),
                        Stage::Xz(d) => d.into_inner(),
                        Stage::Bzip2(d) => d.into_inner(),
                        _ => return Ok(0),
                    };
                    if kind == Compression::Zstd {
                        // zstd reads across frames itself; what is left is garbage.
                        self.after_end(raw)?;
                        return Ok(0);
                    }
                    self.after_end(raw)?;
                    if matches!(self.stage, Stage::Done(_)) {
                        return Ok(0);
                    }
                }
                Ok(n) => return Ok(n),
                Err(e) => return Err(corrupt(&self.name, kind, &e)),
            }
        }
    }
}
