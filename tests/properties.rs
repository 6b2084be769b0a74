//! Property tests (proptest) over configurations generated along each resource's schema type,
//! strings drawn mostly from `testing::samples`:
//!
//! - the codecs: a value of the schema type survives msgpack (unknowns included) and JSON
//!   (wholly known values) unchanged, and encoding is a fixed point;
//! - "validation accepts" implies "rendering succeeds and is deterministic", and never an
//!   internal error;
//! - with THANOS_TEST_KUBECONFIG, a sample of what rendered is applied to the API server as a
//!   server-side dry run: Kubernetes accepts every object.
//!
//! The runs are seeded (the same cases every time); PROPTEST_CASES sets how many.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::json;
use terraform_provider_thanos::testing::{self, Outcome, samples, validate_and_render};
use tfvalue::{Number, Type, Value, json as tfjson, msgpack};

/// How a generated configuration starts.
#[derive(Clone, Copy)]
struct Shape {
    /// Unknown values may appear (msgpack carries them; JSON and rendering do not).
    unknowns: bool,
    /// In 1/n of the optional attributes a value is generated; the others stay as the base.
    change_one_in: u32,
}

fn strings(attribute: &str) -> BoxedStrategy<String> {
    let hinted: Vec<&'static str> = samples::for_attribute(attribute)
        .iter()
        .flat_map(|p| p.iter().copied())
        .collect();
    let all: Vec<&'static str> = samples::ALL
        .iter()
        .flat_map(|p| p.iter().copied())
        .collect();
    prop_oneof![
        6 => select(hinted).prop_map(str::to_owned),
        3 => select(all).prop_map(str::to_owned),
        1 => "\\PC{0,16}",
    ]
    .boxed()
}

fn numbers() -> BoxedStrategy<Number> {
    let interesting: Vec<Number> = ["0", "1", "2", "3", "-1", "1.5", "1e30", "65536"]
        .iter()
        .map(|s| Number::parse(s).unwrap())
        .collect();
    prop_oneof![
        3 => select(interesting),
        1 => any::<i64>().prop_map(Number::from),
    ]
    .boxed()
}

fn value(ty: &Type, attribute: &str, depth: u32, shape: Shape) -> BoxedStrategy<Value> {
    let known = known(ty, attribute, depth, shape);
    if shape.unknowns {
        prop_oneof![3 => Just(Value::Null), 1 => Just(Value::unknown()), 8 => known].boxed()
    } else {
        prop_oneof![3 => Just(Value::Null), 8 => known].boxed()
    }
}

fn known(ty: &Type, attribute: &str, depth: u32, shape: Shape) -> BoxedStrategy<Value> {
    let len = if depth > 5 { 0..1 } else { 0..3 };
    match ty {
        Type::String => strings(attribute).prop_map(Value::String).boxed(),
        Type::Number => numbers().prop_map(Value::Number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Dynamic => strings(attribute)
            .prop_map(|s| Value::Dynamic(Type::String, Box::new(Value::String(s))))
            .boxed(),
        Type::List(t) => prop::collection::vec(known(t, attribute, depth + 1, shape), len)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(t) => prop::collection::vec(known(t, attribute, depth + 1, shape), len)
            .prop_map(|items| {
                let mut unique: Vec<Value> = Vec::new();
                for v in items {
                    if !unique.contains(&v) {
                        unique.push(v);
                    }
                }
                Value::Set(unique)
            })
            .boxed(),
        Type::Map(t) => prop::collection::btree_map(
            strings("label"),
            known(t, attribute, depth + 1, shape),
            len,
        )
        .prop_map(Value::Map)
        .boxed(),
        Type::Tuple(ts) => ts
            .iter()
            .map(|t| known(t, attribute, depth + 1, shape))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Object(o) => o
            .attributes
            .iter()
            .map(|(name, t)| {
                let name = name.clone();
                value(t, &name, depth + 1, shape).prop_map(move |v| (name.clone(), v))
            })
            .collect::<Vec<_>>()
            .prop_map(|attrs| Value::Object(attrs.into_iter().collect()))
            .boxed(),
    }
}

/// A configuration of `type_name` that starts from a valid one (`base`) and has about one in
/// `shape.change_one_in` of its top-level attributes generated: most stay valid, so the
/// rules and rendering are reached.
fn configuration(type_name: &str, shape: Shape) -> BoxedStrategy<Value> {
    let schema = testing::schema(type_name).unwrap();
    let Type::Object(object) = schema.value_type() else {
        unreachable!("a resource is an object")
    };
    let base = base(type_name, &schema);
    object
        .attributes
        .iter()
        .map(|(name, t)| {
            let name = name.clone();
            let kept = base.get_attr(&name).cloned().unwrap_or(Value::Null);
            prop_oneof![
                shape.change_one_in - 1 => Just(kept),
                1 => value(t, &name, 1, shape),
            ]
            .prop_map(move |v| (name.clone(), v))
        })
        .collect::<Vec<_>>()
        .prop_map(|attrs| Value::Object(attrs.into_iter().collect()))
        .boxed()
}

/// [`samples::valid_configuration`] as the value Terraform sends.
fn base(type_name: &str, schema: &tfplugin::framework::Schema) -> Value {
    let json = samples::valid_configuration(type_name).expect("a resource type");
    let value = json_to_value(&json, &schema.value_type());
    tfplugin::framework::plan::fill_absent(&schema.block, value)
}

fn json_to_value(j: &serde_json::Value, ty: &Type) -> Value {
    tfjson::decode(j.to_string().as_bytes(), ty).expect("a base configuration of the type")
}

fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

#[test]
fn values_of_every_schema_type_survive_msgpack_and_json() {
    let mut types: Vec<(String, Type)> = testing::TYPE_NAMES
        .iter()
        .map(|n| (n.to_string(), testing::schema(n).unwrap().value_type()))
        .collect();
    types.push((
        "provider".into(),
        terraform_provider_thanos::provider::schema().value_type(),
    ));
    for (name, ty) in types {
        let any = Shape {
            unknowns: true,
            change_one_in: 1,
        };
        let strategy = known(&ty, "", 0, any);
        runner(64)
            .run(&strategy, |v| {
                let bytes =
                    msgpack::encode(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let back =
                    msgpack::decode(&bytes, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(&back, &v, "msgpack round trip of {}", name);
                prop_assert_eq!(
                    msgpack::encode(&back, &ty).unwrap(),
                    bytes,
                    "msgpack fixed point"
                );
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let known_only = Shape {
            unknowns: false,
            change_one_in: 1,
        };
        let strategy = known(&ty, "", 0, known_only);
        runner(64)
            .run(&strategy, |v| {
                let text =
                    tfjson::encode(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let back =
                    tfjson::decode(&text, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(&back, &v, "JSON round trip of {}", name);
                prop_assert_eq!(
                    tfjson::encode(&back, &ty).unwrap(),
                    text,
                    "JSON fixed point"
                );
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Rendered configurations collected for the dry run.
type Sample = Vec<(String, thanos_render::Rendered)>;

fn accepted_configurations_render_deterministically(sample: &mut Sample) {
    for type_name in testing::TYPE_NAMES {
        let shape = Shape {
            unknowns: false,
            change_one_in: 6,
        };
        let strategy = configuration(type_name, shape);
        // The runner takes an `Fn`: counts and the sample go through cells.
        let rendered = std::cell::Cell::new(0u32);
        let invalid = std::cell::Cell::new(0u32);
        let sampled = std::cell::RefCell::new(&mut *sample);
        runner(96)
            .run(&strategy, |config| {
                match validate_and_render(type_name, &config, &BTreeMap::new()) {
                    Outcome::Internal(e) => {
                        return Err(TestCaseError::fail(format!(
                            "rendering failed on a validated spec: {e}"
                        )));
                    }
                    Outcome::Rendered(objects) => {
                        let again = validate_and_render(type_name, &config, &BTreeMap::new());
                        let Outcome::Rendered(again) = again else {
                            return Err(TestCaseError::fail(format!("then: {again:?}")));
                        };
                        prop_assert_eq!(&again, &objects, "rendering is deterministic");
                        rendered.set(rendered.get() + 1);
                        let mut sampled = sampled.borrow_mut();
                        if sampled.iter().filter(|(t, _)| t == type_name).count() < 8 {
                            sampled.push((type_name.to_owned(), objects));
                        }
                    }
                    Outcome::Invalid(_) | Outcome::Undecodable(_) => invalid.set(invalid.get() + 1),
                    Outcome::Incomplete | Outcome::Undiscovered => {}
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{type_name}: {e}"));
        // Both sides of the property are exercised, or the test proves nothing.
        let (rendered, invalid) = (rendered.get(), invalid.get());
        assert!(
            rendered > 0 && invalid > 0,
            "{type_name}: {rendered} rendered, {invalid} refused"
        );
    }
}

#[test]
fn accepted_configurations_render_deterministically_and_the_api_server_takes_them() {
    let mut sample = Sample::new();
    accepted_configurations_render_deterministically(&mut sample);
    let Ok(kubeconfig) = std::env::var("THANOS_TEST_KUBECONFIG") else {
        eprintln!("THANOS_TEST_KUBECONFIG not set: no dry run against an API server");
        return;
    };
    dry_run(&kubeconfig, &sample);
}

/// Every sampled object, server-side applied with `--dry-run=server` into a namespace made
/// for it: Kubernetes' own validation (and admission) accepts it.
fn dry_run(kubeconfig: &str, sample: &Sample) {
    let root = env!("CARGO_MANIFEST_DIR");
    let kubectl = std::process::Command::new(format!("{root}/scripts/tools.sh"))
        .args(["path", "kubectl"])
        .output()
        .expect("scripts/tools.sh path kubectl");
    let kubectl = String::from_utf8_lossy(&kubectl.stdout).trim().to_owned();
    let run = |args: &[&str], stdin: Option<String>| {
        use std::io::Write;
        let mut child = std::process::Command::new(&kubectl)
            .arg(format!("--kubeconfig={kubeconfig}"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("kubectl");
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let mut namespaces: Vec<String> = sample
        .iter()
        .flat_map(|(_, r)| r.objects.iter().map(|o| o.namespace().to_owned()))
        .collect();
    namespaces.sort();
    namespaces.dedup();
    // Only the namespaces made here are deleted afterwards.
    let made: Vec<&String> = namespaces
        .iter()
        .filter(|ns| run(&["create", "namespace", ns], None).0)
        .collect();
    // One kubectl per configuration: its objects as a List (kubectl names the one refused).
    let mut refused = Vec::new();
    let mut objects = 0;
    for (type_name, rendered) in sample {
        let items: Vec<serde_json::Value> = rendered
            .objects
            .iter()
            .filter_map(|o| o.apply_json())
            .collect();
        objects += items.len();
        let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
        let (ok, out) = run(
            &[
                "apply",
                "--server-side",
                "--dry-run=server",
                "--field-manager=terraform-provider-thanos",
                "-f",
                "-",
            ],
            Some(list.to_string()),
        );
        if !ok {
            refused.push(format!("{type_name}: {out}"));
        }
    }
    eprintln!(
        "dry run: {objects} objects of {} configurations",
        sample.len()
    );
    for ns in made {
        let _ = run(&["delete", "namespace", ns, "--wait=false"], None);
    }
    assert!(
        refused.is_empty(),
        "the API server refused:\n{}",
        refused.join("\n")
    );
    assert!(!sample.is_empty(), "nothing rendered to dry-run");
}
