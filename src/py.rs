//! The Python face of the core: argument checking, threads, and turning Rust
//! results into Python objects once, at the end, with the GIL held.

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use crate::blob::Source;
use crate::decode::{Decoded, CHUNK};
use crate::layer::{scan, LayerScan, Limits};
use crate::pytree::LayerRows;
use crate::pytypes::{
    Blob, CoreWarning, HeaderFields, LayerScan as PyLayerScan, ScanJob, WarningOverflow, Window,
};
use crate::tree::Rows;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(scan_layers, m)?)?;
    m.add_function(wrap_pyfunction!(open_reader, m)?)?;
    m.add_function(wrap_pyfunction!(header_fields, m)?)?;
    m.add_function(wrap_pyfunction!(pax_records, m)?)?;
    m.add_function(wrap_pyfunction!(normalise, m)?)?;
    m.add_class::<Reader>()?;
    m.add_class::<crate::pytree::Tree>()?;
    m.add_class::<crate::pytree::LayerRows>()?;
    crate::pypackages::register(m)?;
    m.add_function(wrap_pyfunction!(crate::pytree::merge_layers, m)?)?;
    crate::pytypes::register(m)?;
    m.add("ReadError", m.py().get_type::<ReadError>())?;
    Ok(())
}

/// The checksum verdict and the size field of one 512-byte tar header
/// (`(ok, size)`, size None when malformed): the outer-archive index walks
/// headers by offset and needs only these.
#[pyfunction]
fn header_fields(hdr: &[u8]) -> PyResult<HeaderFields> {
    if hdr.len() != crate::tar::BLOCK {
        return Err(PyValueError::new_err("a tar header is 512 bytes"));
    }
    Ok(HeaderFields {
        ok: crate::tar::checksum_ok(hdr),
        size: crate::tar::header_number(&hdr[124..136]),
    })
}

/// `./a//b/` -> `/a/b`; None when the name climbs out with `..`: the scan's
/// rule (`layer::normalise`), the one every path a user types goes through too.
#[pyfunction]
fn normalise(py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Option<PyObject>> {
    let raw = crate::pytree::bytes_of(name)?;
    crate::layer::normalise(&raw)
        .map(|p| crate::pytree::text(py, &p))
        .transpose()
}

/// The records of a pax extended header as `{key: value}` (keys decoded, values raw).
#[pyfunction]
fn pax_records<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    let mut recs = Vec::new();
    let _ = crate::tar::parse_pax(data, &mut recs);
    let d = PyDict::new(py);
    for (k, v) in recs {
        d.set_item(String::from_utf8_lossy(&k), PyBytes::new(py, &v))?;
    }
    Ok(d)
}

/// A window of an open file, or a Python stream.
fn source_of(py: Python<'_>, raw: &Py<PyAny>, window: Option<&Py<Window>>) -> PyResult<Source> {
    let Some(w) = window else {
        return Ok(Source::python(raw.clone_ref(py)));
    };
    let w = w.get();
    Source::window(w.fd, w.start, w.length).map_err(|e| PyOSError::new_err(e.to_string()))
}

fn failed(error: String) -> LayerScan {
    LayerScan {
        compression: "none",
        error: Some(error),
        ..LayerScan::default()
    }
}

/// Opens, scans and closes one layer; runs on a worker thread without the GIL.
fn run_job(
    index: i64,
    name: &str,
    opener: &Py<PyAny>,
    limits: &Limits,
    progress: Option<&Py<PyAny>>,
) -> LayerScan {
    let opened = Python::with_gil(|py| -> Result<(Py<PyAny>, Source), String> {
        // An opener that raises: its message is the layer's error.
        let got = opener.call0(py).map_err(|e| e.value(py).to_string())?;
        let blob = got
            .downcast_bound::<Blob>(py)
            .map_err(|e| e.to_string())?
            .get();
        let raw = blob.raw.clone_ref(py);
        let source = source_of(py, &raw, blob.window.as_ref())
            .map_err(|e| format!("{name}: cannot open ({e})"))?;
        Ok((raw, source))
    });
    let (raw, source) = match opened {
        Ok(o) => o,
        Err(e) => return failed(e),
    };
    let report = |count: u64| {
        if let Some(p) = progress {
            Python::with_gil(|py| {
                // A failing progress callback must not stop the read.
                let _ = p.call1(py, (index, count));
            });
        }
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        scan(source, name, limits, Some(&report))
    }));
    Python::with_gil(|py| {
        let _ = raw.call_method0(py, "close");
    });
    let out = result.unwrap_or_else(|_| {
        failed(format!(
            "{name}: internal error reading the layer (a bug: please report it)"
        ))
    });
    report(out.uncompressed_bytes);
    out
}

/// Reads every layer: `job.open()` returns a `Blob` (or raises: the layer's
/// error). Returns one `LayerScan` per job, in the order given; each layer's
/// entries stay in the core as its `rows` (a `LayerRows` for `merge_layers`):
/// no Python object is made per entry.
#[pyfunction]
#[pyo3(signature = (jobs, progress=None, workers=2, max_members=2_000_000, trailing_limit=256 << 20, max_depth=256, max_warnings=50))]
#[allow(clippy::too_many_arguments)]
fn scan_layers(
    py: Python<'_>,
    jobs: Vec<Py<ScanJob>>,
    progress: Option<Py<PyAny>>,
    workers: usize,
    max_members: u64,
    trailing_limit: u64,
    max_depth: usize,
    max_warnings: usize,
) -> PyResult<Vec<PyLayerScan>> {
    let jobs: Vec<(i64, String, Py<PyAny>)> = jobs
        .iter()
        .map(|j| {
            let j = j.get();
            (j.index, j.name.clone(), j.open.clone_ref(py))
        })
        .collect();
    let limits = Limits {
        max_members: max_members.max(1),
        trailing: trailing_limit,
        max_depth,
        max_warnings,
    };
    let n = jobs.len();
    let slots: Vec<Mutex<Option<(LayerScan, Rows)>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let threads = workers.clamp(1, 64).min(n.max(1));
    py.allow_threads(|| {
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let (index, name, opener) = &jobs[i];
                    let mut out = run_job(*index, name, opener, &limits, progress.as_ref());
                    // Compact rows now, on this thread: the scanner's entries are freed as they go.
                    let rows = std::mem::take(&mut out.rows);
                    if let Ok(mut slot) = slots.lock_slot(i) {
                        *slot = Some((out, rows));
                    }
                });
            }
        });
    });
    let mut layers = Vec::with_capacity(n);
    for slot in slots {
        let (scan, rows) = slot
            .into_inner()
            .ok()
            .flatten()
            .unwrap_or_else(|| (failed("layer not read".to_string()), Rows::default()));
        let held = LayerRows {
            rows: Mutex::new(Some(rows)),
        };
        layers.push(layer_result(py, scan, Py::new(py, held)?)?);
    }
    Ok(layers)
}

trait LockSlot<T> {
    fn lock_slot(&self, i: usize) -> Result<std::sync::MutexGuard<'_, T>, ()>;
}

impl<T> LockSlot<T> for Vec<Mutex<T>> {
    fn lock_slot(&self, i: usize) -> Result<std::sync::MutexGuard<'_, T>, ()> {
        self[i].lock().map_err(|_| ())
    }
}

/// One layer's result, for the loader.
fn layer_result(py: Python<'_>, scan: LayerScan, rows: Py<LayerRows>) -> PyResult<PyLayerScan> {
    let texts = |v: &[Vec<u8>]| -> PyResult<Py<PyList>> {
        let out = PyList::empty(py);
        for p in v {
            out.append(crate::pytree::text(py, p)?)?;
        }
        Ok(out.unbind())
    };
    let warnings = PyList::empty(py);
    for (kind, message) in scan.warnings {
        warnings.append(CoreWarning {
            kind,
            message: PyString::new(py, &message).into_any().unbind(),
        })?;
    }
    let overflow = PyList::empty(py);
    for (kind, count) in scan.overflow {
        overflow.append(WarningOverflow { kind, count })?;
    }
    Ok(PyLayerScan {
        whiteouts: texts(&scan.whiteouts)?,
        opaque_dirs: texts(&scan.opaque_dirs)?,
        warnings: warnings.unbind(),
        overflow: overflow.unbind(),
        error: scan.error,
        compression: scan.compression,
        diff_id: scan.diff_id,
        digest: scan.digest,
        diff_id_unverified: scan.diff_id_unverified,
        uncompressed_bytes: scan.uncompressed_bytes,
        size_bytes: scan.size_bytes,
        members: scan.members,
        rows,
    })
}

/// Uncompressed bytes of one blob, read on demand (content views, archives
/// that are themselves compressed). `skip` passes bytes without returning them.
#[pyclass(module = "layerscope._core")]
struct Reader {
    inner: Option<Decoded>,
    #[pyo3(get)]
    compression: &'static str,
    position: u64,
    raw: Option<Py<PyAny>>,
}

pyo3::create_exception!(
    layerscope._core,
    ReadError,
    PyOSError,
    "A blob cannot be read or decompressed (an OSError, so callers that catch those still do)."
);

fn panicked() -> PyErr {
    ReadError::new_err("internal error decompressing the blob (a bug: please report it)")
}

fn io_err(e: std::io::Error) -> PyErr {
    ReadError::new_err(e.to_string())
}

#[pymethods]
impl Reader {
    /// Up to `n` bytes (fewer only at the end); b"" at the end.
    fn read<'py>(&mut self, py: Python<'py>, n: usize) -> PyResult<Bound<'py, PyBytes>> {
        let Some(inner) = self.inner.as_mut() else {
            return Err(PyValueError::new_err("read from a closed reader"));
        };
        let want = n.min(64 << 20);
        let data = py.allow_threads(|| {
            catch_unwind(AssertUnwindSafe(|| -> std::io::Result<Vec<u8>> {
                let mut buf = vec![0u8; want];
                let mut got = 0;
                while got < want {
                    let k = inner.read(&mut buf[got..])?;
                    if k == 0 {
                        break;
                    }
                    got += k;
                }
                buf.truncate(got);
                Ok(buf)
            }))
        });
        let data = data.map_err(|_| panicked())?.map_err(io_err)?;
        self.position += data.len() as u64;
        Ok(PyBytes::new(py, &data))
    }

    /// Moves forward to `offset` of the uncompressed stream: by seeking when
    /// the blob is uncompressed and seekable, else by decompressing up to it.
    /// Returns the new position (short of `offset` when the stream ends first).
    fn skip_to(&mut self, py: Python<'_>, offset: u64) -> PyResult<u64> {
        let Some(inner) = self.inner.as_mut() else {
            return Err(PyValueError::new_err("skip on a closed reader"));
        };
        if offset <= self.position {
            return Ok(self.position);
        }
        if inner.seek_plain(offset) {
            self.position = offset;
            return Ok(offset);
        }
        let mut left = offset - self.position;
        let skipped = py.allow_threads(|| {
            catch_unwind(AssertUnwindSafe(|| -> std::io::Result<u64> {
                let mut buf = vec![0u8; CHUNK];
                let mut done = 0u64;
                while left > 0 {
                    let want = left.min(CHUNK as u64) as usize;
                    let k = inner.read(&mut buf[..want])?;
                    if k == 0 {
                        break;
                    }
                    left -= k as u64;
                    done += k as u64;
                }
                Ok(done)
            }))
        });
        self.position += skipped.map_err(|_| panicked())?.map_err(io_err)?;
        Ok(self.position)
    }

    fn close(&mut self, py: Python<'_>) {
        self.inner = None;
        if let Some(raw) = self.raw.take() {
            let _ = raw.call_method0(py, "close");
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(&mut self, py: Python<'_>, _a: PyObject, _b: PyObject, _c: PyObject) {
        self.close(py);
    }
}

/// A decompressing reader over `raw` (closed with the reader); `window` as for `scan_layers`.
#[pyfunction]
#[pyo3(signature = (raw, window, name))]
fn open_reader(
    py: Python<'_>,
    raw: Py<PyAny>,
    window: Option<Py<Window>>,
    name: &str,
) -> PyResult<Reader> {
    let source = source_of(py, &raw, window.as_ref())?;
    let decoded = py
        .allow_threads(|| Decoded::new(source, name, false))
        .map_err(io_err)?;
    Ok(Reader {
        compression: decoded.compression.name(),
        inner: Some(decoded),
        position: 0,
        raw: Some(raw),
    })
}
