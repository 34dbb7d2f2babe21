//! Raising the package's exceptions (defined in Python, `_errors.py`) from Rust.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// `webhook_signature._errors.error`, imported once.
static ERROR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The exception for `code` (the `WebhookVerificationError` subclass of that name).
pub(crate) fn error(py: Python<'_>, code: &str, message: &str) -> PyErr {
    let made = ERROR
        .get_or_try_init(py, || -> PyResult<Py<PyAny>> {
            Ok(py.import("webhook_signature._errors")?.getattr("error")?.unbind())
        })
        .and_then(|error| error.bind(py).call1((code, message)));
    match made {
        Ok(exception) => PyErr::from_value(exception),
        Err(import_failed) => import_failed,
    }
}

/// A core error as its exception: the variant's name and its message.
pub(crate) fn core(py: Python<'_>, error: webhook_signature::Error) -> PyErr {
    self::error(py, error.name(), error.as_str())
}

/// A Gemini error as its exception: a core error keeps the core's name.
pub(crate) fn gemini(py: Python<'_>, error: &webhook_signature_gemini::Error) -> PyErr {
    match error {
        webhook_signature_gemini::Error::Webhook(core_error) => core(py, *core_error),
        other => self::error(py, other.code(), &other.to_string()),
    }
}
