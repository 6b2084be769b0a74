//! cty JSON: the raw state `UpgradeResourceState` receives, and encoding back out.

use tfvalue::{AttributePath, Error, Number, Type, Value, json, msgpack};

fn num(s: &str) -> Value {
    Value::Number(Number::parse(s).unwrap())
}

fn state_type() -> Type {
    Type::object([
        ("id", Type::String),
        ("replicas", Type::Number),
        ("big", Type::Number),
        ("huge", Type::Number),
        ("ratio", Type::Number),
        ("labels", Type::map(Type::String)),
        ("added_later", Type::String),
        ("dyn", Type::Dynamic),
        ("tags", Type::set(Type::String)),
        ("enabled", Type::Bool),
        (
            "rules",
            Type::list(Type::object([
                ("name", Type::String),
                ("weight", Type::Number),
            ])),
        ),
        ("pair", Type::tuple([Type::String, Type::Number])),
    ])
}

/// Pretty-printed as Terraform stores `attributes` in the state file.
const STATE: &str = r#"{
  "id": "thanos-1",
  "replicas": 3,
  "big": 12345678901234567890123.5,
  "huge": 1e400,
  "ratio": "0.1",
  "labels": {"app": "thanos", "tier": "query"},
  "removed_attribute": {"anything": [1, 2, 3]},
  "dyn": {"value": {"x": 1, "y": ["a"]}, "type": ["object", {"x": "number", "y": ["tuple", ["string"]]}]},
  "tags": ["b", "a"],
  "enabled": true,
  "rules": [{"name": "r1", "weight": 0.5, "gone": null}],
  "pair": ["p", -7]
}"#;

fn expected_state() -> Value {
    Value::object([
        ("id", "thanos-1".into()),
        ("replicas", num("3")),
        ("big", num("12345678901234567890123.5")),
        ("huge", num("1e400")),
        ("ratio", num("0.1")),
        (
            "labels",
            Value::map([("app", "thanos".into()), ("tier", "query".into())]),
        ),
        ("added_later", Value::Null),
        (
            "dyn",
            Value::dynamic(
                Type::object([("x", Type::Number), ("y", Type::tuple([Type::String]))]),
                Value::object([("x", num("1")), ("y", Value::Tuple(vec!["a".into()]))]),
            ),
        ),
        ("tags", Value::Set(vec!["b".into(), "a".into()])),
        ("enabled", true.into()),
        (
            "rules",
            Value::List(vec![Value::object([
                ("name", "r1".into()),
                ("weight", num("0.5")),
            ])]),
        ),
        ("pair", Value::Tuple(vec!["p".into(), num("-7")])),
    ])
}

#[test]
fn decodes_state_leniently() {
    let got = json::decode(STATE.as_bytes(), &state_type()).unwrap();
    assert_eq!(got, expected_state());
    // The big number is kept exactly, not rounded through f64.
    assert_eq!(
        got.get_attr("big")
            .and_then(Value::as_number)
            .unwrap()
            .to_string(),
        "12345678901234567890123.5"
    );
    got.conforms(&state_type()).unwrap();
}

#[test]
fn strict_decoding_rejects_removed_attributes() {
    let err = json::decode_strict(STATE.as_bytes(), &state_type()).unwrap_err();
    assert_eq!(err.to_string(), "removed_attribute: unsupported attribute");
    let err = json::decode_strict(
        br#"{"rules":[{"name":"r","weight":1,"gone":null}]}"#,
        &state_type(),
    )
    .unwrap_err();
    assert_eq!(
        err.path(),
        &AttributePath::root().attr("rules").index(0).attr("gone")
    );
}

#[test]
fn state_upgrade_flow_to_msgpack() {
    // UpgradeResourceState: JSON state in, msgpack out, dynamic {"value","type"} becomes
    // [typeJSON, value].
    let ty = state_type();
    let v = json::decode(STATE.as_bytes(), &ty).unwrap();
    let bytes = msgpack::encode(&v, &ty).unwrap();
    assert_eq!(msgpack::decode(&bytes, &ty).unwrap(), v);
    let dyn_start = bytes
        .windows(4)
        .position(|w| w == b"\xa3dyn")
        .expect("dyn attribute");
    assert_eq!(&bytes[dyn_start + 4..dyn_start + 7], &[0x92, 0xc4, 0x32]);
}

#[test]
fn encodes_compact_sorted_and_exact() {
    let ty = state_type();
    let v = json::decode(STATE.as_bytes(), &ty).unwrap();
    let text = String::from_utf8(json::encode(&v, &ty).unwrap()).unwrap();
    let huge = format!("1{}", "0".repeat(400));
    let want = format!(
        concat!(
            r#"{{"added_later":null,"big":12345678901234567890123.5,"#,
            r#""dyn":{{"value":{{"x":1,"y":["a"]}},"type":["object",{{"x":"number","y":["tuple",["string"]]}}]}},"#,
            r#""enabled":true,"huge":{},"id":"thanos-1","labels":{{"app":"thanos","tier":"query"}},"#,
            r#""pair":["p",-7],"ratio":0.1,"replicas":3,"rules":[{{"name":"r1","weight":0.5}}],"#,
            r#""tags":["a","b"]}}"#
        ),
        huge
    );
    assert_eq!(text, want);
    // And it decodes back to the same value (property: decode(encode(v)) == v).
    assert_eq!(json::decode(text.as_bytes(), &ty).unwrap(), v);
}

#[test]
fn encode_refuses_unknowns_with_their_path() {
    let ty = Type::object([("labels", Type::map(Type::String))]);
    let v = Value::object([("labels", Value::map([("app", Value::unknown())]))]);
    let err = json::encode(&v, &ty).unwrap_err();
    assert_eq!(
        err,
        Error::UnknownInJson {
            path: AttributePath::root().attr("labels").key("app")
        }
    );
    assert_eq!(
        err.to_string(),
        "labels[\"app\"]: unknown values cannot be represented in JSON"
    );
    assert!(json::to_serde(&v, &ty).is_err());
}

#[test]
fn null_empty_and_mismatch() {
    assert_eq!(json::decode(b"", &state_type()).unwrap(), Value::Null);
    assert_eq!(json::decode(b" null ", &state_type()).unwrap(), Value::Null);
    assert_eq!(json::decode(b"null", &Type::Dynamic).unwrap(), Value::Null);
    let err = json::decode(br#"{"replicas":"three"}"#, &state_type()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "replicas: invalid number \"three\": no digits"
    );
    let err = json::decode(br#"{"enabled":1}"#, &state_type()).unwrap_err();
    assert_eq!(err.to_string(), "enabled: expected bool, found JSON number");
    let err = json::decode(br#"{"pair":["a"]}"#, &state_type()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "pair: expected a tuple of 2 elements, found 1"
    );
    let err = json::decode(br#"{"dyn":{"value":1}}"#, &state_type()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dyn: dynamic value: the \"type\" property is missing"
    );
    let err = json::decode(br#"{"id": }"#, &state_type()).unwrap_err();
    assert!(matches!(err, Error::Json { .. }), "{err}");
    // cty's primitive conversions.
    let prims = Type::object([("s", Type::String), ("t", Type::String), ("b", Type::Bool)]);
    assert_eq!(
        json::decode(br#"{"s": 1.50, "t": false, "b": "true"}"#, &prims).unwrap(),
        Value::object([
            ("s", "1.50".into()),
            ("t", "false".into()),
            ("b", true.into())
        ])
    );
    let err = json::decode(br#"{"b": "yes"}"#, &prims).unwrap_err();
    assert_eq!(err.to_string(), "b: expected bool, found JSON string");
    // A dynamic with a typed null value.
    assert_eq!(
        json::decode(br#"{"value":null,"type":"string"}"#, &Type::Dynamic).unwrap(),
        Value::dynamic(Type::String, Value::Null)
    );
}

#[test]
fn to_serde_values() {
    let ty = Type::object([
        ("a", Type::Number),
        ("b", Type::Number),
        ("c", Type::set(Type::String)),
        ("d", Type::Dynamic),
        ("e", Type::String),
    ]);
    let v = Value::object([
        ("a", num("0.1")),
        ("b", num("18446744073709551615")),
        ("c", Value::set(["x"])),
        ("d", Value::dynamic(Type::Bool, true.into())),
    ]);
    let got = json::to_serde(&v, &ty).unwrap();
    assert_eq!(
        got,
        serde_json::json!({
            "a": 0.1,
            "b": 18446744073709551615u64,
            "c": ["x"],
            "d": {"value": true, "type": "bool"},
            "e": null
        })
    );
    let err = json::to_serde(&Value::object([("a", num("1e400"))]), &ty).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidNumber { path, .. } if *path == AttributePath::root().attr("a")),
        "{err}"
    );
}
