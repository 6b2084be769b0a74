//! Hashring discovery against the real cluster: a 2-replica ingestor StatefulSet behind its
//! headless Service (port `grpc`) is found as `<pod>.<svc>.<ns>.svc:10901`, in the own
//! namespace or through a namespace selector, and only when the selectors match.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use thanos_cluster::{ApplyOptions, WaitOptions};
use thanos_render::common::{LabelSelector, LabelSelectorRequirement};
use thanos_render::receive::RingSelector;

fn labels(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector {
        match_labels: pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        match_expressions: Vec::new(),
    }
}

#[tokio::test]
async fn discovers_statefulset_pods_behind_headless_service() {
    let Some(path) = kubeconfig("discovers_statefulset_pods_behind_headless_service") else {
        return;
    };
    let marker = format!("m{}", std::process::id());
    let ns = TestNs::with_labels(
        &path,
        "discover",
        BTreeMap::from([("thanos-cluster-test/marker".to_owned(), marker.clone())]),
    )
    .await;
    let n = ns.name.as_str();
    let c = &ns.cluster;
    let spec = ingestor_spec(n, "ing", 2, "1Gi");
    let r = thanos_render::receive::render(&spec, &ctx(), &BTreeMap::new()).unwrap();
    let applied = apply_all(c, &r.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    c.wait_for_rollout(
        &rollout_targets(&applied),
        WaitOptions::with_timeout(SHORT),
        &ns.cancel,
    )
    .await
    .unwrap();
    let expected = ingestor_endpoints(&spec);
    assert_eq!(expected.len(), 2);
    assert!(
        expected[0].ends_with(&format!(".{n}.svc:10901")),
        "{expected:?}"
    );

    let sel = labels(&[("app.kubernetes.io/instance", "ing")]);
    // The EndpointSlice controller catches up asynchronously after the pods are Ready.
    let mut found = Vec::new();
    for _ in 0..40 {
        found = c
            .discover_endpoints(n, &sel, None, &ns.cancel)
            .await
            .unwrap();
        if found == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(found, expected);

    // Through a ring, from another namespace, with a namespace selector.
    let ring = RingSelector {
        endpoints_selector: sel.clone(),
        namespace_selector: Some(labels(&[("thanos-cluster-test/marker", marker.as_str())])),
    };
    assert_eq!(
        c.discover_ring("default", &ring, &ns.cancel).await.unwrap(),
        expected
    );
    // Without the namespace selector, a ring in `default` sees nothing of ours.
    let local = RingSelector {
        namespace_selector: None,
        ..ring.clone()
    };
    assert!(
        c.discover_ring("default", &local, &ns.cancel)
            .await
            .unwrap()
            .is_empty()
    );
    // A selector that matches no Service finds nothing. (A ring without a selector cannot
    // be asked: validation makes it a static ring or an error.)
    let none = labels(&[("app.kubernetes.io/instance", "nope")]);
    assert!(
        c.discover_endpoints(n, &none, None, &ns.cancel)
            .await
            .unwrap()
            .is_empty()
    );
    // Expressions are honoured too.
    let expr = LabelSelector {
        match_labels: BTreeMap::new(),
        match_expressions: vec![LabelSelectorRequirement {
            key: "app.kubernetes.io/instance".to_owned(),
            operator: "In".to_owned(),
            values: vec!["ing".to_owned(), "x".to_owned()],
        }],
    };
    assert_eq!(
        c.discover_endpoints(n, &expr, None, &ns.cancel)
            .await
            .unwrap(),
        expected
    );
}

/// Waiting for an ingestor's endpoints follows the EndpointSlices from the apply on (its pods
/// are not even scheduled then, as a rule): it returns once every pod is published, and when
/// an endpoint never comes it says, at its timeout, what was published.
#[tokio::test]
async fn waits_for_endpoints_until_every_pod_is_published() {
    let Some(path) = kubeconfig("waits_for_endpoints_until_every_pod_is_published") else {
        return;
    };
    let ns = TestNs::new(&path, "discover-wait").await;
    let n = ns.name.as_str();
    let c = &ns.cluster;
    let spec = ingestor_spec(n, "ing", 2, "1Gi");
    let r = thanos_render::receive::render(&spec, &ctx(), &BTreeMap::new()).unwrap();
    apply_all(c, &r.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    let expected = ingestor_endpoints(&spec);
    let sel = labels(&[("app.kubernetes.io/instance", "ing")]);
    assert_eq!(
        c.wait_for_endpoints(n, &sel, &expected, SHORT, &ns.cancel)
            .await
            .unwrap(),
        Ok(())
    );
    assert_eq!(
        c.discover_endpoints(n, &sel, None, &ns.cancel)
            .await
            .unwrap(),
        expected
    );

    let mut more = expected.clone();
    more.push(format!("ing-2.ing.{n}.svc:10901"));
    more.sort();
    let started = std::time::Instant::now();
    assert_eq!(
        c.wait_for_endpoints(n, &sel, &more, Duration::from_secs(2), &ns.cancel)
            .await
            .unwrap(),
        Err(expected)
    );
    assert!(started.elapsed() >= Duration::from_secs(2));
}
