//! The per-layer scans the package analysis makes (`layerscope/packages/`):
//! walks over a layer's every entry or over every path, done here because a
//! `COPY` of 100k files made them the bulk of `report --json`'s cost in
//! Python (an `Entry` object per entry of the layer, for a handful of hits).
//!
//! What a package owns, and which paths are a package manager's own state,
//! stay decided in Python; this module only applies those answers: a set of
//! path ids (`PathSet`), a rule of prefixes and fragments (`PathRule`).

use std::collections::HashMap;

use memchr::memmem;

use crate::layer::Kind;
use crate::search::lower_into;
use crate::tree::{Tree, DEL, NONE};

/// A set of paths of one tree, by id (a bit per path of the tree).
#[derive(Debug, Default, Clone)]
pub struct PathSet {
    bits: Vec<u64>,
    count: usize,
}

impl PathSet {
    pub fn new(ids: &[u32], paths: usize) -> PathSet {
        let mut bits = vec![0u64; paths.div_ceil(64)];
        let mut count = 0;
        for &id in ids {
            let (w, b) = ((id / 64) as usize, id % 64);
            if w < bits.len() && bits[w] & (1 << b) == 0 {
                bits[w] |= 1 << b;
                count += 1;
            }
        }
        PathSet { bits, count }
    }
    pub fn contains(&self, id: u32) -> bool {
        self.bits
            .get((id / 64) as usize)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }
    pub fn len(&self) -> usize {
        self.count
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Paths a rule names: one of them exactly, under one of the prefixes, ending
/// with a suffix, or containing a fragment (all byte for byte).
#[derive(Debug, Clone)]
pub struct PathRule {
    exact: Vec<Vec<u8>>,
    prefixes: Vec<Vec<u8>>,
    suffixes: Vec<Vec<u8>>,
    /// Searchers made once: a rule is tried on every entry of a layer.
    fragments: Vec<memmem::Finder<'static>>,
}

impl PathRule {
    pub fn new(
        exact: Vec<Vec<u8>>,
        prefixes: Vec<Vec<u8>>,
        suffixes: Vec<Vec<u8>>,
        fragments: &[Vec<u8>],
    ) -> PathRule {
        PathRule {
            exact,
            prefixes,
            suffixes,
            fragments: fragments
                .iter()
                .map(|f| memmem::Finder::new(f).into_owned())
                .collect(),
        }
    }

    pub fn matches(&self, path: &[u8]) -> bool {
        self.prefixes.iter().any(|p| path.starts_with(p))
            || self.exact.iter().any(|p| path == p.as_slice())
            || self.suffixes.iter().any(|p| path.ends_with(p))
            || self.fragments.iter().any(|f| f.find(path).is_some())
    }
}

/// Files and bytes a layer has in one directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirFigure {
    pub dir: u32,
    pub files: u64,
    pub bytes: i64,
}

impl Tree {
    /// Layer `k`'s own non-directory entries whose path is not in `owned`,
    /// not matched by `state` and not a whiteout name, counted by the
    /// directory that holds them; in byte order of the directories.
    pub fn unowned_dirs(&self, k: usize, owned: &PathSet, state: &PathRule) -> Vec<DirFigure> {
        let mut by_dir: HashMap<u32, (u64, i64), foldhash::fast::RandomState> = HashMap::default();
        let wh = memmem::Finder::new(b"/.wh.");
        for eid in self.layer_recs(k) {
            let r = self.rec(eid);
            if r.path == NONE || r.kind == Kind::Dir || owned.contains(r.path) {
                continue;
            }
            let path = self.path(r.path);
            if wh.find(path).is_some() || state.matches(path) {
                continue;
            }
            let acc = by_dir.entry(self.parent(r.path)).or_insert((0, 0));
            acc.0 += 1;
            acc.1 += r.size;
        }
        let mut out: Vec<DirFigure> = by_dir
            .into_iter()
            .map(|(dir, (files, bytes))| DirFigure { dir, files, bytes })
            .collect();
        out.sort_unstable_by_key(|f| f.dir);
        out
    }

    /// Layer `k`'s events on the paths of `on`: its entries in the order it
    /// lists them, then its deletions (entry ids, deletion ids with `DEL`).
    pub fn events_on(&self, k: usize, on: &PathSet) -> Vec<u32> {
        let mut out: Vec<u32> = self
            .layer_recs(k)
            .filter(|&e| {
                let p = self.rec(e).path;
                p != NONE && on.contains(p)
            })
            .collect();
        out.extend(
            self.layer_dels(k)
                .iter()
                .filter(|&&d| on.contains(self.dels[d as usize].path))
                .map(|&d| d | DEL),
        );
        out
    }

    fn is_symlink_at(&self, id: u32, k: i64) -> bool {
        k >= 0
            && self
                .state_at(id, k)
                .is_some_and(|ev| ev & DEL == 0 && self.rec(ev).kind == Kind::Symlink)
    }

    /// Whether layer `k` changes where some path resolves through symlinks:
    /// one of its events is on a path that is a symlink as of `k` or as of
    /// the layer below.
    pub fn links_changed(&self, k: usize) -> bool {
        let k = k as i64;
        let on = |id: u32| self.is_symlink_at(id, k) || self.is_symlink_at(id, k - 1);
        self.layer_recs(k as usize).any(|e| {
            let p = self.rec(e).path;
            p != NONE && on(p)
        }) || self
            .layer_dels(k as usize)
            .iter()
            .any(|&d| on(self.dels[d as usize].path))
    }

    /// Paths (not the root) whose lowercased text contains one of `needles`
    /// (already lowercased), in byte order, each with the index of the first
    /// needle it contains.
    pub fn paths_containing(&self, needles: &[Vec<u8>]) -> Vec<(u32, usize)> {
        let finders: Vec<memmem::Finder<'_>> = needles.iter().map(memmem::Finder::new).collect();
        let mut low = Vec::new();
        (1..self.len() as u32)
            .filter_map(|id| {
                lower_into(self.path(id), &mut low);
                finders
                    .iter()
                    .position(|f| f.find(&low).is_some())
                    .map(|n| (id, n))
            })
            .collect()
    }

    /// The symlink target of `path` as of layer `k`, if it is a symlink with one.
    fn link_at(&self, path: &[u8], k: i64) -> Option<&[u8]> {
        let ev = self.state_at(self.find(path)?, k)?;
        if ev & DEL != 0 || self.rec(ev).kind != Kind::Symlink {
            return None;
        }
        self.link(ev).filter(|l| !l.is_empty())
    }
}

/// Where listed paths are in a tree as of one layer, through symlinked
/// directories (merged /usr: `/bin` -> `usr/bin`): resolved inside the
/// image, never on the host, with bounded hops. A directory's answer is
/// kept for the next path.
pub struct DirLinks<'t> {
    tree: &'t Tree,
    k: i64,
    dirs: HashMap<Vec<u8>, Vec<u8>, foldhash::fast::RandomState>,
}

/// Links followed for one directory before it is taken as it is.
pub const HOPS: usize = 16;
/// Directories resolved inside one another before giving up (a link cycle).
const DEPTH: usize = 256;

impl<'t> DirLinks<'t> {
    pub fn new(tree: &'t Tree, k: i64) -> DirLinks<'t> {
        DirLinks {
            tree,
            k,
            dirs: HashMap::default(),
        }
    }

    /// `path` with its directory resolved; its last name is kept as it is.
    pub fn resolve(&mut self, path: &[u8]) -> Vec<u8> {
        let (parent, name) = split(path);
        let mut out = self.dir(parent, 0);
        join_name(&mut out, name);
        out
    }

    fn dir(&mut self, path: &[u8], depth: usize) -> Vec<u8> {
        if path == b"/" || path.is_empty() {
            return b"/".to_vec();
        }
        if let Some(d) = self.dirs.get(path) {
            return d.clone();
        }
        if depth > DEPTH {
            return path.to_vec();
        }
        let mut real = path.to_vec();
        for _ in 0..HOPS {
            let (parent, name) = split(&real);
            let mut base = self.dir(parent, depth + 1);
            join_name(&mut base, name);
            let Some(link) = self.tree.link_at(&base, self.k) else {
                real = base;
                break;
            };
            real = if link.starts_with(b"/") {
                normpath(link)
            } else {
                let mut t = if parent.is_empty() {
                    b"/".to_vec()
                } else {
                    parent.to_vec()
                };
                if !t.ends_with(b"/") {
                    t.push(b'/');
                }
                t.extend_from_slice(link);
                normpath(&t)
            };
        }
        self.dirs.insert(path.to_vec(), real.clone());
        real
    }
}

/// `path.rpartition("/")`'s head and tail.
fn split(path: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memrchr(b'/', path) {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (b"", path),
    }
}

/// `dir.rstrip("/") + "/" + name`, in place.
fn join_name(dir: &mut Vec<u8>, name: &[u8]) {
    while dir.last() == Some(&b'/') {
        dir.pop();
    }
    dir.push(b'/');
    dir.extend_from_slice(name);
}

/// Python's `posixpath.normpath` on bytes (two leading slashes are kept, as POSIX allows).
pub fn normpath(path: &[u8]) -> Vec<u8> {
    if path.is_empty() {
        return b".".to_vec();
    }
    let lead = if path.starts_with(b"//") && !path.starts_with(b"///") {
        2
    } else if path.starts_with(b"/") {
        1
    } else {
        0
    };
    let mut parts: Vec<&[u8]> = Vec::new();
    for comp in path.split(|&c| c == b'/') {
        if comp.is_empty() || comp == b"." {
            continue;
        }
        if comp != b".." || (lead == 0 && parts.is_empty()) || parts.last() == Some(&&b".."[..]) {
            parts.push(comp);
        } else if !parts.is_empty() {
            parts.pop();
        }
    }
    let mut out = vec![b'/'; lead];
    out.extend_from_slice(&parts.join(&b'/'));
    if out.is_empty() {
        out.push(b'.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normpath;

    #[test]
    fn normpath_is_pythons() {
        // posixpath.normpath's answers (CPython 3.11)
        let cases = [
            ("", "."),
            ("/", "/"),
            ("//", "//"),
            ("///", "/"),
            ("//a//b", "//a/b"),
            ("/a/./b/", "/a/b"),
            ("/a/../../b", "/b"),
            ("a/../../b", "../b"),
            (".", "."),
            ("..", ".."),
            ("/..", "/"),
            ("a/b/..", "a"),
            ("/usr/lib/x/../..", "/usr"),
            ("./x", "x"),
        ];
        for (path, want) in cases {
            assert_eq!(normpath(path.as_bytes()), want.as_bytes(), "{path:?}");
        }
    }
}
