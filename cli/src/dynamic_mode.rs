//! The options of Gemini's dynamic mode (an RS256 JWT in `webhook-signature`,
//! checked against a JWKS), shared by `verify` and `listen`.

use std::time::Duration;

use webhook_signature::Webhook;
use webhook_signature_gemini::{DynamicVerifier, Jwks, Receiver};

#[derive(clap::Args, Clone, Default)]
#[group(skip)]
pub(crate) struct Args {
    /// JWKS for dynamic (JWT) deliveries: a file, or an http(s) URL fetched once. Needs --audience.
    #[arg(long, requires = "audiences")]
    jwks: Option<String>,
    /// Accepted token audience (`aud`); repeatable.
    #[arg(long = "audience")]
    audiences: Vec<String>,
    /// Required token issuer (`iss`).
    #[arg(long)]
    issuer: Option<String>,
    /// Clock leeway in seconds for the token's `exp`, `nbf` and `iat`.
    #[arg(long, default_value_t = 60)]
    leeway: u64,
    /// Reject a token that does not bind the body (no claim holds the body's SHA-256).
    #[arg(long, requires = "jwks")]
    require_bound_body: bool,
}

/// A receiver for both modes, and the JWKS if `--jwks` was given.
pub(crate) struct Loaded {
    pub(crate) receiver: Receiver,
    pub(crate) jwks: Option<Jwks>,
}

impl Args {
    /// Dynamic mode with `jwks` (a file or URL) and one audience.
    pub(crate) fn new(jwks: String, audience: String) -> Self {
        Self {
            jwks: Some(jwks),
            audiences: vec![audience],
            issuer: None,
            leeway: 60,
            require_bound_body: false,
        }
    }

    /// The JWKS URL, if `--jwks` names one rather than a file.
    pub(crate) fn jwks_url(&self) -> Option<&str> {
        self.jwks.as_deref().filter(|source| is_url(source))
    }

    /// Whether dynamic deliveries are configured.
    pub(crate) fn enabled(&self) -> bool {
        self.jwks.is_some()
    }

    /// Loads the JWKS (reading the file or fetching the URL once) and builds a
    /// receiver with the static `keys` and, if configured, the dynamic mode.
    pub(crate) fn load(&self, keys: Vec<Webhook>, tolerance: Duration) -> crate::Result<Loaded> {
        let mut receiver = Receiver::new(keys);
        let Some(source) = &self.jwks else { return Ok(Loaded { receiver, jwks: None }) };
        let document = read_jwks(source)?;
        let jwks = Jwks::parse(&document).map_err(|e| format!("{source}: {e}"))?;
        for skipped in jwks.skipped() {
            eprintln!(
                "note: JWKS key {:?} skipped: {}",
                skipped.kid.as_deref().unwrap_or("-"),
                skipped.reason
            );
        }
        let mut verifier = DynamicVerifier::new(self.audiences.iter().cloned())
            .with_leeway(Duration::from_secs(self.leeway))
            .with_tolerance(tolerance);
        if let Some(issuer) = &self.issuer {
            verifier = verifier.with_issuer(issuer.clone());
        }
        if self.require_bound_body {
            verifier = verifier.require_bound_body();
        }
        receiver = receiver.with_dynamic(verifier);
        Ok(Loaded { receiver, jwks: Some(jwks) })
    }
}

fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

fn read_jwks(source: &str) -> crate::Result<Vec<u8>> {
    if is_url(source) {
        let agent: ureq::Agent =
            ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(5))).build().into();
        let mut response = agent.get(source).call().map_err(|e| format!("GET {source}: {e}"))?;
        let body = response.body_mut().with_config().limit(1 << 20).read_to_vec();
        Ok(body.map_err(|e| format!("GET {source}: {e}"))?)
    } else {
        std::fs::read(source).map_err(|e| format!("{source}: {e}").into())
    }
}
