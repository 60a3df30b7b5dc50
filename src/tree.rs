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
    fn shrink(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
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
    /// Turn the scanner's entries into rows, freeing each entry as it goes.
    pub fn from_entries(entries: Vec<Entry>) -> Rows {
        let mut r = Rows::default();
        r.recs.reserve_exact(entries.len());
        for e in entries {
            r.push(&e);
        }
        r.paths.shrink();
        r.links.shrink();
        r
    }

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

/// The merged image: read-only once built.
#[derive(Debug, Default)]
pub struct Tree {
    /// Every path, sorted by bytes; path id 0 is the root `/`.
    paths: Strings,
    parent: Vec<u32>,
    /// Per path, `events[ev_start[p]..ev_start[p+1]]` in layer order.
    ev_start: Vec<u32>,
    events: Vec<u32>,
    /// Per path, its children's ids (sorted, since ids are).
    kid_start: Vec<u32>,
    kids: Vec<u32>,
    pub recs: Vec<Rec>,
    links: Strings,
    digests: Vec<[u8; 32]>,
    xattrs: Vec<Xattrs>,
    pub dels: Vec<Deletion>,
    /// Per layer: its own entries (tar order, root entries included) and deletions.
    layer_recs: Vec<Vec<u32>>,
    layer_dels: Vec<Vec<u32>>,
    pub counts: Vec<Counts>,
    /// Per layer: its whiteout targets and opaque directories (for dive's figures).
    layer_whiteouts: Vec<Vec<Vec<u8>>>,
    layer_opaques: Vec<Vec<Vec<u8>>>,
    /// Per layer: what the merge had to say about it.
    pub warnings: Vec<Vec<(&'static str, Vec<u8>)>>,
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

/// Paths seen by the merge, each stored once, with an index by hash (the
/// layers' own rows are freed as the merge goes, so nothing can borrow them).
struct Names {
    arena: Strings,
    /// Hash of a path -> the newest id with that hash; older ones follow `chain`.
    index: HashMap<u64, u32, foldhash::fast::RandomState>,
    chain: Vec<u32>,
    seed: foldhash::fast::RandomState,
}

impl Names {
    fn with_capacity(n: usize) -> Names {
        Names {
            arena: Strings::default(),
            index: HashMap::with_capacity_and_hasher(n, Default::default()),
            chain: Vec::with_capacity(n),
            seed: Default::default(),
        }
    }

    fn hash(&self, path: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.seed.hash_one(path)
    }

    fn get(&self, path: &[u8]) -> Option<u32> {
        let mut id = *self.index.get(&self.hash(path))?;
        loop {
            if self.arena.get(id) == path {
                return Some(id);
            }
            id = self.chain[id as usize];
            if id == NONE {
                return None;
            }
        }
    }

    /// The id of `path`, and whether it is new.
    fn intern(&mut self, path: &[u8]) -> (u32, bool) {
        if let Some(id) = self.get(path) {
            return (id, false);
        }
        let id = self.arena.push(path);
        let h = self.hash(path);
        let older = self.index.insert(h, id).unwrap_or(NONE);
        self.chain.push(older);
        (id, true)
    }

    fn path(&self, id: u32) -> &[u8] {
        self.arena.get(id)
    }

    fn len(&self) -> usize {
        self.arena.len()
    }
}

/// State of the merge while layers are applied; ids here are in first-seen order.
struct Merge {
    names: Names,
    parent: Vec<u32>,
    last: Vec<u32>,
    first_kid: Vec<u32>,
    next_sib: Vec<u32>,
    recs: Vec<Rec>,
    links: Strings,
    digests: Vec<[u8; 32]>,
    xattrs: Vec<Xattrs>,
    dels: Vec<Deletion>,
    /// Entry id -> previous event of its path (entries are most events).
    rec_prev: Vec<u32>,
    del_prev: Vec<u32>,
    nevents: usize,
}

const ROOT: &[u8] = b"/";

impl Merge {
    fn new(total: usize, digests: usize) -> Merge {
        let mut m = Merge {
            names: Names::with_capacity(total + 1),
            parent: Vec::with_capacity(total + 1),
            last: Vec::with_capacity(total + 1),
            first_kid: Vec::with_capacity(total + 1),
            next_sib: Vec::with_capacity(total + 1),
            recs: Vec::with_capacity(total),
            links: Strings::default(),
            digests: Vec::with_capacity(digests),
            xattrs: Vec::new(),
            dels: Vec::new(),
            rec_prev: Vec::with_capacity(total),
            del_prev: Vec::new(),
            nevents: 0,
        };
        m.intern(ROOT);
        m
    }

    fn intern(&mut self, path: &[u8]) -> u32 {
        let (id, new) = self.names.intern(path);
        if new {
            self.parent.push(NONE);
            self.last.push(NONE);
            self.first_kid.push(NONE);
            self.next_sib.push(NONE);
        }
        id
    }

    fn lookup(&self, path: &[u8]) -> Option<u32> {
        self.names.get(path)
    }

    fn ev_layer(&self, ev: u32) -> u16 {
        if ev & DEL != 0 {
            self.dels[(ev & !DEL) as usize].layer
        } else {
            self.recs[ev as usize].layer
        }
    }

    fn prev_of(&self, ev: u32) -> u32 {
        if ev & DEL != 0 {
            self.del_prev[(ev & !DEL) as usize]
        } else {
            self.rec_prev[ev as usize]
        }
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
            let parent = parent_of(self.names.path(id)).to_vec();
            let parent = self.intern(&parent);
            self.parent[id as usize] = parent;
            self.next_sib[id as usize] = self.first_kid[parent as usize];
            self.first_kid[parent as usize] = id;
        }
        if ev & DEL != 0 {
            self.del_prev.push(prev);
        } else {
            self.rec_prev.push(prev);
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
            if self.recs[cur as usize].kind == Kind::Dir {
                stack.extend(self.kids(p));
            }
        }
    }

    fn classify(&self, prev: Option<u32>, new: &Rec) -> Change {
        let Some(prev) = prev else {
            return Change::Added;
        };
        let p = &self.recs[prev as usize];
        let (pt, nt) = (content_kind(p.kind), content_kind(new.kind));
        if pt != nt {
            return Change::TypeChanged;
        }
        if nt == Kind::File {
            let pd = (p.digest != NONE).then(|| &self.digests[p.digest as usize]);
            let nd = (new.digest != NONE).then(|| &self.digests[new.digest as usize]);
            if pd != nd || p.size != new.size || (nd.is_none() && new.size != 0) {
                return Change::Modified;
            }
        } else if nt == Kind::Symlink {
            let pl = (p.link != NONE).then(|| self.links.get(p.link));
            let nl = (new.link != NONE).then(|| self.links.get(new.link));
            if pl != nl {
                return Change::Modified;
            }
        }
        if p.mode != new.mode || p.uid != new.uid || p.gid != new.gid || !self.same_xattrs(p, new) {
            return Change::Metadata;
        }
        Change::Rewritten
    }

    /// Equal xattrs whatever their order (as the layers list them).
    fn same_xattrs(&self, a: &Rec, b: &Rec) -> bool {
        let sorted = |r: &Rec| {
            (r.xattrs != NONE).then(|| {
                let mut v: Vec<&(String, Vec<u8>)> =
                    self.xattrs[r.xattrs as usize].iter().collect();
                v.sort();
                v
            })
        };
        if a.xattrs == NONE && b.xattrs == NONE {
            return true;
        }
        sorted(a) == sorted(b)
    }

    fn implicit_dir(&mut self, id: u32, layer: u16) {
        let rec = Rec {
            size: 0,
            mtime: 0,
            uid: 0,
            gid: 0,
            offset: 0,
            mode: 0o755,
            path: id,
            link: NONE,
            digest: NONE,
            xattrs: NONE,
            source: NONE,
            layer,
            kind: Kind::Dir,
            change: Change::Added,
            implicit: true,
        };
        let before = self.entry_at(id, i64::from(layer) - 1);
        let change = self.classify(before, &rec);
        let e = self.recs.len() as u32;
        self.recs.push(Rec { change, ..rec });
        self.push(id, e);
    }

    fn ensure_parents(&mut self, path: &[u8], layer: u16, warn: &mut Vec<Vec<u8>>) {
        let parent = parent_of(path);
        if parent == ROOT {
            return;
        }
        let mut chain: Vec<u32> = Vec::new();
        let mut q = parent;
        while q != ROOT {
            let id = self.intern(q);
            if let Some(cur) = self.current_entry(id) {
                let kind = self.recs[cur as usize].kind;
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
            let c = &self.recs[cur as usize];
            if content_kind(c.kind) != Kind::File {
                warn.push(message(&[
                    format!("layer {layer}: hardlink ").as_bytes(),
                    path,
                    b" -> ",
                    link,
                    format!(": target is a {}", c.kind.name()).as_bytes(),
                ]));
            } else {
                rec.source = if c.source != NONE { c.source } else { cur };
                rec.size = c.size;
                rec.digest = c.digest;
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
        let r = &self.recs[ev as usize];
        if r.kind == Kind::Hardlink {
            if r.source != NONE {
                return Some(r.source);
            }
            return None;
        }
        (r.kind == Kind::File).then_some(ev)
    }
}

fn message(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Merge the layers (in index order) into a tree. Each layer's rows are
/// freed once applied, so the peak is the tree plus one layer.
pub fn merge(inputs: Vec<LayerInput>, nlayers: usize) -> Tree {
    let total: usize = inputs.iter().map(|l| l.rows.len()).sum();
    let digests: usize = inputs.iter().map(|l| l.rows.digests.len()).sum();
    let mut m = Merge::new(total, digests);
    let mut layer_recs: Vec<Vec<u32>> = vec![Vec::new(); nlayers];
    let mut layer_dels: Vec<Vec<u32>> = vec![Vec::new(); nlayers];
    let mut counts = vec![Counts::default(); nlayers];
    let mut warnings: Vec<Vec<(&'static str, Vec<u8>)>> = vec![Vec::new(); nlayers];
    let mut layer_whiteouts: Vec<Vec<Vec<u8>>> = vec![Vec::new(); nlayers];
    let mut layer_opaques: Vec<Vec<Vec<u8>>> = vec![Vec::new(); nlayers];
    let mut order: Vec<LayerInput> = inputs.into_iter().filter(|l| l.index < nlayers).collect();
    order.sort_by_key(|l| l.index);
    for input in order {
        let idx = input.index;
        let layer = idx as u16;
        let rows = &input.rows;
        let mut warn: Vec<Vec<u8>> = Vec::new();
        let mut dels: Vec<u32> = Vec::new();
        for d in &rows.opaque_dirs {
            if let Some(id) = m.lookup(d) {
                // The root is always a live directory (it has no events of its own).
                if id == 0
                    || m.current_entry(id)
                        .is_some_and(|e| m.recs[e as usize].kind == Kind::Dir)
                {
                    for child in m.kids(id) {
                        m.delete(child, layer, How::Opaque, id, &mut dels);
                    }
                }
            }
        }
        for w in &rows.whiteouts {
            if w.as_slice() == ROOT {
                warn.push(format!("layer {idx}: whiteout of the root ignored").into_bytes());
                continue;
            }
            if let Some(id) = m.lookup(w) {
                m.delete(id, layer, How::Whiteout, id, &mut dels);
            }
        }
        let sources: HashMap<u32, &[u8]> = rows
            .sources
            .iter()
            .map(|(row, p)| (*row, p.as_slice()))
            .collect();
        let mut mine: Vec<u32> = Vec::with_capacity(rows.len());
        let mut metacopy_missing: Vec<(&[u8], &[u8])> = Vec::new();
        let mut metacopy_resolved = 0u64;
        for (row, r) in rows.recs.iter().enumerate() {
            let path: &[u8] = rows.paths.get(r.path);
            let mut rec = *r;
            rec.layer = layer;
            rec.link = if r.link == NONE {
                NONE
            } else {
                m.links.push(rows.links.get(r.link))
            };
            rec.digest = if r.digest == NONE {
                NONE
            } else {
                m.digests.push(rows.digests[r.digest as usize]);
                (m.digests.len() - 1) as u32
            };
            rec.xattrs = if r.xattrs == NONE {
                NONE
            } else {
                m.xattrs.push(rows.xattrs[r.xattrs as usize].clone());
                (m.xattrs.len() - 1) as u32
            };
            if path == ROOT {
                rec.path = 0;
                let e = m.recs.len() as u32;
                m.recs.push(rec);
                m.rec_prev.push(NONE);
                mine.push(e);
                continue;
            }
            let id = m.intern(path);
            rec.path = id;
            let cur = m.current_entry(id);
            let replace_implicit = cur.is_some_and(|c| {
                let c = &m.recs[c as usize];
                c.layer == layer && c.implicit
            });
            if let Some(c) = cur {
                if m.recs[c as usize].kind == Kind::Dir && rec.kind != Kind::Dir {
                    if replace_implicit {
                        warn.push(message(&[
                            format!("layer {idx}: ").as_bytes(),
                            path,
                            format!(
                                " is a {} listed after entries inside it; they are removed",
                                rec.kind.name()
                            )
                            .as_bytes(),
                        ]));
                    }
                    for child in m.kids(id) {
                        m.delete(child, layer, How::Replaced, id, &mut dels);
                    }
                }
            }
            m.ensure_parents(path, layer, &mut warn);
            if rec.kind == Kind::Hardlink {
                let link = if rec.link == NONE {
                    &b""[..]
                } else {
                    rows.links.get(r.link)
                };
                m.resolve_hardlink(&mut rec, path, link, &mut warn);
            }
            if let Some(target) = sources.get(&(row as u32)) {
                match m.metacopy_source(target, layer) {
                    Some(src) => {
                        let s = m.recs[src as usize];
                        rec.source = src;
                        rec.size = s.size;
                        rec.digest = s.digest;
                        metacopy_resolved += 1;
                    }
                    None => metacopy_missing.push((path, target)),
                }
            }
            let before = m.entry_at(id, i64::from(layer) - 1);
            rec.change = m.classify(before, &rec);
            let e = m.recs.len() as u32;
            if replace_implicit {
                // The implicit directory gives way to the listed one: same place in the timeline.
                let old = m.last[id as usize];
                let prev = m.rec_prev[old as usize];
                m.recs.push(rec);
                m.rec_prev.push(prev);
                m.last[id as usize] = e;
                m.recs[old as usize].path = NONE; // orphaned
            } else {
                m.recs.push(rec);
                m.push(id, e);
            }
            mine.push(e);
        }
        let c = &mut counts[idx];
        c.entries = mine.len() as u64;
        for &e in &mine {
            let r = &m.recs[e as usize];
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
            .filter(|&&d| m.last[m.dels[d as usize].path as usize] == d | DEL)
            .count() as u64;
        let mut out: Vec<(&'static str, Vec<u8>)> =
            warn.into_iter().map(|w| (WARN_MERGE, w)).collect();
        let name = input.name.as_bytes();
        for (path, target) in metacopy_missing {
            out.push((
                WARN_SPARSE,
                message(&[
                    name,
                    b": ",
                    path,
                    b" is a metadata-only copy-up (overlay metacopy) of ",
                    target,
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
                        ": {metacopy_resolved} metadata-only copy-up(s) (overlay metacopy): their bytes are the lower \
                         layer's, shown as that version's content; they take no room in the upper directory"
                    )
                    .as_bytes(),
                ]),
            ));
        }
        layer_recs[idx] = mine;
        layer_dels[idx] = dels;
        warnings[idx] = out;
        let mut rows = input.rows;
        layer_whiteouts[idx] = std::mem::take(&mut rows.whiteouts);
        layer_opaques[idx] = std::mem::take(&mut rows.opaque_dirs);
    }
    let mut tree = finish(m, layer_recs, layer_dels, counts, warnings);
    tree.layer_whiteouts = layer_whiteouts;
    tree.layer_opaques = layer_opaques;
    tree
}

/// Renumber paths in byte order and lay timelines and children out flat.
fn finish(
    m: Merge,
    layer_recs: Vec<Vec<u32>>,
    layer_dels: Vec<Vec<u32>>,
    counts: Vec<Counts>,
    warnings: Vec<Vec<(&'static str, Vec<u8>)>>,
) -> Tree {
    let n = m.names.len();
    let names = &m.names;
    // Only paths with events (and the root) are part of the tree.
    let mut order: Vec<u32> = (0..n as u32)
        .filter(|&i| i == 0 || m.last[i as usize] != NONE)
        .collect();
    order.sort_unstable_by(|&a, &b| names.path(a).cmp(names.path(b)));
    let mut new_id = vec![NONE; n];
    for (i, &old) in order.iter().enumerate() {
        new_id[old as usize] = i as u32;
    }
    let mut paths = Strings::default();
    let mut parent = Vec::with_capacity(order.len());
    let mut ev_start = Vec::with_capacity(order.len() + 1);
    let mut events = Vec::with_capacity(m.nevents);
    let mut scratch = Vec::new();
    for &old in &order {
        paths.push(names.path(old));
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
    // Children: ids are in byte order, so appending in id order sorts them.
    let count = order.len();
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
    let mut recs = m.recs;
    for r in &mut recs {
        if r.path != NONE {
            r.path = new_id[r.path as usize];
        }
    }
    let mut dels = m.dels;
    for d in &mut dels {
        d.path = new_id[d.path as usize];
        d.cause = new_id[d.cause as usize];
    }
    let mut links = m.links;
    links.shrink();
    paths.shrink();
    Tree {
        paths,
        parent,
        ev_start,
        events,
        kid_start,
        kids,
        recs,
        links,
        digests: m.digests,
        xattrs: m.xattrs,
        dels,
        layer_recs,
        layer_dels,
        counts,
        warnings,
        layer_whiteouts: Vec::new(),
        layer_opaques: Vec::new(),
    }
}

impl Tree {
    /// Paths in the tree, the root included.
    pub fn len(&self) -> usize {
        self.paths.len()
    }
    pub fn is_empty(&self) -> bool {
        self.paths.len() <= 1
    }
    pub fn path(&self, id: u32) -> &[u8] {
        self.paths.get(id)
    }
    pub fn find(&self, path: &[u8]) -> Option<u32> {
        let (mut lo, mut hi) = (0usize, self.paths.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.paths.get(mid as u32).cmp(path) {
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
    pub fn ev_layer(&self, ev: u32) -> u16 {
        if ev & DEL != 0 {
            self.dels[(ev & !DEL) as usize].layer
        } else {
            self.recs[ev as usize].layer
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
    pub fn link(&self, r: &Rec) -> Option<&[u8]> {
        (r.link != NONE).then(|| self.links.get(r.link))
    }
    pub fn digest(&self, r: &Rec) -> Option<&[u8; 32]> {
        (r.digest != NONE).then(|| &self.digests[r.digest as usize])
    }
    pub fn xattrs(&self, r: &Rec) -> Option<&Xattrs> {
        (r.xattrs != NONE).then(|| &self.xattrs[r.xattrs as usize])
    }
    pub fn layer_recs(&self, k: usize) -> &[u32] {
        self.layer_recs.get(k).map_or(&[], |v| v.as_slice())
    }
    pub fn layer_dels(&self, k: usize) -> &[u32] {
        self.layer_dels.get(k).map_or(&[], |v| v.as_slice())
    }
    pub fn nlayers(&self) -> usize {
        self.counts.len()
    }
    /// dive 0.13.1's figures over every layer's own entries (hardlinks with
    /// size 0, as their tar headers say), whiteouts and opaque directories.
    pub fn dive_figures(&self) -> crate::dive::DiveResult {
        let views: Vec<crate::dive::DiveView<'_>> = (0..self.nlayers())
            .map(|k| crate::dive::DiveView {
                entries: self
                    .layer_recs(k)
                    .iter()
                    .map(|&e| {
                        let r = &self.recs[e as usize];
                        let size = if r.kind == Kind::Hardlink { 0 } else { r.size };
                        (self.path(r.path), size, r.kind == Kind::Dir)
                    })
                    .collect(),
                whiteouts: self.layer_whiteouts[k].iter().map(Vec::as_slice).collect(),
                opaque_dirs: self.layer_opaques[k].iter().map(Vec::as_slice).collect(),
            })
            .collect();
        crate::dive::figures(&views)
    }

    /// Bytes held, for the memory budget.
    pub fn heap_bytes(&self) -> usize {
        self.paths.bytes.capacity()
            + self.paths.ends.capacity() * 8
            + self.links.bytes.capacity()
            + self.links.ends.capacity() * 8
            + (self.parent.capacity()
                + self.ev_start.capacity()
                + self.events.capacity()
                + self.kid_start.capacity()
                + self.kids.capacity())
                * 4
            + self.recs.capacity() * std::mem::size_of::<Rec>()
            + self.digests.capacity() * 32
            + self.dels.capacity() * std::mem::size_of::<Deletion>()
            + self
                .layer_recs
                .iter()
                .map(|v| v.capacity() * 4)
                .sum::<usize>()
            + self
                .layer_dels
                .iter()
                .map(|v| v.capacity() * 4)
                .sum::<usize>()
    }
}
