//! Configurations written as JSON, for tests and benchmarks: the same path a plan takes
//! (schema defaults, model, validation) from a value written the way HCL reads, with attribute
//! and block names as keys, a single block as an object and a list block as an array.

use tfplugin::framework::Model;
use tfplugin::framework::plan::{fill_absent, with_defaults};
use tfvalue::{Number, Type, Value};
use thanos_render::validate::{Invalid, Report};

use crate::lifecycle::Kind;

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
