//! layerscope's compiled engine, seen from Python as `layerscope._core`.
//!
//! A few coarse calls that do a lot of work with the GIL released: read every
//! layer of an image in parallel threads (decompress, walk the tar, hash) and
//! hand back compact per-layer results; open a decompressing reader for the
//! content views. No panic crosses into Python: each layer runs under
//! `catch_unwind`, and a panic becomes that layer's error.

pub mod audit;
pub mod blob;
pub mod decode;
pub mod dive;
pub mod json;
pub mod layer;
pub mod packages;
pub mod search;
pub mod tar;
pub mod tree;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tree_tests;

#[cfg(feature = "python")]
mod py;
#[cfg(feature = "python")]
mod pymodel;
#[cfg(feature = "python")]
mod pypackages;
#[cfg(feature = "python")]
mod pytree;
#[cfg(feature = "python")]
mod pytypes;

#[cfg(feature = "python")]
#[pyo3::pymodule]
fn _core(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
    py::register(m)
}
