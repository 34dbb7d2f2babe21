//! The `http1` feature: reading the three headers from an `http` 1.x `HeaderMap`.

use http::HeaderMap;

use crate::{Error, HeaderName, Headers, Timestamp, Webhook};

/// Which of the three headers `name` is, and whether it is the Svix alias.
fn slot(name: &str) -> Option<(HeaderName, usize)> {
    Some(match name {
        "webhook-id" => (HeaderName::Id, 0),
        "webhook-timestamp" => (HeaderName::Timestamp, 0),
        "webhook-signature" => (HeaderName::Signature, 0),
        "svix-id" => (HeaderName::Id, 1),
        "svix-timestamp" => (HeaderName::Timestamp, 1),
        "svix-signature" => (HeaderName::Signature, 1),
        _ => return None,
    })
}

impl<'a> Headers<'a> {
    /// Reads the three headers from an `http` 1.x map. Names are
    /// case-insensitive, as HTTP requires (`HeaderMap` stores them lower-case).
    /// `svix-id`, `svix-timestamp` and `svix-signature` stand in for a missing
    /// `webhook-*` header. A missing header becomes empty, which verification
    /// reports as [`Error::MissingHeader`].
    ///
    /// # Errors
    /// [`Error::InvalidHeader`] if a header appears more than once (which value
    /// was signed would be ambiguous) or holds bytes outside visible ASCII.
    ///
    /// # Examples
    /// ```
    /// use http::HeaderMap;
    /// use webhook_signature::Headers;
    /// let mut map = HeaderMap::new();
    /// map.insert("Webhook-Id", "msg_1".parse().unwrap());
    /// map.insert("svix-timestamp", "1700000000".parse().unwrap());
    /// let headers = Headers::from_header_map(&map)?;
    /// assert_eq!((headers.id, headers.timestamp, headers.signature), ("msg_1", "1700000000", ""));
    /// # Ok::<(), webhook_signature::Error>(())
    /// ```
    pub fn from_header_map(map: &'a HeaderMap) -> Result<Self, Error> {
        // One pass over the map, where three lookups (and three more for the
        // aliases) each hashed a name: a request carries a dozen headers at
        // most (hyper's default limit is 100), so the pass is the cheaper.
        // Per header, the standard name then the alias: the first value, and
        // whether there was a second.
        let mut found: [[(Option<&'a http::HeaderValue>, bool); 2]; 3] = Default::default();
        for (name, value) in map {
            let Some((header, alias)) = slot(name.as_str()) else { continue };
            let Some((first, repeated)) =
                found.get_mut(header as usize).and_then(|names| names.get_mut(alias))
            else {
                continue;
            };
            if first.is_some() {
                *repeated = true;
            } else {
                *first = Some(value);
            }
        }
        let value = |name: HeaderName| -> Result<&'a str, Error> {
            let [standard, svix] = found.get(name as usize).copied().unwrap_or_default();
            // The alias only where the standard name is absent.
            let (first, repeated) = if standard.0.is_some() { standard } else { svix };
            if repeated {
                return Err(Error::InvalidHeader(name));
            }
            first.map_or(Ok(""), |value| value.to_str().map_err(|_| Error::InvalidHeader(name)))
        };
        Ok(Self {
            id: value(HeaderName::Id)?,
            timestamp: value(HeaderName::Timestamp)?,
            signature: value(HeaderName::Signature)?,
        })
    }
}

impl Webhook {
    /// [`verify`](Self::verify) with the headers read by
    /// [`Headers::from_header_map`].
    ///
    /// # Errors
    /// [`Error::InvalidHeader`] for a duplicate or non-ASCII header, otherwise
    /// as [`verify`](Self::verify).
    ///
    /// # Examples
    /// ```
    /// use http::HeaderMap;
    /// use webhook_signature::{Timestamp, Webhook};
    /// let mut map = HeaderMap::new();
    /// map.insert("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek".parse().unwrap());
    /// map.insert("webhook-timestamp", "1614265330".parse().unwrap());
    /// map.insert("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".parse().unwrap());
    /// let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
    /// webhook.verify_header_map(&map, br#"{"test": 2432232314}"#, Timestamp::from_unix_secs(1614265330))?;
    /// # Ok::<(), webhook_signature::Error>(())
    /// ```
    pub fn verify_header_map(&self, map: &HeaderMap, payload: &[u8], now: Timestamp) -> Result<(), Error> {
        self.verify(&Headers::from_header_map(map)?, payload, now)
    }
}
