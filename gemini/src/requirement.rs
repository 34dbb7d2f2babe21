//! Claims a verifier requires beyond `aud`, `iss` and the lifetime.

use core::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

/// A predicate over verified claims.
pub(crate) type ClaimsCheck = Arc<dyn Fn(&Map<String, Value>) -> bool + Send + Sync>;

/// One requirement on a token's verified claims.
#[derive(Clone)]
pub(crate) enum Requirement {
    /// The claim is present and equal to the value.
    Equals { name: String, value: Value },
    /// The caller's predicate accepts the claims.
    Check(ClaimsCheck),
}

impl Requirement {
    pub(crate) fn holds(&self, claims: &Map<String, Value>) -> bool {
        match self {
            Self::Equals { name, value } => claims.get(name) == Some(value),
            Self::Check(check) => check(claims),
        }
    }
}

impl fmt::Debug for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Equals { name, value } => write!(f, "{name} == {value}"),
            Self::Check(_) => f.write_str("claims check"),
        }
    }
}
