//! JSON read under I-JSON's rules ([RFC 7493]), for the one place where
//! parsed JSON authenticates a body: a token that embeds the event.
//!
//! Comparing parsed values is only as safe as every parser's agreement on
//! what the bytes say. I-JSON is the subset on which conforming parsers
//! agree: UTF-8 without lone surrogates (serde_json already refuses both),
//! unique member names (§2.3; on duplicates, parsers keep the first, the last,
//! or refuse), and integers within ±(2^53 − 1) (§2.2; beyond, a parser that
//! reads numbers as IEEE doubles rounds them, and one that reads them as
//! integers does not). A body outside the subset is not refused: it is only
//! not bound by an embedded event.
//!
//! [RFC 7493]: https://www.rfc-editor.org/rfc/rfc7493

use core::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The largest integer magnitude every IEEE-double parser reads exactly (RFC 7493 §2.2).
const MAX_EXACT_INTEGER: u64 = (1 << 53) - 1;

/// `bytes` as a JSON value, if they are I-JSON.
pub(crate) fn parse(bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice::<IJson>(bytes).ok().map(|value| value.0)
}

struct IJson(Value);

impl<'de> Deserialize<'de> for IJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IJsonVisitor).map(IJson)
    }
}

struct IJsonVisitor;

impl<'de> Visitor<'de> for IJsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("I-JSON (RFC 7493)")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        if value > MAX_EXACT_INTEGER {
            return Err(E::custom("integer beyond 2^53 - 1"));
        }
        Ok(Value::Number(value.into()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        if value.unsigned_abs() > MAX_EXACT_INTEGER {
            return Err(E::custom("integer beyond -(2^53 - 1)"));
        }
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        // serde_json reads an integer beyond `u64` (and any fraction or
        // exponent) as a double: past 2^53 it no longer holds every integer.
        #[allow(clippy::cast_precision_loss)] // 2^53 - 1 is exact in f64
        if value.abs() > MAX_EXACT_INTEGER as f64 {
            return Err(E::custom("number beyond 2^53 - 1"));
        }
        Number::from_f64(value).map(Value::Number).ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(IJson(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some((name, IJson(value))) = map.next_entry::<String, IJson>()? {
            if members.contains_key(&name) {
                return Err(de::Error::custom("duplicate member name"));
            }
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn i_json_is_read_as_serde_json_reads_it() {
        for text in
            [r#"{"a":[1,-2,0.5,"x",null,true,{"b":{}}]}"#, "9007199254740991", "-9007199254740991", "[]"]
        {
            assert_eq!(parse(text.as_bytes()), serde_json::from_str(text).ok(), "{text}");
        }
    }

    #[test]
    fn outside_i_json_is_none() {
        for text in [
            r#"{"id":"b1","id":"b2"}"#,                 // RFC 7493 §2.3
            r#"{"data":{"state":"ok","state":"bad"}}"#, // at any depth
            "9007199254740992",                         // RFC 7493 §2.2
            "18446744073709551616",                     // beyond u64: read as a double
            "1e300",
            r#"{"n":-9007199254740992}"#,
            r#""\ud800""#, // a lone surrogate, RFC 7493 §2.1
            "{} trailing",
        ] {
            assert_eq!(parse(text.as_bytes()), None, "{text}");
        }
        assert_eq!(parse(b"\xff"), None, "not UTF-8");
        assert_eq!(parse(br#"{"a":1}"#), Some(json!({"a": 1})));
    }
}
