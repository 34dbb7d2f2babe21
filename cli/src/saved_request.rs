//! Raw HTTP/1.1 requests as `listen --save` writes them and `diagnose
//! --request` reads them: request line, headers, blank line, body. A saved
//! request has one extra header recording when it was received.

use std::time::{SystemTime, UNIX_EPOCH};

/// The header `listen --save` adds: Unix seconds when the request arrived.
pub(crate) const RECEIVED_AT: &str = "x-webhook-signature-received-at";

/// A parsed request: its headers (names lower-cased) and raw body.
#[derive(Debug, Default)]
pub(crate) struct Saved {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Saved {
    /// Parses `bytes`; the body is everything after the first blank line.
    pub(crate) fn parse(bytes: &[u8]) -> crate::Result<Self> {
        let (head, body) = split_head(bytes).ok_or("not an HTTP request: no blank line after the headers")?;
        let head = std::str::from_utf8(head).map_err(|_| "request headers are not UTF-8")?;
        let mut lines = head.lines();
        let request_line = lines.next().unwrap_or_default();
        if !request_line.contains("HTTP/") {
            return Err(format!("not an HTTP request line: {request_line:?}").into());
        }
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        Ok(Self { headers, body: body.to_vec() })
    }

    /// The value of the one header `name`, if present.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The headers as `http` holds them, for [`webhook_signature::Headers::from_header_map`].
    pub(crate) fn header_map(&self) -> http::HeaderMap {
        header_map(self.headers.iter().map(|(name, value)| (name.as_str(), value.as_bytes())))
    }

    /// When `listen --save` received it.
    pub(crate) fn received_at(&self) -> Option<u64> {
        self.header(RECEIVED_AT)?.parse().ok()
    }
}

/// `pairs` as an `http::HeaderMap`, every value kept (a repeated header is
/// the core's to refuse); a name or value `http` cannot hold is left out.
pub(crate) fn header_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (name, value) in pairs {
        let name = http::HeaderName::from_bytes(name.as_bytes());
        let value = http::HeaderValue::from_bytes(value);
        if let (Ok(name), Ok(value)) = (name, value) {
            map.append(name, value);
        }
    }
    map
}

fn split_head(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    for (separator, len) in [(&b"\r\n\r\n"[..], 4), (&b"\n\n"[..], 2)] {
        if let Some(at) = bytes.windows(len).position(|w| w == separator) {
            return Some((bytes.get(..at)?, bytes.get(at + len..)?));
        }
    }
    None
}

/// Renders a request for saving, with the time it was received.
pub(crate) fn render(method: &str, url: &str, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let received = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut text = format!("{method} {url} HTTP/1.1\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str(&format!("{RECEIVED_AT}: {received}\r\n\r\n"));
    [text.as_bytes(), body].concat()
}
