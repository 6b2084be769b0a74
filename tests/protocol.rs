//! Protocol tests: the real binary, launched the way Terraform launches it (magic cookie,
//! protocol versions, a P-521 CA:TRUE client certificate), driven through a real gRPC client
//! over the handshake it prints: unix socket, mutual TLS, ALPN h2.
//!
//! These need no Terraform, no cluster and no network.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use terraform_provider_thanos::lifecycle;
use terraform_provider_thanos::resources::{query, receive, storage};
use tfplugin::pb::plugin::grpc_controller_client::GrpcControllerClient;
use tfplugin::pb::tfplugin6 as pb;
use tfplugin::pb::tfplugin6::provider_client::ProviderClient;
use tfvalue::{AttributePath, Type, Value};
use tonic::transport::Identity;

#[path = "support/plugin.rs"]
mod support;
use support::{BINARY, Plugin, terraform_like_client_cert};

fn dv(value: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: tfvalue::msgpack::encode(value, ty).unwrap(),
        json: vec![],
    })
}

fn decode(dv: &Option<pb::DynamicValue>, ty: &Type) -> Value {
    tfvalue::msgpack::decode(&dv.as_ref().expect("value present").msgpack, ty).unwrap()
}

fn paths(diags: &[pb::Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .map(|d| {
            d.attribute
                .as_ref()
                .map(|p| {
                    p.steps
                        .iter()
                        .map(|s| match &s.selector {
                            Some(pb::attribute_path::step::Selector::AttributeName(n)) => {
                                format!(".{n}")
                            }
                            Some(pb::attribute_path::step::Selector::ElementKeyInt(i)) => {
                                format!("[{i}]")
                            }
                            Some(pb::attribute_path::step::Selector::ElementKeyString(k)) => {
                                format!("[{k:?}]")
                            }
                            None => String::new(),
                        })
                        .collect::<String>()
                })
                .unwrap_or_default()
        })
        .collect()
}

fn errors(diags: &[pb::Diagnostic]) -> Vec<&pb::Diagnostic> {
    diags.iter().filter(|d| d.severity == 1).collect()
}

/// A full configuration object for `ty` with the given top-level values; every other attribute
/// null and every list block empty, as Terraform sends it.
fn config(schema: &tfplugin::framework::Schema, set: &[(&str, Value)]) -> Value {
    let mut value = tfplugin::framework::plan::fill_absent(
        &schema.block,
        Value::object(Vec::<(String, Value)>::new()),
    );
    for (k, v) in set {
        *value.get_attr_mut(k).unwrap() = v.clone();
    }
    value
}

#[test]
fn run_by_hand_explains_itself_and_fails() {
    let out = Command::new(BINARY)
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing on stdout without Terraform");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("plugin for Terraform and OpenTofu"),
        "{stderr}"
    );
}

#[tokio::test]
async fn handshake_prints_exactly_one_line_and_certificate_verifies_for_localhost() {
    let plugin = Plugin::launch();
    assert!(plugin.socket.is_absolute());
    // The connection below verifies the printed certificate for `localhost`, like Go does.
    let mut client = plugin.provider().await;
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(schema.provider.is_some());
}

#[tokio::test]
async fn mutual_tls_rejects_clients_without_the_pinned_certificate() {
    let plugin = Plugin::launch();
    // No client certificate at all.
    let anonymous = match plugin.channel_with(None).await {
        Ok(channel) => ProviderClient::new(channel)
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .is_err(),
        Err(_) => true,
    };
    assert!(anonymous, "a client without a certificate must be refused");
    // A certificate of the same shape that Terraform did not hand us.
    let stranger = terraform_like_client_cert();
    let impostor = match plugin
        .channel_with(Some(Identity::from_pem(
            &stranger.cert_pem,
            &stranger.key_pem,
        )))
        .await
    {
        Ok(channel) => ProviderClient::new(channel)
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .is_err(),
        Err(_) => true,
    };
    assert!(
        impostor,
        "a client with another certificate must be refused"
    );
    // And the right one still works afterwards.
    plugin
        .provider()
        .await
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap();
}

#[tokio::test]
async fn schema_lists_every_resource_with_descriptions_everywhere() {
    let plugin = Plugin::launch();
    let schema = plugin
        .provider()
        .await
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    let mut names: Vec<_> = schema.resource_schemas.keys().cloned().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "thanos_query",
            "thanos_receive",
            "thanos_rule",
            "thanos_storage"
        ]
    );
    assert!(schema.server_capabilities.unwrap().plan_destroy);

    fn undescribed(block: &pb::schema::Block, at: &str, out: &mut Vec<String>) {
        if block.description.is_empty() {
            out.push(format!("{at} (block)"));
        }
        for a in &block.attributes {
            if a.description.is_empty() {
                out.push(format!("{at}.{}", a.name));
            }
            if let Some(nested) = &a.nested_type {
                for n in &nested.attributes {
                    if n.description.is_empty() {
                        out.push(format!("{at}.{}.{}", a.name, n.name));
                    }
                }
            }
        }
        for b in &block.block_types {
            undescribed(
                b.block.as_ref().unwrap(),
                &format!("{at}.{}", b.type_name),
                out,
            );
        }
    }
    let mut missing = Vec::new();
    undescribed(
        schema.provider.as_ref().unwrap().block.as_ref().unwrap(),
        "provider",
        &mut missing,
    );
    for (name, s) in &schema.resource_schemas {
        undescribed(s.block.as_ref().unwrap(), name, &mut missing);
    }
    assert!(
        missing.is_empty(),
        "attributes without description: {missing:?}"
    );
}

#[tokio::test]
async fn validation_reports_attribute_paths_and_tolerates_unknowns() {
    let plugin = Plugin::launch();
    let mut client = plugin.provider().await;
    let schema = lifecycle::schema::<receive::Receive>();
    let ty = schema.value_type();

    // Unknown values (variables during `terraform validate`) are never errors.
    let unknowns = config(
        &schema,
        &[
            ("name", Value::unknown()),
            ("replicas", Value::unknown()),
            ("log_level", Value::unknown()),
        ],
    );
    let resp = client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: receive::TYPE_NAME.into(),
            config: dv(&unknowns, &ty),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&resp.diagnostics).is_empty(),
        "{:?}",
        resp.diagnostics
    );

    // Invalid values are reported where they are.
    let bad = config(
        &schema,
        &[
            ("name", "Router".into()),
            ("log_level", "loud".into()),
            ("id", "user-set".into()),
        ],
    );
    let resp = client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: receive::TYPE_NAME.into(),
            config: dv(&bad, &ty),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    let mut got = paths(&resp.diagnostics);
    got.sort();
    assert_eq!(got, [".id", ".log_level", ".name"]);
}

/// A storage configuration whose `object_storage` is S3 with write-only keys.
fn storage_with_keys(schema: &tfplugin::framework::Schema, secret: &str) -> Value {
    use tfplugin::framework::plan::fill_absent;
    let os = &schema.block.get_block("object_storage").unwrap().block;
    let s3 = fill_absent(
        &os.get_block("s3").unwrap().block,
        Value::object([
            ("bucket", Value::from("thanos")),
            ("endpoint", Value::from("minio.minio.svc:9000")),
            ("access_key_wo", Value::from("AKIAPROTOCOLTEST")),
            ("secret_key_wo", Value::from(secret)),
            ("credentials_wo_version", Value::from(1i64)),
        ]),
    );
    let gateway = fill_absent(
        &schema.block.get_block("gateway").unwrap().block,
        Value::object(Vec::<(String, Value)>::new()),
    );
    config(
        schema,
        &[
            ("name", "lts".into()),
            (
                "object_storage",
                fill_absent(os, Value::object([("s3", s3)])),
            ),
            ("gateway", gateway),
        ],
    )
}

/// Write-only credentials over the wire: the schema flags them; a client that does not say it
/// supports write-only attributes (Terraform or OpenTofu before 1.11, which would store the
/// value) gets an error at each one, naming the versions that do; a client that does gets a
/// plan in which they are null, with the owned Secret's hash computed without them.
#[tokio::test]
async fn write_only_credentials_need_a_supporting_client_and_are_never_planned() {
    let plugin = Plugin::launch();
    let mut client = plugin.provider().await;
    let schema = lifecycle::schema::<storage::Storage>();
    let ty = schema.value_type();

    let resp = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let s3 = resp.resource_schemas[storage::TYPE_NAME]
        .block
        .as_ref()
        .unwrap()
        .block_types
        .iter()
        .find(|b| b.type_name == "object_storage")
        .and_then(|b| b.block.as_ref())
        .unwrap()
        .block_types
        .iter()
        .find(|b| b.type_name == "s3")
        .and_then(|b| b.block.as_ref())
        .unwrap();
    let flag = |name: &str| {
        s3.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.write_only)
            .unwrap()
    };
    assert!(flag("access_key_wo") && flag("secret_key_wo"));
    assert!(!flag("credentials_wo_version") && !flag("bucket"));

    let secret = "wJalrXUtnFEMI-protocol-secret";
    let cfg = storage_with_keys(&schema, secret);
    let validate = |capabilities: Option<pb::ClientCapabilities>| {
        let mut client = client.clone();
        let cfg = cfg.clone();
        let ty = ty.clone();
        async move {
            client
                .validate_resource_config(pb::validate_resource_config::Request {
                    type_name: storage::TYPE_NAME.into(),
                    config: dv(&cfg, &ty),
                    client_capabilities: capabilities,
                })
                .await
                .unwrap()
                .into_inner()
                .diagnostics
        }
    };
    let old_cli = validate(None).await;
    assert_eq!(
        paths(&old_cli),
        [
            ".object_storage.s3.access_key_wo",
            ".object_storage.s3.secret_key_wo"
        ]
    );
    for d in &old_cli {
        assert_eq!(d.severity, 1);
        assert!(
            d.detail.contains("Terraform 1.11 and OpenTofu 1.11"),
            "{}",
            d.detail
        );
        assert!(!d.detail.contains(secret));
    }
    let current = validate(Some(pb::ClientCapabilities {
        write_only_attributes_allowed: true,
        ..Default::default()
    }))
    .await;
    assert!(current.is_empty(), "{current:?}");

    // Terraform proposes the configured values; the plan holds them as null.
    let resp = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: storage::TYPE_NAME.into(),
            prior_state: dv(&Value::Null, &ty),
            proposed_new_state: dv(&cfg, &ty),
            config: dv(&cfg, &ty),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&resp.diagnostics).is_empty(),
        "{:?}",
        resp.diagnostics
    );
    let bytes = &resp.planned_state.as_ref().unwrap().msgpack;
    assert!(
        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes())
            && !bytes.windows(16).any(|w| w == b"AKIAPROTOCOLTEST"),
        "the planned state holds a credential"
    );
    let planned = decode(&resp.planned_state, &ty);
    let s3 = planned
        .get_attr("object_storage")
        .and_then(|o| o.get_attr("s3"))
        .unwrap();
    assert_eq!(s3.get_attr("secret_key_wo"), Some(&Value::Null));
    assert_eq!(
        s3.get_attr("credentials_wo_version"),
        Some(&Value::from(1i64))
    );
    let objects = planned.get_attr("objects").unwrap();
    assert!(
        objects
            .get_attr("Secret/thanosstorage-lts-objstore")
            .is_some(),
        "{objects:?}"
    );
}

#[tokio::test]
async fn upgrade_resource_state_reads_raw_json_with_the_current_schema() {
    let plugin = Plugin::launch();
    let mut client = plugin.provider().await;
    let ty = lifecycle::schema::<storage::Storage>().value_type();
    // A state from before some attribute existed, with one attribute since removed, and
    // `objects` as schema version 0 kept it: a list of objects with full hashes.
    let full = "0123456789abcdef".repeat(4);
    let raw = serde_json::json!({
        "id": "monitoring/lts", "name": "lts", "namespace": "monitoring",
        "removed_long_ago": true,
        "object_storage_config": {"name": "objstore", "key": "objstore.yaml"},
        "objects": [
            {"api_version": "apps/v1", "kind": "StatefulSet", "namespace": "monitoring",
             "name": "thanosstorage-lts", "hash": full},
            {"api_version": "v1", "kind": "Service", "namespace": "monitoring",
             "name": "thanosstorage-lts-operated",
             "hash": "changed outside Terraform: /spec/ports"},
        ],
    });
    let resp = client
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: storage::TYPE_NAME.into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: serde_json::to_vec(&raw).unwrap(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&resp.diagnostics).is_empty(),
        "{:?}",
        resp.diagnostics
    );
    let state = decode(&resp.upgraded_state, &ty);
    assert_eq!(state.get_attr("name").unwrap().as_str(), Some("lts"));
    assert!(
        state.get_attr("replicas").is_none(),
        "storage has no top-level replicas"
    );
    assert_eq!(state.get_attr("tolerations"), Some(&Value::List(vec![])));
    // `objects` is the map now: short hashes (the next plan compares them with its own) and
    // the drift mark kept, so the repair still shows.
    let objects = state.get_attr("objects").unwrap();
    assert_eq!(
        objects.get_attr("StatefulSet/thanosstorage-lts"),
        Some(&Value::from("0123456789ab"))
    );
    assert_eq!(
        objects.get_attr("Service/thanosstorage-lts-operated"),
        Some(&Value::from("changed outside Terraform: /spec/ports"))
    );

    // A state written by a newer provider is refused with a clear message.
    let resp = client
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: storage::TYPE_NAME.into(),
            version: 99,
            raw_state: Some(pb::RawState {
                json: b"{}".to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&resp.diagnostics)[0]
            .summary
            .contains("newer provider")
    );
}

#[tokio::test]
async fn plan_create_update_replace_and_destroy() {
    let plugin = Plugin::launch();
    let mut client = plugin.provider().await;
    let schema = lifecycle::schema::<query::Query>();
    let ty = schema.value_type();
    let cfg = config(
        &schema,
        &[("name", "sample".into()), ("replicas", Value::from(2i64))],
    );

    // Create: configured values kept, defaults filled, id known, other computed unknown.
    let resp = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: query::TYPE_NAME.into(),
            prior_state: dv(&Value::Null, &ty),
            proposed_new_state: dv(&cfg, &ty),
            config: dv(&cfg, &ty),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&resp.diagnostics).is_empty(),
        "{:?}",
        resp.diagnostics
    );
    let planned = decode(&resp.planned_state, &ty);
    assert_eq!(planned.get_attr("replicas"), Some(&Value::from(2i64)));
    assert_eq!(
        planned.get_attr("namespace").unwrap().as_str(),
        Some("default")
    );
    assert_eq!(
        planned.get_attr("id").unwrap().as_str(),
        Some("default/sample")
    );
    // Rendering needs no cluster: the objects and their content hashes are known at plan time.
    // One entry per object: `<kind>/<name>` to a 12-digit hash.
    let objects = planned
        .get_attr("objects")
        .unwrap()
        .as_map()
        .expect("objects known");
    assert!(
        objects.contains_key("Deployment/thanosquery-sample"),
        "{objects:?}"
    );
    assert!(
        objects.values().all(|h| {
            let h = h.as_str().unwrap();
            h.len() == 12 && h.bytes().all(|b| b.is_ascii_hexdigit())
        }),
        "{objects:?}"
    );
    assert_eq!(
        planned.get_attr("grpc_endpoint").unwrap().as_str(),
        Some("thanosquery-sample-operated.default.svc:10901")
    );
    assert!(resp.requires_replace.is_empty());

    // Update of `name`: replacement is requested for exactly that path.
    let mut prior = planned.clone();
    prior = prior.transform(&mut |_, v| if v.is_unknown() { Value::Null } else { v });
    let renamed = config(
        &schema,
        &[("name", "other".into()), ("replicas", Value::from(2i64))],
    );
    let mut proposed = prior.clone();
    *proposed.get_attr_mut("name").unwrap() = "other".into();
    let resp = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: query::TYPE_NAME.into(),
            prior_state: dv(&prior, &ty),
            proposed_new_state: dv(&proposed, &ty),
            config: dv(&renamed, &ty),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        paths(
            &resp
                .requires_replace
                .iter()
                .map(|p| pb::Diagnostic {
                    attribute: Some(p.clone()),
                    ..Default::default()
                })
                .collect::<Vec<_>>()
        ),
        [".name"]
    );

    // Destroy (plan_destroy capability): the plan is null.
    let resp = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: query::TYPE_NAME.into(),
            prior_state: dv(&prior, &ty),
            proposed_new_state: dv(&Value::Null, &ty),
            config: dv(&Value::Null, &ty),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(decode(&resp.planned_state, &ty), Value::Null);
}

/// Pulumi's Terraform bridge sends a list block the program leaves out as null where
/// Terraform sends `[]`. Every RPC reads both the same way, so a plan from null blocks is
/// exactly the plan from empty ones (else every preview after an update shows a change).
#[tokio::test]
async fn null_list_blocks_plan_exactly_like_empty_lists() {
    let plugin = Plugin::launch();
    let mut client = plugin.provider().await;
    let schema = lifecycle::schema::<receive::Receive>();
    let ty = schema.value_type();
    let router = Value::object([
        ("hashrings_refresh_interval", Value::Null),
        ("replication_factor", Value::Null),
        ("remote_write_ingress", Value::Null),
        ("hard_tenant_hashrings", Value::List(Vec::new())),
        (
            "soft_tenant_hashring",
            Value::object([
                ("name", Value::from("all")),
                ("tenants", Value::Null),
                ("endpoints", Value::list(["a.b:10901"])),
                ("endpoints_selector", Value::Null),
                ("endpoints_namespace_selector", Value::Null),
            ]),
        ),
    ]);
    let empty = config(
        &schema,
        &[("name", "router".into()), ("router", router.clone())],
    );
    // The same configuration with every list block null, as the bridge sends it.
    let mut null = empty.clone();
    for block in ["tolerations", "topology_spread_constraints"] {
        *null.get_attr_mut(block).unwrap() = Value::Null;
    }
    *null
        .get_attr_mut("router")
        .unwrap()
        .get_attr_mut("hard_tenant_hashrings")
        .unwrap() = Value::Null;
    assert_ne!(null, empty);
    let mut planned = Vec::new();
    for cfg in [&empty, &null] {
        let resp = client
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: receive::TYPE_NAME.into(),
                prior_state: dv(&Value::Null, &ty),
                proposed_new_state: dv(cfg, &ty),
                config: dv(cfg, &ty),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            errors(&resp.diagnostics).is_empty(),
            "{:?}",
            resp.diagnostics
        );
        planned.push(decode(&resp.planned_state, &ty));
    }
    assert_eq!(planned[0], planned[1]);
    assert_eq!(
        planned[1].get_attr("tolerations"),
        Some(&Value::List(Vec::new()))
    );
    // An update whose prior state has the empty lists and whose configuration has null ones
    // is no change at all.
    let prior = planned[0]
        .clone()
        .transform(&mut |_, v| if v.is_unknown() { Value::Null } else { v });
    let resp = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: receive::TYPE_NAME.into(),
            prior_state: dv(&prior, &ty),
            proposed_new_state: dv(&null, &ty),
            config: dv(&null, &ty),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&resp.diagnostics).is_empty(),
        "{:?}",
        resp.diagnostics
    );
    let again = decode(&resp.planned_state, &ty);
    for block in ["tolerations", "topology_spread_constraints", "router"] {
        assert_eq!(again.get_attr(block), prior.get_attr(block), "{block}");
    }
    // Validation reads null blocks too.
    let resp = client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: receive::TYPE_NAME.into(),
            config: dv(&null, &ty),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&resp.diagnostics).is_empty(),
        "{:?}",
        resp.diagnostics
    );
}

#[tokio::test]
async fn apply_and_import_without_a_cluster_say_what_to_configure() {
    // No provider block settings and no KUBE_* variables: never a silent fallback to
    // ~/.kube/config or in-cluster credentials.
    let plugin = Plugin::launch_with(&[("KUBE_CONFIG_PATH", ""), ("KUBE_HOST", "")]);
    let mut client = plugin.provider().await;
    let schema = lifecycle::schema::<query::Query>();
    let ty = schema.value_type();
    let planned = config(
        &schema,
        &[("name", "sample".into()), ("namespace", "default".into())],
    );
    let resp = client
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: query::TYPE_NAME.into(),
            prior_state: dv(&Value::Null, &ty),
            planned_state: dv(&planned, &ty),
            config: dv(&planned, &ty),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let errs = errors(&resp.diagnostics);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].summary.contains("no usable Kubernetes cluster"),
        "{}",
        errs[0].summary
    );
    assert!(errs[0].detail.contains("config_path"), "{}", errs[0].detail);
    assert!(
        errs[0].detail.contains("never falls back"),
        "{}",
        errs[0].detail
    );
    assert_eq!(
        decode(&resp.new_state, &ty),
        Value::Null,
        "nothing was created"
    );
    let resp = client
        .import_resource_state(pb::import_resource_state::Request {
            type_name: query::TYPE_NAME.into(),
            id: "default/sample".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.imported_resources.is_empty());
    assert_eq!(errors(&resp.diagnostics).len(), 1);
    // A malformed import ID says what the ID looks like.
    let resp = client
        .import_resource_state(pb::import_resource_state::Request {
            type_name: query::TYPE_NAME.into(),
            id: "just-a-name".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&resp.diagnostics)[0]
            .detail
            .contains("<namespace>/<name>")
    );
}

#[tokio::test]
async fn unknown_provider_config_defers_when_terraform_allows_it() {
    let plugin = Plugin::launch();
    let mut client = plugin.provider().await;
    let pty = terraform_provider_thanos::provider::schema().value_type();
    let mut pcfg = config(&terraform_provider_thanos::provider::schema(), &[]);
    *pcfg.get_attr_mut("host").unwrap() = Value::unknown();
    let caps = Some(pb::ClientCapabilities {
        deferral_allowed: true,
        write_only_attributes_allowed: true,
    });
    let resp = client
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.11.4".into(),
            config: dv(&pcfg, &pty),
            client_capabilities: caps,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(errors(&resp.diagnostics).is_empty());
    let schema = lifecycle::schema::<query::Query>();
    let ty = schema.value_type();
    let cfg = config(&schema, &[("name", "sample".into())]);
    let resp = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: query::TYPE_NAME.into(),
            prior_state: dv(&Value::Null, &ty),
            proposed_new_state: dv(&cfg, &ty),
            config: dv(&cfg, &ty),
            client_capabilities: caps,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        resp.deferred.map(|d| d.reason),
        Some(pb::deferred::Reason::ProviderConfigUnknown as i32)
    );
    assert!(resp.planned_state.is_some());
}

#[tokio::test]
async fn messages_larger_than_tonic_defaults_are_accepted() {
    let plugin = Plugin::launch();
    let mut client = plugin.provider().await;
    let schema = lifecycle::schema::<query::Query>();
    let ty = schema.value_type();
    let big = "x".repeat(6 << 20);
    let cfg = config(
        &schema,
        &[
            ("name", "sample".into()),
            ("annotations", Value::map([("big", Value::from(big))])),
        ],
    );
    let resp = client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: query::TYPE_NAME.into(),
            config: dv(&cfg, &ty),
            client_capabilities: None,
        })
        .await;
    assert!(resp.is_ok(), "{resp:?}");
}

#[tokio::test]
async fn unknown_types_get_diagnostics_not_grpc_errors() {
    let plugin = Plugin::launch();
    let mut client = plugin.provider().await;
    let resp = client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "thanos_nope".into(),
            config: None,
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(errors(&resp.diagnostics)[0].detail.contains("thanos_query"));
    let resp = client
        .read_data_source(pb::read_data_source::Request {
            type_name: "thanos_nope".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&resp.diagnostics).len(), 1);
}

#[tokio::test]
async fn health_stop_and_shutdown() {
    let mut plugin = Plugin::launch();
    let channel = plugin.channel().await;
    let health = tonic_health::pb::health_client::HealthClient::new(channel.clone())
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        health.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    // StopProvider answers and the provider keeps serving.
    let mut client = ProviderClient::new(channel.clone());
    let stop = client
        .stop_provider(pb::stop_provider::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(stop.error.is_empty());
    client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap();

    // Shutdown ends the process (Terraform kills it two seconds later otherwise).
    GrpcControllerClient::new(channel)
        .shutdown(tfplugin::pb::plugin::Empty {})
        .await
        .unwrap();
    let status = plugin
        .wait_exit(Duration::from_secs(10))
        .expect("exits after Shutdown");
    assert!(status.success(), "{status:?}");
    assert!(
        !Path::new(&plugin.socket).exists(),
        "socket removed on exit"
    );
}

#[tokio::test]
async fn sigint_is_ignored_like_go_plugin_servers_do() {
    let mut plugin = Plugin::launch();
    let _ = Command::new("kill")
        .args(["-INT", &plugin.child.id().to_string()])
        .status();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        plugin.child.try_wait().unwrap().is_none(),
        "still running after SIGINT"
    );
    plugin
        .provider()
        .await
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap();
}

#[tokio::test]
async fn logs_are_hclog_json_on_stderr_when_tf_log_is_set() {
    let mut plugin = Plugin::launch_with(&[("TF_LOG_PROVIDER", "DEBUG")]);
    let channel = plugin.channel().await;
    ProviderClient::new(channel.clone())
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap();
    GrpcControllerClient::new(channel)
        .shutdown(tfplugin::pb::plugin::Empty {})
        .await
        .unwrap();
    plugin.wait_exit(Duration::from_secs(10)).expect("exits");
    let mut stderr = String::new();
    std::io::Read::read_to_string(plugin.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty(), "debug logs expected");
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for key in ["@level", "@message", "@timestamp"] {
            assert!(v[key].is_string(), "{key} must be a string: {line}");
        }
    }
    let _ = AttributePath::root();
}

/// `replicas = 1.5` (or a whole number beyond 64 bits) on every resource: one error, at the
/// attribute, from validation and from the plan alike, and never a diagnostic that calls the
/// user's input a bug of the provider (the "schema and renderer disagree" error of issue 19).
#[tokio::test]
async fn numbers_that_do_not_fit_are_one_pathed_error_never_an_internal_one() {
    use terraform_provider_thanos::resources::rule;
    use terraform_provider_thanos::testing::terraform_config;
    use tfplugin::framework::INTERNAL_ERROR_MARK;

    let plugin = Plugin::launch();
    let mut client = plugin.provider().await;
    let cases: [(&str, tfplugin::framework::Schema, Value, &[&str]); 4] = [
        (
            query::TYPE_NAME,
            lifecycle::schema::<query::Query>(),
            terraform_config::<query::Query>(&serde_json::json!({"name": "q"})),
            &["replicas"],
        ),
        (
            receive::TYPE_NAME,
            lifecycle::schema::<receive::Receive>(),
            terraform_config::<receive::Receive>(&serde_json::json!({"name": "r"})),
            &["replicas"],
        ),
        (
            rule::TYPE_NAME,
            lifecycle::schema::<rule::Rule>(),
            terraform_config::<rule::Rule>(&serde_json::json!({
                "name": "ru",
                "query_endpoints": ["http://q:10902"],
                "rule_groups": {"g": "groups: []\n"},
            })),
            &["replicas"],
        ),
        (
            storage::TYPE_NAME,
            lifecycle::schema::<storage::Storage>(),
            terraform_config::<storage::Storage>(&serde_json::json!({
                "name": "s",
                "object_storage_config": {"name": "b", "key": "k"},
                "gateway": {},
            })),
            &["gateway", "replicas"],
        ),
    ];
    for (type_name, schema, base, at) in cases {
        let ty = schema.value_type();
        let path: String = at.iter().map(|a| format!(".{a}")).collect();
        for number in ["1.5", "1e30", "-1e30", "0.000001"] {
            let mut cfg = base.clone();
            let mut slot = &mut cfg;
            for a in at {
                slot = slot.get_attr_mut(a).unwrap();
            }
            *slot = Value::Number(number.parse().unwrap());
            let validated = client
                .validate_resource_config(pb::validate_resource_config::Request {
                    type_name: type_name.into(),
                    config: dv(&cfg, &ty),
                    client_capabilities: None,
                })
                .await
                .unwrap()
                .into_inner()
                .diagnostics;
            let planned = client
                .plan_resource_change(pb::plan_resource_change::Request {
                    type_name: type_name.into(),
                    prior_state: dv(&Value::Null, &ty),
                    proposed_new_state: dv(&cfg, &ty),
                    config: dv(&cfg, &ty),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .diagnostics;
            for (rpc, diags) in [("validate", validated), ("plan", planned)] {
                let errors: Vec<_> = errors(&diags).into_iter().cloned().collect();
                assert_eq!(
                    paths(&errors),
                    [path.as_str()],
                    "{type_name} {number} {rpc}: {diags:#?}"
                );
                for d in &diags {
                    assert!(
                        !d.summary.contains(INTERNAL_ERROR_MARK)
                            && !d.detail.contains(INTERNAL_ERROR_MARK),
                        "{type_name} {number} {rpc}: an internal error from user input: {d:#?}"
                    );
                }
            }
        }
    }
}

/// A stored state that does not fit the schema (edited by hand, or written by something
/// else) is the user's to repair: advice, not a bug report.
#[tokio::test]
async fn an_unreadable_stored_state_gets_advice_not_a_bug_report() {
    use tfplugin::framework::INTERNAL_ERROR_MARK;

    let plugin = Plugin::launch();
    let mut client = plugin.provider().await;
    for raw in [
        &br#"{"name": 3, "replicas": "many"}"#[..],
        b"{not json",
        br#"{"replicas": true}"#,
        b"[]",
    ] {
        let resp = client
            .upgrade_resource_state(pb::upgrade_resource_state::Request {
                type_name: query::TYPE_NAME.into(),
                version: 0,
                raw_state: Some(pb::RawState {
                    json: raw.to_vec(),
                    flatmap: Default::default(),
                }),
            })
            .await
            .unwrap()
            .into_inner();
        let errors = errors(&resp.diagnostics);
        assert_eq!(errors.len(), 1, "{:?}", resp.diagnostics);
        assert!(
            errors[0].detail.contains("import it again")
                && !errors[0].detail.contains(INTERNAL_ERROR_MARK),
            "{:?}",
            errors[0]
        );
    }
}
