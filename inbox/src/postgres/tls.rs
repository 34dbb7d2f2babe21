//! TLS for PostgreSQL, following libpq's `sslmode` in `DATABASE_URL`, with
//! rustls (through `tokio-postgres-rustls`):
//!
//! | `sslmode` | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (the default) | if the server offers it | not checked (as libpq) |
//! | `require` | always | not checked (as libpq) |
//! | `verify-ca` | always | chains to `sslrootcert=` (or the system roots) |
//! | `verify-full` | always | that, and names the host |
//!
//! tokio-postgres knows only `disable`, `prefer` and `require`, so the two
//! `verify-*` modes and `sslrootcert` are taken out of the URL here, and the
//! rest is left to tokio-postgres byte for byte.

use std::str::FromStr;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::InboxError;

/// How much of the server's certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verify {
    Nothing,
    Chain,
    ChainAndName,
}

/// A `DATABASE_URL` taken apart: tokio-postgres's config and the TLS connector.
pub(crate) fn configure(url: &str) -> Result<(tokio_postgres::Config, MakeRustlsConnect), InboxError> {
    let invalid = |why: String| InboxError::Database(format!("DATABASE_URL: {why}"));
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut mode = "prefer".to_owned();
    let mut root_cert = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        // A URL's query component: percent-decoded, and a `+` is a `+` (libpq
        // reads URIs so; form decoding would make a path's `+` a space).
        let decoded = || percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned();
        match name {
            "sslmode" => mode = decoded(),
            "sslrootcert" => root_cert = Some(decoded()),
            _ => kept.push(pair),
        }
    }
    let (ssl_mode, verify) = match mode.as_str() {
        "disable" => (SslMode::Disable, Verify::Nothing),
        "prefer" => (SslMode::Prefer, Verify::Nothing),
        "require" => (SslMode::Require, Verify::Nothing),
        "verify-ca" => (SslMode::Require, Verify::Chain),
        "verify-full" => (SslMode::Require, Verify::ChainAndName),
        other => return Err(invalid(format!("unknown sslmode {other:?}"))),
    };
    let rest = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    let mut config = tokio_postgres::Config::from_str(&rest).map_err(|e| invalid(e.to_string()))?;
    config.ssl_mode(ssl_mode);
    Ok((config, MakeRustlsConnect::new(client_config(verify, root_cert.as_deref())?)))
}

fn client_config(verify: Verify, root_cert: Option<&str>) -> Result<ClientConfig, InboxError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| InboxError::Database(format!("TLS: {e}")))?;
    let webpki = match verify {
        Verify::Nothing => None,
        Verify::Chain | Verify::ChainAndName => Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots(root_cert)?), provider.clone())
                .build()
                .map_err(|e| InboxError::Database(format!("TLS roots: {e}")))?,
        ),
    };
    let verifier = Arc::new(Verifier { webpki, names: verify == Verify::ChainAndName, provider });
    Ok(builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth())
}

/// `sslrootcert` (PEM), or the system's roots.
fn roots(root_cert: Option<&str>) -> Result<RootCertStore, InboxError> {
    let mut roots = RootCertStore::empty();
    let certificates: Vec<CertificateDer<'static>> = match root_cert {
        Some(path) => CertificateDer::pem_file_iter(path)
            .and_then(Iterator::collect)
            .map_err(|e| InboxError::Database(format!("sslrootcert {path}: {e}")))?,
        None => rustls_native_certs::load_native_certs().certs,
    };
    let (added, _) = roots.add_parsable_certificates(certificates);
    if added == 0 {
        return Err(InboxError::Database("TLS: no usable root certificate".to_owned()));
    }
    Ok(roots)
}

/// The server's certificate as `sslmode` says: not checked (`prefer`,
/// `require`: libpq's meaning), chained to the roots (`verify-ca`: rustls's
/// WebPKI checks, a name mismatch forgiven as libpq does), or chained and
/// naming the host (`verify-full`). The handshake's signatures are always checked.
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    names: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else { return Ok(ServerCertVerified::assertion()) };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.names => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssl_modes_are_read_and_removed() {
        let (config, _) =
            configure("postgres://u:p@127.0.0.1:5432/db?sslmode=disable&options=-c%20x%3Dy").unwrap();
        assert_eq!(config.get_ssl_mode(), SslMode::Disable);
        assert_eq!(config.get_options(), Some("-c x=y"));
        let (config, _) = configure("postgres://u@localhost/db").unwrap();
        assert_eq!(config.get_ssl_mode(), SslMode::Prefer);
        let (config, _) = configure("postgres://u@localhost/db?sslmode=require").unwrap();
        assert_eq!(config.get_ssl_mode(), SslMode::Require);
        assert!(configure("postgres://u@localhost/db?sslmode=sometimes").is_err());
        let plus = configure("postgres://u@localhost/db?sslmode=verify-full&sslrootcert=/no/a+b%20c.pem");
        assert!(
            matches!(&plus, Err(InboxError::Database(message)) if message.contains("/no/a+b c.pem")),
            "{:?}",
            plus.err()
        );
        let missing = configure("postgres://u@localhost/db?sslmode=verify-full&sslrootcert=/nonexistent.pem");
        assert!(matches!(missing, Err(InboxError::Database(message)) if message.contains("sslrootcert")));
    }
}
