//! What the fuzz targets share: the provider served in process (as Terraform reaches it, minus
//! the socket), configuration values generated from fuzz input along a resource's schema type,
//! and the one assertion every target makes about diagnostics: none reports a bug of the
//! provider (`tfplugin::framework::INTERNAL_ERROR_MARK`).
//!
//! Generated strings come mostly from `testing::samples` (the forms the rules care about),
//! chosen by the attribute's name, so that libFuzzer's mutations spend their time on the rules
//! rather than on finding a valid duration by chance.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use terraform_provider_thanos::provider::ThanosProvider;
use terraform_provider_thanos::testing::{self, samples};
use tfplugin::framework::{INTERNAL_ERROR_MARK, ProviderService, Schema};
use tfplugin::pb::tfplugin6 as pb;
use tfvalue::{Number, Type, Value};

/// The provider, served in process, never configured: everything runs offline.
pub fn service() -> &'static ProviderService<ThanosProvider> {
    static SERVICE: OnceLock<ProviderService<ThanosProvider>> = OnceLock::new();
    SERVICE.get_or_init(|| ProviderService::new(ThanosProvider::new()))
}

/// Runs a future of the service to completion.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
        })
        .block_on(f)
}

/// Every resource type with its schema, built once.
pub fn resources() -> &'static [(&'static str, Schema, Type)] {
    static RESOURCES: OnceLock<Vec<(&'static str, Schema, Type)>> = OnceLock::new();
    RESOURCES.get_or_init(|| {
        testing::TYPE_NAMES
            .iter()
            .map(|name| {
                let schema = testing::schema(name).expect("a resource type");
                let ty = schema.value_type();
                (*name, schema, ty)
            })
            .collect()
    })
}

/// Panics (a finding) when a diagnostic reports a bug of the provider.
pub fn assert_no_internal_error(what: &str, diagnostics: &[pb::Diagnostic]) {
    for d in diagnostics {
        assert!(
            !d.summary.contains(INTERNAL_ERROR_MARK) && !d.detail.contains(INTERNAL_ERROR_MARK),
            "{what}: an internal error from input: {}: {}",
            d.summary,
            d.detail
        );
    }
}

pub fn has_errors(diagnostics: &[pb::Diagnostic]) -> bool {
    diagnostics
        .iter()
        .any(|d| d.severity == pb::diagnostic::Severity::Error as i32)
}

pub fn dynamic(value: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: tfvalue::msgpack::encode(value, ty).ok()?,
        json: Vec::new(),
    })
}

fn string(u: &mut Unstructured<'_>, attribute: &str) -> Result<String> {
    let pools = match u.int_in_range(0..=9u8)? {
        0..=5 => samples::for_attribute(attribute),
        6..=8 => samples::ALL,
        _ => return u.arbitrary::<String>(),
    };
    let pool = pools[u.choose_index(pools.len())?];
    let s = pool[u.choose_index(pool.len())?];
    // Now and then a known form with a twist: repeated, or with a suffix.
    Ok(match u.int_in_range(0..=15u8)? {
        0 => s.repeat(u.int_in_range(2..=40usize)?),
        1 => format!("{s}{}", u.arbitrary::<char>()?),
        _ => s.to_owned(),
    })
}

fn number(u: &mut Unstructured<'_>) -> Result<Number> {
    const INTERESTING: &[&str] = &[
        "0",
        "1",
        "2",
        "3",
        "-1",
        "1.5",
        "0.000001",
        "1e30",
        "-1e30",
        "2147483647",
        "2147483648",
        "9223372036854775807",
        "9223372036854775808",
        "65535",
        "65536",
        "100",
    ];
    if u.ratio(3, 4)? {
        let s = INTERESTING[u.choose_index(INTERESTING.len())?];
        return Ok(Number::parse(s).expect("a number"));
    }
    Ok(Number::from(u.arbitrary::<i64>()?))
}

/// A value of type `ty` for the attribute `attribute` (its name picks the dictionary):
/// sometimes null, rarely unknown, small collections.
pub fn value(u: &mut Unstructured<'_>, ty: &Type, attribute: &str, depth: u32) -> Result<Value> {
    match u.int_in_range(0..=31u8)? {
        0..=9 => return Ok(Value::Null),
        10 => return Ok(Value::unknown()),
        _ => {}
    }
    known(u, ty, attribute, depth)
}

fn known(u: &mut Unstructured<'_>, ty: &Type, attribute: &str, depth: u32) -> Result<Value> {
    let len = |u: &mut Unstructured<'_>| -> Result<usize> {
        if depth > 6 {
            Ok(0)
        } else {
            u.int_in_range(0..=3usize)
        }
    };
    Ok(match ty {
        Type::String => Value::String(string(u, attribute)?),
        Type::Number => Value::Number(number(u)?),
        Type::Bool => Value::Bool(u.arbitrary()?),
        Type::Dynamic => {
            Value::Dynamic(Type::String, Box::new(Value::String(string(u, attribute)?)))
        }
        Type::List(t) => {
            let n = len(u)?;
            Value::List(
                (0..n)
                    .map(|_| known(u, t, attribute, depth + 1))
                    .collect::<Result<_>>()?,
            )
        }
        Type::Set(t) => {
            let n = len(u)?;
            let mut items: Vec<Value> = Vec::new();
            for _ in 0..n {
                let v = known(u, t, attribute, depth + 1)?;
                if !items.contains(&v) {
                    items.push(v);
                }
            }
            Value::Set(items)
        }
        Type::Map(t) => {
            let n = len(u)?;
            let mut map = BTreeMap::new();
            for _ in 0..n {
                let key = string(u, "label")?;
                map.insert(key, known(u, t, attribute, depth + 1)?);
            }
            Value::Map(map)
        }
        Type::Tuple(ts) => Value::Tuple(
            ts.iter()
                .map(|t| known(u, t, attribute, depth + 1))
                .collect::<Result<_>>()?,
        ),
        Type::Object(o) => {
            let mut attrs = BTreeMap::new();
            for (name, t) in &o.attributes {
                // `name` is nearly always set, so the rest of the configuration is judged.
                let v = if name == "name" && depth == 0 && u.ratio(15, 16)? {
                    Value::String(string(u, name)?)
                } else {
                    value(u, t, name, depth + 1)?
                };
                attrs.insert(name.clone(), v);
            }
            Value::Object(attrs)
        }
    })
}

/// Members of selector rings, as discovery would find them.
pub fn discovered(u: &mut Unstructured<'_>) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out = BTreeMap::new();
    for _ in 0..u.int_in_range(0..=3usize)? {
        let ring = string(u, "name")?;
        let members = (0..u.int_in_range(0..=4usize)?)
            .map(|_| string(u, "endpoint"))
            .collect::<Result<Vec<_>>>()?;
        out.insert(ring, members);
    }
    Ok(out)
}

/// A configuration of resource type `type_name`, whose schema type is `ty`: every attribute
/// present (null when not set). Half of them start from `samples::valid_configuration` with
/// some top-level attributes generated (so most reach the rules and rendering); the others
/// are generated whole, `name` nearly always set.
pub fn config(u: &mut Unstructured<'_>, type_name: &str, ty: &Type) -> Result<Value> {
    let base = u
        .arbitrary::<bool>()?
        .then(|| samples::valid_configuration(type_name))
        .flatten()
        .and_then(|json| tfvalue::json::decode(json.to_string().as_bytes(), ty).ok());
    let (Some(Value::Object(mut attrs)), Type::Object(o)) = (base, ty) else {
        return known(u, ty, "", 0);
    };
    for (name, t) in &o.attributes {
        if u.ratio(1, 6)? {
            attrs.insert(name.clone(), value(u, t, name, 1)?);
        }
    }
    Ok(Value::Object(attrs))
}
