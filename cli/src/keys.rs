//! Secrets from `--secret` (repeatable) or the `WEBHOOK_SECRET` environment
//! variable (several separated by spaces), kept out of shell history.

use webhook_signature::Webhook;

/// The secrets given on the command line, or else from `WEBHOOK_SECRET`.
pub(crate) fn load(secrets: &[String]) -> crate::Result<Vec<Webhook>> {
    let keys = load_optional(secrets)?;
    if keys.is_empty() {
        return Err("no secret: pass --secret or set WEBHOOK_SECRET".into());
    }
    Ok(keys)
}

/// The secrets, which may be none when `dynamic` (JWT) deliveries are
/// configured: a dynamic-only receiver.
pub(crate) fn load_for(secrets: &[String], dynamic: bool) -> crate::Result<Vec<Webhook>> {
    if dynamic { load_optional(secrets) } else { load(secrets) }
}

/// As [`load`], but no secret at all is fine.
fn load_optional(secrets: &[String]) -> crate::Result<Vec<Webhook>> {
    let from_env;
    let texts: Vec<&str> = if secrets.is_empty() {
        from_env = std::env::var("WEBHOOK_SECRET").unwrap_or_default();
        from_env.split_whitespace().collect()
    } else {
        secrets.iter().map(String::as_str).collect()
    };
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| Webhook::new(text).map_err(|e| format!("secret #{}: {e}", i + 1).into()))
        .collect()
}
