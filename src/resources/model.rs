//! Terraform values ↔ rendering specs.
//!
//! The render specs use the Terraform attribute names, with `Option` meaning "unset or not
//! known yet", so a configuration converts through JSON: unknown and null values are left out,
//! and attributes that only matter to Terraform (computed results, lifecycle settings) are
//! dropped before the spec sees them.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};
use tfplugin::framework::Diagnostic;
use tfvalue::{AttributePath, Value};
use thanos_render::{Invalid, PathSegment};

/// Attributes of every resource that rendering never reads.
pub const TERRAFORM_ONLY: &[&str] = &[
    "id",
    "objects",
    "wait_for_rollout",
    "force_conflicts",
    "adopt_existing",
    "timeouts",
];

/// A configuration or plan as JSON for a spec, and whether anything in it was unknown.
pub struct SpecJson {
    pub json: Json,
    pub has_unknown: bool,
}

/// Converts `value` (a resource object) to spec JSON, leaving out `skip` at the top level.
pub fn spec_json(value: &Value, skip: &[&str]) -> SpecJson {
    let mut has_unknown = false;
    let json = match value.as_map() {
        Some(attrs) => Json::Object(
            attrs
                .iter()
                .filter(|(k, _)| {
                    !TERRAFORM_ONLY.contains(&k.as_str()) && !skip.contains(&k.as_str())
                })
                .filter_map(|(k, v)| convert(v, &mut has_unknown).map(|j| (k.clone(), j)))
                .collect(),
        ),
        None => Json::Object(Map::new()),
    };
    SpecJson { json, has_unknown }
}

fn convert(value: &Value, has_unknown: &mut bool) -> Option<Json> {
    match value {
        Value::Null => None,
        Value::Unknown(_) => {
            *has_unknown = true;
            None
        }
        Value::String(s) => Some(Json::String(s.clone())),
        Value::Bool(b) => Some(Json::Bool(*b)),
        Value::Number(n) => Some(match n.to_i64() {
            Some(i) if n.is_integer() => Json::from(i),
            _ => serde_json::Number::from_f64(n.to_f64()).map_or(Json::Null, Json::Number),
        }),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => Some(Json::Array(
            // Unknown list elements cannot be placed; the list is incomplete, so unknown.
            items
                .iter()
                .filter_map(|v| convert(v, has_unknown))
                .collect(),
        )),
        Value::Map(map) | Value::Object(map) => Some(Json::Object(
            map.iter()
                .filter_map(|(k, v)| convert(v, has_unknown).map(|j| (k.clone(), j)))
                .collect(),
        )),
        Value::Dynamic(_, inner) => convert(inner, has_unknown),
    }
}

/// Deserializes a spec. Failure means the schema and the spec disagree: a provider bug.
pub fn to_spec<T: DeserializeOwned>(json: Json) -> Result<T, Diagnostic> {
    serde_json::from_value(json).map_err(|e| {
        Diagnostic::error(
            "Provider schema and renderer disagree",
            format!("The configuration could not be mapped for rendering: {e}. This is a bug in the provider; please report it."),
        )
    })
}

/// A render validation finding as a diagnostic at its attribute path.
pub fn invalid_to_diagnostic(invalid: &Invalid, warning: bool) -> Diagnostic {
    let mut path = AttributePath::root();
    for segment in &invalid.path {
        path = match segment {
            PathSegment::Attr(name) => path.attr(name.clone()),
            PathSegment::Index(i) => path.index(*i as i64),
            PathSegment::Key(k) => path.key(k.clone()),
        };
    }
    let d = if warning {
        Diagnostic::warning(invalid.summary.clone(), invalid.detail.clone())
    } else {
        Diagnostic::error(invalid.summary.clone(), invalid.detail.clone())
    };
    d.at(path)
}

/// The `objects` attribute: one entry per rendered object, in apply order.
pub fn objects_value(objects: &[thanos_render::Object]) -> Value {
    Value::List(
        objects
            .iter()
            .map(|o| {
                Value::object([
                    ("api_version", Value::from(o.api_version())),
                    ("kind", Value::from(o.kind())),
                    ("namespace", Value::from(o.namespace())),
                    ("name", Value::from(o.name())),
                    ("hash", Value::from(o.content_hash())),
                ])
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_null_are_left_out_and_flagged() {
        let v = Value::object([
            ("name", Value::from("a")),
            ("replicas", Value::unknown()),
            ("image", Value::Null),
            ("id", Value::from("ns/a")),
            ("labels", Value::map([("x", Value::from("1"))])),
        ]);
        let s = spec_json(&v, &[]);
        assert!(s.has_unknown);
        assert_eq!(
            s.json,
            serde_json::json!({"name": "a", "labels": {"x": "1"}})
        );
    }
}
