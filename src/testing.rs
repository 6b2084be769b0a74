//! Configurations written as JSON, for tests and benchmarks: the same path a plan takes
//! (schema defaults, model, validation) from a value written the way HCL reads, with attribute
//! and block names as keys, a single block as an object and a list block as an array.
//!
//! Also the entry points of the fuzz targets (`fuzz/`) and property tests: [`TYPE_NAMES`],
//! [`schema`] and [`validate_and_render`], which take any value of a resource's schema type.

use tfplugin::framework::Model;
use tfplugin::framework::plan::{fill_absent, with_defaults};
use tfvalue::{Number, Type, Value};
use thanos_render::receive::Discovered;
use thanos_render::validate::{Invalid, Report};

use crate::lifecycle::Kind;

pub mod samples;

/// What an attribute left out of the JSON is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Absent {
    /// Unset, as when a configuration leaves it out (then schema defaults apply).
    Null,
    /// Not known until apply, as when it comes from a resource not created yet.
    Unknown,
}

/// The Terraform value of a configuration of kind `K`.
pub fn config<K: Kind>(json: &serde_json::Value, absent: Absent) -> Value {
    let block = K::Model::block();
    let value = to_value(json, &block.implied_type(), absent);
    let value = fill_absent(&block, value);
    match absent {
        Absent::Null => with_defaults(&block, &value),
        Absent::Unknown => value,
    }
}

/// A configuration as Terraform sends it: what is left out is null, absent blocks are empty,
/// no defaults applied yet (the plan applies them).
pub fn terraform_config<K: Kind>(json: &serde_json::Value) -> Value {
    let block = K::Model::block();
    fill_absent(&block, to_value(json, &block.implied_type(), Absent::Null))
}

/// The model of a configuration, settled as the plan of a create settles it
/// ([`Kind::settle`]: a query's `tls_mode`). Panics (it is for tests) if it does not decode.
pub fn model<K: Kind>(json: &serde_json::Value, absent: Absent) -> K::Model {
    let decode = |v: &Value| {
        K::Model::from_value(v)
            .unwrap_or_else(|e| panic!("the configuration does not decode: {e:?}"))
    };
    let mut model = decode(&config::<K>(json, absent));
    let written = match absent {
        Absent::Null => decode(&terraform_config::<K>(json)),
        Absent::Unknown => decode(&config::<K>(json, absent)),
    };
    K::settle(&mut model, &written, None);
    model
}

/// What validation reports about a configuration.
pub fn findings<K: Kind>(json: &serde_json::Value, absent: Absent) -> Vec<Invalid> {
    let mut report = Report::default();
    K::validate(&model::<K>(json, absent), &mut report);
    report.0
}

/// The validated spec of a complete configuration (absent attributes unset, defaults applied),
/// or what validation reports.
pub fn spec<K: Kind>(json: &serde_json::Value) -> Result<K::Spec, Vec<Invalid>> {
    let mut report = Report::default();
    let spec = K::validate(&model::<K>(json, Absent::Null), &mut report);
    match spec {
        Some(spec) if report.0.is_empty() => Ok(spec),
        _ => Err(report.0),
    }
}

fn to_value(json: &serde_json::Value, ty: &Type, absent: Absent) -> Value {
    use serde_json::Value as J;
    match (json, ty) {
        (J::Null, _) => Value::Null,
        (_, Type::Object(o)) => {
            let map = json.as_object().expect("an object");
            Value::Object(
                o.attributes
                    .iter()
                    .map(|(name, t)| {
                        let v = match map.get(name) {
                            Some(j) => to_value(j, t, absent),
                            None if absent == Absent::Unknown => Value::unknown(),
                            None => Value::Null,
                        };
                        (name.clone(), v)
                    })
                    .collect(),
            )
        }
        (J::Array(items), Type::List(t)) => {
            Value::List(items.iter().map(|j| to_value(j, t, absent)).collect())
        }
        (J::Array(items), Type::Set(t)) => {
            Value::Set(items.iter().map(|j| to_value(j, t, absent)).collect())
        }
        (J::Object(m), Type::Map(t)) => Value::Map(
            m.iter()
                .map(|(k, j)| (k.clone(), to_value(j, t, absent)))
                .collect(),
        ),
        (J::String(s), Type::String) => Value::from(s.as_str()),
        (J::Bool(b), Type::Bool) => Value::from(*b),
        (J::Number(n), Type::Number) => Value::Number(
            Number::parse(&n.to_string()).unwrap_or_else(|e| panic!("number {n}: {e}")),
        ),
        (j, t) => panic!("{j} is not a value of type {t}"),
    }
}

/// The resource types, for harnesses (fuzz targets, property tests) that pick one from their
/// input.
pub const TYPE_NAMES: [&str; 4] = [
    crate::resources::query::TYPE_NAME,
    crate::resources::receive::TYPE_NAME,
    crate::resources::rule::TYPE_NAME,
    crate::resources::storage::TYPE_NAME,
];

/// The schema of resource type `type_name` (one of [`TYPE_NAMES`]).
pub fn schema(type_name: &str) -> Option<tfplugin::framework::Schema> {
    use crate::resources::{query, receive, rule, storage};
    Some(match type_name {
        query::TYPE_NAME => crate::lifecycle::schema::<query::Query>(),
        receive::TYPE_NAME => crate::lifecycle::schema::<receive::Receive>(),
        rule::TYPE_NAME => crate::lifecycle::schema::<rule::Rule>(),
        storage::TYPE_NAME => crate::lifecycle::schema::<storage::Storage>(),
        _ => return None,
    })
}

/// What validating and rendering a configuration value came to (see [`validate_and_render`]).
#[derive(Debug)]
pub enum Outcome {
    /// The value does not decode into the model (`replicas = 1.5`): errors at their paths.
    Undecodable(Vec<String>),
    /// Validation reported findings at their paths.
    Invalid(Vec<Invalid>),
    /// Valid so far, but not wholly known: nothing to render yet.
    Incomplete,
    /// A selector ring whose members were not discovered: known after apply.
    Undiscovered,
    /// The rendered objects.
    Rendered(thanos_render::Rendered),
    /// Rendering failed on a spec validation accepted: a bug of the provider, never the
    /// user's mistake.
    Internal(String),
}

/// A configuration value of `type_name` (of its schema type, absent blocks empty) taken the
/// way a plan takes it offline: schema defaults, the model, settling, validation, and
/// rendering of what validation accepts. For harnesses that look for inputs the rules
/// overlook; `discovered` stands for the members of selector rings.
pub fn validate_and_render(type_name: &str, value: &Value, discovered: &Discovered) -> Outcome {
    use crate::resources::{query, receive, rule, storage};
    match type_name {
        query::TYPE_NAME => outcome::<query::Query>(value, discovered),
        receive::TYPE_NAME => outcome::<receive::Receive>(value, discovered),
        rule::TYPE_NAME => outcome::<rule::Rule>(value, discovered),
        storage::TYPE_NAME => outcome::<storage::Storage>(value, discovered),
        other => Outcome::Undecodable(vec![format!("no resource type {other:?}")]),
    }
}

fn outcome<K: Kind>(value: &Value, discovered: &Discovered) -> Outcome {
    let block = K::Model::block();
    let planned = with_defaults(&block, &fill_absent(&block, value.clone()));
    let decode = |v: &Value| {
        K::Model::from_value(v).map_err(|errors| {
            errors
                .iter()
                .map(|e| format!("{}: {}", e.path, e.message))
                .collect::<Vec<_>>()
        })
    };
    let (mut model, written) = match (decode(&planned), decode(value)) {
        (Ok(m), Ok(w)) => (m, w),
        (Err(e), _) | (_, Err(e)) => return Outcome::Undecodable(e),
    };
    K::settle(&mut model, &written, None);
    let mut report = Report::default();
    let spec = K::validate(&model, &mut report);
    if !report.0.is_empty() {
        return Outcome::Invalid(report.0);
    }
    // What a plan computes besides the objects must not fail either.
    K::set_computed(&mut model, discovered);
    let _ = K::warnings(&model, None, discovered);
    let Some(spec) = spec else {
        return Outcome::Incomplete;
    };
    let context = thanos_render::RenderContext {
        thanos_image: crate::provider::DEFAULT_THANOS_IMAGE.into(),
        envoy_image: crate::provider::DEFAULT_ENVOY_IMAGE.into(),
    };
    match K::render(&spec, &context, discovered) {
        Ok(rendered) => Outcome::Rendered(rendered),
        Err(thanos_render::Error::Undiscovered { .. }) => Outcome::Undiscovered,
        // Only the cluster can make a discovered ring invalid (no members): the user's to fix.
        Err(thanos_render::Error::Invalid(findings)) => Outcome::Invalid(findings),
        Err(e) => Outcome::Internal(e.to_string()),
    }
}
