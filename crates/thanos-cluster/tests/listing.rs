//! Listings shared by the refreshes of a namespace's resources (`thanos_cluster::listing`),
//! against the real cluster: what a listing says is what the objects are; a second resource of
//! the namespace is answered from the first one's listing; a write of this process forgets it.

mod common;

use common::*;
use thanos_cluster::{ApplyOptions, Listed, LiveObject, WaitOptions};
use thanos_render::meta::Kind;

const KINDS: [&str; 3] = ["ConfigMap", "Deployment", "Service"];

/// Each object with the digest of its content. Not its version: controllers write status
/// (which is not content) whenever they like.
fn content(listed: &[Listed]) -> Vec<(String, String)> {
    listed
        .iter()
        .map(|l| (l.key.to_string(), l.digest.clone()))
        .collect()
}

#[tokio::test]
async fn a_listing_is_shared_by_a_namespace_and_forgotten_at_a_write() {
    let Some(path) = kubeconfig("a_listing_is_shared_by_a_namespace_and_forgotten_at_a_write")
    else {
        return;
    };
    let ns = TestNs::new(&path, "listing").await;
    let n = ns.name.as_str();
    let (q, r) = (query(n, "q", 1, false), query(n, "r", 1, false));
    let applied = apply_all(
        &ns.cluster,
        &[q.objects.clone(), r.objects.clone()].concat(),
        ApplyOptions::default(),
        &ns.cancel,
    )
    .await
    .unwrap();
    // Rolled out, the Deployments carry their controller's revision annotation (content).
    ns.cluster
        .wait_for_rollout(
            &rollout_targets(&applied),
            WaitOptions::with_timeout(SHORT),
            &ns.cancel,
        )
        .await
        .unwrap();
    let (owner_q, owner_r) = (owner(Kind::Query, "q", n), owner(Kind::Query, "r", n));
    let read_in_full = |owner| {
        let ns = &ns;
        async move {
            let live = ns
                .cluster
                .inventory_of(owner, &KINDS, &ns.cancel)
                .await
                .unwrap();
            live.iter().map(LiveObject::listed).collect::<Vec<_>>()
        }
    };

    // A listing says of each object of its owner what reading it in full says.
    let listed_q = ns
        .cluster
        .listed(&owner_q, &KINDS, &ns.cancel)
        .await
        .unwrap();
    assert_eq!(listed_q.len(), 3, "{listed_q:?}");
    assert_eq!(content(&listed_q), content(&read_in_full(&owner_q).await));
    let before = read_in_full(&owner_r).await;

    // Another tool edits r's Deployment. r's refresh moments later is answered from the
    // listing q's made (no request of its own), so it sees the Deployment as it was then.
    let (ok, out) = ns.kubectl(
        &[
            "-n",
            n,
            "annotate",
            "deployment",
            "thanosquery-r",
            "example.com/owner=team-a",
        ],
        None,
    );
    assert!(ok, "{out}");
    let shared = ns
        .cluster
        .listed(&owner_r, &KINDS, &ns.cancel)
        .await
        .unwrap();
    assert_eq!(content(&shared), content(&before));

    // Any write of this process forgets the listings: the next one sees the edit.
    apply_all(&ns.cluster, &q.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    let fresh = ns
        .cluster
        .listed(&owner_r, &KINDS, &ns.cancel)
        .await
        .unwrap();
    assert_ne!(
        content(&fresh),
        content(&before),
        "an annotation is content"
    );
    assert_eq!(content(&fresh), content(&read_in_full(&owner_r).await));
}
