//! Property tests of the merge: random layer stacks (paths from a small set,
//! every entry type, whiteouts, opaque markers, hardlinks) never panic, and
//! the tree they give keeps its invariants. The Python suite holds the same
//! merge against a literal reading of the OCI spec (`test_property_merge.py`).

use proptest::prelude::*;

use crate::layer::{Entry, Kind};
use crate::tree::{merge, LayerInput, Rows, DEL, KINDS, NONE};

const PATHS: [&str; 8] = [
    "/a", "/a/b", "/a/b/c", "/a/d", "/e", "/e/f", "/g", "/a/b/c/h",
];

#[derive(Debug, Clone)]
enum Op {
    Put(usize, usize, usize, u8), // path, kind, link target, data
    Whiteout(usize),
    Opaque(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..PATHS.len(), 0..KINDS.len(), 0..PATHS.len(), 0u8..3).prop_map(|(p, k, l, d)| Op::Put(p, k, l, d)),
        1 => (0..PATHS.len()).prop_map(Op::Whiteout),
        1 => (0..PATHS.len()).prop_map(Op::Opaque),
    ]
}

fn layer(ops: &[Op]) -> Rows {
    let mut rows = Rows::default();
    let mut seen = std::collections::HashSet::new();
    for o in ops {
        match *o {
            Op::Put(p, k, l, d) => {
                if !seen.insert(p) {
                    continue; // the scan keeps one entry per path
                }
                let kind = KINDS[k];
                let link = matches!(kind, Kind::Symlink | Kind::Hardlink)
                    .then(|| PATHS[l].as_bytes().to_vec());
                rows.push(&Entry {
                    path: PATHS[p].as_bytes().to_vec(),
                    kind,
                    mode: 0o644 + u32::from(d),
                    uid: 0,
                    gid: 0,
                    size: if kind == Kind::File { i64::from(d) } else { 0 },
                    mtime: 0,
                    link,
                    digest: (kind == Kind::File).then_some([d; 32]),
                    xattrs: None,
                    offset: 512,
                });
            }
            Op::Whiteout(p) => rows.whiteouts.push(PATHS[p].as_bytes().to_vec()),
            Op::Opaque(p) => rows.opaque_dirs.push(PATHS[p].as_bytes().to_vec()),
        }
    }
    rows
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, rng_seed: proptest::test_runner::RngSeed::Fixed(7), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_stacks_merge_into_a_consistent_tree(stack in prop::collection::vec(prop::collection::vec(op(), 0..8), 1..6)) {
        let n = stack.len();
        let inputs: Vec<LayerInput> = stack
            .iter()
            .enumerate()
            .map(|(i, ops)| LayerInput { index: i, name: format!("layer {i}"), rows: layer(ops) })
            .collect();
        let listed: usize = inputs.iter().map(|l| l.rows.len()).sum();
        let tree = merge(inputs, n);
        prop_assert_eq!(tree.path(0), b"/");
        let mut counted = 0u64;
        for k in 0..n {
            let c = tree.counts[k];
            counted += c.entries;
            prop_assert_eq!(c.entries, c.added + c.modified + c.metadata + c.rewritten + c.type_changed + c.dirs_rewritten);
            prop_assert!(c.deleted as usize <= tree.layer_dels(k).len());
        }
        prop_assert_eq!(counted as usize, listed);
        for id in 1..tree.len() as u32 {
            let p = tree.path(id);
            prop_assert!(tree.path(id - 1) < p, "ids are in byte order");
            prop_assert_eq!(tree.find(p), Some(id));
            let parent = tree.parent(id);
            prop_assert!(parent != NONE && tree.children(parent).contains(&id));
            let evs = tree.events(id);
            prop_assert!(!evs.is_empty());
            let layers: Vec<u16> = evs.iter().map(|&e| tree.ev_layer(e)).collect();
            prop_assert!(layers.windows(2).all(|w| w[0] <= w[1]), "timeline in layer order");
            for &e in evs {
                if e & DEL == 0 {
                    prop_assert_eq!(tree.rec(e).path, id);
                    // a path live at the end of a layer has a live directory as its parent
                    let k = i64::from(tree.rec(e).layer);
                    if parent != 0 && tree.state_at(id, k) == Some(e) {
                        let up = tree.state_at(parent, k);
                        prop_assert!(up.is_some_and(|u| u & DEL == 0 && tree.rec(u).kind == Kind::Dir));
                    }
                }
            }
        }
        let _ = tree.dive_figures();
    }
}
