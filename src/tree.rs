//! The merged model of an image: every path's timeline across the layers,
//! kept in flat arrays the Python side reads through accessors.
//!
//! Why flat arrays: a 500k-entry image held as one Python object per entry
//! costs ~700 bytes an entry and seconds of allocation; here an entry is one
//! 64-byte record, a path is stored once, and events and children are
//! compressed index lists. Python objects are made only for what a view or
//! a rule asks for.
//!
//! The merge follows the OCI image spec ("Applying Changesets"): whiteouts
//! and opaque markers hide *lower* layers only and apply before the layer's
//! own entries whatever the tar order; replacing a directory by a
//! non-directory deletes the old subtree; missing parents become implicit
//! directories; a hardlink takes its target's size and digest.

use std::collections::HashMap;

use crate::layer::{Entry, Kind};

pub const NONE: u32 = u32::MAX;
/// An event id with this bit set is a deletion, otherwise an entry id.
pub const DEL: u32 = 1 << 31;

/// How a layer's entry relates to the version beneath it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Change {
    Added,
    Modified,
    Metadata,
    Rewritten,
    TypeChanged,
}

impl Change {
    pub const ALL: [Change; 5] = [
        Change::Added,
        Change::Modified,
        Change::Metadata,
        Change::Rewritten,
        Change::TypeChanged,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Modified => "modified",
            Change::Metadata => "metadata",
            Change::Rewritten => "rewritten",
            Change::TypeChanged => "type-changed",
        }
    }
}

/// How a path was deleted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum How {
    Whiteout,
    Opaque,
    Replaced,
}

impl How {
    pub const ALL: [How; 3] = [How::Whiteout, How::Opaque, How::Replaced];
    pub fn name(self) -> &'static str {
        match self {
            How::Whiteout => "whiteout",
            How::Opaque => "opaque",
            How::Replaced => "replaced",
        }
    }
}

pub const KINDS: [Kind; 7] = [
    Kind::File,
    Kind::Dir,
    Kind::Symlink,
    Kind::Hardlink,
    Kind::Char,
    Kind::Block,
    Kind::Fifo,
];

/// Byte strings stored end to end: one allocation for all of them.
#[derive(Default, Debug)]
pub struct Strings {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Strings {
    pub fn push(&mut self, s: &[u8]) -> u32 {
        self.bytes.extend_from_slice(s);
        self.ends.push(self.bytes.len());
        (self.ends.len() - 1) as u32
    }
    pub fn get(&self, i: u32) -> &[u8] {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    pub fn shrink(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * std::mem::size_of::<usize>()
    }
}

/// One layer's version of one path.
#[derive(Clone, Copy, Debug)]
pub struct Rec {
    pub size: i64,
    pub mtime: i64,
    pub uid: i64,
    pub gid: i64,
    /// Where the content starts in the uncompressed layer stream.
    pub offset: u64,
    pub mode: u32,
    /// Path id (after the merge; a row index in `Rows` before it).
    pub path: u32,
    pub link: u32,
    pub digest: u32,
    pub xattrs: u32,
    /// The entry whose bytes this one shows (hardlinks, overlay metacopy).
    pub source: u32,
    pub layer: u16,
    pub kind: Kind,
    pub change: Change,
    /// A directory the merge made because a layer listed something inside it.
    pub implicit: bool,
}

/// A path removed by a layer.
#[derive(Clone, Copy, Debug)]
pub struct Deletion {
    pub path: u32,
    pub cause: u32,
    pub layer: u16,
    pub how: How,
}

pub type Xattrs = Vec<(String, Vec<u8>)>;

/// One layer's entries, compact, between the scan and the merge.
#[derive(Default, Debug)]
pub struct Rows {
    pub recs: Vec<Rec>,
    pub paths: Strings,
    pub links: Strings,
    pub digests: Vec<[u8; 32]>,
    pub xattrs: Vec<Xattrs>,
    pub whiteouts: Vec<Vec<u8>>,
    pub opaque_dirs: Vec<Vec<u8>>,
    /// Per row: the path of the lower version whose bytes it shows (overlay metacopy).
    pub sources: Vec<(u32, Vec<u8>)>,
}

impl Rows {
    pub fn push(&mut self, e: &Entry) {
        let path = self.paths.push(&e.path);
        let link = e.link.as_deref().map_or(NONE, |l| self.links.push(l));
        let digest = e.digest.map_or(NONE, |d| {
            self.digests.push(d);
            (self.digests.len() - 1) as u32
        });
        let xattrs = match &e.xattrs {
            Some(x) if !x.is_empty() => {
                self.xattrs.push(x.clone());
                (self.xattrs.len() - 1) as u32
            }
            _ => NONE,
        };
        self.recs.push(Rec {
            size: e.size,
            mtime: e.mtime,
            uid: e.uid,
            gid: e.gid,
            offset: e.offset,
            mode: e.mode,
            path,
            link,
            digest,
            xattrs,
            source: NONE,
            layer: 0,
            kind: e.kind,
            change: Change::Added,
            implicit: false,
        });
    }

    pub fn len(&self) -> usize {
        self.recs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// Release what the arrays reserved beyond their length.
    pub fn shrink(&mut self) {
        self.recs.shrink_to_fit();
        self.paths.shrink();
        self.links.shrink();
        self.digests.shrink_to_fit();
    }

    /// One row as the scanner's `Entry`.
    pub fn entry(&self, i: usize) -> Entry {
        let r = &self.recs[i];
        Entry {
            path: self.paths.get(i as u32).to_vec(),
            kind: r.kind,
            mode: r.mode,
            uid: r.uid,
            gid: r.gid,
            size: r.size,
            mtime: r.mtime,
            link: (r.link != NONE).then(|| self.links.get(r.link).to_vec()),
            digest: (r.digest != NONE).then(|| self.digests[r.digest as usize]),
            xattrs: (r.xattrs != NONE).then(|| self.xattrs[r.xattrs as usize].clone()),
            offset: r.offset,
        }
    }

    /// The rows not marked in `dead`, in their order (duplicates dropped).
    pub fn retain(&self, dead: &[bool]) -> Rows {
        let mut out = Rows::default();
        for (i, &gone) in dead.iter().enumerate().take(self.len()) {
            if !gone {
                out.push(&self.entry(i));
            }
        }
        out.whiteouts.clone_from(&self.whiteouts);
        out.opaque_dirs.clone_from(&self.opaque_dirs);
        out
    }
}

/// What the merge counted in one layer.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    pub entries: u64,
    pub added: u64,
    pub modified: u64,
    pub metadata: u64,
    pub rewritten: u64,
    pub type_changed: u64,
    pub deleted: u64,
    pub dirs_rewritten: u64,
}

/// Every layer's rows, kept where the scan put them: the merged model points
/// into them instead of copying (an entry is its layer's row, a path's text
/// is the row of the first entry that has it). Slot `nlayers` holds the
/// directories the merge made (implicit parents).
#[derive(Debug, Default)]
struct Slots {
    rows: Vec<Rows>,
    /// `base[s]` is the id of slot `s`'s first entry.
    base: Vec<u32>,
    /// Per block of `1 << BLOCK` ids below the implicit slot: the slot its
    /// first id is in (so finding an entry's slot is a lookup, not a search).
    block: Vec<u32>,
}

const BLOCK: u32 = 10;

impl Slots {
    fn new(rows: Vec<Rows>) -> Slots {
        let mut base = Vec::with_capacity(rows.len() + 1);
        let mut acc = 0u32;
        for r in &rows {
            base.push(acc);
            acc += r.len() as u32;
        }
        base.push(acc);
        let implicit = base[rows.len() - 1];
        let block = (0..=(implicit >> BLOCK))
            .map(|b| (base.partition_point(|&x| x <= b << BLOCK) - 1) as u32)
            .collect();
        Slots { rows, base, block }
    }

    fn locate(&self, eid: u32) -> (usize, usize) {
        let last = self.rows.len() - 1;
        if eid >= self.base[last] {
            return (last, (eid - self.base[last]) as usize);
        }
        let mut s = self.block[(eid >> BLOCK) as usize] as usize;
        while self.base[s + 1] <= eid {
            s += 1;
        }
        (s, (eid - self.base[s]) as usize)
    }
    fn rec(&self, eid: u32) -> &Rec {
        let (s, i) = self.locate(eid);
        &self.rows[s].recs[i]
    }
    fn rec_mut(&mut self, eid: u32) -> &mut Rec {
        let (s, i) = self.locate(eid);
        &mut self.rows[s].recs[i]
    }
    /// The path text stored with an entry (its row's own name).
    fn text(&self, eid: u32) -> &[u8] {
        let (s, i) = self.locate(eid);
        self.rows[s].paths.get(i as u32)
    }
    fn own_digest(&self, eid: u32) -> Option<&[u8; 32]> {
        let (s, i) = self.locate(eid);
        let r = &self.rows[s].recs[i];
        (r.digest != NONE).then(|| &self.rows[s].digests[r.digest as usize])
    }
    /// The digest of the bytes an entry shows: a hardlink's or a copy-up's
    /// are its source's.
    fn digest(&self, eid: u32) -> Option<&[u8; 32]> {
        let r = self.rec(eid);
        if r.source != NONE {
            self.own_digest(r.source)
        } else {
            self.own_digest(eid)
        }
    }
    fn link(&self, eid: u32) -> Option<&[u8]> {
        let (s, i) = self.locate(eid);
        let r = &self.rows[s].recs[i];
        (r.link != NONE).then(|| self.rows[s].links.get(r.link))
    }
    fn xattrs(&self, eid: u32) -> Option<&Xattrs> {
        let (s, i) = self.locate(eid);
        let r = &self.rows[s].recs[i];
        (r.xattrs != NONE).then(|| &self.rows[s].xattrs[r.xattrs as usize])
    }
    fn len(&self) -> u32 {
        self.base.last().copied().unwrap_or(0)
    }
}

/// The merged image: read-only once built.
#[derive(Debug, Default)]
pub struct Tree {
    slots: Slots,
    /// Path ids are ranks in byte order (the root `/` is 0): the entry holding each one's text.
    loc: Vec<u32>,
    parent: Vec<u32>,
    /// Per path, `events[ev_start[p]..ev_start[p+1]]` in layer order.
    ev_start: Vec<u32>,
    events: Vec<u32>,
    /// Per path, its children's ids (sorted, since ids are).
    kid_start: Vec<u32>,
    kids: Vec<u32>,
    pub dels: Vec<Deletion>,
    layer_dels: Vec<Vec<u32>>,
    pub counts: Vec<Counts>,
    /// Per layer: what the merge had to say about it.
    pub warnings: Vec<Vec<(&'static str, Vec<u8>)>>,
}

/// A layer's own byte figures by path id (see `Tree::layer_bytes`).
#[derive(Debug, Default)]
pub struct LayerBytes {
    pub added: Vec<(u32, i64)>,
    pub hidden: Vec<(u32, i64)>,
    pub delta: Vec<(u32, i64)>,
    pub changed: Vec<u32>,
}

/// One layer for the merge: its index, its name in messages, and its rows.
pub struct LayerInput {
    pub index: usize,
    pub name: String,
    pub rows: Rows,
}

/// Kinds of the merge's own warnings, as the model names them.
pub const WARN_MERGE: &str = "merge";
pub const WARN_SPARSE: &str = "sparse";
pub const WARN_CONTAINER: &str = "container-layer";

fn parent_of(path: &[u8]) -> &[u8] {
    match memchr::memrchr(b'/', path) {
        Some(0) | None => b"/",
        Some(i) => &path[..i],
    }
}

fn content_kind(k: Kind) -> Kind {
    if k == Kind::Hardlink {
        Kind::File
    } else {
        k
    }
}

/// Paths seen by the merge, by first-seen id, with an index by hash; the
/// text stays in the rows (`loc`: the entry that holds it).
struct Names {
    loc: Vec<u32>,
    /// Hash of a path -> the newest id with that hash; older ones follow `chain`.
    index: HashMap<u64, u32, foldhash::fast::RandomState>,
    chain: Vec<u32>,
    seed: foldhash::fast::RandomState,
}

impl Names {
    fn with_capacity(n: usize) -> Names {
        Names {
            loc: Vec::with_capacity(n),
            index: HashMap::with_capacity_and_hasher(n, Default::default()),
            chain: Vec::with_capacity(n),
            seed: Default::default(),
        }
    }

    fn hash(&self, path: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.seed.hash_one(path)
    }

    /// Always inlined: in `Merge::intern` the path's hash is then computed
    /// once for this lookup and the `add` after it.
    #[inline(always)]
    fn get(&self, slots: &Slots, path: &[u8]) -> Option<u32> {
        let mut id = *self.index.get(&self.hash(path))?;
        loop {
            if slots.text(self.loc[id as usize]) == path {
                return Some(id);
            }
            id = self.chain[id as usize];
            if id == NONE {
                return None;
            }
        }
    }

    /// A new id for `path`, whose text entry `at` holds.
    fn add(&mut self, path: &[u8], at: u32) -> u32 {
        let id = self.loc.len() as u32;
        self.loc.push(at);
        let h = self.hash(path);
        let older = self.index.insert(h, id).unwrap_or(NONE);
        self.chain.push(older);
        id
    }

    fn len(&self) -> usize {
        self.loc.len()
    }
}

/// State of the merge while layers are applied; path ids here are in first-seen order.
struct Merge {
    slots: Slots,
    names: Names,
    parent: Vec<u32>,
    last: Vec<u32>,
    first_kid: Vec<u32>,
    next_sib: Vec<u32>,
    dels: Vec<Deletion>,
    /// Per entry id: the previous event of its path.
    rec_prev: Vec<u32>,
    del_prev: Vec<u32>,
    nevents: usize,
    implicit: usize,
}

const ROOT: &[u8] = b"/";

impl Merge {
    fn ev_layer(&self, ev: u32) -> u16 {
        if ev & DEL != 0 {
            self.dels[(ev & !DEL) as usize].layer
        } else {
            self.slots.rec(ev).layer
        }
    }

    fn prev_of(&self, ev: u32) -> u32 {
        if ev & DEL != 0 {
            self.del_prev[(ev & !DEL) as usize]
        } else {
            self.rec_prev[ev as usize]
        }
    }

    #[inline]
    fn lookup(&self, path: &[u8]) -> Option<u32> {
        self.names.get(&self.slots, path)
    }

    /// The id of `path`; a new path's text is the entry `at` (NONE: store
    /// it with a new implicit-slot row, which the caller then fills).
    fn intern(&mut self, path: &[u8], at: u32) -> u32 {
        if let Some(id) = self.lookup(path) {
            return id;
        }
        let at = if at == NONE { self.text_row(path) } else { at };
        let id = self.names.add(path, at);
        self.parent.push(NONE);
        self.last.push(NONE);
        self.first_kid.push(NONE);
        self.next_sib.push(NONE);
        id
    }

    /// A row in the implicit slot that holds `path`'s text (its record is a
    /// placeholder until `implicit_dir` fills it, or stays orphaned).
    fn text_row(&mut self, path: &[u8]) -> u32 {
        let slot = self.slots.rows.len() - 1;
        let rows = &mut self.slots.rows[slot];
        rows.paths.push(path);
        rows.recs.push(Rec {
            size: 0,
            mtime: 0,
            uid: 0,
            gid: 0,
            offset: 0,
            mode: 0o755,
            path: NONE,
            link: NONE,
            digest: NONE,
            xattrs: NONE,
            source: NONE,
            layer: 0,
            kind: Kind::Dir,
            change: Change::Added,
            implicit: true,
        });
        self.rec_prev.push(NONE);
        let eid = self.slots.base[slot] + self.implicit as u32;
        self.implicit += 1;
        *self.slots.base.last_mut().expect("bases") = eid + 1;
        eid
    }

    /// The newest event of a path, as an entry id when it is one.
    fn current_entry(&self, id: u32) -> Option<u32> {
        let ev = self.last[id as usize];
        (ev != NONE && ev & DEL == 0).then_some(ev)
    }

    /// The entry at or below layer `k`, None when deleted or absent.
    fn entry_at(&self, id: u32, k: i64) -> Option<u32> {
        let mut ev = self.last[id as usize];
        while ev != NONE {
            if i64::from(self.ev_layer(ev)) <= k {
                return (ev & DEL == 0).then_some(ev);
            }
            ev = self.prev_of(ev);
        }
        None
    }

    fn push(&mut self, id: u32, ev: u32) {
        let prev = self.last[id as usize];
        if prev == NONE && id != 0 {
            let text = self.slots.text(self.names.loc[id as usize]);
            let parent = parent_of(text).to_vec();
            let parent = self.intern(&parent, NONE);
            self.parent[id as usize] = parent;
            self.next_sib[id as usize] = self.first_kid[parent as usize];
            self.first_kid[parent as usize] = id;
        }
        if ev & DEL != 0 {
            self.del_prev.push(prev);
        } else {
            self.rec_prev[ev as usize] = prev;
        }
        self.last[id as usize] = ev;
        self.nevents += 1;
    }

    fn kids(&self, id: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut k = self.first_kid[id as usize];
        while k != NONE {
            out.push(k);
            k = self.next_sib[k as usize];
        }
        out.reverse(); // first seen first
        out
    }

    fn delete(&mut self, id: u32, layer: u16, how: How, cause: u32, out: &mut Vec<u32>) {
        let mut stack = vec![id];
        while let Some(p) = stack.pop() {
            if p == 0 {
                continue;
            }
            let Some(cur) = self.current_entry(p) else {
                continue;
            };
            let d = self.dels.len() as u32;
            self.dels.push(Deletion {
                path: p,
                cause,
                layer,
                how,
            });
            self.push(p, d | DEL);
            out.push(d);
            if self.slots.rec(cur).kind == Kind::Dir {
                stack.extend(self.kids(p));
            }
        }
    }

    /// How `new` (entry `eid`, not yet in its timeline) relates to `prev`.
    fn classify(&self, prev: Option<u32>, new: &Rec, eid: u32) -> Change {
        let Some(prev) = prev else {
            return Change::Added;
        };
        let p = self.slots.rec(prev);
        let (pt, nt) = (content_kind(p.kind), content_kind(new.kind));
        if pt != nt {
            return Change::TypeChanged;
        }
        if nt == Kind::File {
            let pd = self.slots.digest(prev);
            let nd = if new.source != NONE {
                self.slots.own_digest(new.source)
            } else {
                self.slots.own_digest(eid)
            };
            if pd != nd || p.size != new.size || (nd.is_none() && new.size != 0) {
                return Change::Modified;
            }
        } else if nt == Kind::Symlink && self.slots.link(prev) != self.slots.link(eid) {
            return Change::Modified;
        }
        if p.mode != new.mode
            || p.uid != new.uid
            || p.gid != new.gid
            || !self.same_xattrs(prev, eid)
        {
            return Change::Metadata;
        }
        Change::Rewritten
    }

    /// Equal xattrs whatever their order (as the layers list them).
    fn same_xattrs(&self, a: u32, b: u32) -> bool {
        let sorted = |eid: u32| {
            self.slots.xattrs(eid).map(|x| {
                let mut v: Vec<&(String, Vec<u8>)> = x.iter().collect();
                v.sort();
                v
            })
        };
        let (xa, xb) = (sorted(a), sorted(b));
        xa == xb
    }

    fn implicit_dir(&mut self, id: u32, layer: u16) {
        // The path's text row may be this very placeholder: reuse it when free.
        let at = self.names.loc[id as usize];
        let eid = if self.is_free_placeholder(at) {
            at
        } else {
            self.text_row_for(id)
        };
        let before = self.entry_at(id, i64::from(layer) - 1);
        let mut rec = *self.slots.rec(eid);
        rec.path = id;
        rec.layer = layer;
        rec.change = self.classify(before, &rec, eid);
        *self.slots.rec_mut(eid) = rec;
        self.push(id, eid);
    }

    fn is_free_placeholder(&self, eid: u32) -> bool {
        let r = self.slots.rec(eid);
        r.implicit && r.path == NONE && eid >= self.slots.base[self.slots.rows.len() - 1]
    }

    fn text_row_for(&mut self, id: u32) -> u32 {
        let text = self.slots.text(self.names.loc[id as usize]).to_vec();
        self.text_row(&text)
    }

    fn ensure_parents(&mut self, path: &[u8], layer: u16, warn: &mut Vec<Vec<u8>>) {
        let parent = parent_of(path);
        if parent == ROOT {
            return;
        }
        let mut chain: Vec<u32> = Vec::new();
        let mut q = parent;
        while q != ROOT {
            let id = self.intern(q, NONE);
            if let Some(cur) = self.current_entry(id) {
                let kind = self.slots.rec(cur).kind;
                if kind == Kind::Dir {
                    break;
                }
                warn.push(message(&[
                    format!("layer {layer}: ").as_bytes(),
                    q,
                    format!(
                        " is a {} but is used as a directory; replaced by one",
                        kind.name()
                    )
                    .as_bytes(),
                ]));
                chain.push(id);
                break;
            }
            chain.push(id);
            q = parent_of(q);
        }
        for id in chain.into_iter().rev() {
            self.implicit_dir(id, layer);
        }
    }

    fn resolve_hardlink(&self, rec: &mut Rec, path: &[u8], link: &[u8], warn: &mut Vec<Vec<u8>>) {
        let layer = rec.layer;
        let cur = self.lookup(link).and_then(|t| self.current_entry(t));
        if link == path {
            warn.push(message(&[
                format!("layer {layer}: hardlink ").as_bytes(),
                path,
                b" points to itself",
            ]));
        } else if let Some(cur) = cur {
            let c = self.slots.rec(cur);
            if content_kind(c.kind) != Kind::File {
                warn.push(message(&[
                    format!("layer {layer}: hardlink ").as_bytes(),
                    path,
                    b" -> ",
                    link,
                    format!(": target is a {}", c.kind.name()).as_bytes(),
                ]));
            } else {
                // Its bytes (and so its digest) are the data entry's.
                rec.source = if c.source != NONE { c.source } else { cur };
                rec.size = c.size;
            }
        } else {
            warn.push(message(&[
                format!("layer {layer}: hardlink ").as_bytes(),
                path,
                b" -> ",
                link,
                b": target missing",
            ]));
        }
    }

    /// The newest entry of `path` in layers below `layer`, deleted or not,
    /// following one hardlink: the bytes an overlay metacopy entry shows.
    fn metacopy_source(&self, path: &[u8], layer: u16) -> Option<u32> {
        let id = self.lookup(path)?;
        let mut ev = self.last[id as usize];
        while ev != NONE && (ev & DEL != 0 || self.ev_layer(ev) >= layer) {
            ev = self.prev_of(ev);
        }
        if ev == NONE {
            return None;
        }
        let r = self.slots.rec(ev);
        if r.kind == Kind::Hardlink {
            return (r.source != NONE).then_some(r.source);
        }
        (r.kind == Kind::File).then_some(ev)
    }
}

/// What one layer's merge says about it, gathered while its rows are applied.
#[derive(Default)]
struct LayerLog {
    /// Merge warnings (already worded).
    warn: Vec<Vec<u8>>,
    /// Deletions this layer made, by index in `Merge::dels`.
    dels: Vec<u32>,
    /// Metacopy entries whose lower file was not found: (path, target).
    metacopy_missing: Vec<(Vec<u8>, Vec<u8>)>,
    metacopy_resolved: u64,
}

/// Reused byte buffers: a row's path and link are copied out of the rows
/// (which the merge mutates) into these, so no row allocates.
#[derive(Default)]
struct Scratch {
    path: Vec<u8>,
    link: Vec<u8>,
}

impl Merge {
    /// An empty merge over `slots`, sized for every entry they hold, with
    /// the root interned as path id 0.
    fn new(slots: Slots) -> Merge {
        let total = slots.len() as usize;
        let mut m = Merge {
            slots,
            names: Names::with_capacity(total + 1),
            parent: Vec::with_capacity(total + 1),
            last: Vec::with_capacity(total + 1),
            first_kid: Vec::with_capacity(total + 1),
            next_sib: Vec::with_capacity(total + 1),
            dels: Vec::new(),
            rec_prev: vec![NONE; total],
            del_prev: Vec::new(),
            nevents: 0,
            implicit: 0,
        };
        m.intern(ROOT, NONE);
        m
    }

    /// Applies layer `idx` over the layers below: opaque dirs and whiteouts
    /// first (they act on what lies below, never on the layer's own entries),
    /// then its rows in tar order.
    fn apply_layer(&mut self, idx: usize, scratch: &mut Scratch) -> LayerLog {
        let mut log = LayerLog::default();
        self.apply_opaque_dirs(idx, &mut log);
        self.apply_whiteouts(idx, &mut log);
        let sources: HashMap<u32, Vec<u8>> = std::mem::take(&mut self.slots.rows[idx].sources)
            .into_iter()
            .collect();
        for row in 0..self.slots.rows[idx].len() {
            self.apply_row(idx, row, &sources, scratch, &mut log);
        }
        log
    }

    /// An opaque directory hides every child the layers below gave it (the
    /// root always counts as a live directory: it has no events of its own).
    fn apply_opaque_dirs(&mut self, idx: usize, log: &mut LayerLog) {
        let layer = idx as u16;
        for d in std::mem::take(&mut self.slots.rows[idx].opaque_dirs).iter() {
            if let Some(id) = self.lookup(d) {
                if id == 0
                    || self
                        .current_entry(id)
                        .is_some_and(|e| self.slots.rec(e).kind == Kind::Dir)
                {
                    for child in self.kids(id) {
                        self.delete(child, layer, How::Opaque, id, &mut log.dels);
                    }
                }
            }
            self.slots.rows[idx].opaque_dirs.push(d.clone());
        }
    }

    /// A whiteout deletes its target and everything under it; one of the
    /// root is refused with a warning.
    fn apply_whiteouts(&mut self, idx: usize, log: &mut LayerLog) {
        let layer = idx as u16;
        for w in std::mem::take(&mut self.slots.rows[idx].whiteouts).iter() {
            if w.as_slice() == ROOT {
                log.warn
                    .push(format!("layer {idx}: whiteout of the root ignored").into_bytes());
            } else if let Some(id) = self.lookup(w) {
                self.delete(id, layer, How::Whiteout, id, &mut log.dels);
            }
            self.slots.rows[idx].whiteouts.push(w.clone());
        }
    }

    /// One row of layer `idx` joins its path's timeline: parents made
    /// directories, a directory replaced by a non-directory loses its
    /// children, hardlinks and metacopies take their data entry's bytes, and
    /// the change against the layer below is classified. The hot loop of the
    /// merge: it runs once per entry of the image.
    #[inline]
    fn apply_row(
        &mut self,
        idx: usize,
        row: usize,
        sources: &HashMap<u32, Vec<u8>>,
        scratch: &mut Scratch,
        log: &mut LayerLog,
    ) {
        let layer = idx as u16;
        let eid = self.slots.base[idx] + row as u32;
        let mut rec = self.slots.rows[idx].recs[row];
        rec.layer = layer;
        scratch.path.clear();
        scratch
            .path
            .extend_from_slice(self.slots.rows[idx].paths.get(row as u32));
        let path = scratch.path.as_slice();
        if path == ROOT {
            rec.path = 0;
            self.slots.rows[idx].recs[row] = rec;
            return;
        }
        let id = self.intern(path, eid);
        rec.path = id;
        let replace_implicit = self.replace_dir(id, idx, &rec, path, log);
        self.ensure_parents(path, layer, &mut log.warn);
        if rec.kind == Kind::Hardlink {
            scratch.link.clear();
            if let Some(l) = self.slots.link(eid) {
                scratch.link.extend_from_slice(l);
            }
            self.resolve_hardlink(&mut rec, path, &scratch.link, &mut log.warn);
        }
        if let Some(target) = sources.get(&(row as u32)) {
            self.apply_metacopy(&mut rec, path, target, log);
        }
        let before = self.entry_at(id, i64::from(layer) - 1);
        rec.change = self.classify(before, &rec, eid);
        self.slots.rows[idx].recs[row] = rec;
        if replace_implicit {
            // The implicit directory gives way to the listed one: same place in the timeline.
            let old = self.last[id as usize];
            self.rec_prev[eid as usize] = self.rec_prev[old as usize];
            self.last[id as usize] = eid;
            self.slots.rec_mut(old).path = NONE; // orphaned
        } else {
            self.push(id, eid);
        }
    }

    /// When path `id` is a directory now and `rec` is not one, its children
    /// go (deleted as replaced). Returns whether the directory is an implicit
    /// one this same layer made (for a parent of earlier entries): `rec` then
    /// takes its place rather than following it, and the entries it held are
    /// reported as removed.
    #[inline]
    fn replace_dir(
        &mut self,
        id: u32,
        idx: usize,
        rec: &Rec,
        path: &[u8],
        log: &mut LayerLog,
    ) -> bool {
        let layer = idx as u16;
        let Some(c) = self.current_entry(id) else {
            return false;
        };
        let cur = self.slots.rec(c);
        let replace_implicit = cur.layer == layer && cur.implicit;
        if cur.kind == Kind::Dir && rec.kind != Kind::Dir {
            if replace_implicit {
                log.warn.push(message(&[
                    format!("layer {idx}: ").as_bytes(),
                    path,
                    format!(
                        " is a {} listed after entries inside it; they are removed",
                        rec.kind.name()
                    )
                    .as_bytes(),
                ]));
            }
            for child in self.kids(id) {
                self.delete(child, layer, How::Replaced, id, &mut log.dels);
            }
        }
        replace_implicit
    }

    /// An overlay metacopy entry shows the bytes of the newest lower file at
    /// `target`; when none exists its content stays unknown (warned).
    fn apply_metacopy(&mut self, rec: &mut Rec, path: &[u8], target: &[u8], log: &mut LayerLog) {
        match self.metacopy_source(target, rec.layer) {
            Some(src) => {
                rec.source = src;
                rec.size = self.slots.rec(src).size;
                log.metacopy_resolved += 1;
            }
            None => log.metacopy_missing.push((path.to_vec(), target.to_vec())),
        }
    }

    /// The layer's counts by change, and its deletions that still stand at
    /// the top of their path's timeline (a later event of the same layer
    /// may have brought the path back).
    fn layer_counts(&self, idx: usize, dels: &[u32]) -> Counts {
        let recs = &self.slots.rows[idx].recs;
        let mut c = Counts {
            entries: recs.len() as u64,
            ..Counts::default()
        };
        for r in recs {
            match r.change {
                Change::Added => c.added += 1,
                Change::Modified => c.modified += 1,
                Change::Metadata => c.metadata += 1,
                Change::Rewritten if r.kind == Kind::Dir => c.dirs_rewritten += 1,
                Change::Rewritten => c.rewritten += 1,
                Change::TypeChanged => c.type_changed += 1,
            }
        }
        c.deleted = dels
            .iter()
            .filter(|&&d| self.last[self.dels[d as usize].path as usize] == d | DEL)
            .count() as u64;
        c
    }
}

/// A layer's warnings with their kinds: the merge's own, then metacopy
/// entries whose content is unknown, then one line for those resolved.
fn layer_warnings(
    name: &str,
    warn: Vec<Vec<u8>>,
    metacopy_missing: Vec<(Vec<u8>, Vec<u8>)>,
    metacopy_resolved: u64,
) -> Vec<(&'static str, Vec<u8>)> {
    let mut out: Vec<(&'static str, Vec<u8>)> = warn.into_iter().map(|w| (WARN_MERGE, w)).collect();
    let name = name.as_bytes();
    for (path, target) in metacopy_missing {
        out.push((
            WARN_SPARSE,
            message(&[
                name,
                b": ",
                &path,
                b" is a metadata-only copy-up (overlay metacopy) of ",
                &target,
                b", which no lower layer holds as a file; its content is unknown",
            ]),
        ));
    }
    if metacopy_resolved > 0 {
        out.push((
            WARN_CONTAINER,
            message(&[
                name,
                format!(
                    ": {metacopy_resolved} metadata-only copy-up{} (overlay metacopy): their bytes are the lower \
                     layer's, shown as that version's content; they take no room in the upper directory",
                    if metacopy_resolved == 1 { "" } else { "s" }
                )
                .as_bytes(),
            ]),
        ));
    }
    out
}

fn message(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Merge the layers (in index order) into a tree. The rows stay where the
/// scan put them: the tree adds timelines and children over them.
pub fn merge(inputs: Vec<LayerInput>, nlayers: usize) -> Tree {
    let mut names: Vec<String> = vec![String::new(); nlayers];
    let mut rows: Vec<Rows> = (0..=nlayers).map(|_| Rows::default()).collect();
    for input in inputs {
        if input.index < nlayers {
            names[input.index] = input.name;
            rows[input.index] = input.rows;
        }
    }
    let mut m = Merge::new(Slots::new(rows));
    let mut layer_dels: Vec<Vec<u32>> = Vec::with_capacity(nlayers);
    let mut counts = Vec::with_capacity(nlayers);
    let mut warnings: Vec<Vec<(&'static str, Vec<u8>)>> = Vec::with_capacity(nlayers);
    let mut scratch = Scratch::default();
    for (idx, name) in names.iter().enumerate() {
        let log = m.apply_layer(idx, &mut scratch);
        counts.push(m.layer_counts(idx, &log.dels));
        warnings.push(layer_warnings(
            name,
            log.warn,
            log.metacopy_missing,
            log.metacopy_resolved,
        ));
        layer_dels.push(log.dels);
    }
    finish(m, layer_dels, counts, warnings)
}

/// Renumber paths in byte order and lay timelines and children out flat.
fn finish(
    mut m: Merge,
    layer_dels: Vec<Vec<u32>>,
    counts: Vec<Counts>,
    warnings: Vec<Vec<(&'static str, Vec<u8>)>>,
) -> Tree {
    // The hash index is done with: free it before the sort's own memory.
    m.names.index = HashMap::default();
    m.names.chain = Vec::new();
    let order = path_order(&m);
    let mut new_id = vec![NONE; m.names.len()];
    for (i, &old) in order.iter().enumerate() {
        new_id[old as usize] = i as u32;
    }
    let flat = flat_timelines(&m, &order, &new_id);
    drop(order);
    let (kid_start, kids) = child_lists(&flat.parent);
    let mut slots = m.slots;
    for rows in &mut slots.rows {
        for r in &mut rows.recs {
            if r.path != NONE {
                r.path = new_id[r.path as usize];
            }
        }
    }
    let mut dels = m.dels;
    for d in &mut dels {
        d.path = new_id[d.path as usize];
        d.cause = new_id[d.cause as usize];
    }
    Tree {
        slots,
        loc: flat.loc,
        parent: flat.parent,
        ev_start: flat.ev_start,
        events: flat.events,
        kid_start,
        kids,
        dels,
        layer_dels,
        counts,
        warnings,
    }
}

/// The merge's path ids (first-seen order) sorted by their text: the tree's
/// ids are ranks in byte order. Only paths with events (and the root) are
/// part of the tree; an interned path that got none (an orphaned implicit
/// parent) is left out.
fn path_order(m: &Merge) -> Vec<u32> {
    let slots = &m.slots;
    let loc = &m.names.loc;
    let mut keyed: Vec<(&[u8], u32)> = (0..m.names.len() as u32)
        .filter(|&i| i == 0 || m.last[i as usize] != NONE)
        .map(|i| (slots.text(loc[i as usize]), i))
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Per path (in tree order): its text's entry, its parent, its events.
struct Flat {
    loc: Vec<u32>,
    parent: Vec<u32>,
    ev_start: Vec<u32>,
    events: Vec<u32>,
}

/// Lays each path's timeline (a linked list, newest first, during the merge)
/// out oldest first in one flat array, paths in tree order, with parents
/// renumbered to tree ids.
fn flat_timelines(m: &Merge, order: &[u32], new_id: &[u32]) -> Flat {
    let count = order.len();
    let mut loc = Vec::with_capacity(count);
    let mut parent = Vec::with_capacity(count);
    let mut ev_start = Vec::with_capacity(count + 1);
    let mut events = Vec::with_capacity(m.nevents);
    let mut scratch = Vec::new();
    for &old in order {
        loc.push(m.names.loc[old as usize]);
        let p = m.parent[old as usize];
        parent.push(if p == NONE { NONE } else { new_id[p as usize] });
        ev_start.push(events.len() as u32);
        scratch.clear();
        let mut ev = m.last[old as usize];
        while ev != NONE {
            scratch.push(ev);
            ev = m.prev_of(ev);
        }
        events.extend(scratch.iter().rev());
    }
    ev_start.push(events.len() as u32);
    Flat {
        loc,
        parent,
        ev_start,
        events,
    }
}

/// Children as one flat array with per-path starts (`kids[kid_start[p]..
/// kid_start[p+1]]`). Ids are in byte order, so appending in id order sorts
/// each path's children.
fn child_lists(parent: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let count = parent.len();
    let mut nkids = vec![0u32; count + 1];
    for &p in parent.iter().skip(1) {
        if p != NONE {
            nkids[p as usize] += 1;
        }
    }
    let mut kid_start = Vec::with_capacity(count + 1);
    let mut acc = 0u32;
    for k in &nkids[..count] {
        kid_start.push(acc);
        acc += k;
    }
    kid_start.push(acc);
    let mut fill = kid_start.clone();
    let mut kids = vec![0u32; acc as usize];
    for (id, &p) in parent.iter().enumerate().skip(1) {
        if p != NONE {
            kids[fill[p as usize] as usize] = id as u32;
            fill[p as usize] += 1;
        }
    }
    (kid_start, kids)
}

impl Tree {
    /// Paths in the tree, the root included.
    pub fn len(&self) -> usize {
        self.loc.len()
    }
    pub fn is_empty(&self) -> bool {
        self.loc.len() <= 1
    }
    pub fn path(&self, id: u32) -> &[u8] {
        self.slots.text(self.loc[id as usize])
    }
    pub fn find(&self, path: &[u8]) -> Option<u32> {
        let (mut lo, mut hi) = (0usize, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.path(mid as u32).cmp(path) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid as u32),
            }
        }
        None
    }
    pub fn parent(&self, id: u32) -> u32 {
        self.parent[id as usize]
    }
    pub fn events(&self, id: u32) -> &[u32] {
        let i = id as usize;
        &self.events[self.ev_start[i] as usize..self.ev_start[i + 1] as usize]
    }
    pub fn children(&self, id: u32) -> &[u32] {
        let i = id as usize;
        &self.kids[self.kid_start[i] as usize..self.kid_start[i + 1] as usize]
    }
    pub fn rec(&self, eid: u32) -> &Rec {
        self.slots.rec(eid)
    }
    /// Entry ids run `0..entry_count()` (orphaned implicit rows included: their path is NONE).
    pub fn entry_count(&self) -> u32 {
        self.slots.len()
    }
    pub fn ev_layer(&self, ev: u32) -> u16 {
        if ev & DEL != 0 {
            self.dels[(ev & !DEL) as usize].layer
        } else {
            self.rec(ev).layer
        }
    }
    /// The last event at or below layer `k`.
    pub fn state_at(&self, id: u32, k: i64) -> Option<u32> {
        self.events(id)
            .iter()
            .rev()
            .find(|&&ev| i64::from(self.ev_layer(ev)) <= k)
            .copied()
    }
    pub fn link(&self, eid: u32) -> Option<&[u8]> {
        self.slots.link(eid)
    }
    /// The digest of the bytes an entry shows (a hardlink's: its target's).
    pub fn digest(&self, eid: u32) -> Option<&[u8; 32]> {
        self.slots.digest(eid)
    }
    pub fn xattrs(&self, eid: u32) -> Option<&Xattrs> {
        self.slots.xattrs(eid)
    }
    /// Layer k's own entries (tar order, root entries included).
    pub fn layer_recs(&self, k: usize) -> std::ops::Range<u32> {
        if k >= self.nlayers() {
            return 0..0; // the slot after the layers holds the merge's implicit directories
        }
        self.slots.base[k]..self.slots.base[k + 1]
    }
    pub fn layer_dels(&self, k: usize) -> &[u32] {
        self.layer_dels.get(k).map_or(&[], |v| v.as_slice())
    }
    pub fn nlayers(&self) -> usize {
        self.counts.len()
    }

    /// The bytes a regular file version stores (0 for anything else, a
    /// hardlink included: its bytes are its target's).
    fn file_bytes(&self, ev: Option<u32>) -> i64 {
        match ev {
            Some(e) if e & DEL == 0 => {
                let r = self.rec(e);
                if r.kind == Kind::File {
                    r.size
                } else {
                    0
                }
            }
            _ => 0,
        }
    }

    /// Add each directory's own figure to it and to every directory above it.
    fn roll_up(&self, direct: &HashMap<u32, i64>) -> HashMap<u32, i64> {
        let mut out: HashMap<u32, i64> = HashMap::with_capacity(direct.len() * 2);
        for (&d, &n) in direct {
            let mut q = d;
            loop {
                *out.entry(q).or_insert(0) += n;
                if q == 0 {
                    break;
                }
                q = self.parent(q);
                if q == NONE {
                    break;
                }
            }
        }
        out.retain(|_, n| *n != 0);
        out
    }

    /// Layer k's own byte figures (what its own view shows), by path id:
    /// bytes it adds under each directory, bytes its deletions leave hidden
    /// there (a deleted file's own figure included), the change of each
    /// directory's live bytes from the layer below, and the paths it changed
    /// with their ancestors (the root left out).
    pub fn layer_bytes(&self, k: usize) -> LayerBytes {
        let mut touched: Vec<u32> = Vec::new();
        let mut seen: std::collections::HashSet<u32> = std::collections::HashSet::new();
        let mut changed: Vec<u32> = Vec::new();
        let mut in_changed: std::collections::HashSet<u32> = std::collections::HashSet::new();
        for eid in self.layer_recs(k) {
            let r = self.rec(eid);
            if r.path == NONE || r.path == 0 {
                continue;
            }
            if seen.insert(r.path) {
                touched.push(r.path);
            }
            if !(r.kind == Kind::Dir && r.change == Change::Rewritten) && in_changed.insert(r.path)
            {
                changed.push(r.path);
            }
        }
        for &d in self.layer_dels(k) {
            let p = self.dels[d as usize].path;
            if seen.insert(p) {
                touched.push(p);
            }
            if in_changed.insert(p) {
                changed.push(p);
            }
        }
        for i in 0..changed.len() {
            let mut q = self.parent(changed[i]);
            while q != NONE && q != 0 && in_changed.insert(q) {
                changed.push(q);
                q = self.parent(q);
            }
        }
        let layer = k as i64;
        let (mut added, mut hidden, mut delta) = (HashMap::new(), HashMap::new(), HashMap::new());
        let mut hidden_self: Vec<(u32, i64)> = Vec::new();
        for p in touched {
            let new = self.state_at(p, layer);
            let now = self.file_bytes(new);
            let before = if k > 0 {
                self.file_bytes(self.state_at(p, layer - 1))
            } else {
                0
            };
            if now == 0 && before == 0 {
                continue;
            }
            let parent = self.parent(p);
            let at_k = new.is_some_and(|e| i64::from(self.ev_layer(e)) == layer);
            let deleted = new.is_some_and(|e| e & DEL != 0);
            if now != 0 && at_k && !deleted {
                *added.entry(parent).or_insert(0) += now;
            }
            if before != 0 && at_k && deleted {
                hidden_self.push((p, before));
                *hidden.entry(parent).or_insert(0) += before;
            }
            if now != before {
                *delta.entry(parent).or_insert(0) += now - before;
            }
        }
        let mut hidden = self.roll_up(&hidden);
        for (p, n) in hidden_self {
            *hidden.entry(p).or_insert(0) += n;
        }
        LayerBytes {
            added: self.roll_up(&added).into_iter().collect(),
            hidden: hidden.into_iter().collect(),
            delta: self.roll_up(&delta).into_iter().collect(),
            changed,
        }
    }

    /// dive 0.13.1's figures over every layer's own entries (hardlinks with
    /// size 0, as their tar headers say), whiteouts and opaque directories.
    pub fn dive_figures(&self) -> crate::dive::DiveResult {
        let need_tree = (0..self.nlayers()).any(|k| !self.slots.rows[k].whiteouts.is_empty());
        crate::dive::figures(self.nlayers(), need_tree, |k| {
            let rows = &self.slots.rows[k];
            crate::dive::DiveView {
                entries: rows
                    .recs
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let size = if r.kind == Kind::Hardlink { 0 } else { r.size };
                        (rows.paths.get(i as u32), size, r.kind == Kind::Dir)
                    })
                    .collect(),
                whiteouts: rows.whiteouts.iter().map(Vec::as_slice).collect(),
                opaque_dirs: rows.opaque_dirs.iter().map(Vec::as_slice).collect(),
            }
        })
    }
    /// Bytes held, for the memory budget.
    pub fn heap_bytes(&self) -> usize {
        let rows: usize = self
            .slots
            .rows
            .iter()
            .map(|r| {
                r.recs.capacity() * std::mem::size_of::<Rec>()
                    + r.paths.heap_bytes()
                    + r.links.heap_bytes()
                    + r.digests.capacity() * 32
            })
            .sum();
        rows + (self.loc.capacity()
            + self.parent.capacity()
            + self.ev_start.capacity()
            + self.events.capacity()
            + self.kid_start.capacity()
            + self.kids.capacity())
            * 4
            + self.dels.capacity() * std::mem::size_of::<Deletion>()
            + self
                .layer_dels
                .iter()
                .map(|v| v.capacity() * 4)
                .sum::<usize>()
    }
}
