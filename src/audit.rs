//! One pass over the merged tree for the audit: the file versions that ship
//! but are hidden at the top (waste, with what hid them), and for each
//! findings rule the versions it could match.
//!
//! The rules themselves stay in Python (`analysis.RULES`); each may carry a
//! cheap hint (mode bits, path prefixes, "could be a secret's name") that is
//! checked here, so Python sees a few hundred candidates instead of every
//! entry of the image.

use std::collections::HashSet;

use crate::layer::Kind;
use crate::tree::{Change, Tree, DEL, NONE};

/// Which versions a rule looks at (as `analysis.SHIPPED` etc.).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scope {
    Shipped,
    Changed,
    Hidden,
    Live,
}

/// What must hold for a rule to see a version; with none set, every version does.
#[derive(Clone, Debug, Default)]
pub struct Hint {
    pub mode_bits: u32,
    pub prefixes: Vec<Vec<u8>>,
    pub secret_names: bool,
    /// Hidden scope: only versions a deletion hid.
    pub deleted: bool,
    pub all: bool,
    /// Bit `1 << kind` for each entry type the rule can match (0: any).
    pub types: u32,
}

/// Why a hidden version is hidden (as `analysis.CAUSES`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Cause {
    Overwritten,
    CopyUp,
    Identical,
    Deleted,
}

/// A file version that ships but is not visible at the top.
#[derive(Clone, Copy, Debug)]
pub struct Waste {
    pub entry: u32,
    pub cause: Cause,
    /// What hid it: a change class name or a deletion kind name.
    pub how: &'static str,
    /// The path whose deletion or replacement removed it (NONE when overwritten).
    pub deleted_by: u32,
    pub by_layer: u16,
}

#[derive(Debug, Default)]
pub struct Audit {
    pub waste: Vec<Waste>,
    /// Per rule: `(entry, previous version or NONE)` for shipped/changed/live
    /// rules, `(waste index, NONE)` for hidden ones.
    pub hits: Vec<Vec<(u32, u32)>>,
}

const SECRET_EXTS: [&[u8]; 5] = [b"key", b"p12", b"pfx", b"jks", b"keystore"];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// Could `analysis.sensitive_path` report this path? The secret rule's one
/// cheap pre-filter (Python keeps only the rule's regex and calls it on the
/// versions this lets through), plus a `.git` directory anywhere above.
pub fn maybe_secret(path: &[u8]) -> bool {
    if contains(path, b"/.git") {
        return true;
    }
    let base = match memchr::memrchr(b'/', path) {
        Some(i) => &path[i + 1..],
        None => path,
    };
    if base.first() == Some(&b'.')
        || base.starts_with(b"id_")
        || base == b"config"
        || contains(base, b"credential")
    {
        return true;
    }
    if let Some(dot) = memchr::memrchr(b'.', base) {
        let ext = &base[dot + 1..];
        if SECRET_EXTS.contains(&ext) {
            return true;
        }
        // Only some .pem and .json names are secrets' (private keys, cloud
        // credentials, a docker config): the rule's regex lists them.
        if ext == b"pem" && (contains(base, b"priv") || contains(base, b"secret")) {
            return true;
        }
        if ext == b"json" && (base.starts_with(b"service") || base == b"config.json") {
            return true;
        }
    }
    contains(path, b"/.azure/") || contains(path, b"/gcloud/")
}

impl Hint {
    fn passes(&self, tree: &Tree, kind: Kind, mode: u32, path: u32) -> bool {
        if self.types != 0 && self.types & (1 << kind as u32) == 0 {
            return false;
        }
        if self.all || (self.mode_bits & mode) != 0 {
            return true;
        }
        if self.prefixes.is_empty() && !self.secret_names {
            return false;
        }
        let p = tree.path(path);
        self.prefixes.iter().any(|x| p.starts_with(x)) || (self.secret_names && maybe_secret(p))
    }
}

/// What hid file version `entry`, given the event `next` above it in its
/// path's timeline: the one rule of "why is this version waste", for the
/// audit and for `which` (`path_waste`).
fn waste_of(tree: &Tree, entry: u32, next: u32) -> Waste {
    let (cause, how, deleted_by) = if next & DEL != 0 {
        let d = &tree.dels[(next & !DEL) as usize];
        (Cause::Deleted, d.how.name(), d.cause)
    } else {
        let n = tree.rec(next);
        match n.change {
            Change::Modified => (Cause::Overwritten, n.change.name(), NONE),
            Change::Metadata => (Cause::CopyUp, n.change.name(), NONE),
            Change::Rewritten => (Cause::Identical, n.change.name(), NONE),
            Change::TypeChanged => (Cause::Deleted, "replaced", n.path),
            Change::Added => (Cause::Overwritten, n.change.name(), NONE),
        }
    };
    Waste {
        entry,
        cause,
        how,
        deleted_by,
        by_layer: tree.ev_layer(next),
    }
}

/// The lower entry whose bytes the path's visible version still uses (a
/// hardlink's target, a metacopy's data), if any: those bytes are not waste.
fn live_source(tree: &Tree, evs: &[u32]) -> Option<u32> {
    let &ev = evs.last()?;
    if ev & DEL != 0 {
        return None;
    }
    let s = tree.rec(ev).source;
    (s != NONE).then_some(s)
}

pub type LiveSources = HashSet<u32, foldhash::fast::RandomState>;

/// Every entry a visible version still uses the bytes of (see `live_source`).
pub fn live_sources(tree: &Tree) -> LiveSources {
    (1..tree.len() as u32)
        .filter_map(|id| live_source(tree, tree.events(id)))
        .collect()
}

/// The hidden file versions of one path that are waste, lowest first: the
/// audit's rule on one timeline (`live` from `live_sources`).
pub fn path_waste(tree: &Tree, id: u32, live: &LiveSources) -> Vec<Waste> {
    let evs = tree.events(id);
    evs.windows(2)
        .filter(|w| w[0] & DEL == 0 && tree.rec(w[0]).kind == Kind::File && !live.contains(&w[0]))
        .map(|w| waste_of(tree, w[0], w[1]))
        .collect()
}

/// The audit pass over every path's timeline, as of the top layer.
pub fn audit(tree: &Tree, rules: &[(Scope, Hint)]) -> Audit {
    let mut hits: Vec<Vec<(u32, u32)>> = vec![Vec::new(); rules.len()];
    let mut candidates: Vec<(u32, u32)> = Vec::new(); // (entry, next event)
    let mut live_links = LiveSources::default();
    for id in 1..tree.len() as u32 {
        let evs = tree.events(id);
        let last = evs.len().saturating_sub(1);
        let mut prev = NONE;
        for (i, &ev) in evs.iter().enumerate() {
            if ev & DEL != 0 {
                prev = NONE;
                continue;
            }
            let r = tree.rec(ev);
            let changed = !r.implicit && (evs.len() == 1 || r.change != Change::Rewritten);
            for (k, (scope, hint)) in rules.iter().enumerate() {
                let applies = match scope {
                    Scope::Shipped => true,
                    Scope::Changed => changed,
                    Scope::Live => i == last,
                    Scope::Hidden => false,
                };
                if applies && hint.passes(tree, r.kind, r.mode, r.path) {
                    hits[k].push((ev, prev));
                }
            }
            if i != last && r.kind == Kind::File {
                candidates.push((ev, evs[i + 1]));
            }
            prev = ev;
        }
        if let Some(s) = live_source(tree, evs) {
            live_links.insert(s);
        }
    }
    let mut waste = Vec::new();
    for (entry, next) in candidates {
        if live_links.contains(&entry) {
            continue; // still visible through a hardlink or a copy-up: not waste
        }
        let w = waste_of(tree, entry, next);
        let cause = w.cause;
        let r = tree.rec(entry);
        for (k, (scope, hint)) in rules.iter().enumerate() {
            if *scope != Scope::Hidden {
                continue;
            }
            let typed = hint.types == 0 || hint.types & (1 << r.kind as u32) != 0;
            if hint.passes(tree, r.kind, r.mode, r.path)
                || (typed && hint.deleted && cause == Cause::Deleted)
            {
                hits[k].push((waste.len() as u32, NONE));
            }
        }
        waste.push(w);
    }
    Audit { waste, hits }
}
