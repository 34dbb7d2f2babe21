//! `webhook_signature._webhook_signature.Webhook`: the keys and the two
//! operations behind the pure-Python `webhook_signature.Webhook`, which adds
//! what `standardwebhooks` users rely on (JSON parsing, pickling, subclassing).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};
use webhook_signature::{Headers, Timestamp};

use crate::errors;
use crate::input::{self, GIL_RELEASE_BYTES};

/// Secrets, parsed once; verifies and signs Standard Webhooks deliveries.
#[pyclass(module = "webhook_signature._webhook_signature", frozen)]
pub(crate) struct Webhook {
    keys: Vec<webhook_signature::Webhook>,
}

#[pymethods]
impl Webhook {
    /// `secret`: `whsec_…`, bare base64, raw `bytes`, a `whpk_`/`whsk_` key,
    /// or a sequence of them (the current one first) during a rotation.
    #[new]
    #[pyo3(signature = (secret, *, tolerance = 300))]
    fn new(py: Python<'_>, secret: &Bound<'_, PyAny>, tolerance: u64) -> PyResult<Self> {
        let tolerance = core::time::Duration::from_secs(tolerance);
        let secrets: Vec<Bound<'_, PyAny>> =
            if secret.is_instance_of::<PyList>() || secret.is_instance_of::<PyTuple>() {
                secret.try_iter()?.collect::<PyResult<_>>()?
            } else {
                vec![secret.clone()]
            };
        if secrets.is_empty() {
            return Err(errors::error(py, "InvalidSecret", "no secret given"));
        }
        let keys = secrets
            .iter()
            .map(|secret| key(py, secret).map(|key| key.with_tolerance(tolerance)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Self { keys })
    }

    /// Verifies a delivery: returns the index of the secret that matched (0
    /// is the current one), or raises a `WebhookVerificationError`.
    #[pyo3(signature = (data, headers, now = None))]
    fn verify(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        headers: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        let body = input::body(data)?;
        let values = input::headers(headers)?;
        let [id, timestamp, signature] = values.texts(py)?;
        let now = input::now(now)?;
        let headers = Headers { id, timestamp, signature };
        let bytes = body.bytes();
        let keys = &self.keys;
        let verify = || match keys.as_slice() {
            [key] => key.verify(&headers, bytes, now).map(|()| 0),
            keys => webhook_signature::Webhook::verify_any(keys, &headers, bytes, now),
        };
        let key = if bytes.len() >= GIL_RELEASE_BYTES { py.detach(verify) } else { verify() };
        key.map_err(|error| errors::core(py, error))
    }

    /// The `webhook-signature` value for a delivery at `timestamp` (Unix
    /// seconds): one entry per secret, space-separated. The id is signed as
    /// its UTF-8 bytes.
    fn sign(
        &self,
        py: Python<'_>,
        msg_id: &str,
        timestamp: u64,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<String> {
        let body = input::body(data)?;
        let timestamp = Timestamp::from_unix_secs(timestamp);
        let mut entries = Vec::with_capacity(self.keys.len());
        for key in &self.keys {
            let signature =
                key.sign(msg_id, timestamp, body.bytes()).map_err(|error| errors::core(py, error))?;
            entries.push(signature.to_string());
        }
        Ok(entries.join(" "))
    }

    fn __repr__(&self) -> String {
        format!("Webhook(<{} secret(s)>)", self.keys.len())
    }
}

/// HMAC-SHA256 of `data` under `key` (any length, empty included), as
/// `standardwebhooks.webhooks.hmac_data` computes it.
#[pyfunction]
pub(crate) fn hmac_data<'py>(
    py: Python<'py>,
    key: &Bound<'py, PyAny>,
    data: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let key = input::body(key)?;
    let data = input::body(data)?;
    Ok(PyBytes::new(py, &webhook_signature::hmac_sha256(key.bytes(), &[data.bytes()])))
}

/// One secret: text (`whsec_…`, bare base64, `whpk_`/`whsk_`) or raw key bytes.
fn key(py: Python<'_>, secret: &Bound<'_, PyAny>) -> PyResult<webhook_signature::Webhook> {
    let parsed = if let Ok(text) = secret.cast::<PyString>() {
        webhook_signature::Webhook::new(text.to_str()?)
    } else if let Ok(bytes) = secret.cast::<PyBytes>() {
        webhook_signature::Webhook::from_key(bytes.as_bytes())
    } else {
        return Err(PyTypeError::new_err(format!(
            "webhook secret must be str or bytes (or a list of them), not {}",
            secret.get_type().name()?
        )));
    };
    parsed.map_err(|error| errors::core(py, error))
}
