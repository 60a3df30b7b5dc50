//! dive 0.13.1's efficiency figures, computed the way dive computes them,
//! quirks included (so `report` can print numbers a dive user recognises).
//!
//! dive stacks each layer's tree onto the tree of the layers below and, per
//! path, counts how many layers "visit" it and with what size: a whiteout
//! visits its target with the target's subtree size, an entry visits with its
//! own size, a directory that is only a parent of something is not visited.
//! A path visited by two or more layers counts *all* its sizes as wasted.
//! A whiteout of a path that does not exist stops dive's visits of that layer
//! at that point (depth-first order, names sorted) and leaves a -1 minimum.

use foldhash::{HashMap, HashSet, HashSetExt};

/// One layer as `figures` reads it, its paths borrowed (from a `DiveLayer`
/// or from the merged tree, which stores every path once).
#[derive(Default, Debug)]
pub struct DiveView<'a> {
    pub entries: Vec<(&'a [u8], i64, bool)>,
    pub whiteouts: Vec<&'a [u8]>,
    pub opaque_dirs: Vec<&'a [u8]>,
}

pub struct DiveResult {
    pub min_sum: i64,
    pub disc_sum: i64,
    /// `(path, count, cumulative size)` of paths seen in two or more layers, biggest first.
    pub refs: Vec<(Vec<u8>, i64, i64)>,
}

const ROOT: &[u8] = b"/";

fn parent_of(path: &[u8]) -> &[u8] {
    match memchr::memrchr(b'/', path) {
        Some(0) | None => ROOT,
        Some(i) => &path[..i],
    }
}

/// The stacked tree dive builds: a payload per path, children by parent.
/// Paths are borrowed from the input layers: nothing is copied per node.
#[derive(Default)]
struct Tree<'a> {
    nodes: HashMap<&'a [u8], (i64, bool)>,
    kids: HashMap<&'a [u8], HashSet<&'a [u8]>>,
}

impl<'a> Tree<'a> {
    fn add(&mut self, path: &'a [u8], payload: (i64, bool)) {
        if !self.nodes.contains_key(path) {
            // Missing parents become empty nodes (a loop: paths can be deep).
            let mut missing = Vec::new();
            let mut q = path;
            while q != ROOT && !self.nodes.contains_key(q) {
                missing.push(q);
                q = parent_of(q);
            }
            for p in missing.into_iter().rev() {
                self.nodes.insert(p, (0, false));
                self.kids.entry(parent_of(p)).or_default().insert(p);
            }
        }
        self.nodes.insert(path, payload);
    }

    fn subtree_size(&self, path: &[u8]) -> i64 {
        let mut total = 0;
        let mut stack: Vec<&[u8]> = vec![path];
        while let Some(p) = stack.pop() {
            total += self.nodes.get(p).map_or(0, |n| n.0);
            if let Some(k) = self.kids.get(p) {
                stack.extend(k.iter().copied());
            }
        }
        total
    }

    fn remove(&mut self, path: &[u8]) {
        if !self.nodes.contains_key(path) {
            return;
        }
        if let Some(siblings) = self.kids.get_mut(parent_of(path)) {
            siblings.remove(path);
        }
        let mut stack: Vec<&[u8]> = vec![path];
        while let Some(p) = stack.pop() {
            self.nodes.remove(p);
            if let Some(k) = self.kids.remove(p) {
                stack.extend(k);
            }
        }
    }
}

/// Marks every ancestor of `path` as a parent (not visited); ancestors the
/// layer does not list become implicit empty directories.
fn mark<'a>(
    path: &'a [u8],
    parents: &mut HashSet<&'a [u8]>,
    implicit: &mut Vec<&'a [u8]>,
    explicit: &HashSet<&'a [u8]>,
) {
    let mut q = parent_of(path);
    while q != ROOT && !parents.contains(q) {
        parents.insert(q);
        if !explicit.contains(q) {
            implicit.push(q);
        }
        q = parent_of(q);
    }
}

/// dive's visiting order: components compared as bytes, a whiteout's last
/// component as its `.wh.` name.
fn order_key(path: &[u8], whiteout: bool) -> Vec<Vec<u8>> {
    let start = path.iter().position(|&b| b != b'/').unwrap_or(path.len());
    let end = path
        .iter()
        .rposition(|&b| b != b'/')
        .map_or(start, |i| i + 1);
    let mut parts: Vec<Vec<u8>> = path[start..end.max(start)]
        .split(|&b| b == b'/')
        .map(<[u8]>::to_vec)
        .collect();
    if whiteout {
        if let Some(last) = parts.last_mut() {
            let mut named = b".wh.".to_vec();
            named.extend_from_slice(last);
            *last = named;
        }
    }
    parts
}

/// Per path: (layers that visited it, cumulative size, smallest size or -1).
#[derive(Default)]
struct Tally<'a> {
    seen: HashMap<&'a [u8], (i64, i64, i64)>,
}

impl<'a> Tally<'a> {
    fn visit(&mut self, p: &'a [u8], s: i64) {
        match self.seen.get_mut(p) {
            Some(t) => {
                t.0 += 1;
                t.1 += s;
                if t.2 < 0 || s < t.2 {
                    t.2 = s;
                }
            }
            None => {
                self.seen.insert(p, (1, s, s));
            }
        }
    }
}

/// One visit: a path, the size it is visited with, whether by a whiteout.
type Visit<'a> = (&'a [u8], i64, bool);

/// One layer's own tree as dive builds it before stacking: the explicit
/// members (a repeated path keeps its first place and its last payload),
/// the whiteouts, the directories that are only parents, and the parents
/// the layer does not list (implicit, empty).
struct LayerTree<'a> {
    explicit: Vec<(&'a [u8], (i64, bool))>,
    whiteouts: Vec<&'a [u8]>,
    parents: HashSet<&'a [u8]>,
    implicit: Vec<&'a [u8]>,
}

impl<'a> LayerTree<'a> {
    fn new(layer: &DiveView<'a>) -> LayerTree<'a> {
        let mut explicit: Vec<(&[u8], (i64, bool))> = Vec::with_capacity(layer.entries.len());
        let mut explicit_set: HashSet<&[u8]> = HashSet::with_capacity(layer.entries.len());
        for &(p, size, is_dir) in &layer.entries {
            if p != ROOT {
                if explicit_set.insert(p) {
                    explicit.push((p, (size, is_dir)));
                } else if let Some(slot) = explicit.iter_mut().rev().find(|(q, _)| *q == p) {
                    slot.1 = (size, is_dir);
                }
            }
        }
        let whiteouts: Vec<&[u8]> = layer
            .whiteouts
            .iter()
            .copied()
            .filter(|w| *w != ROOT)
            .collect();
        let mut parents: HashSet<&[u8]> = HashSet::new();
        let mut implicit: Vec<&[u8]> = Vec::new();
        for (p, _) in &explicit {
            mark(p, &mut parents, &mut implicit, &explicit_set);
        }
        for w in &whiteouts {
            mark(w, &mut parents, &mut implicit, &explicit_set);
        }
        for &d in &layer.opaque_dirs {
            // the marker is dropped but its directory node exists
            if d != ROOT {
                mark(d, &mut parents, &mut implicit, &explicit_set);
                if !explicit_set.contains(d) && !parents.contains(d) {
                    implicit.push(d); // an empty leaf of size 0
                }
            }
        }
        LayerTree {
            explicit,
            whiteouts,
            parents,
            implicit,
        }
    }

    /// This layer's nodes set their payloads on `tree` (implicit parents
    /// first, so an explicit entry's payload wins).
    fn add_to(&self, tree: &mut Tree<'a>) {
        for p in &self.implicit {
            tree.add(p, (0, false));
        }
        for (p, payload) in &self.explicit {
            tree.add(p, *payload);
        }
    }

    /// dive's visits of this layer against `lookup`, the stacked tree below
    /// it: each whiteout with its target's subtree size, then each leaf.
    /// Whiteouts whose target is missing are returned apart.
    fn visits(&self, lookup: &Tree<'a>) -> (Vec<Visit<'a>>, Vec<&'a [u8]>) {
        let mut visits: Vec<Visit<'a>> = Vec::new();
        let mut failed: Vec<&[u8]> = Vec::new();
        for w in &self.whiteouts {
            match lookup.nodes.get(*w) {
                None => failed.push(w),
                Some(node) => {
                    let size = if node.1 { lookup.subtree_size(w) } else { 0 };
                    visits.push((w, size, true));
                }
            }
        }
        for (p, payload) in &self.explicit {
            if !self.parents.contains(p) {
                visits.push((p, payload.0, false));
            }
        }
        for p in &self.implicit {
            if !self.parents.contains(p) {
                visits.push((p, 0, false));
            }
        }
        (visits, failed)
    }
}

/// dive stops visiting a layer at its first missing whiteout target (in its
/// visiting order): later visits are dropped and that target is tallied
/// with a -1 minimum.
fn stop_at_missing<'a>(visits: &mut Vec<Visit<'a>>, failed: &[&'a [u8]], tally: &mut Tally<'a>) {
    let Some((first_path, first)) = failed
        .iter()
        .map(|w| (*w, order_key(w, true)))
        .min_by(|a, b| a.1.cmp(&b.1))
    else {
        return;
    };
    visits.retain(|(p, _, wh)| order_key(p, *wh) < first);
    tally.seen.entry(first_path).or_insert((0, 0, -1));
}

/// dive's figures over `n` layers, each made by `layer(k)` when its turn
/// comes (its view is dropped after: only the paths it borrows stay).
/// `need_tree`: does any layer have whiteouts (else dive's stacked tree,
/// which only answers whiteout lookups, is skipped)?
pub fn figures<'a>(n: usize, need_tree: bool, layer: impl Fn(usize) -> DiveView<'a>) -> DiveResult {
    let mut tally = Tally::default();
    let mut tree = Tree::default();
    for index in 0..n {
        let lt = LayerTree::new(&layer(index));
        let (mut visits, failed) = if index == 0 && !lt.whiteouts.is_empty() {
            // dive stacks layer 0 onto a copy of itself
            let mut own = Tree::default();
            lt.add_to(&mut own);
            lt.visits(&own)
        } else {
            lt.visits(&tree)
        };
        stop_at_missing(&mut visits, &failed, &mut tally);
        for (p, s, _) in &visits {
            tally.visit(p, *s);
        }
        // Stack this layer: whiteouts remove, every node of the layer tree sets its payload.
        if need_tree {
            for w in &lt.whiteouts {
                tree.remove(w);
            }
            lt.add_to(&mut tree);
        }
    }
    tally.result()
}

impl Tally<'_> {
    /// The sums over every tallied path, and the paths two or more layers
    /// visited, biggest cumulative size first (ties by path).
    fn result(&self) -> DiveResult {
        let min_sum = self.seen.values().map(|t| t.2).sum();
        let disc_sum = self.seen.values().map(|t| t.1).sum();
        let mut refs: Vec<(Vec<u8>, i64, i64)> = self
            .seen
            .iter()
            .filter(|(_, t)| t.0 >= 2)
            .map(|(p, t)| (p.to_vec(), t.0, t.1))
            .collect();
        refs.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        DiveResult {
            min_sum,
            disc_sum,
            refs,
        }
    }
}
