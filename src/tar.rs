//! A streaming tar header walker (ustar, pax, GNU long names and sparse,
//! base-256 numbers) that hashes regular files as their bytes pass.
//!
//! It never holds a member's content: a file's bytes are hashed from the read
//! buffer and dropped. Everything it keeps per member is bounded: one pax
//! header or long name (8 MiB), pax data before one member (16 MiB), and long
//! names, link targets and xattrs over the whole layer (256 MiB).

use std::io::{self, Read};

use sha2::{Digest, Sha256};

use crate::decode::CHUNK;

pub const BLOCK: usize = 512;
const MAX_META: i64 = 8 << 20;
const MAX_PENDING_META: i64 = 16 << 20;
const MAX_HELD_META: usize = 256 << 20;
const MAX_XATTR: usize = 64 << 10;
const MAX_WARNINGS: usize = 100;

/// One tar member after pax/GNU extensions are applied.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: Vec<u8>,
    pub flag: u8,
    pub mode: u32,
    pub uid: i64,
    pub gid: i64,
    /// Logical size of a regular or sparse file; 0 for every other type.
    pub size: i64,
    pub mtime: i64,
    pub link: Vec<u8>,
    pub xattrs: Option<Vec<(String, Vec<u8>)>>,
    /// sha256 of a regular file's content (None when sparse or not hashed).
    pub digest: Option<[u8; 32]>,
    /// Where the content starts in the uncompressed stream.
    pub offset: u64,
    pub sparse: bool,
}

/// Why the walk stopped early: the message names the layer and the offset.
#[derive(Debug)]
pub struct ScanError(pub String, pub Cause);

/// Whether the walk stopped on the archive's own bytes or on reading them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A bad header, a truncated member, a limit: the tar itself.
    Tar,
    /// The bytes could not be had: corrupt compression, or the source failed.
    Read,
}

impl ScanError {
    pub fn tar(msg: String) -> ScanError {
        ScanError(msg, Cause::Tar)
    }
}

impl From<io::Error> for ScanError {
    fn from(e: io::Error) -> ScanError {
        ScanError(e.to_string(), Cause::Read)
    }
}

fn is_regular(flag: u8) -> bool {
    matches!(flag, b'0' | 0 | b'7')
}

fn is_known(flag: u8) -> bool {
    matches!(
        flag,
        b'0' | 0
            | b'7'
            | b'1'
            | b'2'
            | b'3'
            | b'4'
            | b'5'
            | b'6'
            | b'x'
            | b'g'
            | b'L'
            | b'K'
            | b'S'
            | b'D'
    )
}

/// `repr()`-like quoting of raw names for messages: printable ASCII as is,
/// everything else escaped, so a hostile name cannot inject terminal codes.
pub fn quote(raw: &[u8]) -> String {
    let mut s = String::with_capacity(raw.len() + 2);
    s.push('\'');
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\'' => s.push_str("\\'"),
                '\\' => s.push_str("\\\\"),
                c if c.is_control() => s.push_str(&c.escape_default().to_string()),
                c => s.push(c),
            }
        }
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s.push('\'');
    s
}

fn cstr(field: &[u8]) -> &[u8] {
    match memchr::memchr(0, field) {
        Some(i) => &field[..i],
        None => field,
    }
}

fn trim_spaces(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b' ').unwrap_or(s.len());
    let end = s.iter().rposition(|&b| b != b' ').map_or(start, |i| i + 1);
    &s[start..end.max(start)]
}

/// An octal or base-256 numeric header field; None when malformed.
pub fn header_number(field: &[u8]) -> Option<i64> {
    if let Some(&first) = field.first() {
        if first & 0x80 != 0 {
            // base-256: 0x80 positive, 0xff negative (two's complement)
            let negative = first == 0xff;
            let mut v: i128 = if negative { -1 } else { (first & 0x7f) as i128 };
            for &b in &field[1..] {
                v = v.checked_mul(256)?.checked_add(b as i128)?;
                if negative {
                    // keep the two's complement reading bounded
                    if v < i64::MIN as i128 * 2 {
                        return None;
                    }
                } else if v > i64::MAX as i128 {
                    return None;
                }
            }
            return i64::try_from(v).ok();
        }
    }
    let s = trim_spaces(cstr(field));
    if s.is_empty() {
        return Some(0);
    }
    let mut v: i64 = 0;
    for &b in s {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add((b - b'0') as i64)?;
    }
    Some(v)
}

/// The header checksum (unsigned, or the historic signed sum) matches.
pub fn checksum_ok(hdr: &[u8]) -> bool {
    let field = trim_spaces(cstr(&hdr[148..156]));
    let stored = if !field.is_empty() && field.iter().all(|b| b.is_ascii_digit()) {
        let mut v: i64 = 0;
        for &b in field {
            if b > b'7' {
                return false;
            }
            v = v.saturating_mul(8).saturating_add((b - b'0') as i64);
        }
        v
    } else {
        -1
    };
    let unsigned: i64 = hdr[..148]
        .iter()
        .chain(&hdr[156..BLOCK])
        .map(|&b| b as i64)
        .sum::<i64>()
        + 256;
    if stored == unsigned {
        return true;
    }
    let signed: i64 = hdr[..148]
        .iter()
        .chain(&hdr[156..BLOCK])
        .map(|&b| b as i8 as i64)
        .sum::<i64>()
        + 256;
    stored == signed
}

/// Parses `LEN KEY=VALUE\n` records into `out`; returns a problem if any.
pub fn parse_pax(data: &[u8], out: &mut Vec<(Vec<u8>, Vec<u8>)>) -> Option<&'static str> {
    let n = data.len();
    let mut pos = 0;
    while pos < n {
        let window = &data[pos..n.min(pos + 24)];
        let Some(sp) = memchr::memchr(b' ', window) else {
            if data[pos..].iter().any(|&b| b != 0 && b != b'\n') {
                return Some("malformed pax header ignored");
            }
            break;
        };
        let num = &data[pos..pos + sp];
        if num.is_empty() || !num.iter().all(|b| b.is_ascii_digit()) {
            return Some("malformed pax record length ignored");
        }
        let length: usize = match std::str::from_utf8(num).ok().and_then(|s| s.parse().ok()) {
            Some(l) => l,
            None => return Some("malformed pax record ignored"),
        };
        if length == 0 || pos + length > n || sp + 1 > length {
            return Some("malformed pax record ignored");
        }
        let mut record = &data[pos + sp + 1..pos + length];
        if record.last() == Some(&b'\n') {
            record = &record[..record.len() - 1];
        }
        if let Some(eq) = memchr::memchr(b'=', record) {
            if eq > 0 {
                let key = record[..eq].to_vec();
                let value = record[eq + 1..].to_vec();
                if let Some(slot) = out.iter_mut().find(|(k, _)| *k == key) {
                    slot.1 = value;
                } else {
                    out.push((key, value));
                }
            }
        }
        pos += length;
    }
    None
}

fn pax_get<'a>(ext: &'a [(Vec<u8>, Vec<u8>)], key: &[u8]) -> Option<&'a [u8]> {
    ext.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_slice())
}

/// A pax integer as Python's `int()` reads it (surrounding blanks, a sign).
fn pax_int(v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?.trim();
    let s = s.replace('_', "");
    if s.is_empty() {
        return None;
    }
    s.parse::<i64>().ok()
}

/// A pax time (`1700000000.123`) truncated to whole seconds.
fn pax_time(v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?.trim();
    let f: f64 = s.parse().ok()?;
    if !f.is_finite() || f.abs() > 9.0e18 {
        return None;
    }
    Some(f.trunc() as i64)
}

/// One member while its header and extensions are applied: the header's
/// fields first, then names, pax overrides and sparse sizes on top. The
/// member itself is built in place (no field is moved twice per member).
struct Draft {
    /// `m.size` is the logical size here (sparse files differ); zeroed for
    /// non-files once the content is passed.
    m: Member,
    /// Bytes of content in the stream (what to pass and hash).
    size: i64,
}

/// A ustar header's name: `prefix/name` when the ustar magic says the
/// prefix field is one, else the plain 100-byte name field.
#[inline]
fn ustar_name(hdr: &[u8; BLOCK]) -> Vec<u8> {
    let name = cstr(&hdr[0..100]);
    if &hdr[257..263] == b"ustar\0" {
        let prefix = cstr(&hdr[345..500]);
        if !prefix.is_empty() {
            let mut full = Vec::with_capacity(prefix.len() + 1 + name.len());
            full.extend_from_slice(prefix);
            full.push(b'/');
            full.extend_from_slice(name);
            return full;
        }
    }
    name.to_vec()
}

/// Walks the members of a tar stream read from `R`.
pub struct Scanner<R> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    base: u64,
    name: String,
    hash_files: bool,
    pub warnings: Vec<String>,
    pub saw_end_marker: bool,
    pub trailing_data: bool,
    held_meta: usize,
    /// The header being read (a copy: `fill` may move the buffer under it).
    hdr: [u8; BLOCK],
    pax_global: Vec<(Vec<u8>, Vec<u8>)>,
    global_size: i64,
    /// What the extension headers before the member being read said (they
    /// all describe the next real member): its pax records and GNU long
    /// name and link. Kept here, not in a value of `next_member`, so the
    /// reading steps share them with nothing to build or drop per member.
    pax: Vec<(Vec<u8>, Vec<u8>)>,
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
}

impl<R: Read> Scanner<R> {
    pub fn new(src: R, name: &str, hash_files: bool) -> Scanner<R> {
        Scanner {
            src,
            buf: vec![0; 2 * CHUNK],
            pos: 0,
            end: 0,
            base: 0,
            name: name.to_string(),
            hash_files,
            warnings: Vec::new(),
            saw_end_marker: false,
            trailing_data: false,
            held_meta: 0,
            hdr: [0; BLOCK],
            pax_global: Vec::new(),
            global_size: 0,
            pax: Vec::new(),
            long_name: None,
            long_link: None,
        }
    }

    pub fn into_inner(self) -> R {
        self.src
    }

    pub fn get_mut(&mut self) -> &mut R {
        &mut self.src
    }

    /// Absolute offset in the uncompressed stream.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn err(&self, msg: String) -> ScanError {
        ScanError::tar(format!("{}: {}", self.name, msg))
    }

    fn warn(&mut self, msg: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(format!("{}: {}", self.name, msg));
        }
    }

    /// Makes at least `n` bytes available at `pos`; false at the end of the stream.
    fn fill(&mut self, n: usize) -> Result<bool, ScanError> {
        if self.end - self.pos >= n {
            return Ok(true);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.base += self.pos as u64;
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.buf.len() < n {
            self.buf.resize(n.next_multiple_of(CHUNK), 0);
        }
        while self.end < n {
            let got = self.src.read(&mut self.buf[self.end..])?;
            if got == 0 {
                return Ok(false);
            }
            self.end += got;
        }
        Ok(true)
    }

    /// `n` bytes (at most MAX_META, checked by callers) as a new vector.
    fn take(&mut self, n: usize, what: &str) -> Result<Vec<u8>, ScanError> {
        if !self.fill(n)? {
            return Err(self.err(format!("truncated {what} at offset {}", self.offset())));
        }
        let v = self.buf[self.pos..self.pos + n].to_vec();
        self.pos += n;
        Ok(v)
    }

    /// Passes `n` bytes, hashing them when asked, without holding them whole.
    fn consume(
        &mut self,
        mut n: u64,
        mut hasher: Option<&mut Sha256>,
        what: &[u8],
    ) -> Result<(), ScanError> {
        while n > 0 {
            if self.pos == self.end && !self.fill(1)? {
                return Err(self.err(format!(
                    "truncated content of {} ({n} bytes missing)",
                    quote(what)
                )));
            }
            let avail = (self.end - self.pos) as u64;
            let step = n.min(avail) as usize;
            if let Some(h) = hasher.as_deref_mut() {
                h.update(&self.buf[self.pos..self.pos + step]);
            }
            self.pos += step;
            n -= step as u64;
        }
        Ok(())
    }

    fn num(&self, field: &[u8], what: &str, hdr_off: u64) -> Result<i64, ScanError> {
        header_number(field).ok_or_else(|| {
            let s = trim_spaces(cstr(field));
            let s = &s[..s.len().min(20)];
            self.err(format!(
                "bad {what} field {} in tar header at offset {hdr_off}",
                quote(s)
            ))
        })
    }

    fn hold(&mut self, n: usize, raw_name: &[u8]) -> Result<(), ScanError> {
        self.held_meta += n;
        if self.held_meta > MAX_HELD_META {
            return Err(self.err(format!(
                "over {} MiB of long names, link targets and xattrs (at {})",
                MAX_HELD_META >> 20,
                quote(&raw_name[..raw_name.len().min(200)])
            )));
        }
        Ok(())
    }

    fn parse_pax_into(&mut self, data: &[u8], global: bool) {
        let problem = if global {
            parse_pax(data, &mut self.pax_global)
        } else {
            parse_pax(data, &mut self.pax)
        };
        if let Some(p) = problem {
            self.warn(p.to_string());
        }
    }

    /// The next member, or None at the end of the archive.
    ///
    /// Extension headers (pax, GNU long names) are read and kept in the
    /// scanner until the header they describe arrives; that header is then
    /// resolved into a `Draft` (names, then pax overrides, then GNU sparse)
    /// and its content passed (hashed when it is a regular file).
    pub fn next_member(&mut self) -> Result<Option<Member>, ScanError> {
        // Pax bytes before this member (global ones included), against MAX_PENDING_META.
        let mut pending: i64 = self.global_size;
        // Nothing left from a call that stopped on an error.
        self.pax.clear();
        self.long_name = None;
        self.long_link = None;
        loop {
            let Some(hdr_off) = self.next_header()? else {
                return Ok(None);
            };
            let mut draft = self.header_fields(hdr_off)?;
            if matches!(draft.m.flag, b'x' | b'g' | b'L' | b'K') {
                self.read_extension(draft.m.flag, draft.size, hdr_off, &mut pending)?;
                continue;
            }
            self.resolve_names(&mut draft)?;
            if draft.m.flag == b'S' {
                self.read_gnu_sparse(hdr_off, &mut draft)?;
            }
            return self.pass_content(draft).map(Some);
        }
    }

    /// Reads the next 512-byte header into `self.hdr` (copied once from the
    /// buffer, which a later `fill` may shift) and returns its offset; None
    /// at the end marker or at a clean end of the stream (no end marker is
    /// tolerated, like GNU tar). A header whose checksum fails stops the
    /// walk: nothing after it can be trusted to be where the sizes say.
    #[inline(always)]
    fn next_header(&mut self) -> Result<Option<u64>, ScanError> {
        if !self.fill(BLOCK)? {
            if self.end > self.pos {
                return Err(self.err(format!("truncated tar header at offset {}", self.offset())));
            }
            return Ok(None);
        }
        let hdr_off = self.offset();
        self.hdr
            .copy_from_slice(&self.buf[self.pos..self.pos + BLOCK]);
        self.pos += BLOCK;
        if self.hdr.iter().all(|&b| b == 0) {
            self.saw_end_marker = true;
            return Ok(None);
        }
        if !checksum_ok(&self.hdr) {
            return Err(self.err(format!("bad tar header checksum at offset {hdr_off}")));
        }
        Ok(Some(hdr_off))
    }

    /// The header's own numeric fields, in the order tarfile checks them (so
    /// the first bad field is the one named); names come later, once the
    /// header is known not to be an extension.
    #[inline(always)]
    fn header_fields(&self, hdr_off: u64) -> Result<Draft, ScanError> {
        let hdr = &self.hdr;
        let mode = self.num(&hdr[100..108], "mode", hdr_off)?;
        let uid = self.num(&hdr[108..116], "uid", hdr_off)?;
        let gid = self.num(&hdr[116..124], "gid", hdr_off)?;
        let size = self.num(&hdr[124..136], "size", hdr_off)?;
        let mtime = self.num(&hdr[136..148], "mtime", hdr_off)?;
        if size < 0 {
            return Err(self.err(format!("negative size in tar header at offset {hdr_off}")));
        }
        Ok(Draft {
            m: Member {
                name: Vec::new(),
                flag: hdr[156],
                mode: (mode & 0o7777) as u32,
                uid,
                gid,
                size,
                mtime,
                link: Vec::new(),
                xattrs: None,
                digest: None,
                offset: 0,
                sparse: false,
            },
            size,
        })
    }

    /// Reads one extension header's data into the scanner's pending pax
    /// records, long name or long link (`pending`: pax bytes so far). Each is capped (MAX_META) and the pax data before
    /// one member too (MAX_PENDING_META), so a stream of extensions cannot
    /// grow memory without bound.
    fn read_extension(
        &mut self,
        flag: u8,
        size: i64,
        hdr_off: u64,
        pending: &mut i64,
    ) -> Result<(), ScanError> {
        if size > MAX_META {
            return Err(self.err(format!(
                "tar extension header of {size} bytes at offset {hdr_off} exceeds the {} MiB limit",
                MAX_META >> 20
            )));
        }
        let data = self.take(size as usize, "extension header")?;
        let pad = (BLOCK - size as usize % BLOCK) % BLOCK;
        self.consume(pad as u64, None, b"padding")?;
        if flag == b'x' || flag == b'g' {
            *pending += size;
            if *pending > MAX_PENDING_META {
                return Err(self.err(format!(
                    "over {} MiB of pax headers before one member at offset {}",
                    MAX_PENDING_META >> 20,
                    self.offset()
                )));
            }
        }
        match flag {
            b'x' => self.parse_pax_into(&data, false),
            b'g' => {
                self.parse_pax_into(&data, true);
                self.global_size += size;
            }
            b'L' => self.long_name = Some(cstr(&data).to_vec()),
            _ => self.long_link = Some(cstr(&data).to_vec()),
        }
        Ok(())
    }

    /// The member's name and link target: the ustar fields (prefix/name),
    /// replaced by GNU long names, then by pax records. Long names and
    /// targets count against the layer's MAX_HELD_META.
    #[inline(always)]
    fn resolve_names(&mut self, draft: &mut Draft) -> Result<(), ScanError> {
        draft.m.name = match self.long_name.take() {
            Some(n) => n,
            None => ustar_name(&self.hdr),
        };
        let had_long = self.long_link.is_some();
        let had_long_name = draft.m.name.len() > 100;
        draft.m.link = match self.long_link.take() {
            Some(l) => l,
            None => cstr(&self.hdr[157..257]).to_vec(),
        };
        let long = had_long || had_long_name;
        if !self.pax.is_empty() || !self.pax_global.is_empty() {
            let renamed = self.apply_pax(draft)?;
            if renamed || long {
                self.hold(draft.m.name.len() + draft.m.link.len(), &draft.m.name)?;
            }
        } else if long {
            self.hold(draft.m.name.len() + draft.m.link.len(), &draft.m.name)?;
        }
        Ok(())
    }

    /// Applies the global and this member's pax records (the member's win)
    /// over the header's fields; returns whether a record renamed the member
    /// or its link (their text then counts as held metadata).
    fn apply_pax(&mut self, draft: &mut Draft) -> Result<bool, ScanError> {
        let mut ext: Vec<(Vec<u8>, Vec<u8>)> = self.pax_global.clone();
        for (k, v) in self.pax.drain(..) {
            if let Some(slot) = ext.iter_mut().find(|(ek, _)| *ek == k) {
                slot.1 = v;
            } else {
                ext.push((k, v));
            }
        }
        let renamed = pax_get(&ext, b"path").is_some() || pax_get(&ext, b"linkpath").is_some();
        if let Some(p) = pax_get(&ext, b"path") {
            draft.m.name = p.to_vec();
        }
        if let Some(l) = pax_get(&ext, b"linkpath") {
            draft.m.link = l.to_vec();
        }
        let bad = || {
            self.err(format!(
                "bad numeric pax record for {}",
                quote(&draft.m.name)
            ))
        };
        if let Some(v) = pax_get(&ext, b"size") {
            draft.size = pax_int(v).ok_or_else(bad)?;
            draft.m.size = draft.size;
        }
        if let Some(v) = pax_get(&ext, b"uid") {
            draft.m.uid = pax_int(v).ok_or_else(bad)?;
        }
        if let Some(v) = pax_get(&ext, b"gid") {
            draft.m.gid = pax_int(v).ok_or_else(bad)?;
        }
        if let Some(v) = pax_get(&ext, b"mtime") {
            draft.m.mtime = pax_time(v).ok_or_else(bad)?;
        }
        let sparse_size =
            pax_get(&ext, b"GNU.sparse.realsize").or_else(|| pax_get(&ext, b"GNU.sparse.size"));
        if let Some(v) = sparse_size {
            draft.m.sparse = true;
            draft.m.size = pax_int(v).ok_or_else(bad)?;
            if let Some(n) = pax_get(&ext, b"GNU.sparse.name") {
                draft.m.name = n.to_vec();
            }
        }
        if draft.size < 0 || draft.m.size < 0 {
            return Err(self.err(format!("negative size for {}", quote(&draft.m.name))));
        }
        self.collect_xattrs(&ext, draft)?;
        Ok(renamed)
    }

    /// `SCHILY.xattr.*` records become the member's xattrs; one over
    /// MAX_XATTR is dropped with a warning, the rest count as held metadata.
    fn collect_xattrs(
        &mut self,
        ext: &[(Vec<u8>, Vec<u8>)],
        draft: &mut Draft,
    ) -> Result<(), ScanError> {
        for (key, value) in ext {
            if let Some(attr) = key.strip_prefix(b"SCHILY.xattr.") {
                let attr_name = String::from_utf8_lossy(attr).into_owned();
                if value.len() > MAX_XATTR {
                    self.warn(format!(
                        "xattr {} of {} is {} bytes (over {} KiB); dropped",
                        quote(attr),
                        quote(&draft.m.name),
                        value.len(),
                        MAX_XATTR >> 10
                    ));
                    continue;
                }
                self.hold(key.len() + value.len(), &draft.m.name)?;
                draft
                    .m
                    .xattrs
                    .get_or_insert_with(Vec::new)
                    .push((attr_name, value.clone()));
            }
        }
        Ok(())
    }

    /// An old GNU sparse header ('S'): its real size, and the extension
    /// blocks that list more sparse regions (skipped: the map is not kept,
    /// a sparse file's digest is not computed).
    fn read_gnu_sparse(&mut self, hdr_off: u64, draft: &mut Draft) -> Result<(), ScanError> {
        draft.m.sparse = true;
        draft.m.size = self.num(&self.hdr[483..495], "sparse real size", hdr_off)?;
        if draft.m.size < 0 {
            return Err(self.err(format!("negative sparse size for {}", quote(&draft.m.name))));
        }
        let mut extended = self.hdr[482];
        while extended != 0 {
            let ext_block = self.take(BLOCK, "sparse header")?;
            extended = ext_block[504];
        }
        Ok(())
    }

    /// Passes the member's content and padding, hashing a regular file's
    /// bytes as they go (straight from the buffer when the file fits, so a
    /// small file costs no copy), and builds the member.
    #[inline(always)]
    fn pass_content(&mut self, d: Draft) -> Result<Member, ScanError> {
        let mut m = d.m;
        let flag = m.flag;
        m.offset = self.offset();
        let usize_size = d.size as u64;
        let pad = (BLOCK as u64 - usize_size % BLOCK as u64) % BLOCK as u64;
        if is_regular(flag) && !m.sparse && self.hash_files {
            let mut h = Sha256::new();
            if usize_size <= CHUNK as u64 && self.fill((usize_size + pad) as usize)? {
                let n = usize_size as usize;
                h.update(&self.buf[self.pos..self.pos + n]);
                self.pos += n + pad as usize;
            } else {
                self.consume(usize_size, Some(&mut h), &m.name)?;
                self.consume(pad, None, b"padding")?;
            }
            m.digest = Some(h.finalize().into());
        } else if d.size > 0
            && (is_regular(flag) || flag == b'S' || flag == b'D' || !is_known(flag))
        {
            // Links, devices, dirs and fifos carry no data (as tarfile and GNU
            // tar read them), whatever their size field claims.
            self.consume(usize_size + pad, None, &m.name)?;
        }
        if !(is_regular(flag) || flag == b'S') {
            m.size = 0;
        }
        Ok(m)
    }

    /// Reads what follows the end marker (for the diff_id), up to `limit`.
    /// Returns the bytes read, or -1 when the limit was hit.
    pub fn drain(&mut self, limit: u64) -> Result<i64, ScanError> {
        let rest = &self.buf[self.pos..self.end];
        let mut consumed = rest.len() as u64;
        if rest.iter().any(|&b| b != 0) {
            self.trailing_data = true;
        }
        self.pos = self.end;
        let mut chunk = vec![0u8; CHUNK];
        loop {
            let got = self.src.read(&mut chunk)?;
            if got == 0 {
                break;
            }
            consumed += got as u64;
            if !self.trailing_data && chunk[..got].iter().any(|&b| b != 0) {
                self.trailing_data = true;
            }
            if consumed > limit {
                return Ok(-1);
            }
        }
        Ok(consumed as i64)
    }
}
