//! The merged model as Python sees it: `Tree`, read-only, with accessors
//! that make the model's `Entry`/`Deletion` objects (`pymodel.rs`) only for
//! what is asked.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use crate::packages;
use crate::pymodel::{internal, kind_of, EntryFields, PyDeletion, PyEntry};
use crate::pypackages::{self, DirFigure, PathLayers, PathRule, PathSet};
use crate::pytypes::{
    AuditResult, AuditRule, ByteFigures, CoreWarning, DiveRef, DiveSums, Hit, LayerCounts, Matches,
    MergeLayer, Waste,
};
use crate::tree::{self, Change, LayerInput, Rec, Rows, DEL, NONE};

/// One scanned layer's rows, held by the core until the merge takes them.
#[pyclass(module = "layerscope._core")]
pub struct LayerRows {
    pub rows: Mutex<Option<Rows>>,
}

#[pymethods]
impl LayerRows {
    fn __len__(&self) -> usize {
        self.rows
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(|r| r.len()))
            .unwrap_or(0)
    }

    /// The entries as the scan read them (layer -1: in no merge yet); empty
    /// once merged. For tests that hold the scanner against another tar reader.
    fn entries(&self, py: Python<'_>) -> PyResult<Vec<Py<PyEntry>>> {
        let guard = self
            .rows
            .lock()
            .map_err(|_| PyRuntimeError::new_err("layer rows poisoned"))?;
        let Some(rows) = guard.as_ref() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(rows.len());
        for (i, r) in rows.recs.iter().enumerate() {
            let f = entry_fields(
                py,
                r,
                text(py, rows.paths.get(i as u32))?,
                (r.link != NONE).then(|| rows.links.get(r.link)),
                (r.digest != NONE).then(|| &rows.digests[r.digest as usize]),
                (r.xattrs != NONE).then(|| &rows.xattrs[r.xattrs as usize]),
            )?;
            out.push(PyEntry::make(
                py,
                EntryFields {
                    layer: -1,
                    change: Change::Added,
                    source: py.None(),
                    implicit: false,
                    id: -1,
                    ..f
                },
            )?);
        }
        Ok(out)
    }
}

/// The fields of an entry row as the model's `Entry` holds them; the merge's
/// own fields (layer, change, source, implicit, id) as a new row has them.
fn entry_fields(
    py: Python<'_>,
    r: &Rec,
    path: PyObject,
    link: Option<&[u8]>,
    digest: Option<&[u8; 32]>,
    xattrs: Option<&crate::tree::Xattrs>,
) -> PyResult<EntryFields> {
    let link = match link {
        Some(l) => text(py, l)?,
        None => py.None(),
    };
    let digest = match digest {
        Some(d) => PyBytes::new(py, d).into_any().unbind(),
        None => py.None(),
    };
    let xattrs = match xattrs {
        Some(x) => {
            let d = PyDict::new(py);
            for (k, v) in x {
                d.set_item(k, PyBytes::new(py, v))?;
            }
            d.into_any().unbind()
        }
        None => py.None(),
    };
    Ok(EntryFields {
        path,
        kind: r.kind,
        mode: r.mode.into(),
        uid: r.uid,
        gid: r.gid,
        size: r.size,
        mtime: r.mtime,
        link,
        digest,
        xattrs,
        offset: r.offset as i64,
        layer: r.layer.into(),
        change: r.change,
        source: py.None(),
        implicit: r.implicit,
        id: -1,
    })
}

/// Path text as Python holds it: UTF-8 decoded with surrogateescape, so any
/// byte string round-trips.
pub fn text(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    match std::str::from_utf8(raw) {
        Ok(s) => Ok(PyString::new(py, s).into_any().unbind()),
        Err(_) => Ok(PyBytes::new(py, raw)
            .call_method1("decode", ("utf-8", "surrogateescape"))?
            .unbind()),
    }
}

/// A path as the core holds it: str (surrogateescape) or bytes.
pub fn bytes_of(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = obj.downcast::<PyString>() {
        let b = s.call_method1("encode", ("utf-8", "surrogateescape"))?;
        return Ok(b.downcast::<PyBytes>()?.as_bytes().to_vec());
    }
    obj.extract::<Vec<u8>>()
}

/// Rows from the entries a Python source made (a container's upper
/// directory), with the lower paths its metadata-only copy-ups show.
fn rows_from_python(list: &Bound<'_, PyList>, copy_ups: &Bound<'_, PyDict>) -> PyResult<Rows> {
    let py = list.py();
    let mut rows = Rows::default();
    for (i, item) in list.iter().enumerate() {
        let e = item.downcast::<PyEntry>()?.get();
        rows.push(&e.row(py)?);
        if let Some(target) = copy_ups.get_item(e.path_obj(py))? {
            rows.sources.push((i as u32, bytes_of(&target)?));
        }
    }
    Ok(rows)
}

/// The merged image. Built once by `merge_layers`; never changes after.
#[pyclass(module = "layerscope._core", frozen)]
pub struct Tree {
    inner: tree::Tree,
    /// `audit::live_sources`, made on the first `path_waste` (the tree never changes).
    live: OnceLock<crate::audit::LiveSources>,
}

/// One layer's rows for the merge: the scan's, taken out of its `LayerRows`,
/// or made from a Python source's entries.
fn layer_input(py: Python<'_>, layer: &MergeLayer) -> PyResult<LayerInput> {
    let rows = layer.rows.bind(py);
    let mut rows = if let Ok(held) = rows.downcast::<LayerRows>() {
        let mut guard = held
            .borrow()
            .rows
            .lock()
            .map_err(|_| PyRuntimeError::new_err("layer rows poisoned"))?
            .take();
        guard.take().unwrap_or_default()
    } else {
        rows_from_python(rows.downcast::<PyList>()?, layer.copy_ups.bind(py))?
    };
    rows.whiteouts = layer
        .whiteouts
        .bind(py)
        .iter()
        .map(|p| bytes_of(&p))
        .collect::<PyResult<_>>()?;
    rows.opaque_dirs = layer
        .opaque_dirs
        .bind(py)
        .iter()
        .map(|p| bytes_of(&p))
        .collect::<PyResult<_>>()?;
    Ok(LayerInput {
        index: layer.index,
        name: layer.name.clone(),
        rows,
    })
}

/// Merge layers into a `Tree` (the scan's rows are taken: a `LayerRows` is
/// empty after).
#[pyfunction]
#[pyo3(signature = (layers, nlayers))]
pub fn merge_layers(
    py: Python<'_>,
    layers: Vec<Bound<'_, MergeLayer>>,
    nlayers: usize,
) -> PyResult<Tree> {
    crate::pymodel::names(py)?; // the model's enums, checked before any work
    let inputs = layers
        .iter()
        .map(|la| layer_input(py, la.get()))
        .collect::<PyResult<Vec<_>>>()?;
    let inner = py
        .allow_threads(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                tree::merge(inputs, nlayers)
            }))
        })
        .map_err(|_| internal("merging the layers"))?;
    Ok(Tree {
        inner,
        live: OnceLock::new(),
    })
}

impl Tree {
    fn check(&self, id: u32) -> PyResult<()> {
        if (id as usize) < self.inner.len() {
            Ok(())
        } else {
            Err(PyIndexError::new_err("no such path id"))
        }
    }

    pub fn entry_obj(&self, py: Python<'_>, eid: u32) -> PyResult<Py<PyEntry>> {
        if eid >= self.inner.entry_count() {
            return Err(PyIndexError::new_err("no such entry id"));
        }
        let t = &self.inner;
        let r: &Rec = t.rec(eid);
        let source = if r.source != NONE && r.source != eid {
            self.entry_obj(py, r.source)?.into_any()
        } else {
            py.None()
        };
        let path = if r.path == NONE {
            PyString::new(py, "").into_any().unbind()
        } else {
            text(py, t.path(r.path))?
        };
        let f = entry_fields(py, r, path, t.link(eid), t.digest(eid), t.xattrs(eid))?;
        PyEntry::make(
            py,
            EntryFields {
                source,
                id: eid.into(),
                ..f
            },
        )
    }

    fn deletion_obj(&self, py: Python<'_>, did: u32) -> PyResult<Py<PyDeletion>> {
        let d = &self.inner.dels[did as usize];
        PyDeletion::make(
            py,
            text(py, self.inner.path(d.path))?,
            d.layer.into(),
            d.how,
            text(py, self.inner.path(d.cause))?,
        )
    }

    fn event_obj(&self, py: Python<'_>, ev: u32) -> PyResult<PyObject> {
        if ev & DEL != 0 {
            Ok(self.deletion_obj(py, ev & !DEL)?.into_any())
        } else {
            Ok(self.entry_obj(py, ev)?.into_any())
        }
    }
}

/// The rules as the audit pass reads them: scope names and type names
/// checked here, so a bad rule is a ValueError before the pass starts.
fn audit_spec(
    py: Python<'_>,
    rules: &[Bound<'_, AuditRule>],
) -> PyResult<Vec<(crate::audit::Scope, crate::audit::Hint)>> {
    use crate::audit::{Hint, Scope};
    let mut spec = Vec::with_capacity(rules.len());
    for rule in rules {
        let rule = rule.get();
        let mut mask = 0u32;
        for t in &rule.types {
            mask |= 1 << kind_of(t)? as u32;
        }
        let scope = match rule.scope.as_str() {
            "shipped" => Scope::Shipped,
            "changed" => Scope::Changed,
            "hidden" => Scope::Hidden,
            "live" => Scope::Live,
            s => return Err(PyValueError::new_err(format!("unknown scope {s:?}"))),
        };
        let prefixes = rule
            .prefixes
            .bind(py)
            .iter()
            .map(|p| bytes_of(&p))
            .collect::<PyResult<_>>()?;
        spec.push((
            scope,
            Hint {
                mode_bits: rule.mode_bits,
                prefixes,
                secret_names: rule.secret_names,
                deleted: rule.deleted,
                all: rule.all,
                types: mask,
            },
        ));
    }
    Ok(spec)
}

/// The names of the audit's causes, in the core's order (analysis's `Cause`).
const CAUSES: [&str; 4] = ["overwritten", "metadata", "identical", "deleted"];

/// The audit's waste as `Waste` objects.
fn waste_rows<'py>(
    py: Python<'py>,
    inner: &tree::Tree,
    waste: &[crate::audit::Waste],
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for w in waste {
        let r = inner.rec(w.entry);
        let deleted_by = if w.deleted_by == NONE {
            None
        } else {
            Some(text(py, inner.path(w.deleted_by))?)
        };
        out.append(Waste {
            entry: w.entry,
            path: text(py, inner.path(r.path))?,
            size: r.size,
            cause: CAUSES[w.cause as usize],
            layer: r.layer,
            by_layer: w.by_layer,
            how: w.how,
            deleted_by,
        })?;
    }
    Ok(out)
}

#[pymethods]
impl Tree {
    /// Paths in the tree, the root `/` (id 0) included.
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// The path of an id.
    fn path(&self, py: Python<'_>, id: u32) -> PyResult<PyObject> {
        self.check(id)?;
        text(py, self.inner.path(id))
    }

    /// The id of a path, None when the tree has no such path.
    fn find(&self, path: &Bound<'_, PyAny>) -> PyResult<Option<u32>> {
        Ok(self.inner.find(&bytes_of(path)?))
    }

    /// Paths of ids `start..stop`, in byte order.
    #[pyo3(signature = (start=0, stop=None))]
    fn paths(&self, py: Python<'_>, start: usize, stop: Option<usize>) -> PyResult<Vec<PyObject>> {
        let stop = stop.unwrap_or(self.inner.len()).min(self.inner.len());
        (start.min(stop)..stop)
            .map(|i| text(py, self.inner.path(i as u32)))
            .collect()
    }

    fn parent(&self, id: u32) -> PyResult<Option<u32>> {
        self.check(id)?;
        let p = self.inner.parent(id);
        Ok((p != NONE).then_some(p))
    }

    /// Ids of a path's children, in byte order of their paths.
    fn children(&self, id: u32) -> PyResult<Vec<u32>> {
        self.check(id)?;
        Ok(self.inner.children(id).to_vec())
    }

    /// The hidden file versions of path `id` that are waste, lowest first:
    /// the audit's rule (`audit::path_waste`) on one timeline, for `which`.
    fn path_waste<'py>(&self, py: Python<'py>, id: u32) -> PyResult<Bound<'py, PyList>> {
        self.check(id)?;
        let inner = &self.inner;
        let live = self.live.get_or_init(|| crate::audit::live_sources(inner));
        let rows = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::audit::path_waste(inner, id, live)
        }))
        .map_err(|_| internal("finding what hid a version"))?;
        waste_rows(py, inner, &rows)
    }

    /// How many children a path has (at any layer).
    fn child_count(&self, id: u32) -> PyResult<usize> {
        self.check(id)?;
        Ok(self.inner.children(id).len())
    }

    /// Each child's last event at or below layer `k` (None where it has none
    /// yet), in the children's order: one call for a directory the tree opens.
    fn children_at(&self, py: Python<'_>, id: u32, k: i64) -> PyResult<Vec<Option<PyObject>>> {
        self.check(id)?;
        self.inner
            .children(id)
            .iter()
            .map(|&c| {
                self.inner
                    .state_at(c, k)
                    .map(|ev| self.event_obj(py, ev))
                    .transpose()
            })
            .collect()
    }

    /// Every event of a path in layer order: `Entry` and `Deletion` objects.
    fn timeline(&self, py: Python<'_>, id: u32) -> PyResult<Vec<PyObject>> {
        self.check(id)?;
        self.inner
            .events(id)
            .iter()
            .map(|&ev| self.event_obj(py, ev))
            .collect()
    }

    /// How many events a path has.
    fn event_count(&self, id: u32) -> PyResult<usize> {
        self.check(id)?;
        Ok(self.inner.events(id).len())
    }

    /// The last event at or below layer `k`, or None.
    fn state_at(&self, py: Python<'_>, id: u32, k: i64) -> PyResult<Option<PyObject>> {
        self.check(id)?;
        self.inner
            .state_at(id, k)
            .map(|ev| self.event_obj(py, ev))
            .transpose()
    }

    /// One entry by its id.
    fn entry(&self, py: Python<'_>, eid: u32) -> PyResult<Py<PyEntry>> {
        self.entry_obj(py, eid)
    }

    /// A layer's own entries, in the order it lists them.
    fn layer_entries(&self, py: Python<'_>, k: usize) -> PyResult<Vec<Py<PyEntry>>> {
        self.inner
            .layer_recs(k)
            .map(|e| self.entry_obj(py, e))
            .collect()
    }

    /// The deletions a layer made.
    fn layer_deletions(&self, py: Python<'_>, k: usize) -> PyResult<Vec<Py<PyDeletion>>> {
        self.inner
            .layer_dels(k)
            .iter()
            .map(|&d| self.deletion_obj(py, d))
            .collect()
    }

    /// What the merge counted in layer `k`.
    fn counts(&self, k: usize) -> PyResult<LayerCounts> {
        let c = self
            .inner
            .counts
            .get(k)
            .ok_or_else(|| PyIndexError::new_err("no such layer"))?;
        Ok(LayerCounts {
            entries: c.entries,
            added: c.added,
            modified: c.modified,
            metadata: c.metadata,
            rewritten: c.rewritten,
            type_changed: c.type_changed,
            deleted: c.deleted,
            dirs_rewritten: c.dirs_rewritten,
        })
    }

    /// The merge's warnings about layer `k`.
    fn warnings(&self, py: Python<'_>, k: usize) -> PyResult<Vec<CoreWarning>> {
        let Some(ws) = self.inner.warnings.get(k) else {
            return Ok(Vec::new());
        };
        ws.iter()
            .map(|(kind, msg)| {
                Ok(CoreWarning {
                    kind,
                    message: text(py, msg)?,
                })
            })
            .collect()
    }

    /// Write the `files` or `hidden` array of `layerscope.report/1` as of
    /// layer `k`, passing the text to `write` in pieces of about `chunk`
    /// bytes; returns the number of items. `ids` (increasing path ids) keeps
    /// only those paths, `layer_only` only what layer `k` did, and `owners`
    /// (path id -> owner, surrogateescape UTF-8) adds an `owner` field.
    #[pyo3(signature = (which, k, write, chunk=1 << 20, *, ids=None, layer_only=false, owners=None))]
    #[allow(clippy::too_many_arguments)] // the Python signature: keywords with defaults
    fn write_array(
        &self,
        py: Python<'_>,
        which: &str,
        k: i64,
        write: Bound<'_, PyAny>,
        chunk: usize,
        ids: Option<Vec<u32>>,
        layer_only: bool,
        owners: Option<HashMap<u32, Vec<u8>>>,
    ) -> PyResult<usize> {
        let which = match which {
            "files" => crate::json::Array::Files,
            "hidden" => crate::json::Array::Hidden,
            _ => return Err(PyValueError::new_err("which is 'files' or 'hidden'")),
        };
        let sel = crate::json::Select {
            ids: ids.as_deref(),
            layer_only,
            owners: owners.as_ref(),
        };
        let inner = &self.inner;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::json::write_array(inner, which, k, &sel, chunk.max(1), |text: &[u8]| {
                // The text is ASCII: JSON with every other character escaped.
                let s =
                    std::str::from_utf8(text).map_err(|e| PyValueError::new_err(e.to_string()))?;
                write.call1((PyString::new(py, s),)).map(|_| ())
            })
        }))
        .map_err(|_| internal("writing the report"))?
    }

    /// The audit pass: the waste, and per rule the versions its hint let through.
    fn audit(&self, py: Python<'_>, rules: Vec<Bound<'_, AuditRule>>) -> PyResult<AuditResult> {
        let spec = audit_spec(py, &rules)?;
        let inner = &self.inner;
        let result = py
            .allow_threads(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    crate::audit::audit(inner, &spec)
                }))
            })
            .map_err(|_| internal("in the audit pass"))?;
        let waste = waste_rows(py, inner, &result.waste)?;
        let hits = PyList::empty(py);
        for v in result.hits {
            let one = PyList::empty(py);
            for (a, b) in v {
                one.append(Hit {
                    item: a,
                    previous: (b != NONE).then_some(b),
                })?;
            }
            hits.append(one)?;
        }
        Ok(AuditResult {
            waste: waste.unbind(),
            hits: hits.unbind(),
        })
    }

    /// Layer k's own byte figures.
    fn layer_bytes(&self, py: Python<'_>, k: usize) -> PyResult<ByteFigures> {
        let inner = &self.inner;
        let b = py
            .allow_threads(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.layer_bytes(k)))
            })
            .map_err(|_| internal("computing a layer's sizes"))?;
        let dict = |v: &[(u32, i64)]| -> PyResult<Py<PyDict>> {
            let d = PyDict::new(py);
            for &(p, n) in v {
                d.set_item(text(py, inner.path(p))?, n)?;
            }
            Ok(d.unbind())
        };
        let changed = PyList::empty(py);
        for &p in &b.changed {
            changed.append(text(py, inner.path(p))?)?;
        }
        Ok(ByteFigures {
            added: dict(&b.added)?,
            hidden: dict(&b.hidden)?,
            delta: dict(&b.delta)?,
            changed: changed.unbind(),
        })
    }

    /// dive 0.13.1's figures.
    fn dive_figures(&self, py: Python<'_>) -> PyResult<DiveSums> {
        let inner = &self.inner;
        let r = py
            .allow_threads(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.dive_figures()))
            })
            .map_err(|_| internal("computing dive's figures"))?;
        let refs = PyList::empty(py);
        for (path, count, size) in &r.refs {
            refs.append(DiveRef {
                path: text(py, path)?,
                count: *count,
                size: *size,
            })?;
        }
        Ok(DiveSums {
            min_sum: r.min_sum,
            disc_sum: r.disc_sum,
            refs: refs.unbind(),
        })
    }

    /// The search screen's fragment match (search.rs), with the GIL released;
    /// `needle` is already lowercased.
    fn find_fragment(
        &self,
        py: Python<'_>,
        needle: &Bound<'_, PyAny>,
        k: i64,
        ghosts: bool,
        limit: usize,
        stop_at_limit: bool,
    ) -> PyResult<Matches> {
        let needle = bytes_of(needle)?;
        let inner = &self.inner;
        let found = py
            .allow_threads(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    inner.find_fragment(&needle, k, ghosts, limit, stop_at_limit)
                }))
            })
            .map_err(|_| internal("searching paths"))?;
        let first = PyList::empty(py);
        for &ev in &found.first {
            first.append(self.event_obj(py, ev)?)?;
        }
        Ok(Matches {
            first: first.unbind(),
            total: found.total,
            deleted: found.deleted,
        })
    }

    /// Bytes the tree holds (for the memory budget in benchmarks and tests).
    fn heap_bytes(&self) -> usize {
        self.inner.heap_bytes()
    }

    // -- the package scans (packages.rs, pypackages.rs) --------------------------

    /// The paths of the list the tree has, as a set (the others left out).
    fn path_set(&self, paths: &Bound<'_, PyList>) -> PyResult<PathSet> {
        Ok(PathSet {
            inner: packages::PathSet::new(
                &pypackages::ids_of(&self.inner, paths)?,
                self.inner.len(),
            ),
        })
    }

    /// Layer `k`'s non-directories outside `owned` and `state`, by directory (byte order).
    fn unowned_dirs(
        &self,
        py: Python<'_>,
        k: usize,
        owned: &PathSet,
        state: &PathRule,
    ) -> PyResult<Vec<DirFigure>> {
        let inner = &self.inner;
        let found = py
            .allow_threads(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    inner.unowned_dirs(k, &owned.inner, &state.inner)
                }))
            })
            .map_err(|_| internal("finding unowned files"))?;
        pypackages::dir_figures(py, inner, &found)
    }

    /// Layer `k`'s entries (in its order), then its deletions, on the paths of `on`.
    fn events_on(&self, py: Python<'_>, k: usize, on: &PathSet) -> PyResult<Vec<PyObject>> {
        self.inner
            .events_on(k, &on.inner)
            .into_iter()
            .map(|ev| self.event_obj(py, ev))
            .collect()
    }

    /// Does layer `k` change what a symlink resolves to (an event on a path
    /// that is a symlink as of `k` or as of `k - 1`)?
    fn links_changed(&self, k: usize) -> bool {
        self.inner.links_changed(k)
    }

    /// Every path containing one of `needles` (lowercased; matched without
    /// case), with the layers of its events and the first needle it holds, in byte order.
    fn paths_containing(&self, py: Python<'_>, needles: Vec<String>) -> PyResult<Vec<PathLayers>> {
        let needles: Vec<Vec<u8>> = needles.into_iter().map(String::into_bytes).collect();
        let inner = &self.inner;
        let ids = py
            .allow_threads(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    inner.paths_containing(&needles)
                }))
            })
            .map_err(|_| internal("searching paths"))?;
        ids.into_iter()
            .map(|(id, needle)| {
                let layers = inner
                    .events(id)
                    .iter()
                    .map(|&ev| inner.ev_layer(ev))
                    .collect();
                Ok(PathLayers {
                    path: text(py, inner.path(id))?,
                    layers,
                    needle,
                })
            })
            .collect()
    }

    /// Each path resolved through symlinked directories as of layer `k`.
    fn resolve_dirs<'py>(
        &self,
        py: Python<'py>,
        paths: &Bound<'py, PyList>,
        k: i64,
    ) -> PyResult<Bound<'py, PyList>> {
        pypackages::resolve_dirs(py, &self.inner, paths, k)
    }

    /// Each path's regular-file size as of layer `k` (0 for anything else);
    /// with `layer_only`, only where layer `k` itself wrote the file.
    #[pyo3(signature = (paths, k, layer_only=false))]
    fn file_sizes(
        &self,
        paths: &Bound<'_, PyList>,
        k: i64,
        layer_only: bool,
    ) -> PyResult<Vec<i64>> {
        let t = &self.inner;
        paths
            .iter()
            .map(|p| {
                let ev = t
                    .find(&pypackages::path_bytes(&p)?)
                    .and_then(|id| t.state_at(id, k));
                Ok(match ev {
                    Some(e) if e & DEL == 0 => {
                        let r = t.rec(e);
                        let own = !layer_only || i64::from(r.layer) == k;
                        if r.kind == crate::layer::Kind::File && own {
                            r.size
                        } else {
                            0
                        }
                    }
                    _ => 0,
                })
            })
            .collect()
    }

    /// Whether each path is, as of layer `k`, an entry that is not a directory.
    fn non_dirs(&self, paths: &Bound<'_, PyList>, k: i64) -> PyResult<Vec<bool>> {
        let t = &self.inner;
        paths
            .iter()
            .map(|p| {
                let ev = t
                    .find(&pypackages::path_bytes(&p)?)
                    .and_then(|id| t.state_at(id, k));
                Ok(ev.is_some_and(|e| e & DEL == 0 && t.rec(e).kind != crate::layer::Kind::Dir))
            })
            .collect()
    }
}
