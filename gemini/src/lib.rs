#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "axum")]
mod axum;
mod binding;
mod dynamic;
mod error;
mod event;
#[cfg(feature = "fetch")]
mod fetch;
mod jwks;
mod receiver;
mod sign;
mod token;

#[cfg(feature = "axum")]
pub use axum::{GeminiPending, GeminiVerified, GeminiVerifier};
pub use binding::{BODY_DIGEST_CLAIMS, BodyBinding};
pub use dynamic::{DynamicVerified, DynamicVerifier, Prechecked, SignedToken};
pub use error::{Claim, Error, Malformed};
pub use event::{Envelope, Event, EventData, NotAnEnvelope};
#[cfg(feature = "fetch")]
pub use fetch::{
    FETCH_TIMEOUT, GOOGLE_JWKS_URL, JwksCache, JwksSetupError, MAX_CACHE, MIN_CACHE, STALE_LIMIT,
};
pub use jwks::{InvalidJwks, Jwks, MAX_RSA_BITS, MIN_RSA_BITS, SkipReason, SkippedKey};
pub use receiver::{Authenticated, Delivery, Mode, Receiver};
pub use sign::{SignError, TokenSigner};
pub use token::{MAX_TOKEN_LEN, UnverifiedToken, is_compact_jws};
/// The core crate, re-exported so both are always the same version.
pub use webhook_signature;
