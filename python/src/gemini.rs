//! `webhook_signature.gemini.Receiver`: both of Gemini's modes, as the Rust
//! crate checks them, with a JWKS given as a dict or JSON text, or fetched
//! by the crate's cache (cancellation-safe, `max-age` clamped, unknown-`kid`
//! refreshes at most every 30 s) with the GIL released.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use webhook_signature::Headers;
use webhook_signature_gemini::{Authenticated, DynamicVerifier, Jwks, JwksCache, Mode};

use crate::errors;
use crate::input::{self, GIL_RELEASE_BYTES, parse_json};

/// The runtime fetches run on: one worker thread, so a refresh started by
/// one call goes on between calls.
fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("webhook-signature-jwks")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| PyValueError::new_err(format!("cannot start the JWKS runtime: {e}")))
}

/// Keys for dynamic deliveries: given, or fetched when first needed.
enum Keys {
    Given(Jwks),
    Fetched(JwksCache),
}

/// A Gemini webhook receiver for both modes. Subclassed by the Python
/// `webhook_signature.gemini.Receiver`, which adds `verify_async`.
#[pyclass(module = "webhook_signature._webhook_signature", frozen, subclass)]
pub(crate) struct Receiver {
    receiver: Arc<webhook_signature_gemini::Receiver>,
    keys: Keys,
}

#[pymethods]
impl Receiver {
    /// `secrets`: the static `whsec_` secrets (current first); `audience`:
    /// the accepted `aud` values of dynamic tokens. One of them is required.
    #[new]
    #[pyo3(signature = (secrets = None, audience = None, jwks = None, jwks_url = webhook_signature_gemini::GOOGLE_JWKS_URL))]
    fn new(
        py: Python<'_>,
        secrets: Option<&Bound<'_, PyAny>>,
        audience: Option<&Bound<'_, PyAny>>,
        jwks: Option<&Bound<'_, PyAny>>,
        jwks_url: &str,
    ) -> PyResult<Self> {
        let secrets = strings(secrets, "secrets")?;
        let audiences = strings(audience, "audience")?;
        if secrets.is_empty() && audiences.is_empty() {
            return Err(PyValueError::new_err(
                "give secrets (static mode), audience (dynamic mode), or both",
            ));
        }
        let keys = secrets
            .iter()
            .map(|secret| webhook_signature::Webhook::new(secret).map_err(|error| errors::core(py, error)))
            .collect::<PyResult<Vec<_>>>()?;
        let mut receiver = webhook_signature_gemini::Receiver::new(keys);
        if !audiences.is_empty() {
            receiver = receiver.with_dynamic(DynamicVerifier::new(audiences));
        }
        let keys = match jwks {
            Some(document) if !document.is_none() => Keys::Given(parse_jwks(py, document)?),
            _ => Keys::Fetched(JwksCache::new(jwks_url).map_err(|e| PyValueError::new_err(e.to_string()))?),
        };
        Ok(Self { receiver: Arc::new(receiver), keys })
    }

    /// Verifies a delivery of either mode; returns a `Delivery` or raises a
    /// `WebhookVerificationError` whose `code` names the failure.
    #[pyo3(signature = (body, headers, *, now = None))]
    fn verify(
        &self,
        py: Python<'_>,
        body: &Bound<'_, PyAny>,
        headers: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Delivery> {
        let body = input::body(body)?;
        let values = input::headers(headers)?;
        let [id, timestamp, signature] = values.texts(py)?;
        let now = input::now(now)?;
        let headers = Headers { id, timestamp, signature };
        let bytes = body.bytes();
        let verified = match &self.keys {
            Keys::Given(jwks) => {
                let verify = || self.receiver.verify(&headers, bytes, now, Some(jwks));
                if bytes.len() >= GIL_RELEASE_BYTES { py.detach(verify) } else { verify() }
            }
            Keys::Fetched(cache) if webhook_signature_gemini::Receiver::is_dynamic(&headers) => {
                let runtime = runtime()?;
                // A fetch may take seconds: other Python threads run meanwhile.
                py.detach(|| runtime.block_on(self.receiver.verify_fetching(&headers, bytes, now, cache)))
            }
            Keys::Fetched(_) => self.receiver.verify(&headers, bytes, now, None),
        };
        Self::delivery(py, verified, bytes)
    }

    /// As `verify`, without ever waiting for a JWKS fetch, for event loops:
    /// the `Delivery` (or the error) when no fetch is needed, which is every
    /// static delivery and every dynamic one whose key is cached; otherwise
    /// `None`, and `notify()` is called, from another thread, once the fetch
    /// this call needs has ended (with or without keys), so that a new call
    /// answers at once.
    #[pyo3(signature = (body, headers, notify, *, now = None))]
    fn verify_or_notify(
        &self,
        py: Python<'_>,
        body: &Bound<'_, PyAny>,
        headers: &Bound<'_, PyAny>,
        notify: Py<PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Delivery>> {
        let Keys::Fetched(cache) = &self.keys else { return self.verify(py, body, headers, now).map(Some) };
        let body = input::body(body)?;
        let values = input::headers(headers)?;
        let [id, timestamp, signature] = values.texts(py)?;
        let now = input::now(now)?;
        let headers = Headers { id, timestamp, signature };
        let bytes = body.bytes();
        if !webhook_signature_gemini::Receiver::is_dynamic(&headers) {
            return Self::delivery(py, self.receiver.verify(&headers, bytes, now, None), bytes).map(Some);
        }
        let runtime = runtime()?;
        // One poll: the cache answers a cached key at once, or starts (or
        // joins) the fetch and is pending. Dropping the pending future is
        // safe: the fetch runs in its own task.
        let polled = py.detach(|| {
            let _context = runtime.enter();
            let mut verifying = pin!(self.receiver.verify_fetching(&headers, bytes, now, cache));
            match verifying.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Ready(verified) => Some(verified),
                Poll::Pending => None,
            }
        });
        if let Some(verified) = polled {
            return Self::delivery(py, verified, bytes).map(Some);
        }
        let (receiver, cache) = (Arc::clone(&self.receiver), cache.clone());
        let (id, timestamp, signature) = (id.to_owned(), timestamp.to_owned(), signature.to_owned());
        runtime.spawn(async move {
            let headers = Headers { id: &id, timestamp: &timestamp, signature: &signature };
            // Only waits for the fetch (bounded by the cache's fetch timeout):
            // the outcome is the next call's, so the body is not needed here.
            let _ = receiver.verify_fetching(&headers, &[], now, &cache).await;
            Python::attach(move |py| {
                if let Err(error) = notify.call0(py) {
                    error.write_unraisable(py, None);
                }
                drop(notify);
            });
        });
        Ok(None)
    }
}

impl Receiver {
    /// The Python `Delivery` of a verification's outcome.
    fn delivery(
        py: Python<'_>,
        verified: Result<webhook_signature_gemini::Delivery<'_>, webhook_signature_gemini::Error>,
        bytes: &[u8],
    ) -> PyResult<Delivery> {
        let delivery = verified.map_err(|error| errors::gemini(py, &error))?;
        let (mode, key, kid, bound_by) = match &delivery.verified.mode {
            Mode::Static { key } => ("static", Some(*key), None, None),
            Mode::Dynamic(token) => {
                let bound = match &token.body {
                    webhook_signature_gemini::BodyBinding::Bound { claim } => Some(claim.clone()),
                    _ => None,
                };
                ("dynamic", None, Some(token.kid.clone()), bound)
            }
            _ => ("unknown", None, None, None),
        };
        let (event, event_type, not_envelope) = match &delivery.verified.envelope {
            Ok(envelope) => {
                (Some(parse_json(py, bytes)?.unbind()), Some(envelope.event.kind().to_owned()), None)
            }
            Err(reason) => (None, None, Some(reason.to_string())),
        };
        let replay_key = delivery.replay_key().map(|key| key.to_string());
        Ok(Delivery {
            id: delivery.id.to_owned(),
            replay_key,
            timestamp: delivery.timestamp.as_unix_secs(),
            mode,
            key,
            kid,
            authenticated: match delivery.verified.authenticated {
                Authenticated::Signature => "signature",
                Authenticated::BearerToken => "bearer_token",
            },
            bound_by,
            event,
            event_type,
            not_envelope,
        })
    }
}

/// A verified Gemini delivery.
#[pyclass(module = "webhook_signature.gemini", frozen, get_all)]
pub(crate) struct Delivery {
    /// `webhook-id`: deduplicate on it.
    id: String,
    /// Dynamic mode: 64 hex digits identifying the delivery by what Google
    /// signed; a resent token has the same key under any `webhook-id`, so
    /// deduplicate on it too. `None` in static mode (the id is signed).
    replay_key: Option<String>,
    /// `webhook-timestamp`, Unix seconds.
    timestamp: u64,
    /// `"static"` or `"dynamic"`.
    mode: &'static str,
    /// Static mode: the index of the secret that matched.
    key: Option<usize>,
    /// Dynamic mode: the `kid` of the JWKS key that verified the token.
    kid: Option<String>,
    /// `"signature"` (the body is authenticated) or `"bearer_token"` (only the sender).
    authenticated: &'static str,
    /// The claim that binds the body to a dynamic token, if one does.
    bound_by: Option<String>,
    /// The envelope as parsed JSON, or `None` if the body is not one.
    event: Option<Py<PyAny>>,
    /// The envelope's `type`, e.g. `"video.generated"`.
    event_type: Option<String>,
    /// Why an authentic body is not a Gemini envelope (answer 2xx anyway).
    not_envelope: Option<String>,
}

#[pymethods]
impl Delivery {
    fn __repr__(&self) -> String {
        format!(
            "Delivery(id={:?}, mode={:?}, authenticated={:?}, event_type={:?})",
            self.id, self.mode, self.authenticated, self.event_type
        )
    }
}

/// `None`, one string, or a sequence of strings.
fn strings(value: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<String>> {
    let Some(value) = value.filter(|value| !value.is_none()) else { return Ok(Vec::new()) };
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(vec![text.to_str()?.to_owned()]);
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        return value.try_iter()?.map(|item| item?.extract::<String>()).collect();
    }
    Err(PyTypeError::new_err(format!("{what} must be a str or a list of str")))
}

/// A JWKS as a dict or as JSON text (`str` or `bytes`).
fn parse_jwks(py: Python<'_>, document: &Bound<'_, PyAny>) -> PyResult<Jwks> {
    let text: Vec<u8> = if document.is_instance_of::<PyDict>() {
        py.import("json")?.call_method1("dumps", (document,))?.extract::<String>()?.into_bytes()
    } else if let Ok(text) = document.cast::<PyString>() {
        text.to_str()?.as_bytes().to_vec()
    } else if let Ok(bytes) = document.extract::<Vec<u8>>() {
        bytes
    } else {
        return Err(PyTypeError::new_err("jwks must be a dict or JSON text"));
    };
    Jwks::parse(&text).map_err(|error| PyValueError::new_err(error.to_string()))
}
