//! How a [`Value`] lines up with a [`Type`] when encoding, shared by the msgpack and JSON encoders
//! so both accept and reject exactly the same values with the same errors.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::number::Number;
use crate::path::AttributePath;
use crate::types::Type;
use crate::value::{Refinements, Value};

/// One level of a value, checked against its type.
pub(crate) enum Shape<'a> {
    Null,
    Unknown(&'a Refinements),
    String(&'a str),
    Number(&'a Number),
    Bool(bool),
    /// List, set or tuple elements with the type each is encoded with.
    Seq {
        set: bool,
        elems: Vec<(&'a Value, &'a Type)>,
    },
    /// Map elements, or object attributes (every attribute of the type, in name order; `None` =
    /// absent, encoded as null).
    Map {
        object: bool,
        entries: Vec<(&'a str, Option<&'a Value>, &'a Type)>,
    },
    /// A value in a `dynamic` slot: its concrete type and the value to encode with that type.
    Dynamic(Cow<'a, Type>, &'a Value),
}

impl Shape<'_> {
    /// Path of child `i` (a position) or `key` of this shape.
    pub(crate) fn child_path(&self, path: &AttributePath, i: usize, key: &str) -> AttributePath {
        match self {
            Shape::Map { object: true, .. } => path.attr(key),
            Shape::Map { object: false, .. } => path.key(key),
            _ => path.index(i as i64),
        }
    }
}

/// Checks one level of `v` against `ty`. Null and unknown fit any type; a [`Value::Dynamic`]
/// fits a dynamic slot or a slot of its own type; a bare value in a dynamic slot needs a type
/// that [`Value::infer_type`] can tell.
pub(crate) fn resolve<'a>(v: &'a Value, ty: &'a Type, path: &AttributePath) -> Result<Shape<'a>> {
    Ok(match (v, ty) {
        (Value::Null, _) => Shape::Null,
        (Value::Unknown(r), _) => Shape::Unknown(r),
        (Value::Dynamic(t, inner), Type::Dynamic) => Shape::Dynamic(Cow::Borrowed(t), inner),
        (Value::Dynamic(t, inner), _) => {
            if t == ty {
                return resolve(inner, ty, path);
            }
            return Err(Error::mismatch(path, ty.to_string(), t.to_string()));
        }
        (v, Type::Dynamic) => match v.infer_type() {
            Some(t) => Shape::Dynamic(Cow::Owned(t), v),
            None => {
                return Err(Error::dynamic(
                    path,
                    format!(
                        "cannot tell the concrete type of this {}; wrap it in Value::Dynamic",
                        v.kind_name()
                    ),
                ));
            }
        },
        (Value::String(s), Type::String) => Shape::String(s),
        (Value::Number(n), Type::Number) => Shape::Number(n),
        (Value::Bool(b), Type::Bool) => Shape::Bool(*b),
        (Value::List(xs), Type::List(t)) => Shape::Seq {
            set: false,
            elems: xs.iter().map(|x| (x, &**t)).collect(),
        },
        (Value::Set(xs), Type::Set(t)) => Shape::Seq {
            set: true,
            elems: xs.iter().map(|x| (x, &**t)).collect(),
        },
        (Value::Tuple(xs), Type::Tuple(ts)) => {
            if xs.len() != ts.len() {
                return Err(Error::TupleLength {
                    path: path.clone(),
                    expected: ts.len(),
                    found: xs.len(),
                });
            }
            Shape::Seq {
                set: false,
                elems: xs.iter().zip(ts).collect(),
            }
        }
        (Value::Map(m), Type::Map(t)) => Shape::Map {
            object: false,
            entries: m.iter().map(|(k, x)| (k.as_str(), Some(x), &**t)).collect(),
        },
        (Value::Object(m), Type::Object(ot)) => {
            if let Some(extra) = m.keys().find(|k| !ot.attributes.contains_key(*k)) {
                return Err(Error::UnsupportedAttribute {
                    path: path.attr(extra.as_str()),
                });
            }
            Shape::Map {
                object: true,
                entries: ot
                    .attributes
                    .iter()
                    .map(|(k, t)| (k.as_str(), m.get(k), t))
                    .collect(),
            }
        }
        (v, t) => return Err(Error::mismatch(path, t.to_string(), v.kind_name())),
    })
}
