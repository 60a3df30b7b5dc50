//! The search screen's fragment matching, over every path, without the GIL.
//!
//! A search fragment matches a path case-insensitively anywhere in it. In
//! Python this walked 500k path strings per keystroke on a worker thread that
//! held the GIL for most of it, so the UI's frames waited on the search. Here
//! the walk runs in the core with the GIL released: the keys stay responsive
//! and a count over 500k paths takes a few milliseconds.
//!
//! Lowercasing is Python's `str.lower()` for the path as Python sees it (bytes
//! that are not UTF-8 stand for themselves, as surrogate escapes do there):
//! ASCII paths byte by byte, others with Rust's full Unicode lowercase mapping
//! on each valid UTF-8 run. The Unicode versions of the two may differ for the
//! newest characters; a differential test holds them equal on a catalogue of
//! names (tests/test_search_core.py).

use memchr::memmem;

use crate::tree::{Tree, DEL};

/// What a search found as of one layer.
pub struct Found {
    /// The events (entry ids, or deletion ids with `DEL` set) of the first matches, in path order.
    pub first: Vec<u32>,
    /// Paths that match and are shown as of the layer (all of them, unless stopped at the limit).
    pub total: usize,
    /// How many of those are deleted as of the layer (deleted by it, or ghosts).
    pub deleted: usize,
}

/// `path` lowercased into `out` (cleared first), as Python lowercases its str.
pub fn lower_into(path: &[u8], out: &mut Vec<u8>) {
    out.clear();
    if path.is_ascii() {
        out.extend(path.iter().map(u8::to_ascii_lowercase));
        return;
    }
    for chunk in path.utf8_chunks() {
        out.extend_from_slice(chunk.valid().to_lowercase().as_bytes());
        out.extend_from_slice(chunk.invalid());
    }
}

impl Tree {
    /// Paths (not the root), in byte order, whose lowercased text contains
    /// `needle` (already lowercased) and whose state as of layer `k` is shown:
    /// present, deleted by layer `k`, or with `ghosts` deleted by a lower layer.
    /// With `stop_at_limit` the walk ends at the `limit`-th match.
    pub fn find_fragment(
        &self,
        needle: &[u8],
        k: i64,
        ghosts: bool,
        limit: usize,
        stop_at_limit: bool,
    ) -> Found {
        let finder = memmem::Finder::new(needle);
        let mut found = Found {
            first: Vec::new(),
            total: 0,
            deleted: 0,
        };
        let mut lowered = Vec::new();
        for id in 1..self.len() as u32 {
            let path = self.path(id);
            lower_into(path, &mut lowered);
            let hit = finder.find(&lowered).is_some();
            if !hit {
                continue;
            }
            let Some(ev) = self.state_at(id, k) else {
                continue;
            };
            let deleted = ev & DEL != 0;
            if deleted && !ghosts && i64::from(self.ev_layer(ev)) != k {
                continue;
            }
            if found.first.len() < limit {
                found.first.push(ev);
            } else if stop_at_limit {
                break;
            }
            found.total += 1;
            found.deleted += usize::from(deleted);
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::lower_into;

    fn lower(path: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        lower_into(path, &mut out);
        out
    }

    #[test]
    fn lowercases_as_python_does() {
        assert_eq!(lower(b"/Etc/MiXeD"), b"/etc/mixed");
        assert_eq!(lower("/ÄRGER".as_bytes()), "/ärger".as_bytes());
        assert_eq!(lower("K\u{212a}".as_bytes()), b"kk"); // the Kelvin sign lowercases to ASCII
        assert_eq!(lower("\u{130}".as_bytes()), "i\u{307}".as_bytes()); // to two code points
        assert_eq!(lower("ΟΔΟΣ".as_bytes()), "οδος".as_bytes()); // final sigma
                                                                 // bytes that are not UTF-8 stand for themselves, between lowercased runs
        assert_eq!(lower(b"A\xffB\xfe"), b"a\xffb\xfe");
    }
}
