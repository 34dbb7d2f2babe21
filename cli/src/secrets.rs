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

/// As [`load`], but no secret at all is fine. `secrets` are `--secret`'s, or
/// clap's reading of `WEBHOOK_SECRET` (split on spaces; empty pieces skipped).
fn load_optional(secrets: &[String]) -> crate::Result<Vec<Webhook>> {
    let texts: Vec<&str> = secrets.iter().map(String::as_str).filter(|text| !text.is_empty()).collect();
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| Webhook::new(text).map_err(|e| format!("secret #{}: {e}", i + 1).into()))
        .collect()
}
