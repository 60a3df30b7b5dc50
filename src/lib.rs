//! layerscope's compiled engine, seen from Python as `layerscope._core`.
//!
//! A few coarse calls that do a lot of work with the GIL released: read every
//! layer of an image in parallel threads (decompress, walk the tar, hash) and
//! hand back compact per-layer results; open a decompressing reader for the
//! content views. No panic crosses into Python: each layer runs under
//! `catch_unwind`, and a panic becomes that layer's error.

pub mod blob;
pub mod decode;
pub mod layer;
pub mod tar;

mod py;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    py::register(m)
}
