//! The typed values that cross the Python boundary besides entries: each a
//! frozen class with named fields (never a tuple whose positions are the
//! interface), typed in `layerscope/_core.pyi`.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// What one layer's merge counted (`Layer.counts`).
#[pyclass(frozen, module = "layerscope.model", name = "LayerCounts")]
#[derive(Clone, Default)]
pub struct LayerCounts {
    #[pyo3(get)]
    pub entries: u64,
    #[pyo3(get)]
    pub added: u64,
    #[pyo3(get)]
    pub modified: u64,
    #[pyo3(get)]
    pub metadata: u64,
    #[pyo3(get)]
    pub rewritten: u64,
    #[pyo3(get)]
    pub type_changed: u64,
    #[pyo3(get)]
    pub deleted: u64,
    #[pyo3(get)]
    pub dirs_rewritten: u64,
}

#[pymethods]
impl LayerCounts {
    #[new]
    #[pyo3(signature = (*, entries=0, added=0, modified=0, metadata=0, rewritten=0, type_changed=0, deleted=0, dirs_rewritten=0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        entries: u64,
        added: u64,
        modified: u64,
        metadata: u64,
        rewritten: u64,
        type_changed: u64,
        deleted: u64,
        dirs_rewritten: u64,
    ) -> Self {
        LayerCounts {
            entries,
            added,
            modified,
            metadata,
            rewritten,
            type_changed,
            deleted,
            dirs_rewritten,
        }
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.downcast::<LayerCounts>().is_ok_and(|o| {
            let o = o.get();
            (
                o.entries,
                o.added,
                o.modified,
                o.metadata,
                o.rewritten,
                o.type_changed,
                o.deleted,
                o.dirs_rewritten,
            ) == (
                self.entries,
                self.added,
                self.modified,
                self.metadata,
                self.rewritten,
                self.type_changed,
                self.deleted,
                self.dirs_rewritten,
            )
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "LayerCounts(entries={}, added={}, modified={}, metadata={}, rewritten={}, type_changed={}, deleted={}, dirs_rewritten={})",
            self.entries,
            self.added,
            self.modified,
            self.metadata,
            self.rewritten,
            self.type_changed,
            self.deleted,
            self.dirs_rewritten
        )
    }
}

/// A warning the core met, with its kind (one of the model's warning kinds,
/// or `merge` for what the merge says about a layer without a kind).
#[pyclass(frozen, module = "layerscope._core")]
pub struct CoreWarning {
    #[pyo3(get)]
    pub kind: &'static str,
    #[pyo3(get)]
    pub message: Py<PyAny>,
}

/// Warnings of one kind past the per-layer cap, counted.
#[pyclass(frozen, module = "layerscope._core")]
pub struct WarningOverflow {
    #[pyo3(get)]
    pub kind: &'static str,
    #[pyo3(get)]
    pub count: u64,
}

/// `(fd, start, length)` of an open plain file: the core reads the blob
/// with positioned reads instead of calling back into Python.
#[pyclass(frozen, module = "layerscope._core")]
#[derive(Clone, Copy)]
pub struct Window {
    #[pyo3(get)]
    pub fd: i32,
    #[pyo3(get)]
    pub start: u64,
    #[pyo3(get)]
    pub length: u64,
}

#[pymethods]
impl Window {
    #[new]
    #[pyo3(signature = (*, fd, start, length))]
    fn new(fd: i32, start: u64, length: u64) -> Self {
        Window { fd, start, length }
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.downcast::<Window>().is_ok_and(|o| {
            let o = o.get();
            (o.fd, o.start, o.length) == (self.fd, self.start, self.length)
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "Window(fd={}, start={}, length={})",
            self.fd, self.start, self.length
        )
    }
}

/// An opened layer blob as an opener hands it to the core: the file object
/// (closed by the core when done) and its window when it is a plain file.
#[pyclass(frozen, module = "layerscope._core")]
pub struct Blob {
    #[pyo3(get)]
    pub raw: Py<PyAny>,
    #[pyo3(get)]
    pub window: Option<Py<Window>>,
}

#[pymethods]
impl Blob {
    #[new]
    #[pyo3(signature = (*, raw, window))]
    fn new(raw: Py<PyAny>, window: Option<Py<Window>>) -> Self {
        Blob { raw, window }
    }
}

/// One layer for `scan_layers`: `open()` returns a `Blob`, or raises (the
/// exception's text becomes the layer's error).
#[pyclass(frozen, module = "layerscope._core")]
pub struct ScanJob {
    #[pyo3(get)]
    pub index: i64,
    #[pyo3(get)]
    pub name: String,
    #[pyo3(get)]
    pub open: Py<PyAny>,
}

#[pymethods]
impl ScanJob {
    #[new]
    #[pyo3(signature = (*, index, name, open))]
    fn new(index: i64, name: String, open: Py<PyAny>) -> Self {
        ScanJob { index, name, open }
    }
}

/// What the scan of one layer found. A damaged layer is data, not a
/// failure: `error` says what stopped the read, and what was read before
/// it is kept.
#[pyclass(frozen, module = "layerscope._core")]
pub struct LayerScan {
    #[pyo3(get)]
    pub whiteouts: Py<PyList>,
    #[pyo3(get)]
    pub opaque_dirs: Py<PyList>,
    #[pyo3(get)]
    pub warnings: Py<PyList>,
    #[pyo3(get)]
    pub overflow: Py<PyList>,
    #[pyo3(get)]
    pub error: Option<String>,
    #[pyo3(get)]
    pub compression: &'static str,
    #[pyo3(get)]
    pub diff_id: Option<String>,
    #[pyo3(get)]
    pub digest: Option<String>,
    #[pyo3(get)]
    pub diff_id_unverified: bool,
    #[pyo3(get)]
    pub uncompressed_bytes: u64,
    #[pyo3(get)]
    pub size_bytes: i64,
    #[pyo3(get)]
    pub members: u64,
    /// The entries, held by the core for `merge_layers`.
    #[pyo3(get)]
    pub rows: Py<crate::pytree::LayerRows>,
}

/// One layer for `merge_layers`: the rows its scan kept (`LayerRows`) or the
/// entries a Python source made, with the paths its metadata-only copy-ups
/// show (`copy_ups`: path -> lower path).
#[pyclass(frozen, module = "layerscope._core")]
pub struct MergeLayer {
    #[pyo3(get)]
    pub index: usize,
    #[pyo3(get)]
    pub name: String,
    #[pyo3(get)]
    pub rows: Py<PyAny>,
    #[pyo3(get)]
    pub whiteouts: Py<PyList>,
    #[pyo3(get)]
    pub opaque_dirs: Py<PyList>,
    #[pyo3(get)]
    pub copy_ups: Py<PyDict>,
}

#[pymethods]
impl MergeLayer {
    #[new]
    #[pyo3(signature = (*, index, name, rows, whiteouts, opaque_dirs, copy_ups))]
    fn new(
        index: usize,
        name: String,
        rows: Py<PyAny>,
        whiteouts: Py<PyList>,
        opaque_dirs: Py<PyList>,
        copy_ups: Py<PyDict>,
    ) -> Self {
        MergeLayer {
            index,
            name,
            rows,
            whiteouts,
            opaque_dirs,
            copy_ups,
        }
    }
}

/// Layer k's own byte figures: `added`, `hidden`, `delta` as
/// `{directory: bytes}`, `changed` the paths it changed.
#[pyclass(frozen, module = "layerscope._core")]
pub struct ByteFigures {
    #[pyo3(get)]
    pub added: Py<PyDict>,
    #[pyo3(get)]
    pub hidden: Py<PyDict>,
    #[pyo3(get)]
    pub delta: Py<PyDict>,
    #[pyo3(get)]
    pub changed: Py<PyList>,
}

/// One path dive counts as wasted: seen `count` times, `size` bytes in all.
#[pyclass(frozen, module = "layerscope._core")]
pub struct DiveRef {
    #[pyo3(get)]
    pub path: Py<PyAny>,
    #[pyo3(get)]
    pub count: i64,
    #[pyo3(get)]
    pub size: i64,
}

/// dive 0.13.1's raw sums and its wasted paths.
#[pyclass(frozen, module = "layerscope._core")]
pub struct DiveSums {
    #[pyo3(get)]
    pub min_sum: i64,
    #[pyo3(get)]
    pub disc_sum: i64,
    #[pyo3(get)]
    pub refs: Py<PyList>,
}

/// One audit rule as the core's pass reads it: its scope and the hint that
/// narrows what it sees (`all`: every version, no hint).
#[pyclass(frozen, module = "layerscope._core")]
pub struct AuditRule {
    #[pyo3(get)]
    pub scope: String,
    #[pyo3(get)]
    pub mode_bits: u32,
    #[pyo3(get)]
    pub prefixes: Py<PyList>,
    #[pyo3(get)]
    pub secret_names: bool,
    #[pyo3(get)]
    pub deleted: bool,
    #[pyo3(get)]
    pub all: bool,
    #[pyo3(get)]
    pub types: Vec<String>,
}

#[pymethods]
impl AuditRule {
    #[new]
    #[pyo3(signature = (*, scope, mode_bits=0, prefixes=None, secret_names=false, deleted=false, all=false, types=Vec::new()))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        scope: String,
        mode_bits: u32,
        prefixes: Option<Py<PyList>>,
        secret_names: bool,
        deleted: bool,
        all: bool,
        types: Vec<String>,
    ) -> Self {
        AuditRule {
            scope,
            mode_bits,
            prefixes: prefixes.unwrap_or_else(|| PyList::empty(py).unbind()),
            secret_names,
            deleted,
            all,
            types,
        }
    }
}

/// One hidden version that ships (a waste item).
#[pyclass(frozen, module = "layerscope._core")]
pub struct Waste {
    #[pyo3(get)]
    pub entry: u32,
    #[pyo3(get)]
    pub path: Py<PyAny>,
    #[pyo3(get)]
    pub size: i64,
    /// `overwritten`, `metadata`, `identical` or `deleted` (analysis's `Cause`).
    #[pyo3(get)]
    pub cause: &'static str,
    #[pyo3(get)]
    pub layer: u16,
    #[pyo3(get)]
    pub by_layer: u16,
    #[pyo3(get)]
    pub how: &'static str,
    #[pyo3(get)]
    pub deleted_by: Option<Py<PyAny>>,
}

/// What a rule's hint let through: `item` is an entry id (with the id of
/// the version below it, when there is one), or for a hidden-scope rule the
/// index of a waste item.
#[pyclass(frozen, module = "layerscope._core")]
pub struct Hit {
    #[pyo3(get)]
    pub item: u32,
    #[pyo3(get)]
    pub previous: Option<u32>,
}

/// The audit pass's result: the waste, and per rule what it should look at.
#[pyclass(frozen, module = "layerscope._core")]
pub struct AuditResult {
    #[pyo3(get)]
    pub waste: Py<PyList>,
    #[pyo3(get)]
    pub hits: Py<PyList>,
}

/// The search's matches: the states of the first ones, how many match and
/// how many of those are deleted.
#[pyclass(frozen, module = "layerscope._core")]
pub struct Matches {
    #[pyo3(get)]
    pub first: Py<PyList>,
    #[pyo3(get)]
    pub total: usize,
    #[pyo3(get)]
    pub deleted: usize,
}

/// The checksum verdict and size field of one 512-byte tar header.
#[pyclass(frozen, module = "layerscope._core")]
pub struct HeaderFields {
    #[pyo3(get)]
    pub ok: bool,
    #[pyo3(get)]
    pub size: Option<i64>,
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<LayerCounts>()?;
    m.add_class::<CoreWarning>()?;
    m.add_class::<WarningOverflow>()?;
    m.add_class::<Window>()?;
    m.add_class::<Blob>()?;
    m.add_class::<ScanJob>()?;
    m.add_class::<LayerScan>()?;
    m.add_class::<MergeLayer>()?;
    m.add_class::<ByteFigures>()?;
    m.add_class::<DiveRef>()?;
    m.add_class::<DiveSums>()?;
    m.add_class::<AuditRule>()?;
    m.add_class::<Waste>()?;
    m.add_class::<Hit>()?;
    m.add_class::<AuditResult>()?;
    m.add_class::<Matches>()?;
    m.add_class::<HeaderFields>()?;
    m.add_class::<crate::pymodel::PyEntry>()?;
    m.add_class::<crate::pymodel::PyDeletion>()?;
    m.add("CoreError", m.py().get_type::<crate::pymodel::CoreError>())?;
    Ok(())
}
