//! Owned Secrets on a real API server: credentials that may not list Secrets still see every
//! other kind (a role written before resources owned Secrets keeps working), and an owned
//! Secret is applied with its sealed data, judged without it (a refresh), and pruned.

mod common;

use common::*;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use thanos_cluster::{ApplyOptions, ClusterConfig, Drift, ObjectKey};
use thanos_render::Object;
use thanos_render::meta::Kind;
use thanos_render::objstore::{Bucket, ObjstoreSpec, Provider, S3, S3Keys, WriteOnly};

/// Credentials of a ServiceAccount bound to a Role that allows every kind a resource owned
/// before `object_storage`, and no Secrets.
fn no_secrets_config(ns: &TestNs) -> ClusterConfig {
    let role = format!(
        r#"apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: no-secrets
  namespace: {n}
rules:
  - apiGroups: [""]
    resources: [configmaps, services, persistentvolumeclaims, pods, endpoints]
    verbs: ["*"]
  - apiGroups: [apps, policy, networking.k8s.io, discovery.k8s.io]
    resources: ["*"]
    verbs: ["*"]
"#,
        n = ns.name
    );
    let (ok, text) = ns.kubectl(&["apply", "-f", "-"], Some(&role));
    assert!(ok, "{text}");
    let sa = format!("--serviceaccount={}:deployer", ns.name);
    for args in [
        vec![
            "-n",
            ns.name.as_str(),
            "create",
            "serviceaccount",
            "deployer",
        ],
        vec![
            "-n",
            ns.name.as_str(),
            "create",
            "rolebinding",
            "deployer",
            "--role=no-secrets",
            sa.as_str(),
        ],
    ] {
        let (ok, text) = ns.kubectl(&args, None);
        assert!(ok, "{text}");
    }
    let (ok, token) = ns.kubectl(&["-n", &ns.name, "create", "token", "deployer"], None);
    assert!(ok, "{token}");
    let view = |path: &str| {
        let (ok, out) = ns.kubectl(
            &[
                "config",
                "view",
                "--minify",
                "--raw",
                "-o",
                &format!("jsonpath={path}"),
            ],
            None,
        );
        assert!(ok, "{out}");
        out
    };
    use base64::Engine as _;
    let ca = base64::engine::general_purpose::STANDARD
        .decode(view("{.clusters[0].cluster.certificate-authority-data}").trim())
        .unwrap();
    ClusterConfig {
        host: Some(view("{.clusters[0].cluster.server}")),
        token: Some(token.trim().to_owned()),
        cluster_ca_certificate: Some(String::from_utf8(ca).unwrap()),
        ..Default::default()
    }
}

#[tokio::test]
async fn credentials_that_may_not_list_secrets_own_none_and_see_the_rest() {
    let Some(path) = kubeconfig("credentials_that_may_not_list_secrets_own_none_and_see_the_rest")
    else {
        return;
    };
    let ns = TestNs::new(&path, "nosecrets").await;
    let restricted = thanos_cluster::Cluster::connect(&no_secrets_config(&ns))
        .await
        .expect("connect with the token");
    let q = query(&ns.name, "q", 1, false);
    apply_all(&restricted, &q.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .expect("apply without Secrets");
    let owner = owner(Kind::Query, "q", &ns.name);
    let live = restricted
        .inventory(&owner, &ns.cancel)
        .await
        .expect("inventory without the right to list Secrets");
    assert!(live.iter().any(|o| o.key.kind == "Deployment"), "{live:?}");
    // Pruning with the same credentials still works.
    restricted
        .prune(
            &owner,
            &[],
            thanos_cluster::PvcPolicy::Retain,
            std::time::Duration::from_secs(60),
            &ns.cancel,
        )
        .await
        .expect("prune without the right to list Secrets");
}

fn owned(ns: &str, keys: Option<S3Keys>) -> Object {
    let bucket = Bucket::Owned(ObjstoreSpec {
        prefix: None,
        provider: Provider::S3(S3 {
            bucket: "thanos".into(),
            endpoint: "minio:9000".into(),
            region: None,
            insecure: Some(true),
            bucket_lookup_type: None,
            aws_sdk_auth: None,
            sse: None,
            keys: Some(WriteOnly {
                version: 1,
                value: keys,
            }),
        }),
    });
    let labels = thanos_render::meta::ownership_labels(Kind::Storage, "s");
    Object::Secret(
        bucket
            .owned_secret(ObjectMeta {
                name: Some("thanosstorage-s-objstore".into()),
                namespace: Some(ns.into()),
                labels: Some(labels),
                ..Default::default()
            })
            .unwrap(),
    )
}

#[tokio::test]
async fn an_owned_secret_is_applied_sealed_judged_without_its_keys_and_pruned() {
    let Some(path) =
        kubeconfig("an_owned_secret_is_applied_sealed_judged_without_its_keys_and_pruned")
    else {
        return;
    };
    let ns = TestNs::new(&path, "secret").await;
    let c = &ns.cluster;
    let keys = |s: &str| {
        Some(S3Keys {
            access_key: "ak".into(),
            secret_key: s.into(),
        })
    };
    // Withheld keys cannot be written.
    assert!(
        c.apply_one(&owned(&ns.name, None), ApplyOptions::default(), &ns.cancel)
            .await
            .is_err()
    );
    c.apply_one(
        &owned(&ns.name, keys("the-key")),
        ApplyOptions::default(),
        &ns.cancel,
    )
    .await
    .unwrap();
    let (ok, file) = ns.kubectl(
        &[
            "-n",
            &ns.name,
            "get",
            "secret",
            "thanosstorage-s-objstore",
            "-o",
            "go-template={{index .data \"objstore.yaml\" | base64decode}}",
        ],
        None,
    );
    assert!(ok && file.contains("secret_key: \"the-key\""), "{file}");
    // A refresh has no keys: in sync, whatever the keys.
    let withheld = owned(&ns.name, None);
    assert_eq!(
        c.drift_one(&withheld, &ns.cancel).await.unwrap(),
        Drift::InSync
    );
    // A hand edit of anything else in the file is drift of that key.
    let patch = serde_json::json!({"stringData": {"objstore.yaml": file.replace("minio:9000", "minio:9001")}});
    let (ok, text) = ns.kubectl(
        &[
            "-n",
            &ns.name,
            "patch",
            "secret",
            "thanosstorage-s-objstore",
            "--type=merge",
            "-p",
            &patch.to_string(),
        ],
        None,
    );
    assert!(ok, "{text}");
    assert_eq!(
        c.drift_one(&withheld, &ns.cancel).await.unwrap(),
        Drift::Drifted {
            paths: vec!["/data/objstore.yaml".into()]
        }
    );
    // Listed and pruned like any owned object.
    let owner = owner(Kind::Storage, "s", &ns.name);
    let live = c.inventory(&owner, &ns.cancel).await.unwrap();
    assert_eq!(
        live.iter().map(|o| o.key.clone()).collect::<Vec<_>>(),
        [ObjectKey::new(
            "Secret",
            &ns.name,
            "thanosstorage-s-objstore"
        )]
    );
    c.prune(
        &owner,
        &[],
        thanos_cluster::PvcPolicy::Retain,
        std::time::Duration::from_secs(60),
        &ns.cancel,
    )
    .await
    .unwrap();
    assert!(c.inventory(&owner, &ns.cancel).await.unwrap().is_empty());
}
