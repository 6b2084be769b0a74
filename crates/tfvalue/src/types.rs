//! Terraform (cty) types and their JSON encoding.
//!
//! Provider schemas carry attribute types as type JSON (`"string"`, `["list","number"]`, ...), and
//! dynamic values carry their concrete type the same way, so the type JSON must round-trip exactly.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value as Json;

use crate::error::{Error, Result};
use crate::path::AttributePath;

/// A Terraform type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// `string`
    String,
    /// `number` (arbitrary precision, see [`crate::Number`]).
    Number,
    /// `bool`
    Bool,
    /// `dynamic` (cty's DynamicPseudoType): the concrete type travels with the value.
    Dynamic,
    /// `list(T)`
    List(Box<Type>),
    /// `set(T)`
    Set(Box<Type>),
    /// `map(T)` (string keys).
    Map(Box<Type>),
    /// `tuple([T1, T2, ...])`
    Tuple(Vec<Type>),
    /// `object({...})`
    Object(ObjectType),
}

/// The attributes of an object type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectType {
    /// Attribute name to type; a `BTreeMap` because Terraform always orders attributes by name.
    pub attributes: BTreeMap<String, Type>,
    /// Names of attributes marked optional in a type constraint (the third element of the object
    /// type JSON). Kept so the type JSON round-trips; wire values still carry every attribute.
    pub optional: BTreeSet<String>,
}

impl ObjectType {
    /// An object type with these attributes and none optional.
    pub fn new(attrs: impl IntoIterator<Item = (impl Into<String>, Type)>) -> Self {
        ObjectType {
            attributes: attrs.into_iter().map(|(k, t)| (k.into(), t)).collect(),
            optional: BTreeSet::new(),
        }
    }

    /// The type of attribute `name`.
    pub fn get(&self, name: &str) -> Option<&Type> {
        self.attributes.get(name)
    }

    /// This object type without optional-attribute markers, as Terraform puts it on the wire.
    #[must_use]
    pub fn without_optional(&self) -> ObjectType {
        ObjectType {
            attributes: self.attributes.clone(),
            optional: BTreeSet::new(),
        }
    }
}

impl Type {
    /// `object({...})` from `(name, type)` pairs.
    pub fn object(attrs: impl IntoIterator<Item = (impl Into<String>, Type)>) -> Type {
        Type::Object(ObjectType::new(attrs))
    }

    /// `object({...})` with some attributes marked optional (type constraints only).
    pub fn object_with_optional(
        attrs: impl IntoIterator<Item = (impl Into<String>, Type)>,
        optional: impl IntoIterator<Item = impl Into<String>>,
    ) -> Type {
        let mut obj = ObjectType::new(attrs);
        obj.optional = optional.into_iter().map(Into::into).collect();
        Type::Object(obj)
    }

    /// `list(t)`
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }

    /// `set(t)`
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }

    /// `map(t)`
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }

    /// `tuple([...])`
    pub fn tuple(elems: impl IntoIterator<Item = Type>) -> Type {
        Type::Tuple(elems.into_iter().collect())
    }

    /// The object type, if this is one.
    pub fn as_object(&self) -> Option<&ObjectType> {
        match self {
            Type::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The element type of a list, set or map.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(t) | Type::Set(t) | Type::Map(t) => Some(t),
            _ => None,
        }
    }

    /// Whether `dynamic` appears anywhere in this type.
    pub fn has_dynamic(&self) -> bool {
        match self {
            Type::Dynamic => true,
            Type::String | Type::Number | Type::Bool => false,
            Type::List(t) | Type::Set(t) | Type::Map(t) => t.has_dynamic(),
            Type::Tuple(ts) => ts.iter().any(Type::has_dynamic),
            Type::Object(o) => o.attributes.values().any(Type::has_dynamic),
        }
    }

    /// The type JSON as a `serde_json::Value` (object keys in name order).
    pub fn to_json(&self) -> Json {
        match self {
            Type::String => Json::from("string"),
            Type::Number => Json::from("number"),
            Type::Bool => Json::from("bool"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(t) => Json::Array(vec!["list".into(), t.to_json()]),
            Type::Set(t) => Json::Array(vec!["set".into(), t.to_json()]),
            Type::Map(t) => Json::Array(vec!["map".into(), t.to_json()]),
            Type::Tuple(ts) => Json::Array(vec![
                "tuple".into(),
                Json::Array(ts.iter().map(Type::to_json).collect()),
            ]),
            Type::Object(o) => {
                let attrs: serde_json::Map<String, Json> = o
                    .attributes
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                let mut parts = vec!["object".into(), Json::Object(attrs)];
                if !o.optional.is_empty() {
                    parts.push(Json::Array(
                        o.optional.iter().map(|s| Json::from(s.as_str())).collect(),
                    ));
                }
                Json::Array(parts)
            }
        }
    }

    /// The compact type JSON bytes, object keys sorted, no whitespace: the exact form Terraform
    /// emits, independent of serde_json's `preserve_order` feature.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        self.write_json(&mut out);
        out.into_bytes()
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Type::String => out.push_str("\"string\""),
            Type::Number => out.push_str("\"number\""),
            Type::Bool => out.push_str("\"bool\""),
            Type::Dynamic => out.push_str("\"dynamic\""),
            Type::List(t) | Type::Set(t) | Type::Map(t) => {
                let kind = match self {
                    Type::List(_) => "list",
                    Type::Set(_) => "set",
                    _ => "map",
                };
                out.push_str("[\"");
                out.push_str(kind);
                out.push_str("\",");
                t.write_json(out);
                out.push(']');
            }
            Type::Tuple(ts) => {
                out.push_str("[\"tuple\",[");
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    t.write_json(out);
                }
                out.push_str("]]");
            }
            Type::Object(o) => {
                out.push_str("[\"object\",{");
                for (i, (name, t)) in o.attributes.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(out, name);
                    out.push(':');
                    t.write_json(out);
                }
                out.push('}');
                if !o.optional.is_empty() {
                    out.push_str(",[");
                    for (i, name) in o.optional.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        write_json_string(out, name);
                    }
                    out.push(']');
                }
                out.push(']');
            }
        }
    }

    /// Parses type JSON (see the module docs for the accepted forms).
    pub fn from_json(v: &Json) -> Result<Type> {
        let bad = |msg: String| Error::invalid_type(&AttributePath::root(), msg);
        match v {
            Json::String(s) => match s.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(bad(format!("unknown primitive type {other:?}"))),
            },
            Json::Array(parts) => {
                let Some(Json::String(kind)) = parts.first() else {
                    return Err(bad("a type array must start with the type kind".into()));
                };
                let args = &parts[1..];
                let want_args = |n: usize| {
                    if args.len() == n {
                        Ok(())
                    } else {
                        Err(bad(format!(
                            "{kind:?} takes {n} argument(s), found {}",
                            args.len()
                        )))
                    }
                };
                match kind.as_str() {
                    "list" => {
                        want_args(1)?;
                        Ok(Type::list(Type::from_json(&args[0])?))
                    }
                    "set" => {
                        want_args(1)?;
                        Ok(Type::set(Type::from_json(&args[0])?))
                    }
                    "map" => {
                        want_args(1)?;
                        Ok(Type::map(Type::from_json(&args[0])?))
                    }
                    "tuple" => {
                        want_args(1)?;
                        let Json::Array(elems) = &args[0] else {
                            return Err(bad("tuple element types must be an array".into()));
                        };
                        Ok(Type::Tuple(
                            elems.iter().map(Type::from_json).collect::<Result<_>>()?,
                        ))
                    }
                    "object" => {
                        if args.is_empty() || args.len() > 2 {
                            return Err(bad(format!(
                                "\"object\" takes 1 or 2 arguments, found {}",
                                args.len()
                            )));
                        }
                        let Json::Object(attrs) = &args[0] else {
                            return Err(bad("object attribute types must be a JSON object".into()));
                        };
                        let mut obj = ObjectType::default();
                        for (name, t) in attrs {
                            obj.attributes.insert(name.clone(), Type::from_json(t)?);
                        }
                        if let Some(opt) = args.get(1) {
                            let Json::Array(names) = opt else {
                                return Err(
                                    bad("optional attribute names must be an array".into()),
                                );
                            };
                            for name in names {
                                let Json::String(name) = name else {
                                    return Err(bad(
                                        "optional attribute names must be strings".into()
                                    ));
                                };
                                if !obj.attributes.contains_key(name) {
                                    return Err(bad(format!(
                                        "optional attribute {name:?} is not an attribute of the object"
                                    )));
                                }
                                obj.optional.insert(name.clone());
                            }
                        }
                        Ok(Type::Object(obj))
                    }
                    other => Err(bad(format!("unknown type kind {other:?}"))),
                }
            }
            other => Err(bad(format!(
                "a type must be a string or an array, found {other}"
            ))),
        }
    }

    /// Parses type JSON bytes (as found in schemas and dynamic values; UTF-8 JSON text).
    pub fn from_json_bytes(b: &[u8]) -> Result<Type> {
        let v: Json = serde_json::from_slice(b)
            .map_err(|e| Error::invalid_type(&AttributePath::root(), e.to_string()))?;
        Type::from_json(&v)
    }
}

impl fmt::Display for Type {
    /// HCL type-constraint syntax, e.g. `list(object({a = string, b = optional(number)}))`, for
    /// human-readable messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Dynamic => f.write_str("any"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Tuple(ts) => {
                f.write_str("tuple([")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
            Type::Object(o) => {
                f.write_str("object({")?;
                for (i, (name, t)) in o.attributes.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if o.optional.contains(name) {
                        write!(f, "{name} = optional({t})")?;
                    } else {
                        write!(f, "{name} = {t}")?;
                    }
                }
                f.write_str("})")
            }
        }
    }
}

impl From<ObjectType> for Type {
    fn from(o: ObjectType) -> Type {
        Type::Object(o)
    }
}

/// Appends `s` as a JSON string literal.
pub(crate) fn write_json_string(out: &mut String, s: &str) {
    // serde_json's string escaping cannot fail for a &str.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_json_round_trips() {
        let cases: Vec<(&str, Type)> = vec![
            (r#""string""#, Type::String),
            (r#""number""#, Type::Number),
            (r#""bool""#, Type::Bool),
            (r#""dynamic""#, Type::Dynamic),
            (r#"["list","string"]"#, Type::list(Type::String)),
            (
                r#"["set",["map","number"]]"#,
                Type::set(Type::map(Type::Number)),
            ),
            (r#"["tuple",[]]"#, Type::tuple([])),
            (
                r#"["tuple",["string","bool"]]"#,
                Type::tuple([Type::String, Type::Bool]),
            ),
            (
                r#"["object",{}]"#,
                Type::object(Vec::<(String, Type)>::new()),
            ),
            (
                r#"["object",{"x":"number","y":["tuple",["string"]]}]"#,
                Type::object([("y", Type::tuple([Type::String])), ("x", Type::Number)]),
            ),
            (
                r#"["object",{"a":"string","b":"number","c":"bool"},["b","c"]]"#,
                Type::object_with_optional(
                    [("a", Type::String), ("b", Type::Number), ("c", Type::Bool)],
                    ["c", "b"],
                ),
            ),
            (
                r#"["list",["object",{"a\"q":"dynamic"}]]"#,
                Type::list(Type::object([("a\"q", Type::Dynamic)])),
            ),
        ];
        for (json, ty) in cases {
            assert_eq!(
                Type::from_json_bytes(json.as_bytes()).unwrap(),
                ty,
                "{json}"
            );
            assert_eq!(String::from_utf8(ty.to_json_bytes()).unwrap(), json);
            assert_eq!(serde_json::to_string(&ty.to_json()).unwrap(), json);
            assert_eq!(Type::from_json(&ty.to_json()).unwrap(), ty);
        }
    }

    #[test]
    fn type_json_accepts_whitespace_and_any_key_order() {
        let t = Type::from_json_bytes(
            br#"[ "object" , { "b" : "bool", "a" : [ "list", "string" ] } ]"#,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(t.to_json_bytes()).unwrap(),
            r#"["object",{"a":["list","string"],"b":"bool"}]"#
        );
    }

    #[test]
    fn type_json_rejects() {
        for bad in [
            "\"str\"",
            "42",
            "[]",
            "[\"list\"]",
            "[\"list\",\"string\",\"string\"]",
            "[\"tuple\",\"string\"]",
            "[\"object\",[]]",
            "[\"object\",{\"a\":\"string\"},[\"b\"]]",
            "[\"object\",{\"a\":\"string\"},\"a\"]",
            "[\"frob\",\"string\"]",
            "not json",
        ] {
            assert!(Type::from_json_bytes(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn display() {
        let t = Type::list(Type::object_with_optional(
            [
                ("a", Type::String),
                ("b", Type::tuple([Type::Number, Type::Dynamic])),
            ],
            ["b"],
        ));
        assert_eq!(
            t.to_string(),
            "list(object({a = string, b = optional(tuple([number, any]))}))"
        );
    }
}
