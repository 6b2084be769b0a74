//! Terraform values: known, null, unknown (optionally refined) and dynamically typed.
//!
//! A [`Value`] is deliberately untyped (like JSON) and is checked against a [`Type`] by the codecs
//! and by [`Value::conforms`]; provider code builds values without carrying types around, and the
//! schema supplies the type at the protocol boundary.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::number::Number;
use crate::path::{AttributePath, PathStep};
use crate::types::{ObjectType, Type};

/// What Terraform (>= 1.6) knows about a value that is not yet known. Advisory only: dropping
/// refinements is always safe, so the decoders ignore anything they do not understand.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Refinements {
    /// The value will definitely not be null.
    pub not_null: bool,
    /// A string value will start with this prefix.
    pub string_prefix: Option<String>,
    /// A number value's lower bound, and whether the bound is inclusive.
    pub number_lower: Option<(Number, bool)>,
    /// A number value's upper bound, and whether the bound is inclusive.
    pub number_upper: Option<(Number, bool)>,
    /// A collection value's minimum length (inclusive).
    pub length_lower: Option<u64>,
    /// A collection value's maximum length (inclusive).
    pub length_upper: Option<u64>,
}

impl Refinements {
    /// Whether no refinement is set (a plain unknown).
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }
}

/// A Terraform value.
///
/// Equality is structural, except that sets compare as multisets (element order is not
/// meaningful: Terraform sends sets in any order and the encoder sorts them).
#[derive(Clone, Debug)]
pub enum Value {
    /// A null of whatever type the context gives.
    Null,
    /// A value not known until apply, with what Terraform already knows about it.
    Unknown(Refinements),
    /// A string.
    String(String),
    /// A number.
    Number(Number),
    /// A bool.
    Bool(bool),
    /// A list's elements in order.
    List(Vec<Value>),
    /// A set's elements (order as received; not significant).
    Set(Vec<Value>),
    /// A tuple's elements.
    Tuple(Vec<Value>),
    /// A map's elements by key.
    Map(BTreeMap<String, Value>),
    /// An object's attributes by name.
    Object(BTreeMap<String, Value>),
    /// A value whose type was only known at run time (schema type "dynamic"): carries its concrete type.
    Dynamic(Type, Box<Value>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Unknown(a), Unknown(b)) => a == b,
            (String(a), String(b)) => a == b,
            (Number(a), Number(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (List(a), List(b)) | (Tuple(a), Tuple(b)) => a == b,
            (Set(a), Set(b)) => multiset_eq(a, b),
            (Map(a), Map(b)) | (Object(a), Object(b)) => a == b,
            (Dynamic(ta, a), Dynamic(tb, b)) => ta == tb && a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

fn multiset_eq(a: &[Value], b: &[Value]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(|x| {
        let found = b.iter().enumerate().position(|(j, y)| !used[j] && x == y);
        if let Some(j) = found {
            used[j] = true;
        }
        found.is_some()
    })
}

impl Value {
    /// A plain unknown (no refinements).
    pub fn unknown() -> Value {
        Value::Unknown(Refinements::default())
    }

    /// An object from `(name, value)` pairs.
    pub fn object(attrs: impl IntoIterator<Item = (impl Into<String>, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A map from `(key, value)` pairs.
    pub fn map(elems: impl IntoIterator<Item = (impl Into<String>, Value)>) -> Value {
        Value::Map(elems.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A list of the given elements.
    pub fn list(elems: impl IntoIterator<Item = impl Into<Value>>) -> Value {
        Value::List(elems.into_iter().map(Into::into).collect())
    }

    /// A set of the given elements.
    pub fn set(elems: impl IntoIterator<Item = impl Into<Value>>) -> Value {
        Value::Set(elems.into_iter().map(Into::into).collect())
    }

    /// A value with its concrete type, for a `dynamic` slot.
    pub fn dynamic(ty: Type, value: Value) -> Value {
        Value::Dynamic(ty, Box::new(value))
    }

    /// Null value of every attribute for an object type (all attributes present, null): the shape
    /// Terraform requires for an object whose attributes are all unset.
    pub fn null_object(ty: &ObjectType) -> Value {
        Value::Object(
            ty.attributes
                .keys()
                .map(|k| (k.clone(), Value::Null))
                .collect(),
        )
    }

    /// This value with any [`Value::Dynamic`] wrappers removed (the accessors look through them,
    /// so provider code reads a dynamic attribute like any other).
    pub fn unwrap_dynamic(&self) -> &Value {
        let mut v = self;
        while let Value::Dynamic(_, inner) = v {
            v = inner;
        }
        v
    }

    fn unwrap_dynamic_mut(&mut self) -> &mut Value {
        match self {
            Value::Dynamic(_, inner) => inner.unwrap_dynamic_mut(),
            v => v,
        }
    }

    /// Whether the value is null (looking through a dynamic wrapper).
    pub fn is_null(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Null)
    }

    /// Whether the value as a whole is unknown (looking through a dynamic wrapper).
    pub fn is_unknown(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Unknown(_))
    }

    /// Not unknown at the top level (parts of it may still be unknown).
    pub fn is_known(&self) -> bool {
        !self.is_unknown()
    }

    /// No unknown anywhere inside: what Terraform demands of applied and refreshed state.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::Null | Value::String(_) | Value::Number(_) | Value::Bool(_) => true,
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
                xs.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
        }
    }

    /// The refinements, if the value is unknown.
    pub fn refinements(&self) -> Option<&Refinements> {
        match self.unwrap_dynamic() {
            Value::Unknown(r) => Some(r),
            _ => None,
        }
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self.unwrap_dynamic() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self.unwrap_dynamic() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self.unwrap_dynamic() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as an `i64`, if this is a known integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number()?.to_i64()
    }

    /// The elements of a known list, set or tuple.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self.unwrap_dynamic() {
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => Some(xs),
            _ => None,
        }
    }

    /// The entries of a known map or object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Attribute `name` of a known object (or element `name` of a known map).
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        self.as_map()?.get(name)
    }

    /// Mutable attribute `name` of a known object (or element of a known map).
    pub fn get_attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self.unwrap_dynamic_mut() {
            Value::Map(m) | Value::Object(m) => m.get_mut(name),
            _ => None,
        }
    }

    /// The part of this value at `path`, if present and not behind null or unknown.
    /// Attribute and string-key steps both address objects and maps; int steps address lists,
    /// tuples and sets (by position).
    pub fn get_path(&self, path: &AttributePath) -> Option<&Value> {
        let mut v = self;
        for step in &path.steps {
            v = match step {
                PathStep::Attribute(k) | PathStep::ElementKeyString(k) => v.get_attr(k)?,
                PathStep::ElementKeyInt(i) => v.as_list()?.get(usize::try_from(*i).ok()?)?,
            };
        }
        Some(v)
    }

    /// Visit every (path, value) pair depth-first, parents before children, for plan/validation
    /// logic. A dynamic value is visited once (wrapper included); its children follow.
    pub fn walk(&self, f: &mut dyn FnMut(&AttributePath, &Value)) {
        self.walk_at(&AttributePath::root(), f);
    }

    fn walk_at(&self, path: &AttributePath, f: &mut dyn FnMut(&AttributePath, &Value)) {
        f(path, self);
        match self.unwrap_dynamic() {
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
                for (i, x) in xs.iter().enumerate() {
                    x.walk_at(&path.index(i as i64), f);
                }
            }
            Value::Map(m) => {
                for (k, x) in m {
                    x.walk_at(&path.key(k.as_str()), f);
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    x.walk_at(&path.attr(k.as_str()), f);
                }
            }
            _ => {}
        }
    }

    /// Replace values bottom-up: children are transformed first, then `f(path, value)` is called
    /// on the value rebuilt from the transformed children (a dynamic wrapper is kept around the
    /// rebuilt inner value and handed to `f` as one value).
    #[must_use]
    pub fn transform(self, f: &mut dyn FnMut(&AttributePath, Value) -> Value) -> Value {
        self.transform_at(&AttributePath::root(), f)
    }

    fn transform_at(
        self,
        path: &AttributePath,
        f: &mut dyn FnMut(&AttributePath, Value) -> Value,
    ) -> Value {
        let rebuilt = self.transform_children(path, f);
        f(path, rebuilt)
    }

    fn transform_children(
        self,
        path: &AttributePath,
        f: &mut dyn FnMut(&AttributePath, Value) -> Value,
    ) -> Value {
        let seq =
            |xs: Vec<Value>, f: &mut dyn FnMut(&AttributePath, Value) -> Value| -> Vec<Value> {
                xs.into_iter()
                    .enumerate()
                    .map(|(i, x)| x.transform_at(&path.index(i as i64), f))
                    .collect()
            };
        match self {
            Value::List(xs) => Value::List(seq(xs, f)),
            Value::Set(xs) => Value::Set(seq(xs, f)),
            Value::Tuple(xs) => Value::Tuple(seq(xs, f)),
            Value::Map(m) => Value::Map(
                m.into_iter()
                    .map(|(k, x)| {
                        let p = path.key(k.as_str());
                        (k, x.transform_at(&p, f))
                    })
                    .collect(),
            ),
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, x)| {
                        let p = path.attr(k.as_str());
                        (k, x.transform_at(&p, f))
                    })
                    .collect(),
            ),
            Value::Dynamic(t, inner) => {
                Value::Dynamic(t, Box::new(inner.transform_children(path, f)))
            }
            leaf => leaf,
        }
    }

    /// A short name of the value's kind for messages (`string`, `list`, `unknown`...).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown(_) => "unknown",
            Value::String(_) => "string",
            Value::Number(_) => "number",
            Value::Bool(_) => "bool",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Tuple(_) => "tuple",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Dynamic(_, v) => v.kind_name(),
        }
    }

    /// The concrete type a known value evidently has, for a bare (unwrapped) value placed in a
    /// `dynamic` slot. `None` when the value does not say (null, unknown, an empty collection,
    /// collection elements of differing types): such values must be wrapped in [`Value::Dynamic`].
    pub fn infer_type(&self) -> Option<Type> {
        let same = |xs: &mut dyn Iterator<Item = &Value>| -> Option<Type> {
            let mut ty: Option<Type> = None;
            for x in xs {
                let t = x.infer_type()?;
                match &ty {
                    Some(prev) if *prev != t => return None,
                    Some(_) => {}
                    None => ty = Some(t),
                }
            }
            ty
        };
        match self {
            Value::Null | Value::Unknown(_) => None,
            Value::String(_) => Some(Type::String),
            Value::Number(_) => Some(Type::Number),
            Value::Bool(_) => Some(Type::Bool),
            Value::Dynamic(t, _) => Some(t.clone()),
            Value::List(xs) => Some(Type::list(same(&mut xs.iter())?)),
            Value::Set(xs) => Some(Type::set(same(&mut xs.iter())?)),
            Value::Map(m) => Some(Type::map(same(&mut m.values())?)),
            Value::Tuple(xs) => Some(Type::Tuple(
                xs.iter().map(Value::infer_type).collect::<Option<_>>()?,
            )),
            Value::Object(m) => Some(Type::object(
                m.iter()
                    .map(|(k, v)| Some((k.clone(), v.infer_type()?)))
                    .collect::<Option<Vec<_>>>()?,
            )),
        }
    }

    /// Check the value conforms to the type (every non-optional object attribute present, no
    /// extra attributes, element types match, numbers are numbers...); the error names the path.
    /// Null and unknown conform to every type. This is stricter than the encoders, which write a
    /// missing attribute as null, so it can catch provider bugs before Terraform does.
    pub fn conforms(&self, ty: &Type) -> Result<()> {
        self.conforms_at(ty, &AttributePath::root())
    }

    pub(crate) fn conforms_at(&self, ty: &Type, path: &AttributePath) -> Result<()> {
        match (self, ty) {
            (Value::Null | Value::Unknown(_), _) => Ok(()),
            (Value::Dynamic(t, v), Type::Dynamic) => v.conforms_at(t, path),
            (Value::Dynamic(t, v), _) => {
                if t == ty {
                    v.conforms_at(ty, path)
                } else {
                    Err(Error::mismatch(path, ty.to_string(), t.to_string()))
                }
            }
            (v, Type::Dynamic) => match v.infer_type() {
                Some(t) => v.conforms_at(&t, path),
                None => Err(Error::dynamic(
                    path,
                    "cannot tell the concrete type of this value; wrap it in Value::Dynamic",
                )),
            },
            (Value::String(_), Type::String)
            | (Value::Number(_), Type::Number)
            | (Value::Bool(_), Type::Bool) => Ok(()),
            (Value::List(xs), Type::List(t)) | (Value::Set(xs), Type::Set(t)) => {
                for (i, x) in xs.iter().enumerate() {
                    x.conforms_at(t, &path.index(i as i64))?;
                }
                Ok(())
            }
            (Value::Map(m), Type::Map(t)) => {
                for (k, x) in m {
                    x.conforms_at(t, &path.key(k.as_str()))?;
                }
                Ok(())
            }
            (Value::Tuple(xs), Type::Tuple(ts)) => {
                if xs.len() != ts.len() {
                    return Err(Error::TupleLength {
                        path: path.clone(),
                        expected: ts.len(),
                        found: xs.len(),
                    });
                }
                for (i, (x, t)) in xs.iter().zip(ts).enumerate() {
                    x.conforms_at(t, &path.index(i as i64))?;
                }
                Ok(())
            }
            (Value::Object(m), Type::Object(ot)) => {
                if let Some(extra) = m.keys().find(|k| !ot.attributes.contains_key(*k)) {
                    return Err(Error::UnsupportedAttribute {
                        path: path.attr(extra.as_str()),
                    });
                }
                for (name, t) in &ot.attributes {
                    match m.get(name) {
                        Some(v) => v.conforms_at(t, &path.attr(name.as_str()))?,
                        None if ot.optional.contains(name) => {}
                        None => {
                            return Err(Error::MissingAttribute {
                                path: path.attr(name.as_str()),
                            });
                        }
                    }
                }
                Ok(())
            }
            (v, t) => Err(Error::mismatch(path, t.to_string(), v.kind_name())),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::String(s.clone())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Number(Number::from_i64(i))
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Number(Number::from_i64(i.into()))
    }
}

impl From<u64> for Value {
    fn from(u: u64) -> Value {
        Value::Number(Number::from_u64(u))
    }
}

impl From<u32> for Value {
    fn from(u: u32) -> Value {
        Value::Number(Number::from_u64(u.into()))
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` becomes [`Value::Null`], so optional provider fields map straight onto attributes.
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        Value::object([
            ("name", Value::from("x")),
            (
                "labels",
                Value::map([("app", Value::from("thanos")), ("tier", Value::unknown())]),
            ),
            ("replicas", Value::from(3i64)),
            ("tags", Value::set(["b", "a"])),
            (
                "dyn",
                Value::dynamic(
                    Type::object([("x", Type::Number)]),
                    Value::object([("x", Value::from(1i64))]),
                ),
            ),
            ("gone", Value::from(None::<String>)),
        ])
    }

    fn sample_type() -> Type {
        Type::object([
            ("name", Type::String),
            ("labels", Type::map(Type::String)),
            ("replicas", Type::Number),
            ("tags", Type::set(Type::String)),
            ("dyn", Type::Dynamic),
            ("gone", Type::String),
        ])
    }

    #[test]
    fn accessors() {
        let v = sample();
        assert_eq!(v.get_attr("name").and_then(Value::as_str), Some("x"));
        assert_eq!(v.get_attr("replicas").and_then(Value::as_i64), Some(3));
        assert_eq!(
            v.get_attr("tags").and_then(Value::as_list).map(<[_]>::len),
            Some(2)
        );
        assert!(v.get_attr("gone").unwrap().is_null());
        assert!(v.get_attr("labels").unwrap().is_known());
        assert!(!v.is_wholly_known());
        let p = AttributePath::root().attr("labels").key("tier");
        assert!(v.get_path(&p).unwrap().is_unknown());
        let p = AttributePath::root().attr("dyn").attr("x");
        assert_eq!(v.get_path(&p).and_then(Value::as_i64), Some(1));
        assert_eq!(
            v.get_path(&AttributePath::root().attr("tags").index(5)),
            None
        );
        assert_eq!(v.get_path(&AttributePath::root()), Some(&v));
        let mut v = v;
        *v.get_attr_mut("name").unwrap() = Value::from("y");
        assert_eq!(v.get_attr("name").and_then(Value::as_str), Some("y"));
    }

    #[test]
    fn sets_compare_as_multisets() {
        assert_eq!(Value::set(["a", "b"]), Value::set(["b", "a"]));
        assert_ne!(Value::set(["a", "a"]), Value::set(["a", "b"]));
        assert_ne!(Value::list(["a", "b"]), Value::list(["b", "a"]));
        assert_ne!(Value::set(["a"]), Value::list(["a"]));
    }

    #[test]
    fn walk_visits_every_path() {
        let mut seen = Vec::new();
        sample().walk(&mut |p, v| seen.push((p.to_string(), v.kind_name())));
        let want = [
            ("", "object"),
            ("dyn", "object"),
            ("dyn.x", "number"),
            ("gone", "null"),
            ("labels", "map"),
            ("labels[\"app\"]", "string"),
            ("labels[\"tier\"]", "unknown"),
            ("name", "string"),
            ("replicas", "number"),
            ("tags", "set"),
            ("tags[0]", "string"),
            ("tags[1]", "string"),
        ];
        let want: Vec<_> = want.iter().map(|(p, k)| (p.to_string(), *k)).collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn transform_bottom_up() {
        let mut order = Vec::new();
        let out = sample().transform(&mut |p, v| {
            order.push(p.to_string());
            match v {
                Value::Unknown(_) => Value::from("known now"),
                Value::String(s) => Value::String(s.to_uppercase()),
                v => v,
            }
        });
        assert!(out.is_wholly_known());
        assert_eq!(
            out.get_path(&AttributePath::root().attr("labels").key("tier"))
                .and_then(Value::as_str),
            Some("known now")
        );
        assert_eq!(out.get_attr("name").and_then(Value::as_str), Some("X"));
        assert_eq!(order.last().map(String::as_str), Some(""));
        let labels = order.iter().position(|p| p == "labels").unwrap();
        let app = order.iter().position(|p| p == "labels[\"app\"]").unwrap();
        assert!(app < labels);
        assert!(matches!(out.get_attr("dyn"), Some(Value::Dynamic(..))));
    }

    #[test]
    fn conforms_reports_paths() {
        let ty = sample_type();
        sample().conforms(&ty).unwrap();

        let mut v = sample();
        *v.get_attr_mut("labels")
            .unwrap()
            .get_attr_mut("app")
            .unwrap() = Value::from(true);
        let err = v.conforms(&ty).unwrap_err();
        assert_eq!(
            err.to_string(),
            "labels[\"app\"]: expected string, found bool"
        );
        assert_eq!(err.detail(), "expected string, found bool");

        let mut v = sample();
        if let Value::Object(m) = &mut v {
            m.remove("name");
        }
        let err = v.conforms(&ty).unwrap_err();
        assert_eq!(
            err,
            Error::MissingAttribute {
                path: AttributePath::root().attr("name")
            }
        );

        let mut v = sample();
        if let Value::Object(m) = &mut v {
            m.insert("extra".into(), Value::Null);
        }
        assert_eq!(
            v.conforms(&ty).unwrap_err().to_string(),
            "extra: unsupported attribute"
        );

        let opt = Type::object_with_optional([("a", Type::String)], ["a"]);
        Value::object(Vec::<(String, Value)>::new())
            .conforms(&opt)
            .unwrap();

        let err = Value::Tuple(vec![Value::from(1i64)])
            .conforms(&Type::tuple([Type::Number, Type::String]))
            .unwrap_err();
        assert!(matches!(
            err,
            Error::TupleLength {
                expected: 2,
                found: 1,
                ..
            }
        ));

        // A bare value in a dynamic slot must reveal its type.
        Value::list(["a"]).conforms(&Type::Dynamic).unwrap();
        assert!(matches!(
            Value::List(vec![]).conforms(&Type::Dynamic),
            Err(Error::Dynamic { .. })
        ));
        // A dynamic wrapper whose type matches the slot is accepted.
        Value::dynamic(Type::String, "x".into())
            .conforms(&Type::String)
            .unwrap();
        assert!(
            Value::dynamic(Type::String, "x".into())
                .conforms(&Type::Bool)
                .is_err()
        );
    }

    #[test]
    fn null_object_and_from() {
        let ot = ObjectType::new([("b", Type::String), ("a", Type::Number)]);
        assert_eq!(
            Value::null_object(&ot),
            Value::object([("a", Value::Null), ("b", Value::Null)])
        );
        assert_eq!(Value::from(Some("x")), Value::String("x".into()));
        assert_eq!(Value::from(None::<i64>), Value::Null);
        assert_eq!(Value::from(Number::from_i64(2)), Value::from(2i64));
        assert!(Value::unknown().refinements().unwrap().is_empty());
    }
}
