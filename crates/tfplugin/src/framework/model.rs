//! Typed models of Terraform values, each declared once.
//!
//! A resource declares its configuration as structs with `#[derive(Model)]`
//! (`tfplugin-derive`): the same declaration yields the schema ([`Model::block`], with the doc
//! comments as descriptions), the decoding of a Terraform value into the struct and the
//! encoding back. Attribute fields are [`Input`]s, which keep apart what Terraform keeps apart
//! and `Option` would merge: a value that is set, one that is null (unset), and one that is
//! not known until apply.
//!
//! Decoding never panics and never trusts the value's shape: a value that does not fit the
//! field (a fractional `replicas`, say) is a [`DecodeError`] at its attribute path, which the
//! caller shows as an error diagnostic.

use std::collections::BTreeMap;

use tfvalue::{AttributePath, Type, Value};

use super::diag::Diagnostic;
use super::schema::Block;

pub use tfplugin_derive::Model;

/// An attribute as Terraform sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Input<T> {
    Known(T),
    /// Unset in the configuration (and without a default).
    Null,
    /// Decided only during apply (e.g. another resource's computed attribute).
    #[default]
    Unknown,
}

impl<T> Input<T> {
    /// The value, if it is known and set.
    pub fn known(&self) -> Option<&T> {
        match self {
            Input::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn into_known(self) -> Option<T> {
        match self {
            Input::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Input::Unknown)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Input::Null)
    }

    pub fn as_ref(&self) -> Input<&T> {
        match self {
            Input::Known(v) => Input::Known(v),
            Input::Null => Input::Null,
            Input::Unknown => Input::Unknown,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Input<U> {
        match self {
            Input::Known(v) => Input::Known(f(v)),
            Input::Null => Input::Null,
            Input::Unknown => Input::Unknown,
        }
    }

    /// What the value is once decided: `Some(Some(v))` set, `Some(None)` unset, `None` not
    /// known yet.
    pub fn decided(&self) -> Option<Option<&T>> {
        match self {
            Input::Known(v) => Some(Some(v)),
            Input::Null => Some(None),
            Input::Unknown => None,
        }
    }
}

impl<T> From<T> for Input<T> {
    fn from(v: T) -> Self {
        Input::Known(v)
    }
}

/// A value of the configuration that does not fit its declared Rust type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub path: AttributePath,
    pub message: String,
}

impl DecodeError {
    pub fn new(path: &AttributePath, message: impl Into<String>) -> Self {
        Self {
            path: path.clone(),
            message: message.into(),
        }
    }

    /// An error diagnostic at the attribute.
    pub fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::error("Invalid value", self.message.clone()).at(self.path.clone())
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A Rust type that is the value of one attribute (or of a whole model).
pub trait Field: Sized {
    /// Whether a value that is only partly known can still be decoded: true for objects (their
    /// fields are [`Input`]s), false for strings, numbers and collections of them, whose
    /// partly-known values decode as [`Input::Unknown`] as a whole.
    const PARTIAL: bool = false;

    /// The Terraform type of the attribute.
    fn tf_type() -> Type;

    /// Decodes a known, non-null value (an [`Input`] handles null and unknown itself).
    fn decode(value: &Value, path: &AttributePath) -> Result<Self, Vec<DecodeError>>;

    fn encode(&self) -> Value;

    /// Stands in for a value that failed to decode (the error is reported; this keeps the rest
    /// of the model usable for further checks).
    fn fallback() -> Self;
}

/// A block (or nested-attribute object) whose schema and decoding are declared by one struct.
/// Implemented by `#[derive(Model)]`.
pub trait Model: Field {
    /// The block's schema: attributes and nested blocks with their descriptions.
    fn block() -> Block;

    /// Decodes the fields of an object value (`value` may be null; fields are then null).
    fn decode_fields(value: &Value, path: &AttributePath, errors: &mut Vec<DecodeError>) -> Self;

    /// Writes every field into an object's attribute map.
    fn encode_fields(&self, out: &mut BTreeMap<String, Value>);

    /// Decodes a whole resource (or provider) value.
    fn from_value(value: &Value) -> Result<Self, Vec<DecodeError>> {
        decode_object(value, &AttributePath::root())
    }

    /// Encodes the whole model as an object value.
    fn to_value(&self) -> Value {
        Field::encode(self)
    }
}

/// Decodes an object into a model, collecting every field's error.
pub fn decode_object<M: Model>(value: &Value, path: &AttributePath) -> Result<M, Vec<DecodeError>> {
    let value = value.unwrap_dynamic();
    if value.is_known() && !value.is_null() && value.as_map().is_none() {
        return Err(vec![DecodeError::new(
            path,
            format!("expected an object, got {}", value.kind_name()),
        )]);
    }
    let mut errors = Vec::new();
    let m = M::decode_fields(value, path, &mut errors);
    if errors.is_empty() {
        Ok(m)
    } else {
        Err(errors)
    }
}

/// Decodes the attribute `name` of an object (used by the derive). A failure is recorded and
/// the field falls back to [`Field::fallback`].
pub fn decode_attribute<T: Field>(
    object: &Value,
    name: &str,
    path: &AttributePath,
    errors: &mut Vec<DecodeError>,
) -> T {
    let at = path.attr(name);
    let value = object.get_attr(name).unwrap_or(&Value::Null);
    match T::decode(value, &at) {
        Ok(v) => v,
        Err(mut e) => {
            errors.append(&mut e);
            T::fallback()
        }
    }
}

impl<T: Field> Field for Input<T> {
    const PARTIAL: bool = T::PARTIAL;

    fn tf_type() -> Type {
        T::tf_type()
    }

    fn decode(value: &Value, path: &AttributePath) -> Result<Self, Vec<DecodeError>> {
        let value = value.unwrap_dynamic();
        if value.is_unknown() {
            return Ok(Input::Unknown);
        }
        if value.is_null() {
            return Ok(Input::Null);
        }
        if !T::PARTIAL && !value.is_wholly_known() {
            return Ok(Input::Unknown);
        }
        T::decode(value, path).map(Input::Known)
    }

    fn encode(&self) -> Value {
        match self {
            Input::Known(v) => v.encode(),
            Input::Null => Value::Null,
            Input::Unknown => Value::unknown(),
        }
    }

    fn fallback() -> Self {
        Input::Unknown
    }
}

fn mismatch(path: &AttributePath, want: &str, got: &Value) -> Vec<DecodeError> {
    let got = if got.is_null() {
        "null".to_owned()
    } else if got.is_unknown() {
        "a value not known yet".to_owned()
    } else {
        got.kind_name().to_owned()
    };
    vec![DecodeError::new(
        path,
        format!("expected {want}, got {got}"),
    )]
}

impl Field for String {
    fn tf_type() -> Type {
        Type::String
    }
    fn decode(value: &Value, path: &AttributePath) -> Result<Self, Vec<DecodeError>> {
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| mismatch(path, "a string", value))
    }
    fn encode(&self) -> Value {
        Value::from(self.as_str())
    }
    fn fallback() -> Self {
        String::new()
    }
}

impl Field for bool {
    fn tf_type() -> Type {
        Type::Bool
    }
    fn decode(value: &Value, path: &AttributePath) -> Result<Self, Vec<DecodeError>> {
        value
            .as_bool()
            .ok_or_else(|| mismatch(path, "true or false", value))
    }
    fn encode(&self) -> Value {
        Value::from(*self)
    }
    fn fallback() -> Self {
        false
    }
}

/// Whole numbers: Terraform's numbers are arbitrary precision, so `1.5` or `1e30` reach us and
/// are refused here with the attribute's path.
impl Field for i64 {
    fn tf_type() -> Type {
        Type::Number
    }
    fn decode(value: &Value, path: &AttributePath) -> Result<Self, Vec<DecodeError>> {
        let n = value
            .as_number()
            .ok_or_else(|| mismatch(path, "a number", value))?;
        match n.to_i64() {
            Some(i) if n.is_integer() => Ok(i),
            _ if n.is_integer() => Err(vec![DecodeError::new(
                path,
                format!(
                    "{n} is out of range: whole numbers here go from {} to {}.",
                    i64::MIN,
                    i64::MAX
                ),
            )]),
            _ => Err(vec![DecodeError::new(
                path,
                format!("{n} is not a whole number: write a whole number such as 3."),
            )]),
        }
    }
    fn encode(&self) -> Value {
        Value::from(*self)
    }
    fn fallback() -> Self {
        0
    }
}

impl<T: Field> Field for Vec<T> {
    const PARTIAL: bool = T::PARTIAL;

    fn tf_type() -> Type {
        Type::list(T::tf_type())
    }
    fn decode(value: &Value, path: &AttributePath) -> Result<Self, Vec<DecodeError>> {
        let items = value
            .as_list()
            .ok_or_else(|| mismatch(path, "a list", value))?;
        let mut out = Vec::with_capacity(items.len());
        let mut errors = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = path.index(i as i64);
            if !T::PARTIAL && (item.is_null() || !item.is_known()) {
                errors.extend(mismatch(&at, "a value", item));
                continue;
            }
            match T::decode(item, &at) {
                Ok(v) => out.push(v),
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
    fn encode(&self) -> Value {
        Value::List(self.iter().map(Field::encode).collect())
    }
    fn fallback() -> Self {
        Vec::new()
    }
}

impl<T: Field> Field for BTreeMap<String, T> {
    const PARTIAL: bool = T::PARTIAL;

    fn tf_type() -> Type {
        Type::map(T::tf_type())
    }
    fn decode(value: &Value, path: &AttributePath) -> Result<Self, Vec<DecodeError>> {
        let map = value
            .as_map()
            .ok_or_else(|| mismatch(path, "a map", value))?;
        let mut out = BTreeMap::new();
        let mut errors = Vec::new();
        for (k, item) in map {
            let at = path.key(k.clone());
            match T::decode(item, &at) {
                Ok(v) => {
                    out.insert(k.clone(), v);
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
    fn encode(&self) -> Value {
        Value::Map(self.iter().map(|(k, v)| (k.clone(), v.encode())).collect())
    }
    fn fallback() -> Self {
        BTreeMap::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{BlockNesting, ObjectNesting, Presence, Validator};

    /// A nested block.
    #[derive(Model, Debug, Clone, PartialEq)]
    struct Ring {
        /// Name of the ring.
        #[tf(required)]
        name: Input<String>,
        /// Members.
        endpoints: Input<Vec<String>>,
    }

    /// An entry of a computed list.
    #[derive(Model, Debug, Clone, PartialEq)]
    struct Entry {
        /// Kind.
        kind: String,
        /// Count.
        count: i64,
    }

    /// Shared settings.
    #[derive(Model, Debug, Clone, PartialEq)]
    struct Shared {
        /// Labels of everything.
        labels: Input<BTreeMap<String, String>>,
    }

    /// A test resource.
    ///
    /// Second paragraph.
    #[derive(Model, Debug, Clone, PartialEq)]
    struct Res {
        /// The name,
        /// over two lines.
        #[tf(required, requires_replace, validate = Validator::not_empty())]
        name: Input<String>,
        /// How many.
        #[tf(default = 1i64)]
        replicas: Input<i64>,
        #[tf(flatten)]
        shared: Shared,
        /// Rings of this resource.
        #[tf(block)]
        rings: Input<Vec<Ring>>,
        #[tf(block, max_items = 1)]
        soft: Input<Ring>,
        /// Stores.
        #[tf(nested)]
        stores: Input<Vec<Ring>>,
        /// What was made.
        #[tf(computed)]
        made: Input<Vec<Entry>>,
    }

    /// Credentials.
    #[derive(Model, Debug, Clone, PartialEq)]
    struct Keys {
        /// The key, sent at plan and apply, never stored.
        #[tf(write_only)]
        key_wo: Input<String>,
        /// Bump to write a new key.
        key_wo_version: Input<i64>,
    }

    #[test]
    fn write_only_fields_are_declared_as_such() {
        let b = Keys::block();
        assert!(b.get_attribute("key_wo").unwrap().write_only);
        assert_eq!(
            b.get_attribute("key_wo").unwrap().presence,
            Presence::Optional
        );
        assert!(!b.get_attribute("key_wo_version").unwrap().write_only);
        assert!(b.write_only_problems().is_empty());
    }

    #[test]
    fn one_declaration_gives_the_schema() {
        let b = Res::block();
        assert_eq!(b.description, "A test resource.\n\nSecond paragraph.");
        let names: Vec<&str> = b.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["name", "replicas", "labels", "stores", "made"]);
        let name = b.get_attribute("name").unwrap();
        assert_eq!(name.description, "The name, over two lines.");
        assert_eq!(name.presence, Presence::Required);
        assert!(name.requires_replace);
        assert_eq!(name.validators.len(), 1);
        let replicas = b.get_attribute("replicas").unwrap();
        assert_eq!(replicas.presence, Presence::OptionalComputed);
        assert_eq!(replicas.default, Some(Value::from(1i64)));
        assert!(matches!(
            b.get_attribute("stores").unwrap().kind,
            crate::framework::AttributeKind::Nested {
                nesting: ObjectNesting::List,
                ..
            }
        ));
        assert_eq!(
            b.get_attribute("made").unwrap().presence,
            Presence::Computed
        );
        let rings = b.get_block("rings").unwrap();
        assert_eq!(rings.nesting, BlockNesting::List);
        // A block's description is its field's doc comment, else its struct's.
        assert_eq!(rings.block.description, "Rings of this resource.");
        let soft = b.get_block("soft").unwrap();
        assert_eq!(soft.nesting, BlockNesting::Single);
        assert_eq!(soft.max_items, 1);
        assert_eq!(soft.block.description, "A nested block.");
    }

    fn sample() -> Value {
        Value::object([
            ("name", Value::from("a")),
            ("replicas", Value::unknown()),
            ("labels", Value::Null),
            (
                "rings",
                Value::List(vec![Value::object([
                    ("name", Value::from("r")),
                    ("endpoints", Value::list(["x:1", "y:2"])),
                ])]),
            ),
            ("soft", Value::Null),
            ("stores", Value::Null),
            (
                "made",
                Value::List(vec![Value::object([
                    ("kind", Value::from("Service")),
                    ("count", Value::from(2i64)),
                ])]),
            ),
        ])
    }

    #[test]
    fn decoding_keeps_known_null_and_unknown_apart() {
        let r = Res::from_value(&sample()).unwrap();
        assert_eq!(r.name, Input::Known("a".to_owned()));
        assert_eq!(r.replicas, Input::Unknown);
        assert_eq!(r.shared.labels, Input::Null);
        assert_eq!(r.soft, Input::Null);
        let rings = r.rings.known().unwrap();
        assert_eq!(rings[0].endpoints.known().unwrap(), &["x:1", "y:2"]);
        assert_eq!(
            r.made,
            Input::Known(vec![Entry {
                kind: "Service".into(),
                count: 2
            }])
        );
    }

    #[test]
    fn encoding_gives_back_the_same_value() {
        let v = sample();
        assert_eq!(Res::from_value(&v).unwrap().to_value(), v);
    }

    #[test]
    fn partly_known_lists_of_strings_are_unknown_as_a_whole() {
        let mut v = sample();
        *v.get_attr_mut("rings").unwrap() = Value::List(vec![Value::object([
            ("name", Value::from("r")),
            (
                "endpoints",
                Value::List(vec![Value::from("x:1"), Value::unknown()]),
            ),
        ])]);
        let r = Res::from_value(&v).unwrap();
        let ring = &r.rings.known().unwrap()[0];
        assert_eq!(ring.name, Input::Known("r".into()));
        assert_eq!(ring.endpoints, Input::Unknown);
    }

    #[test]
    fn a_fractional_number_is_an_error_at_its_path() {
        let mut v = sample();
        *v.get_attr_mut("replicas").unwrap() = Value::Number("1.5".parse().unwrap());
        let errors = Res::from_value(&v).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, AttributePath::root().attr("replicas"));
        assert!(errors[0].message.contains("whole number"), "{errors:?}");
        // A whole number too large for 64 bits is called that, not "not a whole number".
        *v.get_attr_mut("replicas").unwrap() = Value::Number("1e30".parse().unwrap());
        let errors = Res::from_value(&v).unwrap_err();
        assert!(errors[0].message.contains("out of range"), "{errors:?}");
        *v.get_attr_mut("replicas").unwrap() = Value::Number("-1e30".parse().unwrap());
        let errors = Res::from_value(&v).unwrap_err();
        assert!(errors[0].message.contains("out of range"), "{errors:?}");
    }

    #[test]
    fn a_value_of_the_wrong_shape_is_an_error_not_a_panic() {
        let mut v = sample();
        *v.get_attr_mut("rings").unwrap() = Value::from("not a list");
        let errors = Res::from_value(&v).unwrap_err();
        assert_eq!(errors[0].path, AttributePath::root().attr("rings"));
        let errors = Res::from_value(&Value::from(3i64)).unwrap_err();
        assert!(errors[0].message.contains("expected an object"));
    }
}
