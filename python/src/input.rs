//! What Python hands in: bodies (borrowed where the buffer protocol allows),
//! header mappings of any case, and `now` in any of its forms.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{IntoPyDict, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyString};
use webhook_signature::{HeaderName, Timestamp};

/// Bodies at least this long are hashed with the GIL released, so other
/// Python threads run meanwhile. Below it, releasing and re-taking the GIL
/// costs more than it frees (`python/bench.py` measures both sides).
pub(crate) const GIL_RELEASE_BYTES: usize = 16 * 1024;

/// The Standard Webhooks names, then the Svix ones read when those are absent.
const NAMES: [&str; 3] = ["webhook-id", "webhook-timestamp", "webhook-signature"];
const SVIX: [&str; 3] = ["svix-id", "svix-timestamp", "svix-signature"];

/// The raw bytes of a body: `bytes` borrowed, `str` as UTF-8, and any other
/// buffer (`bytearray`, `memoryview`, …) read through the buffer protocol.
pub(crate) enum Body<'py> {
    Borrowed(Bound<'py, PyBytes>),
    Owned(Vec<u8>),
}

impl Body<'_> {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Self::Borrowed(bytes) => bytes.as_bytes(),
            Self::Owned(bytes) => bytes,
        }
    }
}

pub(crate) fn body<'py>(data: &Bound<'py, PyAny>) -> PyResult<Body<'py>> {
    if let Ok(bytes) = data.cast::<PyBytes>() {
        return Ok(Body::Borrowed(bytes.clone()));
    }
    if let Ok(text) = data.cast::<PyString>() {
        return Ok(Body::Owned(text.to_str()?.as_bytes().to_vec()));
    }
    if let Ok(array) = data.cast::<PyByteArray>() {
        return Ok(Body::Owned(array.to_vec()));
    }
    match PyBuffer::<u8>::get(data) {
        // `to_vec` copies once; reading a mutable buffer in place would need `unsafe`.
        Ok(buffer) => Ok(Body::Owned(buffer.to_vec(data.py())?)),
        Err(_) => Err(PyTypeError::new_err(format!(
            "webhook body must be bytes, bytearray, memoryview or str, not {}",
            data.get_type().name()?
        ))),
    }
}

/// One header's value: borrowed from Python's `str` where it is one.
pub(crate) enum Value<'py> {
    Absent,
    Borrowed(Bound<'py, PyString>),
    Owned(String),
}

impl Value<'_> {
    fn as_str(&self) -> PyResult<&str> {
        match self {
            Self::Absent => Ok(""),
            Self::Borrowed(text) => text.to_str(),
            Self::Owned(text) => Ok(text),
        }
    }
}

/// The three header values: `webhook-*`, else `svix-*`.
pub(crate) struct HeaderValues<'py>([Value<'py>; 3]);

impl HeaderValues<'_> {
    /// The values as text, `""` where absent, checked as the Rust `http`
    /// adapter reads headers: visible ASCII, spaces and tabs only, except
    /// that an id given as `str` may hold any character but a control one
    /// and is hashed as its UTF-8 bytes, as `standardwebhooks` hashes it.
    pub(crate) fn texts(&self, py: Python<'_>) -> PyResult<[&str; 3]> {
        let [id, timestamp, signature] = &self.0;
        let texts = [id.as_str()?, timestamp.as_str()?, signature.as_str()?];
        let names = [HeaderName::Id, HeaderName::Timestamp, HeaderName::Signature];
        for (i, (value, name)) in texts.iter().zip(names).enumerate() {
            let allowed =
                |byte: u8| byte == b'\t' || (0x20..0x7f).contains(&byte) || (i == 0 && byte >= 0x80);
            if !value.bytes().all(allowed) {
                return Err(crate::errors::core(py, webhook_signature::Error::InvalidHeader(name)));
            }
        }
        Ok(texts)
    }
}

/// The three header values, `webhook-*` or else `svix-*`, names matched without case.
pub(crate) fn headers<'py>(mapping: &Bound<'py, PyAny>) -> PyResult<HeaderValues<'py>> {
    let py = mapping.py();
    // Interned: a dict lookup with them hashes nothing.
    let names =
        [intern!(py, "webhook-id"), intern!(py, "webhook-timestamp"), intern!(py, "webhook-signature")];
    let mut values = [Value::Absent, Value::Absent, Value::Absent];
    for (slot, name) in values.iter_mut().zip(names) {
        *slot = lookup(mapping, name)?;
    }
    if values.iter().any(|value| matches!(value, Value::Absent)) {
        // Svix's names, or a mapping whose `get` is case-sensitive holding `Webhook-Id`.
        let mut folded = fold(mapping)?.into_iter();
        let mut standard: Vec<Value<'py>> = folded.by_ref().take(3).collect();
        let mut svix: Vec<Value<'py>> = folded.collect();
        for (i, slot) in values.iter_mut().enumerate() {
            if matches!(slot, Value::Absent) {
                let found =
                    standard.get_mut(i).map_or(Value::Absent, |v| std::mem::replace(v, Value::Absent));
                *slot = if matches!(found, Value::Absent) {
                    svix.get_mut(i).map_or(Value::Absent, |v| std::mem::replace(v, Value::Absent))
                } else {
                    found
                };
            }
        }
    }
    Ok(HeaderValues(values))
}

/// `mapping.get(name)` (a dict's item, or the mapping's own, case-insensitive `get`).
fn lookup<'py>(mapping: &Bound<'py, PyAny>, name: &Bound<'py, PyString>) -> PyResult<Value<'py>> {
    let value = match mapping.cast::<PyDict>() {
        Ok(dict) => dict.get_item(name)?,
        Err(_) => {
            let value = mapping
                .call_method1(intern!(mapping.py(), "get"), (name,))
                .map_err(|_| not_a_mapping(mapping))?;
            (!value.is_none()).then_some(value)
        }
    };
    value.map_or(Ok(Value::Absent), |value| text(value, name.to_str()?))
}

/// One pass over the items: the six names, matched without case.
fn fold<'py>(mapping: &Bound<'py, PyAny>) -> PyResult<[Value<'py>; 6]> {
    let mut found: [Value<'py>; 6] = std::array::from_fn(|_| Value::Absent);
    let items = mapping.call_method0("items").map_err(|_| not_a_mapping(mapping))?;
    for item in items.try_iter()? {
        let (key, value): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item?.extract()?;
        let Ok(key) = key.extract::<String>() else { continue };
        let key = key.to_ascii_lowercase();
        if let Some(index) = NAMES.iter().chain(SVIX.iter()).position(|name| *name == key)
            && let Some(slot) = found.get_mut(index)
        {
            *slot = text(value, &key)?;
        }
    }
    Ok(found)
}

fn text<'py>(value: Bound<'py, PyAny>, name: &str) -> PyResult<Value<'py>> {
    let value = match value.cast_into::<PyString>() {
        Ok(text) => return Ok(Value::Borrowed(text)),
        Err(error) => error.into_inner(),
    };
    let value = match value.cast_into::<PyBytes>() {
        // Bytes that are not UTF-8 are refused as invalid, never replaced: a
        // replaced id would be hashed as text that was not sent.
        Ok(bytes) => {
            return match std::str::from_utf8(bytes.as_bytes()) {
                Ok(text) => Ok(Value::Owned(text.to_owned())),
                Err(_) => Err(crate::errors::core(
                    bytes.py(),
                    webhook_signature::Error::InvalidHeader(header_name(name)),
                )),
            };
        }
        Err(error) => error.into_inner(),
    };
    Err(PyTypeError::new_err(format!("header {name} must be a str, not {}", value.get_type().name()?)))
}

/// The header a lower-case `webhook-*` or `svix-*` name is.
fn header_name(name: &str) -> HeaderName {
    if name.ends_with("-id") {
        HeaderName::Id
    } else if name.ends_with("-timestamp") {
        HeaderName::Timestamp
    } else {
        HeaderName::Signature
    }
}

fn not_a_mapping(mapping: &Bound<'_, PyAny>) -> PyErr {
    let kind = mapping.get_type().name().map(|name| name.to_string()).unwrap_or_default();
    PyTypeError::new_err(format!("webhook headers must be a mapping of header names to values, not {kind}"))
}

/// `now`: `None` (the clock), seconds as `int` or `float`, or a `datetime`.
pub(crate) fn now(now: Option<&Bound<'_, PyAny>>) -> PyResult<Timestamp> {
    let Some(now) = now.filter(|now| !now.is_none()) else { return Ok(Timestamp::now()) };
    seconds(now, "now").map(Timestamp::from_unix_secs)
}

/// Whole Unix seconds from an `int`, a `float` (floored) or a `datetime`
/// (naive ones are taken as UTC, as `standardwebhooks` does).
pub(crate) fn seconds(value: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
    let negative = || PyValueError::new_err(format!("{what} must not be before 1970"));
    if value.is_instance_of::<PyInt>() {
        return value.extract::<u64>().map_err(|_| negative());
    }
    let float = if value.is_instance_of::<PyFloat>() {
        value.extract::<f64>()?
    } else if value.hasattr("timestamp")? {
        let aware = if value.getattr("tzinfo")?.is_none() {
            let utc = value.py().import("datetime")?.getattr("timezone")?.getattr("utc")?;
            value.call_method("replace", (), Some(&[("tzinfo", utc)].into_py_dict(value.py())?))?
        } else {
            value.clone()
        };
        aware.call_method0("timestamp")?.extract::<f64>()?
    } else {
        return Err(PyTypeError::new_err(format!("{what} must be an int, a float or a datetime")));
    };
    if !float.is_finite() || float < 0.0 {
        return Err(negative());
    }
    // Floored, as `math.floor`; `as` saturates beyond u64.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(float.floor() as u64)
}

/// `json.loads`, imported once.
static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `json.loads(body)`.
pub(crate) fn parse_json<'py>(py: Python<'py>, body: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    let loads = JSON_LOADS.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("json")?.getattr("loads")?.unbind())
    })?;
    loads.bind(py).call1((PyBytes::new(py, body),))
}
