//! cty's JSON form of values: the raw state Terraform hands to `UpgradeResourceState`, and a
//! `DynamicValue` alternative Terraform accepts (but which cannot carry unknowns).
//!
//! Numbers are read and written as their exact decimal text (serde_json's `raw_value` gives us
//! the text; `arbitrary_precision` is deliberately not used because it would change number
//! handling for every crate in the workspace).

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::number::Number;
use crate::path::AttributePath;
use crate::shape::{Shape, resolve};
use crate::types::{Type, write_json_string};
use crate::value::Value;

/// Decodes cty JSON `bytes` as a value of type `ty`, leniently: object attributes missing from
/// the JSON are null (the schema gained them since the state was written) and attributes not in
/// the type are dropped (Terraform strips removed attributes from state at the same schema
/// version, and a provider must not fail on ones it no longer knows). Dynamic values are
/// `{"value": v, "type": typeJSON}`. As in cty, numbers may also be given as decimal strings,
/// strings as number or bool tokens, and bools as `"true"`/`"false"`. Empty input is null, as
/// for an empty `DynamicValue`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value> {
    decode_with(bytes, ty, false)
}

/// Like [`decode`], but an object attribute not in the type is an error (as Terraform does when
/// it decodes a JSON `DynamicValue`); use for values that must match the current schema exactly.
pub fn decode_strict(bytes: &[u8], ty: &Type) -> Result<Value> {
    decode_with(bytes, ty, true)
}

fn decode_with(bytes: &[u8], ty: &Type, strict: bool) -> Result<Value> {
    let root = AttributePath::root();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let raw: &RawValue =
        serde_json::from_slice(bytes).map_err(|e| Error::json(&root, e.to_string()))?;
    Decoder { strict }.value(raw.get(), ty, &root)
}

/// Encodes `value` as compact cty JSON for type `ty`: every object attribute present (null when
/// missing from the value), keys in name order, set elements sorted by their encoding, numbers
/// as exact decimal text. Unknown values are an error naming their path, since JSON has no way to
/// say "unknown".
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>> {
    let mut out = String::new();
    encode_into(&mut out, value, ty, &AttributePath::root())?;
    Ok(out.into_bytes())
}

/// The cty JSON of `value` as a `serde_json::Value`, for callers that want to inspect or embed
/// it. serde_json (without `arbitrary_precision`) holds numbers as i64/u64/f64, so a number that
/// is none of those exactly is converted through its decimal text (`0.1` stays `0.1`; digits
/// beyond f64 precision are lost) and one outside f64's range is an [`Error::InvalidNumber`].
/// Use [`encode`] when exactness matters.
pub fn to_serde(value: &Value, ty: &Type) -> Result<serde_json::Value> {
    to_serde_at(value, ty, &AttributePath::root())
}

// ----------------------------------------------------------------------------------------------
// Decoding

struct Decoder {
    strict: bool,
}

/// The JSON kind of `text` (already trimmed) for messages.
fn json_kind(text: &str) -> &'static str {
    match text.as_bytes().first() {
        Some(b'{') => "JSON object",
        Some(b'[') => "JSON array",
        Some(b'"') => "JSON string",
        Some(b't' | b'f') => "JSON bool",
        Some(b'n') => "null",
        _ => "JSON number",
    }
}

fn parse<'a, T: serde::Deserialize<'a>>(text: &'a str, path: &AttributePath) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::json(path, e.to_string()))
}

impl Decoder {
    fn value(&self, text: &str, ty: &Type, path: &AttributePath) -> Result<Value> {
        let text = text.trim();
        let first = text.as_bytes().first().copied();
        if first == Some(b'n') {
            parse::<()>(text, path)?;
            return Ok(Value::Null);
        }
        let mismatch = || Error::mismatch(path, ty.to_string(), json_kind(text));
        match ty {
            // Like cty, a number or bool token is accepted for a string (its text), and "true" /
            // "false" for a bool: state written before an attribute's type changed still loads.
            Type::String => match first {
                Some(b'"') => Ok(Value::String(parse(text, path)?)),
                Some(b'-' | b'0'..=b'9') => Ok(Value::String(
                    parse::<&RawValue>(text, path)?.get().to_string(),
                )),
                Some(b't' | b'f') => Ok(Value::String(parse::<bool>(text, path)?.to_string())),
                _ => Err(mismatch()),
            },
            Type::Number => match first {
                Some(b'"') => {
                    let s: String = parse(text, path)?;
                    Ok(Value::Number(Number::parse(&s).map_err(|e| e.at(path))?))
                }
                Some(b'-' | b'0'..=b'9') => {
                    Ok(Value::Number(Number::parse(text).map_err(|e| e.at(path))?))
                }
                _ => Err(mismatch()),
            },
            Type::Bool => match first {
                Some(b't' | b'f') => Ok(Value::Bool(parse(text, path)?)),
                Some(b'"') => match parse::<String>(text, path)?.as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    _ => Err(mismatch()),
                },
                _ => Err(mismatch()),
            },
            Type::List(_) | Type::Set(_) | Type::Tuple(_) => {
                if first != Some(b'[') {
                    return Err(mismatch());
                }
                let items: Vec<&RawValue> = parse(text, path)?;
                if let Type::Tuple(ts) = ty
                    && items.len() != ts.len()
                {
                    return Err(Error::TupleLength {
                        path: path.clone(),
                        expected: ts.len(),
                        found: items.len(),
                    });
                }
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let et = match ty {
                        Type::List(t) | Type::Set(t) => &**t,
                        Type::Tuple(ts) => &ts[i],
                        _ => unreachable!("matched above"),
                    };
                    out.push(self.value(item.get(), et, &path.index(i as i64))?);
                }
                Ok(match ty {
                    Type::List(_) => Value::List(out),
                    Type::Set(_) => Value::Set(out),
                    _ => Value::Tuple(out),
                })
            }
            Type::Map(t) => {
                if first != Some(b'{') {
                    return Err(mismatch());
                }
                let entries: BTreeMap<String, &RawValue> = parse(text, path)?;
                let mut out = BTreeMap::new();
                for (k, raw) in entries {
                    let v = self.value(raw.get(), t, &path.key(k.as_str()))?;
                    out.insert(k, v);
                }
                Ok(Value::Map(out))
            }
            Type::Object(ot) => {
                if first != Some(b'{') {
                    return Err(mismatch());
                }
                let entries: BTreeMap<String, &RawValue> = parse(text, path)?;
                let mut out = BTreeMap::new();
                for (k, raw) in entries {
                    let p = path.attr(k.as_str());
                    match ot.attributes.get(&k) {
                        Some(t) => {
                            let v = self.value(raw.get(), t, &p)?;
                            out.insert(k, v);
                        }
                        None if self.strict => return Err(Error::UnsupportedAttribute { path: p }),
                        None => {} // removed from the schema: drop it
                    }
                }
                for name in ot.attributes.keys() {
                    out.entry(name.clone()).or_insert(Value::Null);
                }
                Ok(Value::Object(out))
            }
            Type::Dynamic => {
                if first != Some(b'{') {
                    return Err(Error::mismatch(
                        path,
                        "a {\"value\", \"type\"} object for a dynamic value",
                        json_kind(text),
                    ));
                }
                let entries: BTreeMap<String, &RawValue> = parse(text, path)?;
                let Some(type_raw) = entries.get("type") else {
                    return Err(Error::dynamic(path, "the \"type\" property is missing"));
                };
                let t = Type::from_json_bytes(type_raw.get().as_bytes()).map_err(|e| e.at(path))?;
                let v = match entries.get("value") {
                    Some(raw) => self.value(raw.get(), &t, path)?,
                    None => Value::Null,
                };
                Ok(Value::Dynamic(t, Box::new(v)))
            }
        }
    }
}

// ----------------------------------------------------------------------------------------------
// Encoding

fn encode_into(out: &mut String, v: &Value, ty: &Type, path: &AttributePath) -> Result<()> {
    let shape = resolve(v, ty, path)?;
    match &shape {
        Shape::Null => out.push_str("null"),
        Shape::Unknown(_) => return Err(Error::UnknownInJson { path: path.clone() }),
        Shape::String(s) => write_json_string(out, s),
        Shape::Number(n) => out.push_str(&n.to_string()),
        Shape::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Shape::Seq { set, elems } => {
            let mut encoded = elems
                .iter()
                .enumerate()
                .map(|(i, (x, t))| {
                    let mut s = String::new();
                    encode_into(&mut s, x, t, &shape.child_path(path, i, ""))?;
                    Ok(s)
                })
                .collect::<Result<Vec<_>>>()?;
            if *set {
                encoded.sort();
            }
            out.push('[');
            out.push_str(&encoded.join(","));
            out.push(']');
        }
        Shape::Map { entries, .. } => {
            out.push('{');
            for (i, (k, x, t)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, k);
                out.push(':');
                let p = shape.child_path(path, i, k);
                encode_into(out, x.unwrap_or(&Value::Null), t, &p)?;
            }
            out.push('}');
        }
        Shape::Dynamic(t, inner) => {
            out.push_str("{\"value\":");
            encode_into(out, inner, t, path)?;
            out.push_str(",\"type\":");
            out.push_str(&String::from_utf8_lossy(&t.to_json_bytes()));
            out.push('}');
        }
    }
    Ok(())
}

fn to_serde_at(v: &Value, ty: &Type, path: &AttributePath) -> Result<serde_json::Value> {
    use serde_json::Value as J;
    let shape = resolve(v, ty, path)?;
    Ok(match &shape {
        Shape::Null => J::Null,
        Shape::Unknown(_) => return Err(Error::UnknownInJson { path: path.clone() }),
        Shape::String(s) => J::String((*s).to_string()),
        Shape::Number(n) => J::Number(serde_number(n, path)?),
        Shape::Bool(b) => J::Bool(*b),
        Shape::Seq { elems, .. } => J::Array(
            elems
                .iter()
                .enumerate()
                .map(|(i, (x, t))| to_serde_at(x, t, &shape.child_path(path, i, "")))
                .collect::<Result<_>>()?,
        ),
        Shape::Map { entries, .. } => {
            let mut m = serde_json::Map::new();
            for (i, (k, x, t)) in entries.iter().enumerate() {
                let p = shape.child_path(path, i, k);
                m.insert(
                    (*k).to_string(),
                    to_serde_at(x.unwrap_or(&Value::Null), t, &p)?,
                );
            }
            J::Object(m)
        }
        Shape::Dynamic(t, inner) => {
            let mut m = serde_json::Map::new();
            m.insert("value".into(), to_serde_at(inner, t, path)?);
            m.insert("type".into(), t.to_json());
            J::Object(m)
        }
    })
}

fn serde_number(n: &Number, path: &AttributePath) -> Result<serde_json::Number> {
    if let Some(i) = n.to_i64() {
        return Ok(i.into());
    }
    if let Some(u) = n.to_u64() {
        return Ok(u.into());
    }
    let text = n.to_string();
    serde_json::from_str::<serde_json::Number>(&text).map_err(|e| Error::InvalidNumber {
        path: path.clone(),
        text,
        reason: format!("not representable as a JSON number value here: {e}"),
    })
}
