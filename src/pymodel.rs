//! The model's per-path objects (`Entry`, `Deletion`), defined once, here,
//! and re-exported by `layerscope.model`: the core makes them straight from
//! its arrays and Python sources make them with keywords, through the same
//! class, so no field order is an interface between the two languages.
//!
//! Fields are Python objects held in the struct (`Py<PyAny>`): on a frozen
//! class PyO3 reads them as struct members, as fast as `__slots__`. The
//! enums the fields hold (`Change`, `DeleteHow`) stay Python's (the model's
//! `StrEnum`s); the core imports them once, as cryptography imports its
//! exceptions, and checks they name what the core names.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::layer::Kind;
use crate::tree::{Change, How, KINDS};

pyo3::create_exception!(
    layerscope._core,
    CoreError,
    PyRuntimeError,
    "An internal error of the compiled core (a bug): a panic caught before it reached Python."
);

/// The error a caught panic becomes: `what` says which pass stopped.
pub fn internal(what: &str) -> PyErr {
    CoreError::new_err(format!("internal error {what} (a bug: please report it)"))
}

/// The Python objects the core's enums stand for, in the core's order.
pub struct Names {
    pub kinds: Vec<Py<PyAny>>,
    pub changes: Vec<Py<PyAny>>,
    pub hows: Vec<Py<PyAny>>,
}

static NAMES: GILOnceCell<Names> = GILOnceCell::new();

/// One member of a Python `StrEnum` for each of the core's names, by value:
/// a name the model does not have is an error here, not a wrong object later.
fn members(cls: &Bound<'_, PyAny>, names: &[&str]) -> PyResult<Vec<Py<PyAny>>> {
    names
        .iter()
        .map(|n| cls.call1((*n,)).map(Bound::unbind))
        .collect()
}

pub fn names(py: Python<'_>) -> PyResult<&'static Names> {
    NAMES.get_or_try_init(py, || {
        let model = py.import("layerscope.model")?;
        let change: Vec<&str> = Change::ALL.iter().map(|c| c.name()).collect();
        let how: Vec<&str> = How::ALL.iter().map(|h| h.name()).collect();
        let changes = members(&model.getattr("Change")?, &change)?;
        let hows = members(&model.getattr("DeleteHow")?, &how)?;
        if model.getattr("Change")?.len()? != changes.len()
            || model.getattr("DeleteHow")?.len()? != hows.len()
        {
            return Err(PyValueError::new_err(
                "Change and DeleteHow do not match the core",
            ));
        }
        Ok(Names {
            kinds: KINDS
                .iter()
                .map(|k| PyString::intern(py, k.name()).into_any().unbind())
                .collect(),
            changes,
            hows,
        })
    })
}

pub fn kind_index(k: Kind) -> usize {
    KINDS.iter().position(|x| *x == k).unwrap_or(0)
}

pub fn kind_of(name: &str) -> PyResult<Kind> {
    KINDS
        .iter()
        .copied()
        .find(|k| k.name() == name)
        .ok_or_else(|| PyValueError::new_err(format!("unknown entry type {name:?}")))
}

fn int(py: Python<'_>, v: i64) -> PyResult<Py<PyAny>> {
    Ok(v.into_pyobject(py)?.into_any().unbind())
}

/// One layer's version of one path (a tar member after normalisation).
///
/// `digest` is the raw sha256 of a regular file's content (None for other
/// types and for sparse files). A hardlink carries its target's size and
/// digest and points at the entry that holds the bytes through `source`.
/// `offset` is where the content starts in the uncompressed layer stream.
/// `implicit` marks a directory no layer listed. `id` is the entry's number
/// in the core's merged model (-1 for an entry not made from it): the core
/// makes a new `Entry` each time one is asked for, so two objects for the
/// same version are told apart by `id`, never by identity.
#[pyclass(frozen, module = "layerscope.model", name = "Entry")]
pub struct PyEntry {
    #[pyo3(get)]
    path: Py<PyAny>,
    #[pyo3(get, name = "type")]
    type_name: Py<PyAny>,
    #[pyo3(get)]
    mode: Py<PyAny>,
    #[pyo3(get)]
    uid: Py<PyAny>,
    #[pyo3(get)]
    gid: Py<PyAny>,
    #[pyo3(get)]
    size: Py<PyAny>,
    #[pyo3(get)]
    mtime: Py<PyAny>,
    #[pyo3(get)]
    link: Py<PyAny>,
    #[pyo3(get)]
    digest: Py<PyAny>,
    #[pyo3(get)]
    xattrs: Py<PyAny>,
    #[pyo3(get)]
    offset: Py<PyAny>,
    #[pyo3(get)]
    layer: Py<PyAny>,
    #[pyo3(get)]
    change: Py<PyAny>,
    #[pyo3(get)]
    source: Py<PyAny>,
    #[pyo3(get)]
    implicit: Py<PyAny>,
    #[pyo3(get)]
    id: Py<PyAny>,
    kind: Kind,
    eid: i64,
}

/// An entry's fields as the core holds them, for `PyEntry::make`.
pub struct EntryFields {
    pub path: Py<PyAny>,
    pub kind: Kind,
    pub mode: i64,
    pub uid: i64,
    pub gid: i64,
    pub size: i64,
    pub mtime: i64,
    pub link: Py<PyAny>,
    pub digest: Py<PyAny>,
    pub xattrs: Py<PyAny>,
    pub offset: i64,
    pub layer: i64,
    pub change: Change,
    pub source: Py<PyAny>,
    pub implicit: bool,
    pub id: i64,
}

impl PyEntry {
    pub fn make(py: Python<'_>, f: EntryFields) -> PyResult<Py<PyEntry>> {
        let n = names(py)?;
        Py::new(
            py,
            PyEntry {
                path: f.path,
                type_name: n.kinds[kind_index(f.kind)].clone_ref(py),
                mode: int(py, f.mode)?,
                uid: int(py, f.uid)?,
                gid: int(py, f.gid)?,
                size: int(py, f.size)?,
                mtime: int(py, f.mtime)?,
                link: f.link,
                digest: f.digest,
                xattrs: f.xattrs,
                offset: int(py, f.offset)?,
                layer: int(py, f.layer)?,
                change: n.changes[f.change as usize].clone_ref(py),
                source: f.source,
                implicit: f.implicit.into_pyobject(py)?.to_owned().into_any().unbind(),
                id: int(py, f.id)?,
                kind: f.kind,
                eid: f.id,
            },
        )
    }

    pub fn path_obj<'py>(&self, py: Python<'py>) -> &Bound<'py, PyAny> {
        self.path.bind(py)
    }

    /// The fields the merge reads from an entry a Python source made.
    pub fn row(&self, py: Python<'_>) -> PyResult<crate::layer::Entry> {
        let opt_bytes = |o: &Py<PyAny>| -> PyResult<Option<Vec<u8>>> {
            let b = o.bind(py);
            if b.is_none() {
                Ok(None)
            } else {
                crate::pytree::bytes_of(b).map(Some)
            }
        };
        let digest = {
            let d = self.digest.bind(py);
            if d.is_none() {
                None
            } else {
                let v: Vec<u8> = d.extract()?;
                Some(
                    v.try_into()
                        .map_err(|_| PyValueError::new_err("a digest is 32 bytes"))?,
                )
            }
        };
        let xattrs = {
            let x = self.xattrs.bind(py);
            if x.is_none() {
                None
            } else {
                let d = x.downcast::<PyDict>()?;
                let mut v = Vec::with_capacity(d.len());
                for (k, val) in d.iter() {
                    v.push((k.extract::<String>()?, val.extract::<Vec<u8>>()?));
                }
                Some(v)
            }
        };
        Ok(crate::layer::Entry {
            path: crate::pytree::bytes_of(self.path.bind(py))?,
            kind: self.kind,
            mode: self.mode.extract(py)?,
            uid: self.uid.extract(py)?,
            gid: self.gid.extract(py)?,
            size: self.size.extract(py)?,
            mtime: self.mtime.extract(py)?,
            link: opt_bytes(&self.link)?,
            digest,
            xattrs,
            offset: self.offset.extract::<i64>(py)?.max(0) as u64,
        })
    }
}

#[pymethods]
impl PyEntry {
    /// Keywords only: a field's position is never an interface.
    #[new]
    #[pyo3(signature = (*, path, r#type, mode, uid, gid, size, mtime, layer, link=None, digest=None, xattrs=None, offset=0, change=None, source=None, implicit=false, id=-1))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        path: Bound<'_, PyString>,
        r#type: &str,
        mode: u32,
        uid: i64,
        gid: i64,
        size: i64,
        mtime: i64,
        layer: i64,
        link: Option<Bound<'_, PyString>>,
        digest: Option<Bound<'_, PyBytes>>,
        xattrs: Option<Bound<'_, PyDict>>,
        offset: i64,
        change: Option<Bound<'_, PyAny>>,
        source: Option<Bound<'_, PyEntry>>,
        implicit: bool,
        id: i64,
    ) -> PyResult<PyEntry> {
        let n = names(py)?;
        let kind = kind_of(r#type)?;
        let change = match change {
            Some(c) => {
                if !n.changes.iter().any(|m| m.bind(py).is(&c)) {
                    return Err(PyValueError::new_err("change is a layerscope.model.Change"));
                }
                c.unbind()
            }
            None => n.changes[Change::Added as usize].clone_ref(py),
        };
        let none = |o: Option<Py<PyAny>>| o.unwrap_or_else(|| py.None());
        Ok(PyEntry {
            path: path.into_any().unbind(),
            type_name: n.kinds[kind_index(kind)].clone_ref(py),
            mode: int(py, mode.into())?,
            uid: int(py, uid)?,
            gid: int(py, gid)?,
            size: int(py, size)?,
            mtime: int(py, mtime)?,
            link: none(link.map(|b| b.into_any().unbind())),
            digest: none(digest.map(|b| b.into_any().unbind())),
            xattrs: none(xattrs.map(|b| b.into_any().unbind())),
            offset: int(py, offset)?,
            layer: int(py, layer)?,
            change,
            source: none(source.map(|b| b.into_any().unbind())),
            implicit: implicit.into_pyobject(py)?.to_owned().into_any().unbind(),
            id: int(py, id)?,
            kind,
            eid: id,
        })
    }

    /// A copy with the content fields given (the entry itself never
    /// changes): a source that learns which name of an inode holds the bytes
    /// after making its entries makes the entries it means.
    #[pyo3(signature = (*, r#type, size, digest, link))]
    fn replace(
        &self,
        py: Python<'_>,
        r#type: &str,
        size: i64,
        digest: Option<Bound<'_, PyBytes>>,
        link: Option<Bound<'_, PyString>>,
    ) -> PyResult<PyEntry> {
        let n = names(py)?;
        let kind = kind_of(r#type)?;
        let none = |o: Option<Py<PyAny>>| o.unwrap_or_else(|| py.None());
        Ok(PyEntry {
            path: self.path.clone_ref(py),
            type_name: n.kinds[kind_index(kind)].clone_ref(py),
            mode: self.mode.clone_ref(py),
            uid: self.uid.clone_ref(py),
            gid: self.gid.clone_ref(py),
            size: int(py, size)?,
            mtime: self.mtime.clone_ref(py),
            link: none(link.map(|b| b.into_any().unbind())),
            digest: none(digest.map(|b| b.into_any().unbind())),
            xattrs: self.xattrs.clone_ref(py),
            offset: self.offset.clone_ref(py),
            layer: self.layer.clone_ref(py),
            change: self.change.clone_ref(py),
            source: self.source.clone_ref(py),
            implicit: self.implicit.clone_ref(py),
            id: self.id.clone_ref(py),
            kind,
            eid: self.eid,
        })
    }

    /// `sha256:<hex>` of the content, None when there is no digest.
    #[getter]
    fn digest_str(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let d = self.digest.bind(py);
        if d.is_none() {
            return Ok(None);
        }
        let raw = d.downcast::<PyBytes>()?.as_bytes();
        let mut s = String::with_capacity(7 + 2 * raw.len());
        s.push_str("sha256:");
        for b in raw {
            s.push_str(&format!("{b:02x}"));
        }
        Ok(Some(s))
    }

    #[getter]
    fn is_dir(&self) -> bool {
        self.kind == Kind::Dir
    }

    /// The type as the union mount sees it: a hardlink is a regular file.
    #[getter]
    fn content_type(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if self.kind == Kind::Hardlink {
            Ok(names(py)?.kinds[kind_index(Kind::File)].clone_ref(py))
        } else {
            Ok(self.type_name.clone_ref(py))
        }
    }

    /// The entry whose tar member holds this entry's bytes.
    #[getter]
    fn data_entry(slf: &Bound<'_, Self>) -> Py<PyAny> {
        let me = slf.get();
        if me.source.is_none(slf.py()) {
            slf.clone().into_any().unbind()
        } else {
            me.source.clone_ref(slf.py())
        }
    }

    /// Names this version across objects: the core's id, else the object's own.
    #[getter]
    fn key(slf: &Bound<'_, Self>) -> i64 {
        let me = slf.get();
        if me.eid >= 0 {
            me.eid
        } else {
            -1 - slf.as_ptr() as usize as i64
        }
    }

    /// Is `other` the same version (the same entry of the same layer)?
    fn same(slf: &Bound<'_, Self>, other: &Bound<'_, PyEntry>) -> bool {
        slf.is(other) || (slf.get().eid >= 0 && slf.get().eid == other.get().eid)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Entry({}, {}, L{}, {})",
            self.path.bind(py).repr()?,
            self.type_name.bind(py).str()?,
            self.layer.bind(py).str()?,
            self.change.bind(py).str()?,
        ))
    }
}

/// A path removed by a layer: by a whiteout, an opaque dir or a type change.
/// `cause` is the whiteout target, opaque dir or replacing path.
#[pyclass(frozen, module = "layerscope.model", name = "Deletion")]
pub struct PyDeletion {
    #[pyo3(get)]
    path: Py<PyAny>,
    #[pyo3(get)]
    layer: Py<PyAny>,
    #[pyo3(get)]
    how: Py<PyAny>,
    #[pyo3(get)]
    cause: Py<PyAny>,
}

impl PyDeletion {
    pub fn make(
        py: Python<'_>,
        path: Py<PyAny>,
        layer: i64,
        how: How,
        cause: Py<PyAny>,
    ) -> PyResult<Py<PyDeletion>> {
        let how = names(py)?.hows[how as usize].clone_ref(py);
        Py::new(
            py,
            PyDeletion {
                path,
                layer: int(py, layer)?,
                how,
                cause,
            },
        )
    }
}

#[pymethods]
impl PyDeletion {
    #[new]
    #[pyo3(signature = (*, path, layer, how, cause))]
    fn new(
        py: Python<'_>,
        path: Bound<'_, PyString>,
        layer: i64,
        how: Bound<'_, PyAny>,
        cause: Bound<'_, PyString>,
    ) -> PyResult<PyDeletion> {
        if !names(py)?.hows.iter().any(|m| m.bind(py).is(&how)) {
            return Err(PyValueError::new_err("how is a layerscope.model.DeleteHow"));
        }
        Ok(PyDeletion {
            path: path.into_any().unbind(),
            layer: int(py, layer)?,
            how: how.unbind(),
            cause: cause.into_any().unbind(),
        })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Deletion({}, L{}, {})",
            self.path.bind(py).repr()?,
            self.layer.bind(py).str()?,
            self.how.bind(py).str()?,
        ))
    }
}
