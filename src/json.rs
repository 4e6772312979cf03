//! Strict JSON for token headers, claims and JWKs.
//!
//! serde_json keeps the last of duplicate member names and allows 128 levels of nesting; a token
//! must be read the same way by every party, so duplicates (compared after unescaping) and nesting
//! deeper than [`MAX_DEPTH`] are refused here instead.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Deepest accepted nesting of arrays and objects; the outermost object is level 1.
pub const MAX_DEPTH: usize = 32;

/// Parses `text` as one JSON value with unique member names and bounded nesting.
/// A byte-order mark, trailing characters and invalid escapes are errors.
pub fn parse(text: &str) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Strict { depth: 0 }
        .deserialize(&mut de)
        .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// Parses `text` as a strict JSON object.
pub fn parse_object(text: &str) -> Result<Map<String, Value>, String> {
    match parse(text)? {
        Value::Object(map) => Ok(map),
        _ => Err("not a JSON object".into()),
    }
}

#[derive(Clone, Copy)]
struct Strict {
    depth: usize,
}

impl Strict {
    fn nested<E: de::Error>(self) -> Result<Strict, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format_args!(
                "nested deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(Strict {
            depth: self.depth + 1,
        })
    }
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut map = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            if map.contains_key(&name) {
                return Err(de::Error::custom(format_args!(
                    "duplicate member name {name:?}"
                )));
            }
            let value = access.next_value_seed(inner)?;
            map.insert(name, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_duplicates_after_unescaping() {
        assert!(parse_object(r#"{"a":1,"a":2}"#)
            .unwrap_err()
            .contains("duplicate"));
        assert!(parse_object(r#"{"a":1,"\u0061":2}"#)
            .unwrap_err()
            .contains("duplicate"));
        assert!(parse_object(r#"{"x":{"a":1,"a":1}}"#).is_err());
        assert!(parse_object(r#"{"a":1,"b":{"a":2}}"#).is_ok());
    }

    #[test]
    fn bounds_depth() {
        let ok = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert!(parse_object(&format!("{{\"a\":{ok}}}")).is_ok());
        let deep = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_object(&format!("{{\"a\":{deep}}}"))
            .unwrap_err()
            .contains("deeper"));
        let very = "[".repeat(100_000);
        assert!(parse(&very).is_err());
    }

    #[test]
    fn refuses_bom_trailing_and_non_objects() {
        assert!(parse_object("\u{feff}{}").is_err());
        assert!(parse_object("{} x").is_err());
        assert!(parse_object("[]").is_err());
        assert!(parse_object(r#"{"a":"\ud800"}"#).is_err());
        assert!(parse_object(r#"{"a":1e400}"#).is_err());
        assert!(parse_object(" {\"a\" : 1 } ").is_ok());
    }
}
