//! Each phase of the lifecycle against the in-memory cluster (`fake`), driven the way the
//! framework drives it: the framework's own plan pipeline first, then the phase. The
//! acceptance tests are the proof on a real API server; these pin down each phase's decisions.

use std::sync::{Arc, RwLock};

use serde_json::json;
use tfplugin::framework::plan::plan_change;
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Context, DeleteRequest, Diagnostic, Diagnostics, Input, Model,
    PlanRequest, ReadRequest, Resource, Severity,
};
use tfvalue::{AttributePath, Value};
use thanos_cluster::ObjectKey;

use super::fake::{FakeCluster, FakeClusters};
use super::{Env, Kind, StackResource, objects::DRIFT_MARK};
use crate::resources::receive::{Receive, ReceiveModel};
use crate::resources::rule::Rule;
use crate::resources::{query::Query, storage::Storage};
use crate::testing;

fn resource<K: Kind>(cluster: Option<Arc<FakeCluster>>) -> StackResource<K> {
    StackResource::new(Arc::new(RwLock::new(Env {
        render: Default::default(),
        clusters: Arc::new(FakeClusters(cluster)),
    })))
}

fn cluster() -> Arc<FakeCluster> {
    Arc::new(FakeCluster::default())
}

/// What Terraform proposes: the configuration, with the prior state's computed values where
/// the configuration says nothing.
fn proposed<K: Kind>(prior: Option<&Value>, config: &Value) -> Value {
    let mut out = config.clone();
    if let Some(prior) = prior {
        for a in K::Model::block().attributes {
            if a.is_computed()
                && config.get_attr(&a.name).is_some_and(Value::is_null)
                && let (Some(slot), Some(p)) = (out.get_attr_mut(&a.name), prior.get_attr(&a.name))
            {
                *slot = p.clone();
            }
        }
    }
    out
}

/// Plans `json` (after `prior`) as the framework does: its pipeline, then the resource.
async fn plan<K: Kind>(
    r: &StackResource<K>,
    json: serde_json::Value,
    prior: Option<Value>,
) -> (Value, Value, Diagnostics) {
    let config = testing::terraform_config::<K>(&json);
    // As the server does: a write-only value is never planned.
    let proposed = r
        .schema
        .block
        .null_write_only(&proposed::<K>(prior.as_ref(), &config));
    let framework = plan_change(&r.schema.block, prior.as_ref(), &config, &proposed);
    let response = r
        .plan(
            &Context::default(),
            PlanRequest {
                prior_state: prior,
                config: config.clone(),
                planned: framework.planned,
                prior_private: Vec::new(),
            },
        )
        .await;
    assert_eq!(
        r.schema.block.write_only_values(&response.planned),
        [],
        "the plan holds write-only values"
    );
    (response.planned, config, response.diagnostics)
}

/// Plans and applies `json` (after `prior`); returns the new state and the diagnostics.
async fn apply<K: Kind>(
    r: &StackResource<K>,
    json: serde_json::Value,
    prior: Option<Value>,
) -> (Option<Value>, Diagnostics) {
    let (planned, config, d) = plan(r, json, prior.clone()).await;
    assert!(!d.has_errors(), "{d:?}");
    let request = ApplyRequest {
        prior_state: prior.clone(),
        planned,
        config,
        planned_private: Vec::new(),
    };
    let response = if prior.is_none() {
        r.create(&Context::default(), request).await
    } else {
        r.update(&Context::default(), request).await
    };
    (response.state, response.diagnostics)
}

/// A create that applies exactly `planned` (for tests that change the cluster or the plan
/// between plan and apply).
async fn create_as_planned<K: Kind>(
    r: &StackResource<K>,
    planned: Value,
    config: Value,
) -> ApplyResponse {
    let request = ApplyRequest {
        prior_state: None,
        planned,
        config,
        planned_private: Vec::new(),
    };
    r.create(&Context::default(), request).await
}

fn errors(d: &Diagnostics) -> Vec<String> {
    d.iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect()
}

fn decode<K: Kind>(v: &Value) -> K::Model {
    K::Model::from_value(v).unwrap()
}

/// The `objects` a planned value or a state records.
fn recorded_objects<K: Kind>(v: &Value) -> super::settings::Objects {
    K::lifecycle(&decode::<K>(v))
        .objects
        .known()
        .cloned()
        .expect("objects known")
}

fn ingestor() -> serde_json::Value {
    json!({"name": "ingestor", "namespace": "mon", "replicas": 2, "ingestor": {}})
}

fn router(rf: i64) -> serde_json::Value {
    json!({
        "name": "router",
        "namespace": "mon",
        "router": {
            "replication_factor": rf,
            "soft_tenant_hashring": {
                "name": "default",
                "endpoints_selector": {"match_labels": {"app.kubernetes.io/instance": "ingestor"}}
            }
        }
    })
}

#[tokio::test]
async fn plan_offline_decides_everything_the_configuration_decides() {
    let r = resource::<Receive>(None);
    let (planned, _, d) = plan(&r, ingestor(), None).await;
    assert!(d.is_empty(), "{d:?}");
    let m: ReceiveModel = decode::<Receive>(&planned);
    assert_eq!(m.common.lifecycle.id, Input::Known("mon/ingestor".into()));
    assert_eq!(
        m.ingestor_endpoints.known().unwrap(),
        &[
            "thanosreceive-ingestor-0.thanosreceive-ingestor-operated.mon.svc:10901",
            "thanosreceive-ingestor-1.thanosreceive-ingestor-operated.mon.svc:10901"
        ]
    );
    assert_eq!(m.hashrings, Input::Known(Vec::new()));
    let objects = m
        .common
        .lifecycle
        .objects
        .known()
        .expect("objects known offline");
    let keys: Vec<&str> = objects.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "ConfigMap/thanosreceive-ingestor-terraform",
            "PodDisruptionBudget/thanosreceive-ingestor",
            "Service/thanosreceive-ingestor-operated",
            "StatefulSet/thanosreceive-ingestor",
        ],
        "one entry per object, the record among them"
    );
    assert!(
        objects
            .values()
            .all(|h| h.len() == super::objects::HASH_DIGITS
                && h.bytes().all(|b| b.is_ascii_hexdigit())),
        "{objects:?}"
    );
}

#[tokio::test]
async fn plan_without_a_cluster_leaves_selector_rings_known_after_apply() {
    let r = resource::<Receive>(None);
    let (planned, _, d) = plan(&r, router(1), None).await;
    assert!(d.is_empty(), "{d:?}");
    let m = decode::<Receive>(&planned);
    assert!(m.hashrings.is_unknown());
    assert!(m.common.lifecycle.objects.is_unknown());
    // Everything else is known.
    assert!(m.remote_write_url.known().is_some());
    assert_eq!(m.store_endpoint, Input::Null, "a router holds no data");
}

#[tokio::test]
async fn plan_with_a_cluster_shows_discovered_members_and_warns_below_the_replication_factor() {
    let c = cluster();
    *c.ring_members.lock().unwrap() = vec!["b:10901".into(), "a:10901".into()];
    let r = resource::<Receive>(Some(c.clone()));
    // A hashmod router loads a ring smaller than its replication factor (and fails writes).
    let mut config = router(3);
    config["router"]["soft_tenant_hashring"]["algorithm"] = "hashmod".into();
    let (planned, _, d) = plan(&r, config, None).await;
    let m = decode::<Receive>(&planned);
    let rings = m.hashrings.known().unwrap();
    assert_eq!(rings[0].endpoints, ["a:10901", "b:10901"]);
    assert!(m.common.lifecycle.objects.known().is_some());
    let warnings: Vec<_> = d
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect();
    assert_eq!(warnings.len(), 1, "{d:?}");
    assert_eq!(
        warnings[0].path,
        Some(
            AttributePath::root()
                .attr("router")
                .attr("soft_tenant_hashring")
                .attr("endpoints_selector")
        )
    );
    assert_eq!(c.calls(), ["discover_ring mon"], "a plan only discovers");
}

#[tokio::test]
async fn plan_refuses_a_discovered_ketama_ring_below_the_replication_factor() {
    // A router exits on a ketama ring smaller than its replication factor: not a warning.
    let c = cluster();
    *c.ring_members.lock().unwrap() = vec!["b:10901".into(), "a:10901".into()];
    let r = resource::<Receive>(Some(c.clone()));
    let (_, _, d) = plan(&r, router(3), None).await;
    let errors: Vec<_> = d.iter().filter(|d| d.severity == Severity::Error).collect();
    assert_eq!(errors.len(), 1, "{d:?}");
    assert_eq!(
        errors[0].path,
        Some(
            AttributePath::root()
                .attr("router")
                .attr("soft_tenant_hashring")
                .attr("endpoints_selector")
        )
    );
    assert!(
        errors[0].detail.contains("2 endpoints cannot hold 3"),
        "{}",
        errors[0].detail
    );
}

#[tokio::test]
async fn plan_says_who_joins_a_ring_and_what_share_of_series_moves() {
    let c = cluster();
    *c.ring_members.lock().unwrap() = vec!["a:10901".into(), "b:10901".into()];
    let r = resource::<Receive>(Some(c.clone()));
    let (state, d) = apply(&r, router(2), None).await;
    assert!(!d.has_errors(), "{d:?}");
    let state = state.unwrap();
    // Nothing changed: no ring warning.
    let (_, _, d) = plan(&r, router(2), Some(state.clone())).await;
    assert!(d.is_empty(), "{d:?}");
    // A third ingestor became Ready: the plan names it and what the ring change costs.
    c.ring_members.lock().unwrap().push("c:10901".into());
    let (_, _, d) = plan(&r, router(2), Some(state)).await;
    // The objects that change say the same member joins the ring's file; the ring's warning
    // says what that costs.
    let changes = object_changes(&d).expect("the objects that change");
    assert!(
        changes.detail.starts_with(
            "ConfigMap thanosreceive-router-hashrings:\n  data[\"hashrings.json\"][0].endpoints: + \"c:10901\""
        ),
        "{}",
        changes.detail
    );
    let warnings: Vec<_> = d
        .iter()
        .filter(|d| d.severity == Severity::Warning && !is_object_changes(d))
        .collect();
    assert_eq!(warnings.len(), 1, "{d:?}");
    let w = warnings[0];
    assert_eq!(
        w.path,
        Some(
            AttributePath::root()
                .attr("router")
                .attr("soft_tenant_hashring")
        )
    );
    assert_eq!(
        w.summary,
        "Hashring \"default\": 1 ingestor joining, 0 ingestors leaving"
    );
    assert!(w.detail.contains("Joining: c:10901."), "{}", w.detail);
    // ketama with 2 replicas, 2 → 3 members: about 2/3 of the series change sets.
    assert!(
        w.detail.contains("ketama, replication factor 2"),
        "{}",
        w.detail
    );
    let at = w.detail.find("About ").unwrap() + "About ".len();
    let share: u32 = w.detail[at..].split('%').next().unwrap().parse().unwrap();
    assert!((60..=73).contains(&share), "{}", w.detail);
}

/// A router + ingestor whose ring selects its own pods: the first apply (nothing Ready, the
/// selection empty) writes the ring of the pods it creates, and the next plan is empty.
#[tokio::test]
async fn a_ring_of_its_own_pods_is_written_by_the_first_apply_and_stays() {
    let c = cluster();
    let r = resource::<Receive>(Some(c.clone()));
    let config = json!({
        "name": "self", "namespace": "mon", "replicas": 2, "ingestor": {},
        "router": {"soft_tenant_hashring": {"name": "default", "endpoints_selector": {
            "match_labels": {"app.kubernetes.io/instance": "self"}}}}
    });
    let own = [
        "thanosreceive-self-0.thanosreceive-self-operated.mon.svc:10901",
        "thanosreceive-self-1.thanosreceive-self-operated.mon.svc:10901",
    ];
    // The plan shows the ring before anything exists.
    let (planned, _, d) = plan(&r, config.clone(), None).await;
    assert!(d.is_empty(), "{d:?}");
    let m = decode::<Receive>(&planned);
    assert_eq!(m.hashrings.known().unwrap()[0].endpoints, own);
    let (state, d) = apply(&r, config.clone(), None).await;
    assert!(!d.has_errors(), "{d:?}");
    let state = state.unwrap();
    let ring = c
        .objects
        .lock()
        .unwrap()
        .iter()
        .find(|(k, _)| k.kind == "ConfigMap" && k.name == "thanosreceive-self-hashrings")
        .map(|(_, json)| json["data"]["hashrings.json"].as_str().unwrap().to_owned())
        .expect("the ring was written");
    assert!(ring.contains(own[0]) && ring.contains(own[1]), "{ring}");
    // Its pods are Ready and discovered now: the next plan changes nothing.
    *c.ring_members.lock().unwrap() = own.iter().map(|s| s.to_string()).collect();
    let (planned, _, d) = plan(&r, config, Some(state.clone())).await;
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(planned, state);
}

/// Shrinking ingestors that ship nothing to object storage, with claims deleted on scale-down:
/// the plan says which pods go and that their samples are lost, at `replicas`.
#[tokio::test]
async fn plan_warns_that_a_scale_down_deleting_claims_loses_data() {
    let c = cluster();
    let r = resource::<Receive>(Some(c.clone()));
    let config = |replicas: i64| {
        json!({"name": "ingestor", "namespace": "mon", "replicas": replicas, "ingestor": {
            "pvc_retention_on_scale_down": "Delete",
            "data_volume": {"pvc": {"size": "1Gi"}}}})
    };
    let (state, d) = apply(&r, config(3), None).await;
    assert!(!d.has_errors(), "{d:?}");
    let state = state.unwrap();
    let (_, _, d) = plan(&r, config(3), Some(state.clone())).await;
    assert!(d.is_empty(), "{d:?}");
    let (_, _, d) = plan(&r, config(2), Some(state)).await;
    assert_eq!(
        object_changes(&d).map(|w| (w.summary.as_str(), w.detail.as_str())),
        Some((
            "thanos_receive mon/ingestor: 1 Kubernetes object changes",
            "StatefulSet thanosreceive-ingestor:\n  spec.replicas: 3 → 2"
        ))
    );
    let warnings: Vec<_> = d
        .iter()
        .filter(|d| d.severity == Severity::Warning && !is_object_changes(d))
        .collect();
    assert_eq!(warnings.len(), 1, "{d:?}");
    assert_eq!(
        warnings[0].path,
        Some(AttributePath::root().attr("replicas"))
    );
    assert!(
        warnings[0].detail.contains("thanosreceive-ingestor-2")
            && warnings[0]
                .detail
                .contains("pvc_retention_on_scale_down = \"Delete\"")
            && warnings[0].detail.contains("are lost"),
        "{}",
        warnings[0].detail
    );
}

/// What the fake cluster saw of one receive's ordered change: per apply of its StatefulSet or
/// its hashrings ConfigMap, `"sts <replicas>"` or `"ring <members>"`, and `"wait"`.
fn steps(c: &FakeCluster, since: usize) -> Vec<String> {
    let applied = c.applied.lock().unwrap().clone();
    let mut applied = applied.into_iter().skip(since);
    let mut out = Vec::new();
    for call in c
        .calls()
        .into_iter()
        .filter(|l| l.starts_with("apply ") || l.starts_with("wait "))
    {
        if call.starts_with("wait ") {
            out.push("wait".to_owned());
            continue;
        }
        let Some((key, json)) = applied.next() else {
            continue;
        };
        match key.kind.as_str() {
            "StatefulSet" => out.push(format!("sts {}", json["spec"]["replicas"])),
            "ConfigMap" if key.name.ends_with("-hashrings") => {
                let rings: serde_json::Value =
                    serde_json::from_str(json["data"]["hashrings.json"].as_str().unwrap()).unwrap();
                out.push(format!(
                    "ring {}",
                    rings[0]["endpoints"].as_array().unwrap().len()
                ));
            }
            _ => {}
        }
    }
    out
}

/// A router + ingestor whose ring is its own pods, scaled up then down: growing, the
/// StatefulSet grows under the old ring and the apply waits before the ring lists the new
/// pod; shrinking, every pod gets the smaller ring and the apply waits before the StatefulSet
/// shrinks.
#[tokio::test]
async fn own_ring_resizes_in_order() {
    let c = cluster();
    let r = resource::<Receive>(Some(c.clone()));
    let config = |replicas: i64| {
        json!({
            "name": "self", "namespace": "mon", "replicas": replicas, "ingestor": {},
            "router": {"soft_tenant_hashring": {"name": "default", "endpoints_selector": {
                "match_labels": {"app.kubernetes.io/instance": "self"}}}}
        })
    };
    let (state, d) = apply(&r, config(2), None).await;
    assert!(!d.has_errors(), "{d:?}");
    // A create has nothing to order.
    assert_eq!(steps(&c, 0), ["ring 2", "sts 2", "wait"]);

    c.calls.lock().unwrap().clear();
    let since = c.applied.lock().unwrap().len();
    let (state, d) = apply(&r, config(3), state).await;
    assert!(!d.has_errors(), "{d:?}");
    assert_eq!(
        steps(&c, since),
        ["ring 2", "sts 3", "wait", "ring 3", "sts 3", "wait"],
        "scale-up"
    );

    c.calls.lock().unwrap().clear();
    let since = c.applied.lock().unwrap().len();
    let (_, d) = apply(&r, config(1), state).await;
    assert!(!d.has_errors(), "{d:?}");
    assert_eq!(
        steps(&c, since),
        ["ring 1", "sts 3", "wait", "ring 1", "sts 1", "wait"],
        "scale-down"
    );
}

#[tokio::test]
async fn plan_reports_every_problem_at_its_path_and_changes_nothing() {
    let r = resource::<Query>(None);
    let (_, _, d) = plan(
        &r,
        json!({"name": "q", "replicas": -1, "stores": [{"address": "http://x:1"}]}),
        None,
    )
    .await;
    let paths: Vec<String> = d
        .iter()
        .map(|d| d.path.clone().unwrap().to_string())
        .collect();
    assert!(paths.contains(&"replicas".to_string()), "{paths:?}");
    assert!(
        paths.contains(&"stores[0].address".to_string()),
        "{paths:?}"
    );
}

/// A fractional number is one error at its path, never a second "schema and renderer
/// disagree" internal error.
#[tokio::test]
async fn plan_of_a_fractional_number_is_one_error() {
    let r = resource::<Query>(None);
    let mut config = testing::terraform_config::<Query>(&json!({"name": "q"}));
    *config.get_attr_mut("replicas").unwrap() = Value::Number("1.5".parse().unwrap());
    let framework = plan_change(&r.schema.block, None, &config, &config);
    let response = r
        .plan(
            &Context::default(),
            PlanRequest {
                prior_state: None,
                config,
                planned: framework.planned,
                prior_private: Vec::new(),
            },
        )
        .await;
    let errors = errors(&response.diagnostics);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("whole number"), "{errors:?}");
}

#[tokio::test]
async fn apply_writes_every_object_and_the_record_then_prunes_and_waits() {
    let c = cluster();
    let r = resource::<Receive>(Some(c.clone()));
    let (state, d) = apply(&r, ingestor(), None).await;
    assert!(d.is_empty(), "{d:?}");
    let state = state.unwrap();
    assert!(state.is_wholly_known());
    let calls = c.calls();
    assert_eq!(
        calls,
        [
            "apply Service mon/thanosreceive-ingestor-operated",
            "apply StatefulSet mon/thanosreceive-ingestor",
            "apply PodDisruptionBudget mon/thanosreceive-ingestor",
            "apply ConfigMap mon/thanosreceive-ingestor-terraform",
            // Listed while the objects are written (concurrently on a real cluster).
            "owned thanos-receive-ingestor",
            "prune thanos-receive-ingestor keep 4",
            "wait 4",
            "discover_endpoints mon"
        ]
    );
    let record = c
        .objects
        .lock()
        .unwrap()
        .get(&ObjectKey::new(
            "ConfigMap",
            "mon",
            "thanosreceive-ingestor-terraform",
        ))
        .cloned()
        .unwrap();
    let recorded = super::record::read(&record, &r.ty).unwrap();
    assert_eq!(recorded.get_attr("replicas"), Some(&Value::from(2i64)));
    assert_eq!(
        recorded.get_attr("objects"),
        Some(&Value::Null),
        "computed values are not recorded"
    );
}

#[tokio::test]
async fn apply_prunes_what_is_no_longer_rendered() {
    let c = cluster();
    let r = resource::<Query>(Some(c.clone()));
    let with = json!({"name": "q", "namespace": "mon", "http_ingress": {"host": "q.example.com"}});
    let (state, _) = apply(&r, with, None).await;
    assert!(c.keys().iter().any(|k| k.kind == "Ingress"));
    let (_, d) = apply(&r, json!({"name": "q", "namespace": "mon"}), state).await;
    assert!(d.is_empty(), "{d:?}");
    assert!(
        !c.keys().iter().any(|k| k.kind == "Ingress"),
        "{:?}",
        c.keys()
    );
}

#[tokio::test]
async fn apply_never_writes_a_ring_the_plan_did_not_show() {
    let c = cluster();
    *c.ring_members.lock().unwrap() = vec!["a:10901".into()];
    let r = resource::<Receive>(Some(c.clone()));
    let (planned, config, _) = plan(&r, router(1), None).await;
    // A member joins between plan and apply.
    c.ring_members.lock().unwrap().push("b:10901".into());
    let response = create_as_planned(&r, planned, config).await;
    let errors = errors(&response.diagnostics);
    assert!(errors[0].contains("changed since the plan"), "{errors:?}");
    assert!(errors[0].contains("b:10901"), "{errors:?}");
    assert!(response.state.is_none(), "nothing was created");
    assert!(c.keys().is_empty(), "nothing was applied: {:?}", c.keys());
}

#[tokio::test]
async fn apply_takes_back_only_what_a_refresh_found_drifted() {
    let c = cluster();
    let r = resource::<Query>(Some(c.clone()));
    let config = json!({"name": "q", "namespace": "mon"});
    let (state, _) = apply(&r, config.clone(), None).await;
    let mut state = state.unwrap();
    // A refresh recorded the Deployment as changed in the cluster.
    let mut m = decode::<Query>(&state);
    let mut entries = m.common.lifecycle.objects.known().cloned().unwrap();
    let (_, hash) = entries
        .iter_mut()
        .find(|(k, _)| k.starts_with("Deployment/"))
        .unwrap();
    *hash = format!("{DRIFT_MARK}/spec/replicas");
    m.common.lifecycle.objects = Input::Known(entries);
    *state.get_attr_mut("objects").unwrap() = m.to_value().get_attr("objects").unwrap().clone();
    c.applied_with.lock().unwrap().clear();
    apply(&r, config, Some(state)).await;
    let forced: Vec<String> = c
        .applied_with
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, o)| o.force_conflicts)
        .map(|(k, _)| k.kind.clone())
        .collect();
    assert_eq!(forced, ["Deployment"]);
}

#[tokio::test]
async fn a_failed_rollout_keeps_what_exists_in_state() {
    let c = cluster();
    *c.rollout_fails.lock().unwrap() = Some("Back-off pulling image".into());
    let r = resource::<Query>(Some(c.clone()));
    let (state, d) = apply(&r, json!({"name": "q", "namespace": "mon"}), None).await;
    let errors = errors(&d);
    assert!(
        errors[0].contains("the rollout did not finish"),
        "{errors:?}"
    );
    assert!(errors[0].contains("ImagePullBackOff"), "{errors:?}");
    assert!(
        state.is_some(),
        "a partial create is recorded so destroy cleans it up"
    );
}

/// A create whose writes never reached the server (it never answered this process) records
/// nothing: the next plan is the same create, not the replacement of a tainted resource that
/// never existed. An update keeps the prior state as it was.
#[tokio::test]
async fn an_apply_the_server_never_answered_records_nothing() {
    let c = cluster();
    *c.never_answers.lock().unwrap() = true;
    let r = resource::<Query>(Some(c.clone()));
    let (state, d) = apply(&r, json!({"name": "q", "namespace": "mon"}), None).await;
    assert!(
        errors(&d)[0].contains("cannot reach the Kubernetes API server"),
        "{d:?}"
    );
    assert!(state.is_none(), "{state:?}");

    // An update the server never answered keeps the prior state as it was (a failure after
    // the server answered records the new state: `a_failed_rollout_keeps_what_exists_in_state`).
    let c = cluster();
    let r = resource::<Query>(Some(c.clone()));
    let (created, _) = apply(&r, json!({"name": "q", "namespace": "mon"}), None).await;
    let created = created.unwrap();
    *c.never_answers.lock().unwrap() = true;
    let (state, d) = apply(
        &r,
        json!({"name": "q", "namespace": "mon", "replicas": 3}),
        Some(created.clone()),
    )
    .await;
    assert!(!errors(&d).is_empty());
    assert_eq!(state, Some(created));
}

#[tokio::test]
async fn apply_without_a_cluster_says_what_to_configure() {
    let r = resource::<Query>(None);
    let (state, d) = apply(&r, json!({"name": "q"}), None).await;
    assert!(state.is_none());
    assert!(
        errors(&d)[0].contains("no usable Kubernetes cluster"),
        "{d:?}"
    );
}

#[tokio::test]
async fn read_marks_drift_leaves_out_missing_objects_and_finds_a_resource_gone() {
    let c = cluster();
    let r = resource::<Query>(Some(c.clone()));
    let (state, _) = apply(&r, json!({"name": "q", "namespace": "mon"}), None).await;
    let state = state.unwrap();
    let read = |state: Value| {
        let r = &r;
        async move {
            r.read(
                &Context::default(),
                ReadRequest {
                    state,
                    private: Vec::new(),
                },
            )
            .await
        }
    };
    // In sync: the state is unchanged.
    let before = c.calls().len();
    let fresh = read(state.clone()).await;
    assert_eq!(fresh.state.as_ref(), Some(&state));
    // One LIST per kind the state renders (not every kind a resource may own) says what
    // exists; with nothing recorded every object is judged, read with one LIST per kind, not
    // object by object: the dry runs judge what that found.
    assert_eq!(
        c.calls()[before..],
        [
            "inventory thanos-query-q of ConfigMap,Deployment,Service",
            "inventory thanos-query-q of ConfigMap,Deployment,Service",
            "drift 4"
        ]
    );
    // Drifted and missing objects.
    let deployment = ObjectKey::new("Deployment", "mon", "thanosquery-q");
    let service = ObjectKey::new("Service", "mon", "thanosquery-q-operated");
    {
        let mut objects = c.objects.lock().unwrap();
        objects.get_mut(&deployment).unwrap()["spec"]["replicas"] = json!(5);
        objects.remove(&service);
    }
    let drifted = read(state.clone()).await.state.unwrap();
    let entries = recorded_objects::<Query>(&drifted);
    let (_, d) = entries
        .iter()
        .find(|(k, _)| k.starts_with("Deployment/"))
        .unwrap();
    assert_eq!(d, &format!("{DRIFT_MARK}/spec/replicas"));
    assert!(!entries.keys().any(|k| k.starts_with("Service/")));
    // Everything gone: the resource is gone.
    c.objects.lock().unwrap().clear();
    assert!(read(state).await.state.is_none());
}

#[tokio::test]
async fn a_refresh_judges_only_objects_written_since_the_provider_last_saw_them() {
    let c = cluster();
    let r = resource::<Query>(Some(c.clone()));
    let json = json!({"name": "q", "namespace": "mon"});
    let (planned, config, _) = plan(&r, json, None).await;
    let created = create_as_planned(&r, planned, config).await;
    let state = created.state.unwrap();
    // The apply records the version of every object it wrote.
    assert!(!created.private.is_empty());
    let read = |private: Vec<u8>| {
        let (r, state) = (&r, state.clone());
        async move {
            r.read(&Context::default(), ReadRequest { state, private })
                .await
        }
    };
    // Nobody wrote since: no dry run at all, the state and what is known stay as they are.
    let before = c.calls().len();
    let quiet = read(created.private.clone()).await;
    assert_eq!(quiet.state.as_ref(), Some(&state));
    assert_eq!(
        c.calls()[before..],
        [
            "inventory thanos-query-q of ConfigMap,Deployment,Service",
            "drift 0"
        ]
    );
    assert_eq!(quiet.private, created.private);
    // Its controller writes its status (a new resourceVersion, the same content to judge): no
    // dry run either.
    let deployment = ObjectKey::new("Deployment", "mon", "thanosquery-q");
    let written = c.objects.lock().unwrap()[&deployment].clone();
    let mut status = written.clone();
    status["status"] = json!({"readyReplicas": 1, "observedGeneration": 1});
    c.insert(deployment.clone(), status);
    let before = c.calls().len();
    read(created.private.clone()).await;
    assert_eq!(c.calls()[before + 1..], ["drift 0"]);
    // Someone scales the Deployment (a write: a new resourceVersion): only it is judged, and
    // its drift shows.
    let mut scaled = written;
    scaled["spec"]["replicas"] = json!(5);
    c.insert(deployment.clone(), scaled);
    let before = c.calls().len();
    let drifted = read(created.private.clone()).await;
    assert_eq!(
        c.calls()[before + 1..],
        ["inventory thanos-query-q of Deployment", "drift 1"]
    );
    let entries = recorded_objects::<Query>(drifted.state.as_ref().unwrap());
    assert_eq!(
        entries["Deployment/thanosquery-q"],
        format!("{DRIFT_MARK}/spec/replicas")
    );
    // What a refresh records leaves the drifted object out, so it is judged again next time;
    // without any record (an older state, an import) every object is judged.
    let before = c.calls().len();
    read(drifted.private.clone()).await;
    assert_eq!(
        c.calls()[before + 1..],
        ["inventory thanos-query-q of Deployment", "drift 1"]
    );
    let before = c.calls().len();
    read(Vec::new()).await;
    assert_eq!(
        c.calls()[before + 1..],
        [
            "inventory thanos-query-q of ConfigMap,Deployment,Service",
            "drift 4"
        ]
    );
}

/// A workload's controller writes its status during the rollout (and the deployment controller
/// its revision annotation): the apply records the workload as the wait last saw it, without
/// reading it again, so the first refresh need not judge it. A change of what it was written with (a label it is rendered
/// with, its spec) leaves it to be judged.
#[tokio::test]
async fn an_apply_records_what_the_rollout_wrote_and_nothing_else() {
    type Change = Box<dyn Fn(&mut serde_json::Value) + Send>;
    let judged_deployment = &["inventory thanos-query-q of Deployment", "drift 1"][..];
    let cases: [(&str, Change, &[&str]); 4] = [
        (
            "status",
            Box::new(|j| j["status"] = json!({"readyReplicas": 1})),
            &["drift 0"][..],
        ),
        (
            "a controller's annotation",
            Box::new(|j| {
                j["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!("1")
            }),
            &["drift 0"][..],
        ),
        (
            "a rendered label",
            Box::new(|j| j["metadata"]["labels"]["app.kubernetes.io/component"] = json!("x")),
            judged_deployment,
        ),
        (
            "the spec (a new generation)",
            Box::new(|j| {
                j["spec"]["replicas"] = json!(7);
                j["metadata"]["generation"] = json!(2);
            }),
            judged_deployment,
        ),
    ];
    for (what, change, judged) in cases {
        let c = cluster();
        *c.during_rollout.lock().unwrap() = Some(change);
        let r = resource::<Query>(Some(c.clone()));
        let (planned, config, _) = plan(&r, json!({"name": "q", "namespace": "mon"}), None).await;
        let created = create_as_planned(&r, planned, config).await;
        // What the wait saw of the workload is recorded: nothing is read for it.
        assert!(
            !c.calls().iter().any(|l| l.starts_with("inventory")),
            "{what}: {:?}",
            c.calls()
        );
        let before = c.calls().len();
        r.read(
            &Context::default(),
            ReadRequest {
                state: created.state.unwrap(),
                private: created.private,
            },
        )
        .await;
        assert_eq!(c.calls()[before + 1..], *judged, "{what}");
    }
}

/// The controllers of a StatefulSet and a disruption budget write only their status after an
/// apply: what the apply's own answers recorded covers that, so nothing is read after the
/// rollout and the first refresh judges nothing.
#[tokio::test]
async fn status_written_after_an_apply_is_neither_read_nor_judged() {
    let c = cluster();
    *c.during_rollout.lock().unwrap() = Some(Box::new(|j: &mut serde_json::Value| {
        j["status"] = json!({"readyReplicas": 2, "currentReplicas": 2})
    }));
    let r = resource::<Receive>(Some(c.clone()));
    let (planned, config, _) = plan(&r, ingestor(), None).await;
    let created = create_as_planned(&r, planned, config).await;
    assert!(
        !c.calls().iter().any(|l| l.starts_with("inventory")),
        "{:?}",
        c.calls()
    );
    let budget = ObjectKey::new("PodDisruptionBudget", "mon", "thanosreceive-ingestor");
    let mut counted = c.objects.lock().unwrap()[&budget].clone();
    counted["status"] = json!({"currentHealthy": 2, "desiredHealthy": 1});
    c.insert(budget, counted);
    let before = c.calls().len();
    r.read(
        &Context::default(),
        ReadRequest {
            state: created.state.unwrap(),
            private: created.private,
        },
    )
    .await;
    assert_eq!(c.calls()[before + 1..], ["drift 0"]);
}

#[tokio::test]
async fn read_of_an_unreachable_cluster_warns_and_keeps_the_state() {
    let r = resource::<Query>(None);
    let state = testing::config::<Query>(&json!({"name": "q"}), testing::Absent::Null);
    let response = r
        .read(
            &Context::default(),
            ReadRequest {
                state: state.clone(),
                private: Vec::new(),
            },
        )
        .await;
    assert_eq!(response.state, Some(state));
    assert_eq!(response.diagnostics.0[0].severity, Severity::Warning);
}

#[tokio::test]
async fn delete_removes_everything_and_claims_follow_the_retention() {
    for (retention, claim_left) in [("Retain", true), ("Delete", false)] {
        let c = cluster();
        let r = resource::<Receive>(Some(c.clone()));
        let mut config = ingestor();
        config["ingestor"]["pvc_retention_on_delete"] = retention.into();
        let (state, _) = apply(&r, config, None).await;
        let pvc = ObjectKey::new(
            "PersistentVolumeClaim",
            "mon",
            "thanosreceive-ingestor-tsdb-thanosreceive-ingestor-0",
        );
        c.insert(
            pvc.clone(),
            json!({"metadata": {"namespace": "mon", "labels": thanos_render::meta::ownership_labels(
                thanos_render::meta::Kind::Receive, "ingestor")}}),
        );
        let d = r
            .delete(
                &Context::default(),
                DeleteRequest {
                    prior_state: state.unwrap(),
                    private: Vec::new(),
                    planned: true,
                },
            )
            .await;
        assert!(!d.has_errors(), "{d:?}");
        assert!(d.is_empty(), "a planned destroy repeats no warning: {d:?}");
        assert_eq!(c.keys().contains(&pvc), claim_left, "{retention}");
        assert_eq!(c.keys().len(), usize::from(claim_left), "{:?}", c.keys());
    }
}

#[tokio::test]
async fn import_rebuilds_the_configuration_from_the_record() {
    let c = cluster();
    let r = resource::<Storage>(Some(c.clone()));
    let config = json!({
        "name": "s", "namespace": "mon",
        "object_storage_config": {"name": "os", "key": "k"},
        "compact": {"retention": {"raw": "30d"}}
    });
    let (state, _) = apply(&r, config, None).await;
    let state = state.unwrap();
    let imported = r.import(&Context::default(), "mon/s").await;
    assert!(
        imported.diagnostics.is_empty(),
        "{:?}",
        imported.diagnostics
    );
    let imported = imported.state.unwrap();
    for attr in ["name", "namespace", "object_storage_config", "compact"] {
        assert_eq!(imported.get_attr(attr), state.get_attr(attr), "{attr}");
    }
    assert_eq!(imported.get_attr("objects"), Some(&Value::Null));
}

#[tokio::test]
async fn import_explains_a_bad_id_and_objects_without_a_record() {
    let c = cluster();
    let r = resource::<Query>(Some(c.clone()));
    let bad = r.import(&Context::default(), "no-slash").await;
    assert!(errors(&bad.diagnostics)[0].contains("<namespace>/<name>"));
    let none = r.import(&Context::default(), "mon/q").await;
    assert!(errors(&none.diagnostics)[0].contains("non-existent"));
    // Objects made by another tool, without our record.
    c.insert(
        ObjectKey::new("Deployment", "mon", "thanosquery-q"),
        json!({"metadata": {"namespace": "mon", "labels": thanos_render::meta::ownership_labels(
            thanos_render::meta::Kind::Query, "q")}}),
    );
    let foreign = r.import(&Context::default(), "mon/q").await;
    assert!(errors(&foreign.diagnostics)[0].contains("adopt_existing"));
}

/// Pulumi's bridge deletes without a plan: the delete says what the plan would have.
#[tokio::test]
async fn a_destroy_nobody_planned_says_what_the_plan_would_have() {
    let c = cluster();
    let r = resource::<Receive>(Some(c.clone()));
    let (state, _) = apply(&r, ingestor(), None).await;
    let state = state.unwrap();
    let planned = r.plan_destroy(&Context::default(), &state).await;
    assert_eq!(planned.0.len(), 1, "{planned:?}");
    assert_eq!(planned.0[0].severity, Severity::Warning);
    let d = r
        .delete(
            &Context::default(),
            DeleteRequest {
                prior_state: state,
                private: Vec::new(),
                planned: false,
            },
        )
        .await;
    assert_eq!(d.0, planned.0, "the same warnings, once");
    assert!(c.keys().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Selections: objects of other tools a resource reads (a ruler's PrometheusRules).

fn ruler() -> serde_json::Value {
    json!({
        "name": "global",
        "namespace": "mon",
        "query_endpoints": ["http://thanosquery-g-operated.mon.svc:10902"],
        "prometheus_rule_selector": {"match_labels": {"federate": "true"}},
    })
}

/// A PrometheusRule as prometheus-operator's users write it.
fn prometheus_rule(c: &FakeCluster, namespace: &str, name: &str, expr: &str) {
    c.insert(
        ObjectKey::new("PrometheusRule", namespace, name),
        json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"namespace": namespace, "name": name, "labels": {"federate": "true"}},
            "spec": {"groups": [{"name": name, "rules": [
                {"alert": "Down", "expr": expr, "for": "5m", "labels": {"severity": "page"}}
            ]}]},
        }),
    );
}

fn selected(v: &Value) -> Input<std::collections::BTreeMap<String, String>> {
    decode::<Rule>(v).prometheus_rules
}

#[tokio::test]
async fn plan_offline_leaves_the_selected_rules_known_after_apply() {
    let r = resource::<Rule>(None);
    let (planned, _, d) = plan(&r, ruler(), None).await;
    assert!(
        d.is_empty(),
        "planning before the cluster exists says nothing: {d:?}"
    );
    let m = decode::<Rule>(&planned);
    assert!(m.prometheus_rules.is_unknown());
    assert!(m.common.lifecycle.objects.is_unknown());
    assert_eq!(
        m.store_endpoint.known().unwrap(),
        "dnssrv+_grpc._tcp.thanosrule-global-operated.mon.svc"
    );
}

#[tokio::test]
async fn plan_shows_each_selected_rule_and_leaves_out_what_thanos_refuses() {
    let c = cluster();
    prometheus_rule(&c, "mon", "node", "up == 0");
    prometheus_rule(&c, "mon", "broken", "up ==");
    prometheus_rule(&c, "other", "elsewhere", "up == 0");
    let r = resource::<Rule>(Some(c.clone()));
    let (planned, _, d) = plan(&r, ruler(), None).await;
    let rules = selected(&planned).known().cloned().unwrap();
    assert_eq!(
        rules.keys().collect::<Vec<_>>(),
        ["mon/node"],
        "own namespace only"
    );
    assert!(rules["mon/node"].contains("alert: \"Down\""), "{rules:?}");
    let warnings: Vec<_> = d
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect();
    assert_eq!(warnings.len(), 1, "{d:?}");
    assert!(warnings[0].detail.contains("mon/broken"), "{d:?}");
    assert!(
        warnings[0].detail.contains("rule 0 (alert \"Down\"), expr"),
        "{d:?}"
    );
    assert_eq!(
        warnings[0].path,
        Some(AttributePath::root().attr("prometheus_rule_selector"))
    );
    let objects = recorded_objects::<Rule>(&planned);
    assert!(
        objects.contains_key("ConfigMap/thanosrule-global-prometheus-rules-0"),
        "{objects:?}"
    );
    // Every namespace with a namespace selector.
    let mut all = ruler();
    all["prometheus_rule_namespace_selector"] = json!({});
    let (planned, _, _) = plan(&r, all, None).await;
    assert_eq!(
        selected(&planned)
            .known()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["mon/node", "other/elsewhere"]
    );
}

#[tokio::test]
async fn a_rule_added_after_the_apply_shows_in_the_next_plan() {
    let c = cluster();
    prometheus_rule(&c, "mon", "node", "up == 0");
    let r = resource::<Rule>(Some(c.clone()));
    let (state, d) = apply(&r, ruler(), None).await;
    assert!(!d.has_errors(), "{d:?}");
    let state = state.unwrap();
    // Nothing changed: the plan keeps the state.
    let (planned, _, _) = plan(&r, ruler(), Some(state.clone())).await;
    assert_eq!(planned, state);
    prometheus_rule(&c, "mon", "disk", "up == 0");
    let (planned, _, _) = plan(&r, ruler(), Some(state.clone())).await;
    assert_eq!(
        selected(&planned)
            .known()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["mon/disk", "mon/node"]
    );
    assert_ne!(
        planned.get_attr("objects"),
        state.get_attr("objects"),
        "the rules ConfigMap and the pod template's config hash change"
    );
}

#[tokio::test]
async fn apply_never_writes_rules_the_plan_did_not_show() {
    let c = cluster();
    prometheus_rule(&c, "mon", "node", "up == 0");
    let r = resource::<Rule>(Some(c.clone()));
    let (planned, config, _) = plan(&r, ruler(), None).await;
    // One rule changes, one is added between plan and apply.
    prometheus_rule(&c, "mon", "node", "up == 1");
    prometheus_rule(&c, "mon", "disk", "up == 0");
    let response = create_as_planned(&r, planned, config).await;
    let errors = errors(&response.diagnostics);
    assert!(errors[0].contains("changed since the plan"), "{errors:?}");
    assert!(errors[0].contains("+ mon/disk"), "{errors:?}");
    assert!(errors[0].contains("~ mon/node"), "{errors:?}");
    assert!(response.state.is_none());
    assert!(
        !c.keys().iter().any(|k| k.kind != "PrometheusRule"),
        "nothing was applied: {:?}",
        c.keys()
    );
}

#[tokio::test]
async fn apply_after_an_offline_plan_reads_and_records_the_selection() {
    let c = cluster();
    prometheus_rule(&c, "mon", "node", "up == 0");
    let r = resource::<Rule>(Some(c.clone()));
    // Planned without the cluster: the selection is unknown.
    let (planned, config, _) = plan(&resource::<Rule>(None), ruler(), None).await;
    assert!(selected(&planned).is_unknown());
    let response = create_as_planned(&r, planned, config).await;
    assert!(
        !response.diagnostics.has_errors(),
        "{:?}",
        response.diagnostics
    );
    let state = response.state.unwrap();
    assert!(state.is_wholly_known());
    assert_eq!(
        selected(&state).known().unwrap().keys().collect::<Vec<_>>(),
        ["mon/node"]
    );
    assert!(c.keys().contains(&ObjectKey::new(
        "ConfigMap",
        "mon",
        "thanosrule-global-prometheus-rules-0"
    )));
}

#[tokio::test]
async fn a_cluster_without_the_crd_selects_nothing_and_says_so() {
    let c = cluster();
    c.unserved.lock().unwrap().push("PrometheusRule".into());
    let r = resource::<Rule>(Some(c.clone()));
    let (planned, _, d) = plan(&r, ruler(), None).await;
    assert_eq!(selected(&planned), Input::Known(Default::default()));
    assert!(
        d.iter().any(|d| d.severity == Severity::Warning
            && d.summary.contains("does not serve PrometheusRule")),
        "{d:?}"
    );
}

#[tokio::test]
async fn a_refresh_after_an_import_reads_the_selection() {
    let c = cluster();
    prometheus_rule(&c, "mon", "node", "up == 0");
    let r = resource::<Rule>(Some(c.clone()));
    let (state, _) = apply(&r, ruler(), None).await;
    let state = state.unwrap();
    let imported = r
        .import(&Context::default(), "mon/global")
        .await
        .state
        .unwrap();
    assert!(
        selected(&imported).is_null(),
        "computed values are not recorded"
    );
    let refreshed = r
        .read(
            &Context::default(),
            ReadRequest {
                state: imported,
                private: Vec::new(),
            },
        )
        .await
        .state
        .unwrap();
    assert_eq!(selected(&refreshed), selected(&state));
    assert_eq!(refreshed.get_attr("objects"), state.get_attr("objects"));
}

/// A storage on S3 with write-only keys.
fn storage_with_keys(secret: &str, version: i64) -> serde_json::Value {
    json!({
        "name": "s", "namespace": "mon",
        "object_storage": {"s3": {
            "bucket": "thanos", "endpoint": "minio:9000", "insecure": true,
            "access_key_wo": "AKIALIFECYCLE", "secret_key_wo": secret,
            "credentials_wo_version": version,
        }},
        "gateway": {},
    })
}

const OWNED_SECRET: &str = "thanosstorage-s-objstore";

/// The objstore file the fake cluster holds in the owned Secret.
fn secret_file(c: &FakeCluster) -> String {
    use base64::Engine as _;
    let objects = c.objects.lock().unwrap();
    let json = &objects[&ObjectKey::new("Secret", "mon", OWNED_SECRET)];
    let b64 = json["data"]["objstore.yaml"].as_str().unwrap();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

fn gateway_hash(c: &FakeCluster) -> String {
    let objects = c.objects.lock().unwrap();
    let sts = &objects[&ObjectKey::new("StatefulSet", "mon", "thanosstorage-s-gateway")];
    sts["spec"]["template"]["metadata"]["annotations"]["thanos.paodin.io/config-hash"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Write-only keys, phase by phase: the apply writes them into the owned Secret and nowhere
/// else; a refresh (which never has them) finds the Secret in sync; a new key alone is neither
/// planned nor written; a new version rewrites the Secret and changes the pods' config hash.
#[tokio::test]
async fn write_only_keys_reach_only_the_secret_and_rotate_by_version() {
    let c = cluster();
    let r = resource::<Storage>(Some(c.clone()));
    let (state, d) = apply(&r, storage_with_keys("first-key", 1), None).await;
    assert!(!d.has_errors(), "{d:?}");
    let state = state.unwrap();
    assert!(r.schema.block.write_only_values(&state).is_empty());
    assert!(!format!("{state:?}").contains("first-key"));
    let file = secret_file(&c);
    assert!(file.contains("  secret_key: \"first-key\"\n"), "{file}");
    // The record (what import reads back) holds no key either.
    let record = c.objects.lock().unwrap()
        [&ObjectKey::new("ConfigMap", "mon", "thanosstorage-s-terraform")]
        .to_string();
    assert!(!record.contains("first-key") && !record.contains("AKIALIFECYCLE"));
    let hash_v1 = gateway_hash(&c);

    // A refresh judges the Secret without the keys: in sync.
    let read = r
        .read(
            &Context::default(),
            ReadRequest {
                state: state.clone(),
                private: Vec::new(),
            },
        )
        .await;
    assert_eq!(read.state.as_ref(), Some(&state), "{:?}", read.diagnostics);

    // Another key, same version: the plan keeps every object; the apply leaves the Secret.
    let (planned, _, _) = plan(&r, storage_with_keys("second-key", 1), Some(state.clone())).await;
    assert_eq!(planned.get_attr("objects"), state.get_attr("objects"));
    c.calls.lock().unwrap().clear();
    let (state, _) = apply(&r, storage_with_keys("second-key", 1), Some(state)).await;
    let state = state.unwrap();
    assert!(
        !c.calls().iter().any(|l| l.contains("apply Secret")),
        "{:?}",
        c.calls()
    );
    assert!(secret_file(&c).contains("first-key"));

    // A new version: the Secret is rewritten and the pods' template changes (they roll).
    let (state, _) = apply(&r, storage_with_keys("second-key", 2), Some(state)).await;
    let state = state.unwrap();
    let file = secret_file(&c);
    assert!(
        file.contains("second-key") && !file.contains("first-key"),
        "{file}"
    );
    assert_ne!(gateway_hash(&c), hash_v1);

    // The Secret deleted out of band: the refresh leaves it out and the next apply writes it.
    c.objects
        .lock()
        .unwrap()
        .remove(&ObjectKey::new("Secret", "mon", OWNED_SECRET));
    let refreshed = r
        .read(
            &Context::default(),
            ReadRequest {
                state,
                private: Vec::new(),
            },
        )
        .await
        .state
        .unwrap();
    let (_, d) = apply(&r, storage_with_keys("second-key", 2), Some(refreshed)).await;
    assert!(!d.has_errors(), "{d:?}");
    assert!(secret_file(&c).contains("second-key"));
}

/// A refresh finds an edited objstore file (another bucket) as drift of the Secret, and only
/// of the Secret; the keys themselves are not compared (the state never knew them).
#[tokio::test]
async fn a_refresh_finds_an_edited_objstore_file_but_never_compares_the_keys() {
    use base64::Engine as _;
    let c = cluster();
    let r = resource::<Storage>(Some(c.clone()));
    let (state, _) = apply(&r, storage_with_keys("the-key", 1), None).await;
    let state = state.unwrap();
    let edit = |from: &str, to: &str| {
        let file = secret_file(&c).replace(from, to);
        let b64 = base64::engine::general_purpose::STANDARD.encode(file);
        c.objects
            .lock()
            .unwrap()
            .get_mut(&ObjectKey::new("Secret", "mon", OWNED_SECRET))
            .unwrap()["data"]["objstore.yaml"] = json!(b64);
    };
    let read = |state: Value| {
        let r = &r;
        async move {
            r.read(
                &Context::default(),
                ReadRequest {
                    state,
                    private: Vec::new(),
                },
            )
            .await
            .state
            .unwrap()
        }
    };
    // Another key in the cluster: not drift.
    edit("the-key", "another-key");
    assert_eq!(read(state.clone()).await, state);
    // Another bucket: drift of the Secret's file.
    edit("\"thanos\"", "\"elsewhere\"");
    let drifted = read(state).await;
    let entries = recorded_objects::<Storage>(&drifted);
    let marked: Vec<(&str, &str)> = entries
        .iter()
        .filter(|(_, v)| v.starts_with(DRIFT_MARK))
        .map(|(k, v)| (k.split('/').next().unwrap(), v.as_str()))
        .collect();
    assert_eq!(
        marked,
        [("Secret", "changed in the cluster: /data/objstore.yaml")]
    );
}

/// The keys of an ingestor's bucket (a write-only attribute two blocks deep) reach its owned
/// Secret at apply and stay out of the state.
#[tokio::test]
async fn an_ingestors_write_only_keys_reach_its_secret() {
    use base64::Engine as _;
    let c = cluster();
    let r = resource::<Receive>(Some(c.clone()));
    let config = json!({
        "name": "ingestor", "namespace": "mon",
        "ingestor": {"object_storage": {"gcs": {
            "bucket": "thanos-metrics",
            "service_account_wo": "{\"type\": \"service_account\", \"private_key\": \"pk-secret\"}",
            "credentials_wo_version": 7,
        }}},
    });
    let (state, d) = apply(&r, config, None).await;
    assert!(!d.has_errors(), "{d:?}");
    let state = state.unwrap();
    assert!(!format!("{state:?}").contains("pk-secret"));
    let objects = c.objects.lock().unwrap();
    let secret = &objects[&ObjectKey::new("Secret", "mon", "thanosreceive-ingestor-objstore")];
    let file = base64::engine::general_purpose::STANDARD
        .decode(secret["data"]["objstore.yaml"].as_str().unwrap())
        .unwrap();
    let file = String::from_utf8(file).unwrap();
    assert!(
        file.contains("pk-secret") && file.contains("type: \"GCS\""),
        "{file}"
    );
}

fn tls_query(mode: Option<&str>) -> serde_json::Value {
    let mut q = json!({
        "name": "q",
        "namespace": "mon",
        "stores": [{"address": "store.member.test:443", "secret_name": "member-ca"}],
    });
    if let Some(m) = mode {
        q["tls_mode"] = m.into();
    }
    q
}

/// Whether `d` is the plan's warning about the objects an update changes.
fn is_object_changes(d: &Diagnostic) -> bool {
    d.path == Some(AttributePath::root().attr("objects"))
}

fn object_changes(d: &Diagnostics) -> Option<&Diagnostic> {
    d.iter().find(|d| is_object_changes(d))
}

fn object_names(planned: &Value) -> Vec<String> {
    recorded_objects::<Query>(planned).into_keys().collect()
}

#[tokio::test]
async fn tls_mode_is_native_for_a_new_query_and_kept_once_applied() {
    let c = cluster();
    let r = resource::<Query>(Some(c.clone()));
    c.insert_secret("mon", "member-ca", &[("ca.crt", test_ca().as_bytes())]);
    let (planned, _, d) = plan(&r, tls_query(None), None).await;
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        decode::<Query>(&planned).tls_mode,
        Input::Known("native".into())
    );
    assert!(!object_names(&planned).contains(&"ConfigMap/thanosquery-q-envoy".to_owned()));

    // Applied as envoy, the attribute later removed: the mode stays, nothing changes.
    let (state, d) = apply(&r, tls_query(Some("envoy")), None).await;
    assert!(d.is_empty(), "{d:?}");
    let state = state.unwrap();
    let (planned, _, d) = plan(&r, tls_query(None), Some(state.clone())).await;
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(planned, state, "removing tls_mode keeps the applied mode");
}

#[tokio::test]
async fn a_query_applied_before_tls_mode_keeps_its_sidecar_and_the_plan_says_so() {
    let c = cluster();
    let r = resource::<Query>(Some(c.clone()));
    c.insert_secret("mon", "member-ca", &[("ca.crt", test_ca().as_bytes())]);
    let (state, _) = apply(&r, tls_query(Some("envoy")), None).await;
    // What UpgradeResourceState makes of a state written before the attribute existed.
    let mut old = state.unwrap();
    *old.get_attr_mut("tls_mode").unwrap() = Value::Null;
    let (planned, _, d) = plan(&r, tls_query(None), Some(old.clone())).await;
    assert!(!d.has_errors(), "{d:?}");
    let warnings: Vec<_> = d.iter().map(|d| d.summary.clone()).collect();
    assert_eq!(warnings, ["This query keeps its envoy sidecar"]);
    assert_eq!(
        d.iter().next().unwrap().path,
        Some(AttributePath::root().attr("tls_mode"))
    );
    assert_eq!(
        decode::<Query>(&planned).tls_mode,
        Input::Known("envoy".into())
    );
    // The objects are exactly those applied (the record aside, which now records the mode).
    let before = recorded_objects::<Query>(&old);
    let after = recorded_objects::<Query>(&planned);
    let without_record = |v: crate::lifecycle::settings::Objects| {
        v.into_iter()
            .filter(|(k, _)| !k.ends_with("-terraform"))
            .collect::<Vec<_>>()
    };
    assert_eq!(without_record(before), without_record(after));
    // A refresh of that state finds the sidecar's objects in sync: no drift to repair (the
    // record aside: this fake cluster holds the one written with tls_mode set).
    let fresh = r
        .read(
            &Context::default(),
            ReadRequest {
                state: old.clone(),
                private: Vec::new(),
            },
        )
        .await
        .state
        .unwrap();
    let refreshed = recorded_objects::<Query>(&fresh);
    let before = recorded_objects::<Query>(&old);
    assert_eq!(without_record(refreshed), without_record(before));
}

#[tokio::test]
async fn switching_tls_mode_is_an_update_that_adds_or_removes_the_sidecar() {
    let c = cluster();
    let r = resource::<Query>(Some(c.clone()));
    c.insert_secret("mon", "member-ca", &[("ca.crt", test_ca().as_bytes())]);
    let (state, _) = apply(&r, tls_query(Some("native")), None).await;
    let (planned, _, d) = plan(&r, tls_query(Some("envoy")), state.clone()).await;
    assert_eq!(d.iter().count(), 1, "{d:?}");
    let changes = object_changes(&d).expect("the objects that change");
    for said in [
        "ConfigMap thanosquery-q-envoy: added",
        "spec.template.spec.containers[envoy-sidecar]: added",
    ] {
        assert!(changes.detail.contains(said), "{}", changes.detail);
    }
    let names = object_names(&planned);
    assert!(
        names.contains(&"ConfigMap/thanosquery-q-envoy".to_owned()),
        "{names:?}"
    );
    let (state, d) = apply(&r, tls_query(Some("envoy")), state).await;
    assert!(d.is_empty(), "{d:?}");
    let envoy = ObjectKey::new("ConfigMap", "mon", "thanosquery-q-envoy");
    assert!(c.keys().contains(&envoy));
    let deployment =
        c.objects.lock().unwrap()[&ObjectKey::new("Deployment", "mon", "thanosquery-q")].clone();
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (_, d) = apply(&r, tls_query(Some("native")), state).await;
    assert!(d.is_empty(), "{d:?}");
    assert!(
        !c.keys().contains(&envoy),
        "the sidecar's ConfigMap is pruned"
    );
}

/// A CA certificate valid for years, as a Secret holds it.
fn test_ca() -> String {
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2099, 1, 1);
    p.self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap()
        .pem()
}

#[tokio::test]
async fn preflight_reports_a_missing_secret_at_the_store_and_stops_the_plan() {
    let c = cluster();
    let r = resource::<Query>(Some(c.clone()));
    let (_, _, d) = plan(&r, tls_query(None), None).await;
    assert_eq!(errors(&d).len(), 1, "{d:?}");
    let e = d.iter().next().unwrap();
    assert_eq!(e.summary, "TLS Secret not found");
    assert_eq!(
        e.path,
        Some(
            AttributePath::root()
                .attr("stores")
                .index(0)
                .attr("secret_name")
        )
    );
    assert!(c.calls().contains(&"secret mon/member-ca".to_owned()));
    // With the Secret there, the plan goes through.
    c.insert_secret("mon", "member-ca", &[("ca.crt", test_ca().as_bytes())]);
    let (_, _, d) = plan(&r, tls_query(None), None).await;
    assert!(d.is_empty(), "{d:?}");
}

#[tokio::test]
async fn preflight_is_skipped_without_a_word_offline_or_when_secrets_cannot_be_read() {
    let (_, _, d) = plan(&resource::<Query>(None), tls_query(None), None).await;
    assert!(d.is_empty(), "offline: {d:?}");
    let c = cluster();
    *c.secret_read_fails.lock().unwrap() = Some("secrets is forbidden".into());
    let (_, _, d) = plan(&resource::<Query>(Some(c.clone())), tls_query(None), None).await;
    assert!(d.is_empty(), "forbidden: {d:?}");
    // A query without TLS stores reads nothing.
    let c = cluster();
    let (_, _, d) = plan(
        &resource::<Query>(Some(c.clone())),
        json!({"name": "q", "namespace": "mon", "stores": [{"address": "s:10901"}]}),
        None,
    )
    .await;
    assert!(d.is_empty(), "{d:?}");
    assert!(!c.calls().iter().any(|l| l.starts_with("secret ")));
}

mod production;

/// One plan and apply of `json` after `prior` (a state and its private bytes), passing the
/// private bytes along as Terraform does: the plan's diagnostics, the apply's, and what the
/// apply left (its state and private bytes).
async fn plan_and_apply<K: Kind>(
    r: &StackResource<K>,
    json: serde_json::Value,
    prior: Option<(Value, Vec<u8>)>,
) -> (Diagnostics, Diagnostics, Option<(Value, Vec<u8>)>) {
    let (prior_state, prior_private) = prior.unzip();
    let config = testing::terraform_config::<K>(&json);
    let proposed = proposed::<K>(prior_state.as_ref(), &config);
    let framework = plan_change(&r.schema.block, prior_state.as_ref(), &config, &proposed);
    let planned = r
        .plan(
            &Context::default(),
            PlanRequest {
                prior_state: prior_state.clone(),
                config: config.clone(),
                planned: framework.planned,
                prior_private: prior_private.unwrap_or_default(),
            },
        )
        .await;
    assert!(
        !planned.diagnostics.has_errors(),
        "{:?}",
        planned.diagnostics
    );
    let request = ApplyRequest {
        prior_state: prior_state.clone(),
        planned: planned.planned,
        config,
        planned_private: planned.private,
    };
    let applied = if prior_state.is_none() {
        r.create(&Context::default(), request).await
    } else {
        r.update(&Context::default(), request).await
    };
    let after = applied.state.map(|s| (s, applied.private));
    (planned.diagnostics, applied.diagnostics, after)
}

fn summaries(d: &Diagnostics) -> Vec<String> {
    d.iter().map(|d| d.summary.clone()).collect()
}

/// Ingestors shrinking while a router of another resource lists them: the first apply keeps
/// the leaving pods running but unpublished, so the router (applied after them) drops them;
/// the next plan finds no ring listing them and shrinks the StatefulSet.
#[tokio::test]
async fn a_scale_down_waits_for_the_rings_of_other_resources() {
    let c = cluster();
    let ing = resource::<Receive>(Some(c.clone()));
    let rt = resource::<Receive>(Some(c.clone()));
    let ingestor =
        |n: i64| json!({"name": "ingestor", "namespace": "mon", "replicas": n, "ingestor": {}});
    let router = |state: &Value| {
        let eps = decode::<Receive>(state)
            .ingestor_endpoints
            .known()
            .unwrap()
            .clone();
        json!({"name": "router", "namespace": "mon", "router": {
            "soft_tenant_hashring": {"name": "default", "endpoints": eps}}})
    };
    let live_replicas = || {
        c.objects.lock().unwrap()[&ObjectKey::new("StatefulSet", "mon", "thanosreceive-ingestor")]
            ["spec"]["replicas"]
            .as_i64()
    };
    let published_below = || {
        c.objects.lock().unwrap()
            [&ObjectKey::new("Service", "mon", "thanosreceive-ingestor-operated")]["metadata"]
            ["labels"][thanos_render::discovery::PUBLISHED_BELOW_LABEL]
            .as_str()
            .map(str::to_owned)
    };
    let (_, _, ingested) = plan_and_apply(&ing, ingestor(3), None).await;
    let (_, _, routed) = plan_and_apply(&rt, router(&ingested.as_ref().unwrap().0), None).await;

    // 3 -> 1 while the router lists all three: held at 3, publishing 1.
    let (planned, applied, ingested) = plan_and_apply(&ing, ingestor(1), ingested).await;
    let held = planned
        .iter()
        .find(|d| d.summary.starts_with("Scale-down held"))
        .unwrap_or_else(|| panic!("{:?}", summaries(&planned)));
    assert!(
        held.detail.contains(
            "ConfigMap mon/thanosreceive-router-hashrings lists thanosreceive-ingestor-1"
        ) && held.detail.contains("keeps 3 of the 3 pods"),
        "{}",
        held.detail
    );
    assert!(!applied.has_errors(), "{applied:?}");
    assert_eq!(live_replicas(), Some(3));
    assert_eq!(published_below().as_deref(), Some("1"));
    let ingested = ingested.unwrap();
    assert_eq!(
        decode::<Receive>(&ingested.0)
            .ingestor_endpoints
            .known()
            .unwrap()
            .len(),
        1
    );

    // The router follows (in the same run, after its dependency).
    let (_, applied, _) = plan_and_apply(&rt, router(&ingested.0), routed).await;
    assert!(!applied.has_errors(), "{applied:?}");

    // The next plan resumes the scale-down, and the one after is quiet.
    let (planned, applied, ingested) = plan_and_apply(&ing, ingestor(1), Some(ingested)).await;
    assert!(
        summaries(&planned).contains(&"Held scale-down resumes".to_owned()),
        "{:?}",
        summaries(&planned)
    );
    assert!(!applied.has_errors(), "{applied:?}");
    assert_eq!(live_replicas(), Some(1));
    assert_eq!(published_below(), None);
    let (planned, _, _) = plan_and_apply(&ing, ingestor(1), ingested).await;
    assert!(
        !summaries(&planned)
            .iter()
            .any(|s| s.contains("scale-down") || s.contains("Scale-down")),
        "{:?}",
        summaries(&planned)
    );
}

/// A router that reloads its ring in place: a ring change leaves its pod template alone and
/// the apply waits until the pods run the new file; when that cannot be read, it restarts
/// them (and says so). A create, and a change that leaves the ring alone, wait for nothing.
#[tokio::test]
async fn a_ring_change_is_waited_for_or_restarts_the_routers() {
    let c = cluster();
    let r = resource::<Receive>(Some(c.clone()));
    let config = |members: &[&str], replicas: i64| {
        json!({"name": "router", "namespace": "mon", "replicas": replicas, "router": {
            "soft_tenant_hashring": {"name": "default", "endpoints": members}}})
    };
    let template = || {
        c.objects.lock().unwrap()[&ObjectKey::new("Deployment", "mon", "thanosreceive-router")]
            ["spec"]["template"]
            .clone()
    };
    let waits = |c: &FakeCluster| -> Vec<String> {
        c.calls()
            .into_iter()
            .filter(|l| l.starts_with("ring_loaded") || l.starts_with("restart"))
            .collect()
    };
    let (_, _, state) = plan_and_apply(&r, config(&["a:1"], 2), None).await;
    assert_eq!(waits(&c), Vec::<String>::new(), "a create");
    let before = template();

    c.calls.lock().unwrap().clear();
    let (_, applied, state) = plan_and_apply(&r, config(&["a:1", "b:1"], 2), state).await;
    assert!(!applied.has_errors(), "{applied:?}");
    assert_eq!(waits(&c), ["ring_loaded mon"]);
    assert_eq!(template(), before, "the pods do not roll");

    c.calls.lock().unwrap().clear();
    let (_, _, state) = plan_and_apply(&r, config(&["a:1", "b:1"], 3), state).await;
    assert_eq!(waits(&c), Vec::<String>::new(), "the ring did not change");

    // The proxy cannot read the pods: they restart, and the apply says why.
    *c.ring_load.lock().unwrap() = Some(thanos_cluster::RingLoad::Unobservable(
        "pods/proxy is forbidden".into(),
    ));
    c.calls.lock().unwrap().clear();
    let (_, applied, _) = plan_and_apply(&r, config(&["a:1"], 3), state).await;
    assert!(!applied.has_errors(), "{applied:?}");
    assert_eq!(
        waits(&c),
        [
            "ring_loaded mon",
            "restart Deployment mon/thanosreceive-router"
        ]
    );
    let restarted = applied
        .iter()
        .find(|d| d.summary.starts_with("Restarted mon/thanosreceive-router"))
        .unwrap_or_else(|| panic!("{:?}", summaries(&applied)));
    assert!(
        restarted.detail.contains("pods/proxy is forbidden"),
        "{}",
        restarted.detail
    );
}
