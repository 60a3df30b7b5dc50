//! One pass over one layer blob: decompress, walk the tar, hash, and turn tar
//! members into the layer's own view of the filesystem: normalised paths (the
//! last duplicate wins), whiteout targets and opaque directories, plus both
//! digests to verify against the manifest and the config.
//!
//! Everything that goes wrong inside a layer ends as that layer's `error` (the
//! entries read before the damage are kept) or as one of its warnings; no
//! error here stops the other layers.

use std::collections::HashMap;
use std::io::Read;

use crate::blob::{hex_digest, Source, Tee};
use crate::decode::{Compression, Decoded};
use crate::tar::{quote, Member, ScanError, Scanner};
use crate::tree::{Rows, NONE};

/// Entry types, as the model and the JSON report name them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Hardlink,
    Char,
    Block,
    Fifo,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Symlink => "symlink",
            Kind::Hardlink => "hardlink",
            Kind::Char => "char",
            Kind::Block => "block",
            Kind::Fifo => "fifo",
        }
    }

    fn from_flag(flag: u8) -> Option<Kind> {
        Some(match flag {
            b'0' | 0 | b'7' | b'S' => Kind::File,
            b'1' => Kind::Hardlink,
            b'2' => Kind::Symlink,
            b'3' => Kind::Char,
            b'4' => Kind::Block,
            b'5' | b'D' => Kind::Dir,
            b'6' => Kind::Fifo,
            _ => return None,
        })
    }
}

/// One path as this layer lists it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: Vec<u8>,
    pub kind: Kind,
    pub mode: u32,
    pub uid: i64,
    pub gid: i64,
    pub size: i64,
    pub mtime: i64,
    pub link: Option<Vec<u8>>,
    pub digest: Option<[u8; 32]>,
    pub xattrs: Option<Vec<(String, Vec<u8>)>>,
    pub offset: u64,
}

/// Limits a caller may tighten (tests do, to reach them with small inputs).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_members: u64,
    pub trailing: u64,
    pub max_depth: usize,
    pub max_warnings: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_members: 2_000_000,
            trailing: 256 << 20,
            max_depth: 256,
            max_warnings: 50,
        }
    }
}

/// Kinds of warnings, named as the model names them (`layerscope.model`):
/// the gate refuses to pass an image with some of them.
pub mod kind {
    pub const TRAILING_DATA: &str = "trailing-data";
    pub const SPARSE: &str = "sparse";
    pub const ENTRIES_LEFT_OUT: &str = "entries-left-out";
    pub const TAR_HEADER: &str = "tar-header";
    pub const DUPLICATE: &str = "duplicate";
    pub const ABSOLUTE_NAMES: &str = "absolute-names";
    pub const INVALID_WHITEOUT: &str = "invalid-whiteout";
}

/// What one layer holds, or how far it could be read.
#[derive(Debug, Default)]
pub struct LayerScan {
    /// The layer's entries (normalised, the last duplicate kept), compact.
    pub rows: Rows,
    pub whiteouts: Vec<Vec<u8>>,
    pub opaque_dirs: Vec<Vec<u8>>,
    /// The first `max_warnings` warnings, each with its kind.
    pub warnings: Vec<(&'static str, String)>,
    /// Warnings past the cap, counted by kind (so the gate still sees them).
    pub overflow: Vec<(&'static str, u64)>,
    pub error: Option<String>,
    pub compression: &'static str,
    pub diff_id: Option<String>,
    pub digest: Option<String>,
    /// Bytes after the tar end were not all read: the diff_id is not comparable.
    pub diff_id_unverified: bool,
    pub uncompressed_bytes: u64,
    pub size_bytes: i64,
    pub members: u64,
}

/// `./a//b/` -> `/a/b`; None when the name climbs out with `..`.
pub fn normalise(name: &[u8]) -> Option<Vec<u8>> {
    let name = name.strip_prefix(b"./").unwrap_or(name);
    let mut out = Vec::with_capacity(name.len() + 1);
    for part in name.split(|&b| b == b'/') {
        if part == b".." {
            return None;
        }
        if !part.is_empty() && part != b"." {
            out.push(b'/');
            out.extend_from_slice(part);
        }
    }
    if out.is_empty() {
        out.push(b'/');
    }
    Some(out)
}

/// Called every few thousand members with the uncompressed bytes read so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

struct Walk {
    /// The layer's entries, compact from the start: one `Entry` at a time
    /// exists, for the member being read.
    rows: Rows,
    /// Rows a later member of the same path replaced (the last one wins).
    dead: Vec<bool>,
    /// Hash of a path -> its newest row; rows sharing a hash chain in `older`.
    index: HashMap<u64, u32, foldhash::fast::RandomState>,
    older: Vec<u32>,
    whiteouts: Vec<Vec<u8>>,
    opaque: Vec<Vec<u8>>,
    warnings: Vec<(&'static str, String)>,
    overflow: Vec<(&'static str, u64)>,
    max_warnings: usize,
    escaped: u64,
    too_deep: u64,
    absolute: u64,
    dupes: u64,
    unknown: Vec<u8>,
    size_bytes: i64,
    members: u64,
}

impl Walk {
    /// An empty walk: no rows yet, warnings capped at `limits.max_warnings`.
    fn new(limits: &Limits) -> Walk {
        Walk {
            rows: Rows::default(),
            dead: Vec::new(),
            index: HashMap::default(),
            older: Vec::new(),
            whiteouts: Vec::new(),
            opaque: Vec::new(),
            warnings: Vec::new(),
            overflow: Vec::new(),
            max_warnings: limits.max_warnings,
            escaped: 0,
            too_deep: 0,
            absolute: 0,
            dupes: 0,
            unknown: Vec::new(),
            size_bytes: 0,
            members: 0,
        }
    }

    /// One tar member becomes a row, a whiteout, an opaque marker, or is left
    /// out (counted for one summary warning). Runs once per member.
    fn add(&mut self, m: Member, name: &str, limits: &Limits) {
        if m.name.first() == Some(&b'/') {
            self.absolute += 1;
        }
        let Some(path) = normalise(&m.name) else {
            self.escaped += 1;
            return;
        };
        if memchr::memchr_iter(b'/', &path).count() > limits.max_depth {
            self.too_deep += 1;
            return;
        }
        // Cheap test first: a name without `.wh.` is never a whiteout.
        if memchr::memmem::find(&path, b".wh.").is_some() && self.whiteout(&path, &m.name, name) {
            return;
        }
        let Some(kind) = Kind::from_flag(m.flag) else {
            if !self.unknown.contains(&m.flag) {
                self.unknown.push(m.flag);
            }
            return;
        };
        let link = match kind {
            Kind::Symlink => Some(m.link),
            Kind::Hardlink => match normalise(&m.link) {
                Some(l) => Some(l),
                None => {
                    self.warn(
                        kind::ENTRIES_LEFT_OUT,
                        format!(
                            "{name}: hardlink {} -> {} escapes the root; ignored",
                            String::from_utf8_lossy(&path),
                            quote(&m.link)
                        ),
                    );
                    return;
                }
            },
            _ => None,
        };
        if kind == Kind::File {
            self.size_bytes = self.size_bytes.saturating_add(m.size);
            if m.sparse {
                self.warn(
                    kind::SPARSE,
                    format!(
                        "{name}: {} is a sparse file ({} bytes); its digest is not computed",
                        String::from_utf8_lossy(&path),
                        m.size
                    ),
                );
            }
        }
        self.insert(Entry {
            path,
            kind,
            mode: m.mode,
            uid: m.uid,
            gid: m.gid,
            size: m.size,
            mtime: m.mtime,
            link,
            digest: m.digest,
            xattrs: m.xattrs,
            offset: m.offset,
        });
    }

    /// Handles a path containing `.wh.`: true when it was whiteout
    /// bookkeeping (an opaque marker, a whiteout, aufs' own files, an invalid
    /// whiteout name) and so is no entry of the layer.
    fn whiteout(&mut self, path: &[u8], raw_name: &[u8], name: &str) -> bool {
        let base_start = memchr::memrchr(b'/', path).map_or(0, |i| i + 1);
        let base = &path[base_start..];
        let dir = &path[..base_start.saturating_sub(1)];
        if memchr::memmem::find(dir, b"/.wh..wh.").is_some() {
            return true; // inside aufs bookkeeping dirs (.wh..wh.plnk/...)
        }
        if !base.starts_with(b".wh.") {
            return false;
        }
        let parent: Vec<u8> = if dir.is_empty() {
            b"/".to_vec()
        } else {
            dir.to_vec()
        };
        if base == b".wh..wh..opq" {
            self.opaque.push(parent);
        } else if base.starts_with(b".wh..wh.") {
            // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not a whiteout
        } else if base == b".wh." || base == b".wh.." || base == b".wh..." {
            self.warn(
                kind::INVALID_WHITEOUT,
                format!(
                    "{name}: ignored whiteout with an invalid name {}",
                    quote(raw_name)
                ),
            );
        } else {
            let mut target = if parent == b"/" { Vec::new() } else { parent };
            target.push(b'/');
            target.extend_from_slice(&base[4..]);
            self.whiteouts.push(target);
        }
        true
    }

    /// Appends `entry` as a row; an earlier row of the same path is marked
    /// dead (the last occurrence wins, in its own tar position) and counted
    /// as a duplicate unless both are directories (tar lists those twice
    /// routinely).
    #[inline(always)]
    fn insert(&mut self, entry: Entry) {
        let h = {
            use std::hash::BuildHasher;
            self.index.hasher().hash_one(&entry.path)
        };
        let mut older = self.index.get(&h).copied().unwrap_or(NONE);
        let chain = older;
        while older != NONE {
            if self.rows.paths.get(older) == entry.path.as_slice() {
                if !self.dead[older as usize] {
                    self.dead[older as usize] = true;
                    if !(self.rows.recs[older as usize].kind == Kind::Dir
                        && entry.kind == Kind::Dir)
                    {
                        self.dupes += 1;
                    }
                }
                break;
            }
            older = self.older[older as usize];
        }
        let row = self.rows.len() as u32;
        self.rows.push(&entry);
        self.dead.push(false);
        self.older.push(chain);
        self.index.insert(h, row);
    }

    /// Keeps the first warnings; past the cap only counts them, by kind (a
    /// layer of a million sparse files must not hold a million messages).
    fn warn(&mut self, kind: &'static str, msg: String) {
        if self.warnings.len() < self.max_warnings {
            self.warnings.push((kind, msg));
        } else if let Some(slot) = self.overflow.iter_mut().find(|(k, _)| *k == kind) {
            slot.1 += 1;
        } else {
            self.overflow.push((kind, 1));
        }
    }
}

fn flag_repr(flag: u8) -> String {
    match flag {
        b' '..=b'~' if flag != b'\'' && flag != b'\\' => format!("'{}'", flag as char),
        b'\'' => "\"'\"".to_string(),
        b'\\' => "'\\\\'".to_string(),
        _ => format!("'\\x{flag:02x}'"),
    }
}

/// Reads one layer from `source`. `name` prefixes every message.
pub fn scan(
    source: Source,
    name: &str,
    limits: &Limits,
    progress: Option<Progress<'_>>,
) -> LayerScan {
    let mut out = LayerScan {
        compression: "none",
        ..LayerScan::default()
    };
    let mut walk = Walk::new(limits);
    let mut tail = Tail::default();
    match read_layer(
        source, name, limits, progress, &mut walk, &mut out, &mut tail,
    ) {
        Ok(d) => {
            out.digest = Some(d.raw.unwrap_or_else(|| d.diff_id.clone()));
            out.diff_id = Some(d.diff_id);
            out.uncompressed_bytes = d.count;
        }
        Err(e) => out.error = Some(e.0),
    }
    out.diff_id_unverified = tail.trailing < 0;
    for w in tail.scanner_warnings {
        // malformed pax records, oversized xattrs
        walk.warn(kind::TAR_HEADER, w);
    }
    walk.summarise(name, limits);
    walk.into_scan(out)
}

/// What a fully read layer stream proves: the digest of its uncompressed
/// bytes (the diff_id), of its compressed bytes when compressed, and how
/// many uncompressed bytes there were.
struct Digests {
    diff_id: String,
    raw: Option<String>,
    count: u64,
}

/// What `read_layer` leaves even when it fails: the bytes after the tar end
/// (-1: not all read, so the diff_id is unverified) and the scanner's own
/// warnings, which `scan` files after the walk's.
#[derive(Default)]
struct Tail {
    trailing: i64,
    scanner_warnings: Vec<String>,
}

/// Decompresses and walks the layer to its end, then reads what follows the
/// tar so both digests cover the whole blob. An error keeps what was read
/// before it (rows in `walk`, counts in `out`).
fn read_layer(
    source: Source,
    name: &str,
    limits: &Limits,
    progress: Option<Progress<'_>>,
    walk: &mut Walk,
    out: &mut LayerScan,
    tail: &mut Tail,
) -> Result<Digests, ScanError> {
    let decoded = Decoded::new(source, name, true)?;
    out.compression = decoded.compression.name();
    let mut scanner = Scanner::new(Tee::new(decoded, true), name, true);
    let outcome = walk_members(&mut scanner, walk, name, limits, progress);
    tail.scanner_warnings = std::mem::take(&mut scanner.warnings);
    out.uncompressed_bytes = scanner.get_mut().count;
    if let Err(e) = outcome {
        return Err(root_cause(scanner.get_mut().get_mut(), e));
    }
    let zstd = scanner.get_mut().get_mut().compression == Compression::Zstd;
    if !scanner.saw_end_marker && zstd {
        // zstd gives no error when its input stops mid-frame: the tar end tells.
        return Err(ScanError::tar(format!(
            "{name}: zstd stream ends before the end of the tar (truncated)"
        )));
    }
    tail.trailing = read_trailing(&mut scanner, walk, name, limits)?;
    if scanner.trailing_data {
        walk.warn(
            kind::TRAILING_DATA,
            format!("{name}: non-zero data after the tar end-of-archive marker was not read"),
        );
    }
    let tee = scanner.get_mut();
    let count = tee.count;
    let diff_id = tee.digest().unwrap_or_default();
    let decoded = tee.get_mut();
    if decoded.trailing_garbage {
        walk.warn(
            kind::TRAILING_DATA,
            format!("{name}: garbage after the end of the compressed stream"),
        );
    }
    let raw = decoded.raw_digest();
    tail.scanner_warnings.append(&mut scanner.warnings);
    Ok(Digests {
        diff_id,
        raw,
        count,
    })
}

/// Reads the bytes after the tar end (up to `limits.trailing`) and the rest
/// of the compressed stream. Returns the bytes read, or -1 when not all
/// were (the diff_id cannot then be verified; warned). Only a failed
/// checksum of the compressed stream is an error: then the tar itself was
/// not the bytes that were compressed.
fn read_trailing(
    scanner: &mut Scanner<Tee<Decoded>>,
    walk: &mut Walk,
    name: &str,
    limits: &Limits,
) -> Result<i64, ScanError> {
    let drained = scanner.drain(limits.trailing).and_then(|t| {
        scanner.get_mut().get_mut().drain_raw()?;
        Ok(t)
    });
    match drained {
        Ok(t) => {
            if t < 0 {
                walk.warn(
                    kind::TRAILING_DATA,
                    format!(
                        "{name}: over {} MiB of data after the tar end; diff_id not verified",
                        limits.trailing >> 20
                    ),
                );
            }
            Ok(t)
        }
        Err(e) if e.0.contains("checksum") => Err(e),
        Err(e) => {
            // Every member was read: what follows the tar is damaged, not the layer.
            walk.warn(
                kind::TRAILING_DATA,
                format!("{} (after the end of the tar; diff_id not verified)", e.0),
            );
            Ok(-1)
        }
    }
}

impl Walk {
    /// One warning per kind of member left out or read differently, with
    /// its count (a layer of a million such members warns once).
    fn summarise(&mut self, name: &str, limits: &Limits) {
        if self.escaped > 0 {
            let msg = format!(
                "{name}: {} entries with '..' in their names rejected (they would escape the root)",
                self.escaped
            );
            self.warn(kind::ENTRIES_LEFT_OUT, msg);
        }
        if self.too_deep > 0 {
            let msg = format!(
                "{name}: {} entries nested deeper than {} directories left out",
                self.too_deep, limits.max_depth
            );
            self.warn(kind::ENTRIES_LEFT_OUT, msg);
        }
        if self.absolute > 0 {
            let msg = format!(
                "{name}: {} entries with absolute names read relative to the root",
                self.absolute
            );
            self.warn(kind::ABSOLUTE_NAMES, msg);
        }
        if self.dupes > 0 {
            let msg = format!(
                "{name}: {} paths appear more than once; the last entry wins",
                self.dupes
            );
            self.warn(kind::DUPLICATE, msg);
        }
        if !self.unknown.is_empty() {
            let mut flags: Vec<String> = self.unknown.iter().map(|&f| flag_repr(f)).collect();
            flags.sort();
            let msg = format!(
                "{name}: entries with unknown tar types {} ignored",
                flags.join(", ")
            );
            self.warn(kind::ENTRIES_LEFT_OUT, msg);
        }
    }

    /// The walk's results moved into `out`: the rows without the dead
    /// duplicates (copied only when there are some), shrunk to fit.
    fn into_scan(self, mut out: LayerScan) -> LayerScan {
        out.warnings = self.warnings;
        out.overflow = self.overflow;
        out.rows = if self.dead.contains(&true) {
            self.rows.retain(&self.dead)
        } else {
            self.rows
        };
        out.rows.shrink();
        out.whiteouts = self.whiteouts;
        out.opaque_dirs = self.opaque;
        out.size_bytes = self.size_bytes;
        out.members = self.members;
        out
    }
}

/// A tar error in a compressed layer is often the first sign of corrupt
/// compressed data (a flipped bit inflates to garbage before the stream's own
/// checksum fails). Reading on a little tells which: the compression error
/// is the cause worth naming.
fn root_cause(decoded: &mut Decoded, tar_error: ScanError) -> ScanError {
    if decoded.compression == Compression::None || tar_error.1 == crate::tar::Cause::Read {
        return tar_error; // nothing to learn: the read itself failed
    }
    let mut buf = vec![0u8; 1 << 16];
    let mut left: usize = 16 << 20;
    while left > 0 {
        match decoded.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => left = left.saturating_sub(n),
            Err(e) => return ScanError(format!("{e} ({})", tar_error.0), crate::tar::Cause::Read),
        }
    }
    tar_error
}

fn walk_members<R: Read>(
    scanner: &mut Scanner<Tee<R>>,
    walk: &mut Walk,
    name: &str,
    limits: &Limits,
    progress: Option<Progress<'_>>,
) -> Result<(), ScanError> {
    while let Some(m) = scanner.next_member()? {
        walk.members += 1;
        if walk.members.is_multiple_of(4096) {
            if let Some(p) = progress {
                p(scanner.get_mut().count);
            }
            if walk.members >= limits.max_members {
                return Err(ScanError::tar(format!(
                    "{name}: over {} tar members; the rest of the layer is not read",
                    limits.max_members
                )));
            }
        }
        walk.add(m, name, limits);
    }
    Ok(())
}

/// `sha256:` hex of a raw 32-byte digest (for callers outside this module).
pub fn digest_str(d: &[u8; 32]) -> String {
    hex_digest(d)
}
