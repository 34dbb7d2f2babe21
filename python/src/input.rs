//! What Python hands in: bodies (borrowed where the buffer protocol allows),
//! header mappings of any case, and `now` in any of its forms.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
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

/// The three header values, `""` where absent; `svix-*` where `webhook-*` is absent.
pub(crate) fn headers(mapping: &Bound<'_, PyAny>) -> PyResult<[String; 3]> {
    let mut values = [None, None, None];
    for (slot, name) in values.iter_mut().zip(NAMES) {
        *slot = lookup(mapping, name)?;
    }
    if values.iter().any(Option::is_none) {
        // A mapping whose `get` is case-sensitive, holding `Webhook-Id` and the like.
        let folded = fold(mapping)?;
        for (i, slot) in values.iter_mut().enumerate() {
            if slot.is_none() {
                *slot = folded[i].clone().or_else(|| folded[i + 3].clone());
            }
        }
    }
    let values = values.map(Option::unwrap_or_default);
    // As the Rust `http` adapter reads headers: visible ASCII, spaces and tabs only.
    for (value, name) in values.iter().zip([HeaderName::Id, HeaderName::Timestamp, HeaderName::Signature]) {
        if !value.bytes().all(|byte| byte == b'\t' || (0x20..0x7f).contains(&byte)) {
            return Err(crate::errors::core(mapping.py(), webhook_signature::Error::InvalidHeader(name)));
        }
    }
    Ok(values)
}

/// `mapping.get(name)` (a dict's item, or the mapping's own, case-insensitive `get`).
fn lookup(mapping: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<String>> {
    let value = match mapping.cast::<PyDict>() {
        Ok(dict) => dict.get_item(name)?,
        Err(_) => {
            let value = mapping.call_method1("get", (name,)).map_err(|_| not_a_mapping(mapping))?;
            (!value.is_none()).then_some(value)
        }
    };
    value.map(|value| text(&value, name)).transpose()
}

/// One pass over the items: the six names, matched without case.
fn fold(mapping: &Bound<'_, PyAny>) -> PyResult<[Option<String>; 6]> {
    let mut found: [Option<String>; 6] = Default::default();
    let items = mapping.call_method0("items").map_err(|_| not_a_mapping(mapping))?;
    for item in items.try_iter()? {
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
        let Ok(key) = key.extract::<String>() else { continue };
        let key = key.to_ascii_lowercase();
        if let Some(index) = NAMES.iter().chain(SVIX.iter()).position(|name| *name == key)
            && let Some(slot) = found.get_mut(index)
        {
            *slot = Some(text(&value, &key)?);
        }
    }
    Ok(found)
}

fn text(value: &Bound<'_, PyAny>, name: &str) -> PyResult<String> {
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(text.to_str()?.to_owned());
    }
    if let Ok(bytes) = value.cast::<PyBytes>() {
        // Header bytes that are not UTF-8 are not visible ASCII either: the core rejects them.
        return Ok(String::from_utf8_lossy(bytes.as_bytes()).into_owned());
    }
    Err(PyTypeError::new_err(format!("header {name} must be a str, not {}", value.get_type().name()?)))
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
