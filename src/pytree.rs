//! The merged model as Python sees it: `Tree`, read-only, with accessors
//! that make `Entry`/`Deletion` objects only for what is asked.

use std::sync::Mutex;

use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::layer::{Entry, Kind};
use crate::tree::{self, Change, How, LayerInput, Rec, Rows, DEL, KINDS, NONE};

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

    /// The entries as the scan read them, as tuples `(path, type, mode, uid,
    /// gid, size, mtime, link, digest, xattrs, offset)`; empty once merged.
    /// For tests that hold the scanner against another tar reader.
    fn entries(&self, py: Python<'_>) -> PyResult<Vec<PyObject>> {
        let guard = self
            .rows
            .lock()
            .map_err(|_| PyRuntimeError::new_err("layer rows poisoned"))?;
        let Some(rows) = guard.as_ref() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(rows.len());
        for (i, r) in rows.recs.iter().enumerate() {
            let fields = row_fields(
                py,
                r,
                text(py, rows.paths.get(i as u32))?,
                PyString::new(py, r.kind.name()).into_any().unbind(),
                (r.link != NONE).then(|| rows.links.get(r.link)),
                (r.digest != NONE).then(|| &rows.digests[r.digest as usize]),
                (r.xattrs != NONE).then(|| &rows.xattrs[r.xattrs as usize]),
            )?;
            let row = PyTuple::new(py, fields)?;
            out.push(row.into_any().unbind());
        }
        Ok(out)
    }
}

/// The eleven fields every entry row has, as Python objects, in the order
/// of `(path, type, mode, uid, gid, size, mtime, link, digest, xattrs, offset)`.
#[allow(clippy::too_many_arguments)]
fn row_fields(
    py: Python<'_>,
    r: &Rec,
    path: PyObject,
    kind: PyObject,
    link: Option<&[u8]>,
    digest: Option<&[u8; 32]>,
    xattrs: Option<&crate::tree::Xattrs>,
) -> PyResult<Vec<PyObject>> {
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
    Ok(vec![
        path,
        kind,
        r.mode.into_pyobject(py)?.into_any().unbind(),
        r.uid.into_pyobject(py)?.into_any().unbind(),
        r.gid.into_pyobject(py)?.into_any().unbind(),
        r.size.into_pyobject(py)?.into_any().unbind(),
        r.mtime.into_pyobject(py)?.into_any().unbind(),
        link,
        digest,
        xattrs,
        r.offset.into_pyobject(py)?.into_any().unbind(),
    ])
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

fn bytes_of(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = obj.downcast::<PyString>() {
        let b = s.call_method1("encode", ("utf-8", "surrogateescape"))?;
        return Ok(b.downcast::<PyBytes>()?.as_bytes().to_vec());
    }
    obj.extract::<Vec<u8>>()
}

fn kind_of(name: &str) -> PyResult<Kind> {
    KINDS
        .iter()
        .copied()
        .find(|k| k.name() == name)
        .ok_or_else(|| PyValueError::new_err(format!("unknown entry type {name:?}")))
}

/// Rows from entries a Python source made (a container's upper directory):
/// `(path, type, mode, uid, gid, size, mtime, link, digest, xattrs, offset,
/// metacopy_target)`.
fn rows_from_python(list: &Bound<'_, PyList>) -> PyResult<Rows> {
    let mut rows = Rows::default();
    for (i, item) in list.iter().enumerate() {
        let t = item.downcast::<PyTuple>()?;
        if t.len() != 12 {
            return Err(PyValueError::new_err("an entry row has 12 fields"));
        }
        let link = t.get_item(7)?;
        let digest = t.get_item(8)?;
        let xattrs = t.get_item(9)?;
        let target = t.get_item(11)?;
        let e = Entry {
            path: bytes_of(&t.get_item(0)?)?,
            kind: kind_of(&t.get_item(1)?.extract::<String>()?)?,
            mode: t.get_item(2)?.extract()?,
            uid: t.get_item(3)?.extract()?,
            gid: t.get_item(4)?.extract()?,
            size: t.get_item(5)?.extract()?,
            mtime: t.get_item(6)?.extract()?,
            link: if link.is_none() {
                None
            } else {
                Some(bytes_of(&link)?)
            },
            digest: if digest.is_none() {
                None
            } else {
                let v: Vec<u8> = digest.extract()?;
                Some(
                    v.try_into()
                        .map_err(|_| PyValueError::new_err("a digest is 32 bytes"))?,
                )
            },
            xattrs: if xattrs.is_none() {
                None
            } else {
                let d = xattrs.downcast::<PyDict>()?;
                let mut v = Vec::with_capacity(d.len());
                for (k, val) in d.iter() {
                    v.push((k.extract::<String>()?, val.extract::<Vec<u8>>()?));
                }
                Some(v)
            },
            offset: t.get_item(10)?.extract::<i64>()?.max(0) as u64,
        };
        rows.push(&e);
        if !target.is_none() {
            rows.sources.push((i as u32, bytes_of(&target)?));
        }
    }
    Ok(rows)
}

/// The merged image. Built once by `merge_layers`; never changes after.
#[pyclass(module = "layerscope._core", frozen)]
pub struct Tree {
    inner: tree::Tree,
    entry_cls: Py<PyAny>,
    deletion_cls: Py<PyAny>,
    kinds: Vec<PyObject>,
    changes: Vec<PyObject>,
    hows: Vec<PyObject>,
}

/// Merge layers into a `Tree`. `layers` is a list of `(index, name, rows,
/// whiteouts, opaque_dirs)` where rows is the `LayerRows` a scan kept, or a
/// list of entry tuples.
/// `names` gives the Python objects for entry types, change classes and
/// deletion kinds (the model's enums), in the core's order.
#[pyfunction]
#[pyo3(signature = (layers, nlayers, entry_cls, deletion_cls, kinds, changes, hows))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn merge_layers(
    py: Python<'_>,
    layers: Vec<(
        usize,
        String,
        Bound<'_, PyAny>,
        Vec<Bound<'_, PyAny>>,
        Vec<Bound<'_, PyAny>>,
    )>,
    nlayers: usize,
    entry_cls: Py<PyAny>,
    deletion_cls: Py<PyAny>,
    kinds: Vec<PyObject>,
    changes: Vec<PyObject>,
    hows: Vec<PyObject>,
) -> PyResult<Tree> {
    if kinds.len() != KINDS.len()
        || changes.len() != Change::ALL.len()
        || hows.len() != How::ALL.len()
    {
        return Err(PyValueError::new_err(
            "kinds, changes and hows do not match the core",
        ));
    }
    let mut inputs = Vec::with_capacity(layers.len());
    for (index, name, rows, whiteouts, opaque_dirs) in layers {
        let mut rows = if let Ok(held) = rows.downcast::<LayerRows>() {
            let mut guard = held
                .borrow()
                .rows
                .lock()
                .map_err(|_| PyRuntimeError::new_err("layer rows poisoned"))?
                .take();
            guard.take().unwrap_or_default()
        } else {
            rows_from_python(rows.downcast::<PyList>()?)?
        };
        rows.whiteouts = whiteouts.iter().map(bytes_of).collect::<PyResult<_>>()?;
        rows.opaque_dirs = opaque_dirs.iter().map(bytes_of).collect::<PyResult<_>>()?;
        inputs.push(LayerInput { index, name, rows });
    }
    let inner = py
        .allow_threads(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                tree::merge(inputs, nlayers)
            }))
        })
        .map_err(|_| {
            PyRuntimeError::new_err("internal error merging the layers (a bug: please report it)")
        })?;
    Ok(Tree {
        inner,
        entry_cls,
        deletion_cls,
        kinds,
        changes,
        hows,
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

    fn kind_obj(&self, py: Python<'_>, k: Kind) -> PyObject {
        let i = KINDS.iter().position(|x| *x == k).unwrap_or(0);
        self.kinds[i].clone_ref(py)
    }

    pub fn entry_obj(&self, py: Python<'_>, eid: u32) -> PyResult<PyObject> {
        if eid >= self.inner.entry_count() {
            return Err(PyIndexError::new_err("no such entry id"));
        }
        let t = &self.inner;
        let r: &Rec = t.rec(eid);
        let source = if r.source != NONE && r.source != eid {
            self.entry_obj(py, r.source)?
        } else {
            py.None()
        };
        let path = if r.path == NONE {
            PyString::new(py, "").into_any().unbind()
        } else {
            text(py, t.path(r.path))?
        };
        let mut args = row_fields(
            py,
            r,
            path,
            self.kind_obj(py, r.kind),
            t.link(eid),
            t.digest(eid),
            t.xattrs(eid),
        )?;
        args.extend([
            r.layer.into_pyobject(py)?.into_any().unbind(),
            self.changes[r.change as usize].clone_ref(py),
            source,
            r.implicit.into_pyobject(py)?.to_owned().into_any().unbind(),
            eid.into_pyobject(py)?.into_any().unbind(),
        ]);
        self.entry_cls.call1(py, PyTuple::new(py, args)?)
    }

    fn deletion_obj(&self, py: Python<'_>, did: u32) -> PyResult<PyObject> {
        let d = &self.inner.dels[did as usize];
        let args = PyTuple::new(
            py,
            [
                text(py, self.inner.path(d.path))?,
                d.layer.into_pyobject(py)?.into_any().unbind(),
                self.hows[d.how as usize].clone_ref(py),
                text(py, self.inner.path(d.cause))?,
            ],
        )?;
        self.deletion_cls.call1(py, args)
    }

    fn event_obj(&self, py: Python<'_>, ev: u32) -> PyResult<PyObject> {
        if ev & DEL != 0 {
            self.deletion_obj(py, ev & !DEL)
        } else {
            self.entry_obj(py, ev)
        }
    }
}

/// One audit rule as Python passes it: `(scope, mode_bits, prefixes,
/// secret_names, deleted, all, types)`.
type AuditRule<'py> = (
    String,
    u32,
    Vec<Bound<'py, PyAny>>,
    bool,
    bool,
    bool,
    Vec<String>,
);

/// The rules as the audit pass reads them: scope names and type names
/// checked here, so a bad rule is a ValueError before the pass starts.
fn audit_spec(
    rules: Vec<AuditRule<'_>>,
) -> PyResult<Vec<(crate::audit::Scope, crate::audit::Hint)>> {
    use crate::audit::{Hint, Scope};
    let mut spec = Vec::with_capacity(rules.len());
    for (scope, mode_bits, prefixes, secret_names, deleted, all, types) in rules {
        let mut mask = 0u32;
        for t in &types {
            mask |= 1 << kind_of(t)? as u32;
        }
        let scope = match scope.as_str() {
            "shipped" => Scope::Shipped,
            "changed" => Scope::Changed,
            "hidden" => Scope::Hidden,
            "live" => Scope::Live,
            _ => return Err(PyValueError::new_err(format!("unknown scope {scope:?}"))),
        };
        let prefixes = prefixes.iter().map(bytes_of).collect::<PyResult<_>>()?;
        spec.push((
            scope,
            Hint {
                mode_bits,
                prefixes,
                secret_names,
                deleted,
                all,
                types: mask,
            },
        ));
    }
    Ok(spec)
}

/// The audit's waste as Python tuples `(entry id, path, size, cause, layer,
/// by_layer, how, deleted_by)`, `cause` one of the four objects passed in.
fn waste_rows(
    py: Python<'_>,
    inner: &tree::Tree,
    waste: &[crate::audit::Waste],
    causes: &[PyObject],
) -> PyResult<Vec<PyObject>> {
    let mut out = Vec::with_capacity(waste.len());
    for w in waste {
        let r = inner.rec(w.entry);
        let deleted_by = if w.deleted_by == NONE {
            py.None()
        } else {
            text(py, inner.path(w.deleted_by))?
        };
        let row = PyTuple::new(
            py,
            [
                w.entry.into_pyobject(py)?.into_any().unbind(),
                text(py, inner.path(r.path))?,
                r.size.into_pyobject(py)?.into_any().unbind(),
                causes[w.cause as usize].clone_ref(py),
                r.layer.into_pyobject(py)?.into_any().unbind(),
                w.by_layer.into_pyobject(py)?.into_any().unbind(),
                PyString::new(py, w.how).into_any().unbind(),
                deleted_by,
            ],
        )?;
        out.push(row.into_any().unbind());
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

    /// Ids of the entries whose bytes a hardlink visible at the top still reaches.
    fn hardlinked_sources(&self) -> Vec<u32> {
        self.inner.hardlinked_sources()
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
    fn entry(&self, py: Python<'_>, eid: u32) -> PyResult<PyObject> {
        self.entry_obj(py, eid)
    }

    /// A layer's own entries, in the order it lists them.
    fn layer_entries(&self, py: Python<'_>, k: usize) -> PyResult<Vec<PyObject>> {
        self.inner
            .layer_recs(k)
            .map(|e| self.entry_obj(py, e))
            .collect()
    }

    /// The deletions a layer made.
    fn layer_deletions(&self, py: Python<'_>, k: usize) -> PyResult<Vec<PyObject>> {
        self.inner
            .layer_dels(k)
            .iter()
            .map(|&d| self.deletion_obj(py, d))
            .collect()
    }

    /// `(entries, added, modified, metadata, rewritten, type_changed, deleted, dirs_rewritten)`.
    #[allow(clippy::type_complexity)]
    fn counts(&self, k: usize) -> PyResult<(u64, u64, u64, u64, u64, u64, u64, u64)> {
        let c = self
            .inner
            .counts
            .get(k)
            .ok_or_else(|| PyIndexError::new_err("no such layer"))?;
        Ok((
            c.entries,
            c.added,
            c.modified,
            c.metadata,
            c.rewritten,
            c.type_changed,
            c.deleted,
            c.dirs_rewritten,
        ))
    }

    /// The merge's warnings about layer `k`: `[(kind, message)]`.
    fn warnings(&self, py: Python<'_>, k: usize) -> PyResult<Vec<(&'static str, PyObject)>> {
        let Some(ws) = self.inner.warnings.get(k) else {
            return Ok(Vec::new());
        };
        ws.iter()
            .map(|(kind, msg)| Ok((*kind, text(py, msg)?)))
            .collect()
    }

    /// Write the `files` or `hidden` array of `layerscope.report/1` as of
    /// layer `k`, passing the text to `write` in pieces of about `chunk`
    /// bytes; returns the number of items.
    #[pyo3(signature = (which, k, write, chunk=1 << 20))]
    fn write_array(
        &self,
        py: Python<'_>,
        which: &str,
        k: i64,
        write: Bound<'_, PyAny>,
        chunk: usize,
    ) -> PyResult<usize> {
        let which = match which {
            "files" => crate::json::Array::Files,
            "hidden" => crate::json::Array::Hidden,
            _ => return Err(PyValueError::new_err("which is 'files' or 'hidden'")),
        };
        let inner = &self.inner;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::json::write_array(inner, which, k, chunk.max(1), |text: &[u8]| {
                // The text is ASCII: JSON with every other character escaped.
                let s =
                    std::str::from_utf8(text).map_err(|e| PyValueError::new_err(e.to_string()))?;
                write.call1((PyString::new(py, s),)).map(|_| ())
            })
        }))
        .map_err(|_| {
            PyRuntimeError::new_err("internal error writing the report (a bug: please report it)")
        })?
    }

    /// The audit pass: `rules` is `[(scope, mode_bits, prefixes, secret_names,
    /// deleted, all, types)]` and `causes` the four cause objects in the core's order.
    /// Returns `(waste, hits)`: waste as `(entry id, path, size, cause, layer,
    /// by_layer, how, deleted_by)`, and per rule `(entry id, previous entry id
    /// or None)`, or `(waste index, None)` for hidden-scope rules.
    #[allow(clippy::type_complexity)]
    fn audit(
        &self,
        py: Python<'_>,
        rules: Vec<AuditRule<'_>>,
        causes: Vec<PyObject>,
    ) -> PyResult<(Vec<PyObject>, Vec<Vec<(u32, Option<u32>)>>)> {
        if causes.len() != 4 {
            return Err(PyValueError::new_err("four causes"));
        }
        let spec = audit_spec(rules)?;
        let inner = &self.inner;
        let result = py
            .allow_threads(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    crate::audit::audit(inner, &spec)
                }))
            })
            .map_err(|_| {
                PyRuntimeError::new_err(
                    "internal error in the audit pass (a bug: please report it)",
                )
            })?;
        let waste = waste_rows(py, inner, &result.waste, &causes)?;
        let hits = result
            .hits
            .into_iter()
            .map(|v| {
                v.into_iter()
                    .map(|(a, b)| (a, (b != NONE).then_some(b)))
                    .collect()
            })
            .collect();
        Ok((waste, hits))
    }

    /// Layer k's own byte figures: `(added, hidden, delta, changed)`, the
    /// first three as `{directory: bytes}`, changed as a list of paths.
    #[allow(clippy::type_complexity)]
    fn layer_bytes<'py>(
        &self,
        py: Python<'py>,
        k: usize,
    ) -> PyResult<(
        Bound<'py, PyDict>,
        Bound<'py, PyDict>,
        Bound<'py, PyDict>,
        Vec<PyObject>,
    )> {
        let inner = &self.inner;
        let b = py
            .allow_threads(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.layer_bytes(k)))
            })
            .map_err(|_| {
                PyRuntimeError::new_err(
                    "internal error computing a layer's sizes (a bug: please report it)",
                )
            })?;
        let dict = |v: &[(u32, i64)]| -> PyResult<Bound<'py, PyDict>> {
            let d = PyDict::new(py);
            for &(p, n) in v {
                d.set_item(text(py, inner.path(p))?, n)?;
            }
            Ok(d)
        };
        let changed = b
            .changed
            .iter()
            .map(|&p| text(py, inner.path(p)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok((dict(&b.added)?, dict(&b.hidden)?, dict(&b.delta)?, changed))
    }

    /// dive 0.13.1's figures: `(min_sum, disc_sum, [(path, count, size)])`.
    #[allow(clippy::type_complexity)]
    fn dive_figures(&self, py: Python<'_>) -> PyResult<(i64, i64, Vec<(Vec<u8>, i64, i64)>)> {
        let inner = &self.inner;
        let r = py
            .allow_threads(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.dive_figures()))
            })
            .map_err(|_| {
                PyRuntimeError::new_err(
                    "internal error computing dive's figures (a bug: please report it)",
                )
            })?;
        Ok((r.min_sum, r.disc_sum, r.refs))
    }

    /// The search screen's fragment match (search.rs), with the GIL released:
    /// `(first events, total, deleted)`; `needle` is already lowercased.
    fn find_fragment(
        &self,
        py: Python<'_>,
        needle: &Bound<'_, PyAny>,
        k: i64,
        ghosts: bool,
        limit: usize,
        stop_at_limit: bool,
    ) -> PyResult<(Vec<PyObject>, usize, usize)> {
        let needle = bytes_of(needle)?;
        let inner = &self.inner;
        let found = py
            .allow_threads(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    inner.find_fragment(&needle, k, ghosts, limit, stop_at_limit)
                }))
            })
            .map_err(|_| {
                PyRuntimeError::new_err("internal error searching paths (a bug: please report it)")
            })?;
        let first = found
            .first
            .iter()
            .map(|&ev| self.event_obj(py, ev))
            .collect::<PyResult<Vec<_>>>()?;
        Ok((first, found.total, found.deleted))
    }

    /// Bytes the tree holds (for the memory budget in benchmarks and tests).
    fn heap_bytes(&self) -> usize {
        self.inner.heap_bytes()
    }
}
