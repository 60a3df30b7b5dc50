//! The package scans (`packages.rs`) as Python sees them: the classes that
//! cross, and the conversions of path lists. The `Tree` methods that use
//! them are in `pytree.rs`.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

use crate::packages;
use crate::pytree::{bytes_of, text};
use crate::tree::Tree;

/// A set of paths of one tree (`Tree.path_set`): what a layer's packages own.
#[pyclass(frozen, module = "layerscope._core")]
pub struct PathSet {
    pub inner: packages::PathSet,
}

#[pymethods]
impl PathSet {
    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

/// Paths named by exact text, prefix, suffix or contained fragment (byte for
/// byte): the package managers' own state, as `packages/audit.py` states it.
#[pyclass(frozen, module = "layerscope._core")]
pub struct PathRule {
    pub inner: packages::PathRule,
}

fn all_bytes(items: Vec<String>) -> Vec<Vec<u8>> {
    items.into_iter().map(String::into_bytes).collect()
}

#[pymethods]
impl PathRule {
    #[new]
    #[pyo3(signature = (*, exact=Vec::new(), prefixes=Vec::new(), suffixes=Vec::new(), fragments=Vec::new()))]
    fn new(
        exact: Vec<String>,
        prefixes: Vec<String>,
        suffixes: Vec<String>,
        fragments: Vec<String>,
    ) -> Self {
        PathRule {
            inner: packages::PathRule::new(
                all_bytes(exact),
                all_bytes(prefixes),
                all_bytes(suffixes),
                &all_bytes(fragments),
            ),
        }
    }

    /// Does the rule name `path`?
    fn matches(&self, path: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.inner.matches(&path_bytes(path)?))
    }
}

/// Files and bytes a layer has in one directory (`Tree.unowned_dirs`).
#[pyclass(frozen, module = "layerscope._core")]
pub struct DirFigure {
    #[pyo3(get)]
    pub dir: PyObject,
    #[pyo3(get)]
    pub files: u64,
    #[pyo3(get)]
    pub bytes: i64,
}

/// A path, the layers that have an event on it, and the first needle it
/// contains (`Tree.paths_containing`).
#[pyclass(frozen, module = "layerscope._core")]
pub struct PathLayers {
    #[pyo3(get)]
    pub path: PyObject,
    #[pyo3(get)]
    pub layers: Vec<u16>,
    /// The index of the first needle the path contains.
    #[pyo3(get)]
    pub needle: usize,
}

/// A path's bytes: a str's UTF-8 directly, surrogate escapes through `encode`.
pub fn path_bytes(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = obj.downcast::<PyString>() {
        if let Ok(t) = s.to_str() {
            return Ok(t.as_bytes().to_vec());
        }
    }
    bytes_of(obj)
}

/// The ids of the paths of a list that the tree has (others are left out).
pub fn ids_of(tree: &Tree, paths: &Bound<'_, PyList>) -> PyResult<Vec<u32>> {
    let mut ids = Vec::with_capacity(paths.len());
    for p in paths.iter() {
        if let Some(id) = tree.find(&path_bytes(&p)?) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Each path of the list resolved through symlinked directories as of layer
/// `k`; a path that resolves to itself is handed back as the same object.
pub fn resolve_dirs<'py>(
    py: Python<'py>,
    tree: &Tree,
    paths: &Bound<'py, PyList>,
    k: i64,
) -> PyResult<Bound<'py, PyList>> {
    let mut links = packages::DirLinks::new(tree, k);
    let out = PyList::empty(py);
    for p in paths.iter() {
        let raw = path_bytes(&p)?;
        let real = links.resolve(&raw);
        if real == raw {
            out.append(p)?;
        } else {
            out.append(text(py, &real)?)?;
        }
    }
    Ok(out)
}

pub fn dir_figures(
    py: Python<'_>,
    tree: &Tree,
    figures: &[packages::DirFigure],
) -> PyResult<Vec<DirFigure>> {
    figures
        .iter()
        .map(|f| {
            Ok(DirFigure {
                dir: text(py, tree.path(f.dir))?,
                files: f.files,
                bytes: f.bytes,
            })
        })
        .collect()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PathSet>()?;
    m.add_class::<PathRule>()?;
    m.add_class::<DirFigure>()?;
    m.add_class::<PathLayers>()?;
    Ok(())
}
