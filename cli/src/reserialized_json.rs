//! The common ways JSON gets re-serialized between the wire and a MAC.

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter, Serializer};

/// A re-serialization style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Compact,
    Pretty2,
    SortedKeys,
    PythonJsonDumps,
}

impl Style {
    pub(crate) fn name(style: (Self, bool)) -> String {
        let base = match style.0 {
            Self::Compact => "compact",
            Self::Pretty2 => "pretty, 2 spaces",
            Self::SortedKeys => "keys sorted, compact",
            Self::PythonJsonDumps => "Python json.dumps defaults",
        };
        if style.1 { format!("{base}, with a trailing newline") } else { base.to_owned() }
    }
}

/// Every style, with and without a trailing newline, if `body` is JSON.
pub(crate) fn variants(body: &[u8]) -> Vec<((Style, bool), Vec<u8>)> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else { return vec![] };
    let mut out = Vec::new();
    for style in [Style::Compact, Style::Pretty2, Style::SortedKeys, Style::PythonJsonDumps] {
        let Some(text) = write(&value, style) else { continue };
        out.push(((style, true), [&text[..], b"\n"].concat()));
        out.push(((style, false), text));
    }
    out
}

fn write(value: &Value, style: Style) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match style {
        Style::Compact => {
            value.serialize(&mut Serializer::with_formatter(&mut out, CompactFormatter)).ok()?
        }
        Style::Pretty2 => {
            value.serialize(&mut Serializer::with_formatter(&mut out, PrettyFormatter::new())).ok()?
        }
        Style::SortedKeys => sorted(value).serialize(&mut Serializer::new(&mut out)).ok()?,
        Style::PythonJsonDumps => value.serialize(&mut Serializer::with_formatter(&mut out, Python)).ok()?,
    }
    Some(out)
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Python's `json.dumps` defaults: `", "` and `": "` separators, `ensure_ascii`.
struct Python;

impl Formatter for Python {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        for c in fragment.chars() {
            if c.is_ascii() {
                writer.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_style_matches_json_dumps() {
        // `python3 -c 'import json; print(json.dumps({"b": 1, "a": ["é", 2]}))'`
        let value: Value = serde_json::from_str(r#"{"b":1,"a":["é",2]}"#).unwrap();
        assert_eq!(write(&value, Style::PythonJsonDumps).unwrap(), br#"{"b": 1, "a": ["\u00e9", 2]}"#);
        assert_eq!(write(&value, Style::SortedKeys).unwrap(), r#"{"a":["é",2],"b":1}"#.as_bytes());
        assert_eq!(write(&value, Style::Compact).unwrap(), r#"{"b":1,"a":["é",2]}"#.as_bytes());
    }
}
