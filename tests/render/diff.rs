//! What an update plan says about each object (`thanos_render::diff`): the prior
//! configuration and the new one rendered offline and compared field by field. Goldens of the
//! text a reviewer reads, and the rule that a Secret never shows a value.

use serde_json::json;
use terraform_provider_thanos::resources::{query::Query, receive::Receive, storage::Storage};
use thanos_render::diff::{self, Change};
use thanos_render::{Rendered, query, receive, storage};

use crate::support::*;

/// A receive that routes to a ring of its own pods, with `replicas` pods, discovered.
fn own_ring(replicas: u32) -> Rendered {
    let spec = spec::<Receive>(json!({
        "name": "both", "namespace": "mon", "replicas": replicas, "ingestor": {},
        "router": {"replication_factor": 2, "soft_tenant_hashring": {
            "name": "default",
            "endpoints_selector": {"match_labels": {"app.kubernetes.io/instance": "both"}}}},
    }));
    receive::render(&spec, &ctx(), &discovered("default", &spec)).unwrap()
}

fn text(before: &Rendered, after: &Rendered) -> String {
    diff::describe(&diff::objects(&before.objects, &after.objects, &[]), 8, 20)
}

/// replicas 2 → 3: the StatefulSet's field and the ring's new member, nothing else.
#[test]
fn receive_scale_up_names_the_field_and_the_ring_member() {
    let said = text(&own_ring(2), &own_ring(3));
    insta::assert_snapshot!(said);
    assert!(
        said.contains("StatefulSet thanosreceive-both:\n  spec.replicas: 2 → 3"),
        "{said}"
    );
}

#[test]
fn nothing_changes_nothing_said() {
    assert!(diff::objects(&own_ring(2).objects, &own_ring(2).objects, &[]).is_empty());
}

/// A store added and an image changed: the argument list says what was added, not a list
/// index; named containers are matched by name.
#[test]
fn query_store_and_image() {
    let render = |stores: serde_json::Value, image: &str| {
        let spec = spec::<Query>(
            json!({"name": "q", "namespace": "mon", "stores": stores, "image": image}),
        );
        query::render(&spec, &ctx()).unwrap()
    };
    let before = render(
        json!([{"address": "a.mon.svc:10901"}]),
        "quay.io/thanos/thanos:v0.42.5",
    );
    let after = render(
        json!([{"address": "a.mon.svc:10901"}, {"address": "b.mon.svc:10901"}]),
        "quay.io/thanos/thanos:v0.42.6",
    );
    insta::assert_snapshot!(text(&before, &after));
}

/// A new credentials version changes the owned Secret: it says so and shows no field of it
/// (neither the data, nor the versions of its public form), while the pods' roll shows.
#[test]
fn a_secret_says_changed_and_nothing_more() {
    let render = |version: i64, secret: &str| {
        let spec = spec::<Storage>(json!({
            "name": "lts", "namespace": "mon", "gateway": {},
            "object_storage": {"s3": {"bucket": "blocks", "endpoint": "minio.mon.svc:9000",
                "access_key_wo": "AKIA-VISIBLE-IF-LEAKED", "secret_key_wo": secret,
                "credentials_wo_version": version}},
        }));
        storage::render(&spec, &ctx())
    };
    let (before, after) = (render(1, "old-secret-value"), render(2, "new-secret-value"));
    let changes = diff::objects(&before.objects, &after.objects, &[]);
    let secret = changes
        .iter()
        .find(|c| c.kind == "Secret")
        .expect("the Secret changes");
    assert_eq!(secret.change, Change::Secret);
    let said = diff::describe(&changes, 8, 20);
    for leak in ["AKIA", "secret-value", "objstore.yaml", "credentials"] {
        assert!(!said.contains(leak), "{leak} shown:\n{said}");
    }
    insta::assert_snapshot!(said);
}

/// Caps: a few fields per object and a few objects, each with how many more there are.
#[test]
fn long_changes_are_capped() {
    let changes = diff::objects(&[], &own_ring(3).objects, &[]);
    let all = diff::describe(&changes, 8, 20);
    assert!(all.lines().all(|l| l.ends_with(": added")), "{all}");
    let capped = diff::describe(&changes, 8, 2);
    assert_eq!(capped.lines().count(), 3, "{capped}");
    assert!(
        capped.ends_with(&format!("... and {} more objects", changes.len() - 2)),
        "{capped}"
    );
    let fields = diff::objects(&own_ring(2).objects, &own_ring(5).objects, &[]);
    let capped = diff::describe(&fields, 1, 20);
    assert!(
        capped.contains("  ... and 1 more fields") || capped.contains("more fields"),
        "{capped}"
    );
}

/// Objects the caller shows otherwise are left out.
#[test]
fn skipped_objects_are_left_out() {
    let (before, after) = (own_ring(2), own_ring(3));
    let all = diff::objects(&before.objects, &after.objects, &[]);
    let skipped = diff::objects(
        &before.objects,
        &after.objects,
        &[("StatefulSet", "thanosreceive-both")],
    );
    assert_eq!(skipped.len() + 1, all.len());
    assert!(!skipped.iter().any(|c| c.kind == "StatefulSet"));
}
