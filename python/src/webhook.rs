//! `webhook_signature.Webhook`: a drop-in for `standardwebhooks.Webhook`.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};
use webhook_signature::{Headers, Timestamp};

use crate::errors;
use crate::input::{self, GIL_RELEASE_BYTES};

/// `json.loads`, imported once.
static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Secrets, parsed once; verify and sign Standard Webhooks deliveries.
#[pyclass(module = "webhook_signature", frozen)]
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

    /// Verifies a delivery: returns its parsed JSON (or `None` with
    /// `json_parse=False`), or raises a `WebhookVerificationError`.
    #[pyo3(signature = (data, headers, *, now = None, json_parse = true))]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        headers: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
        json_parse: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.verify_with_key(py, data, headers, now, json_parse).map(|(payload, _)| payload)
    }

    /// As `verify`, and the index of the secret that matched (0 is the current one).
    #[pyo3(signature = (data, headers, *, now = None, json_parse = true))]
    fn verify_with_key<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        headers: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
        json_parse: bool,
    ) -> PyResult<(Bound<'py, PyAny>, usize)> {
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
        let key = key.map_err(|error| errors::core(py, error))?;
        let payload = if json_parse { parse_json(py, bytes)? } else { py.None().into_bound(py) };
        Ok((payload, key))
    }

    /// The `webhook-signature` value for a delivery: `v1,<base64>` (one entry
    /// per secret, space-separated), as `standardwebhooks` signs.
    fn sign(
        &self,
        py: Python<'_>,
        msg_id: &str,
        timestamp: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<String> {
        let body = input::body(data)?;
        let timestamp = Timestamp::from_unix_secs(input::seconds(timestamp, "timestamp")?);
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

/// `json.loads(body)`; a body that is not JSON is `InvalidJson`, a
/// `WebhookVerificationError` like every other rejection.
pub(crate) fn parse_json<'py>(py: Python<'py>, body: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    let loads = JSON_LOADS.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("json")?.getattr("loads")?.unbind())
    })?;
    loads
        .bind(py)
        .call1((PyBytes::new(py, body),))
        .map_err(|error| errors::error(py, "InvalidJson", &format!("the body is not JSON: {error}")))
}
