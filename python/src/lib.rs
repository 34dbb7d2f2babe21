//! The Python extension `webhook_signature._webhook_signature`: the core's
//! `Webhook` and the Gemini crate's `Receiver`, behind the pure-Python
//! package `webhook_signature` (errors, the FastAPI dependency).

mod errors;
mod gemini;
mod input;
mod webhook;

use pyo3::prelude::*;

/// The compiled module.
#[pymodule(gil_used = false)]
fn _webhook_signature(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<webhook::Webhook>()?;
    module.add_function(wrap_pyfunction!(webhook::hmac_data, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<gemini::Receiver>()?;
    module.add_class::<gemini::Delivery>()?;
    module.add("GOOGLE_JWKS_URL", webhook_signature_gemini::GOOGLE_JWKS_URL)?;
    module.add("GIL_RELEASE_BYTES", input::GIL_RELEASE_BYTES)?;
    Ok(())
}
