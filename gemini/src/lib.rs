#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

// What a receiver needs is at the root; the building blocks (the dynamic
// verifier's steps, the JWKS, the token's shape, `GeminiVerifier`'s state)
// are in the modules below; test helpers are behind the `test-util` feature.

mod binding;
mod capability;
/// The dynamic (RS256 JWT) mode, step by step: cheap checks, then the key and signature, then the body.
pub mod dynamic;
mod error;
mod event;
#[cfg(feature = "fetch")]
mod fetch;
mod ijson;
/// A JSON Web Key Set, reduced to the RSA keys that can check RS256.
pub mod jwks;
mod receiver;
mod replay;
mod requirement;
#[cfg(feature = "test-util")]
mod sign;
/// A compact JWS's shape, read before anything is trusted.
pub mod token;
/// `GeminiVerifier`, both modes as a `webhook-signature-verifier`
/// `WebhookVerifier` (the trait `webhook-signature-axum`'s extractor calls),
/// and its state between the headers and the body.
#[cfg(feature = "verifier")]
#[cfg_attr(docsrs, doc(cfg(feature = "verifier")))]
pub mod verifier;

pub use binding::{BODY_DIGEST_CLAIMS, BodyBinding, EMBEDDED_EVENT_CLAIMS};
pub use capability::{CapabilityError, JobCapabilities, JobCapability};
pub use dynamic::{DynamicVerified, DynamicVerifier};
pub use error::{Claim, Error, Malformed};
pub use event::{Envelope, Event, EventData, NotAnEnvelope};
#[cfg(all(feature = "fetch", feature = "test-util"))]
pub use fetch::TestClock;
#[cfg(feature = "fetch")]
pub use fetch::{
    FETCH_TIMEOUT, GOOGLE_JWKS_URL, JwksCache, JwksSetupError, MAX_CACHE, MIN_CACHE, STALE_LIMIT,
};
pub use jwks::Jwks;
pub use receiver::{Authenticated, Delivery, GeminiVerified, Mode, Receiver};
pub use replay::{InvalidReplayKey, ReplayKey, ReplaySource};
/// Signing dynamic test deliveries (the CLI's `sign --jwt-key`, the tests): never needed to receive.
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub use sign::{SignError, TokenSigner};
#[cfg(feature = "verifier")]
pub use verifier::GeminiVerifier;
/// The core crate, re-exported so both are always the same version.
pub use webhook_signature;
