//! Where a blob's bytes come from: a window of an open file, or any Python
//! object with a `read(n)` method (an engine's pipe, a future HTTP response).
//!
//! A file window is read with positioned reads (`pread`), so several layer
//! threads share one archive without sharing a file position. The file is
//! reached through the descriptor Python already opened (`/proc/self/fd/N`, or
//! `/dev/fd/N` elsewhere), never by a path name that could be swapped or be a
//! symlink: what Python checked is what Rust reads.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

#[cfg(feature = "python")]
use pyo3::prelude::*;
#[cfg(feature = "python")]
use pyo3::types::PyBytes;
use sha2::{Digest, Sha256};

/// The raw bytes of one blob.
pub enum Source {
    /// `len` bytes of `file` from `start`; `pos` counts what was handed out.
    Window {
        file: File,
        start: u64,
        len: u64,
        pos: u64,
    },
    /// A Python stream; `read(n)` is called with the GIL held, one chunk a call.
    #[cfg(feature = "python")]
    Python { obj: Py<PyAny>, done: bool },
    /// Bytes in memory (tests, small blobs).
    Memory(io::Cursor<Vec<u8>>),
}

impl Source {
    /// Opens a window of the file behind a Python file descriptor.
    pub fn window(fd: i32, start: u64, len: u64) -> io::Result<Source> {
        let file = open_fd(fd)?;
        Ok(Source::Window {
            file,
            start,
            len,
            pos: 0,
        })
    }

    #[cfg(feature = "python")]
    pub fn python(obj: Py<PyAny>) -> Source {
        Source::Python { obj, done: false }
    }

    pub fn memory(data: Vec<u8>) -> Source {
        Source::Memory(io::Cursor::new(data))
    }

    /// Where the next read starts, for a source that can seek (None otherwise).
    pub fn position(&self) -> Option<u64> {
        match self {
            Source::Window { pos, .. } => Some(*pos),
            Source::Memory(c) => Some(c.position()),
            #[cfg(feature = "python")]
            Source::Python { .. } => None,
        }
    }

    /// Whether the bytes can be reached at any offset without reading what precedes.
    pub fn seek_to(&mut self, offset: u64) -> bool {
        match self {
            Source::Window { len, pos, .. } => {
                *pos = offset.min(*len);
                true
            }
            Source::Memory(c) => {
                c.set_position(offset);
                true
            }
            #[cfg(feature = "python")]
            Source::Python { .. } => false,
        }
    }
}

fn open_fd(fd: i32) -> io::Result<File> {
    if fd < 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "negative file descriptor",
        ));
    }
    let proc_path = format!("/proc/self/fd/{fd}");
    match File::open(&proc_path) {
        Ok(f) => Ok(f),
        Err(_) => File::open(format!("/dev/fd/{fd}")),
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Window {
                file,
                start,
                len,
                pos,
            } => {
                let left = *len - *pos;
                if left == 0 || buf.is_empty() {
                    return Ok(0);
                }
                let want = (buf.len() as u64).min(left) as usize;
                let got = file
                    .read_at(&mut buf[..want], *start + *pos)
                    .map_err(|e| source_error(format!("read error: {e}")))?;
                *pos += got as u64;
                Ok(got)
            }
            Source::Memory(c) => c.read(buf),
            #[cfg(feature = "python")]
            Source::Python { obj, done } => {
                if *done || buf.is_empty() {
                    return Ok(0);
                }
                Python::with_gil(|py| {
                    let data = obj
                        .call_method1(py, "read", (buf.len(),))
                        .map_err(|e| source_error(e.to_string()))?;
                    let data = data.bind(py);
                    if data.is_none() {
                        *done = true;
                        return Ok(0);
                    }
                    let bytes = data.downcast::<PyBytes>().map_err(|_| {
                        io::Error::other("the stream's read() did not return bytes")
                    })?;
                    let b = bytes.as_bytes();
                    if b.len() > buf.len() {
                        return Err(io::Error::other(
                            "the stream's read() returned more than asked",
                        ));
                    }
                    buf[..b.len()].copy_from_slice(b);
                    if b.is_empty() {
                        *done = true;
                    }
                    Ok(b.len())
                })
            }
        }
    }
}

/// An error of the blob's source itself (a Python stream that raised, a file
/// that could not be read), told apart from bad data by the decoders' caller.
#[derive(Debug)]
pub struct SourceError(pub String);

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SourceError {}

fn source_error(msg: String) -> io::Error {
    io::Error::other(SourceError(msg))
}

/// Counts every byte that passes and, when asked, hashes it (sha256).
pub struct Tee<R> {
    inner: R,
    hasher: Option<Sha256>,
    pub count: u64,
}

impl<R: Read> Tee<R> {
    pub fn new(inner: R, hash: bool) -> Tee<R> {
        Tee {
            inner,
            hasher: hash.then(Sha256::new),
            count: 0,
        }
    }

    pub fn stop_hashing(&mut self) {
        self.hasher = None;
    }

    /// `sha256:<hex>` of everything read so far (None when not hashing).
    pub fn digest(&self) -> Option<String> {
        self.hasher
            .as_ref()
            .map(|h| hex_digest(&h.clone().finalize()))
    }

    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    pub fn inner(&self) -> &R {
        &self.inner
    }
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.count += n as u64;
            if let Some(h) = self.hasher.as_mut() {
                h.update(&buf[..n]);
            }
        }
        Ok(n)
    }
}

pub fn hex_digest(raw: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(7 + raw.len() * 2);
    s.push_str("sha256:");
    for b in raw {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}
