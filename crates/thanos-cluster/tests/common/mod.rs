//! Shared helpers of the integration tests. They run against the real local control plane
//! (`scripts/cluster.sh up a`) whose kubeconfig is in `THANOS_TEST_KUBECONFIG`; without it
//! every test prints why and returns (skips). Each test works in its own random namespace,
//! deleted when the test ends (also on panic).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, PostParams};
use thanos_cluster::{CancellationToken, Cluster, ClusterConfig};

pub const ENV: &str = "THANOS_TEST_KUBECONFIG";

/// The test kubeconfig, or `None` after printing why the test is skipped.
pub fn kubeconfig(test: &str) -> Option<String> {
    match std::env::var(ENV) {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            // Written to the real stderr (not the test harness's capture) so the reason shows.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "SKIP {test}: {ENV} is not set (run `scripts/cluster.sh up a` and set it to \
                 .cache/cluster/a/kubeconfig to run the cluster tests)"
            );
            None
        }
    }
}

pub fn config(path: &str) -> ClusterConfig {
    ClusterConfig {
        config_path: Some(path.to_owned()),
        ..Default::default()
    }
}

/// A namespace that lives as long as this value.
pub struct TestNs {
    pub cluster: Cluster,
    pub name: String,
    pub kubeconfig: String,
    pub cancel: CancellationToken,
}

impl TestNs {
    /// Creates `tc-<prefix>-<random>` (labels `thanos-cluster-test=<prefix>` plus `extra`).
    pub async fn new(kubeconfig: &str, prefix: &str) -> TestNs {
        Self::with_labels(kubeconfig, prefix, BTreeMap::new()).await
    }

    pub async fn with_labels(
        kubeconfig: &str,
        prefix: &str,
        extra: BTreeMap<String, String>,
    ) -> TestNs {
        let cluster = Cluster::connect(&config(kubeconfig))
            .await
            .expect("connect");
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "tc-{prefix}-{:06x}{:x}",
            nanos & 0xffffff,
            std::process::id() & 0xff
        );
        let mut labels = BTreeMap::from([("thanos-cluster-test".to_owned(), prefix.to_owned())]);
        labels.extend(extra);
        let ns = Namespace {
            metadata: kube::core::ObjectMeta {
                name: Some(name.clone()),
                labels: Some(labels),
                ..Default::default()
            },
            ..Default::default()
        };
        Api::<Namespace>::all(cluster.client().clone())
            .create(&PostParams::default(), &ns)
            .await
            .expect("create namespace");
        TestNs {
            cluster,
            name,
            kubeconfig: kubeconfig.to_owned(),
            cancel: CancellationToken::new(),
        }
    }

    /// Runs kubectl against the test cluster; returns (success, stdout+stderr).
    pub fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> (bool, String) {
        kubectl(&self.kubeconfig, args, stdin)
    }
}

impl Drop for TestNs {
    fn drop(&mut self) {
        let path = self.kubeconfig.clone();
        let name = self.name.clone();
        // Drop cannot await: delete from a short-lived runtime of our own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(client) = config(&path).client().await {
                    let _ = Api::<Namespace>::all(client)
                        .delete(&name, &DeleteParams::background())
                        .await;
                }
            });
        })
        .join();
    }
}

pub fn kubectl_path() -> String {
    if let Ok(p) = std::env::var("KUBECTL") {
        return p;
    }
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = std::process::Command::new(format!("{root}/scripts/tools.sh"))
        .args(["path", "kubectl"])
        .output()
        .expect("scripts/tools.sh path kubectl");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn kubectl(kubeconfig: &str, args: &[&str], stdin: Option<&str>) -> (bool, String) {
    use std::io::Write;
    let mut cmd = std::process::Command::new(kubectl_path());
    cmd.arg(format!("--kubeconfig={kubeconfig}"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn kubectl");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A render context with defaults.
pub fn ctx() -> thanos_render::RenderContext {
    thanos_render::RenderContext::default()
}

/// The quickstart ingestor (`replicas` pods, a `size` PVC each) in `ns`.
pub fn ingestor_spec(
    ns: &str,
    name: &str,
    replicas: i32,
    size: &str,
) -> thanos_render::receive::ReceiveSpec {
    use thanos_render::common::{Common, DataVolume, Pvc};
    use thanos_render::receive::{Ingestor, ReceiveSpec};
    ReceiveSpec {
        replicas,
        ingestor: Some(Ingestor {
            data_volume: DataVolume::Pvc(Pvc {
                storage_class: None,
                size: size.to_owned(),
                access_modes: vec!["ReadWriteOnce".to_owned()],
            }),
            ..Default::default()
        }),
        ..ReceiveSpec::new(Common::new(name, ns))
    }
}

pub fn ingestor(ns: &str, name: &str, replicas: i32, size: &str) -> thanos_render::Rendered {
    thanos_render::receive::render(
        &ingestor_spec(ns, name, replicas, size),
        &ctx(),
        &BTreeMap::new(),
    )
    .expect("render ingestor")
}

/// The per-pod endpoints of a receive's ingestors.
pub fn ingestor_endpoints(r: &thanos_render::receive::ReceiveSpec) -> Vec<String> {
    thanos_render::receive::ingestor_endpoints(
        &r.common.name,
        &r.common.namespace,
        i64::from(r.replicas),
        r.mode(),
    )
}

/// A query named `name` in `ns` with one store and `replicas` pods.
pub fn query_spec(ns: &str, name: &str, replicas: i32) -> thanos_render::query::QuerySpec {
    use thanos_render::common::Common;
    use thanos_render::query::{QuerySpec, Store};
    QuerySpec {
        replicas,
        stores: vec![Store::direct(
            "dnssrvnoa+_grpc._tcp.thanosreceive-ingestor-operated",
        )],
        ..QuerySpec::new(Common::new(name, ns))
    }
}

/// A query with one store, `replicas` pods, optional HTTP ingress.
pub fn query(ns: &str, name: &str, replicas: i32, ingress: bool) -> thanos_render::Rendered {
    let mut spec = query_spec(ns, name, replicas);
    if ingress {
        spec.http_ingress = Some(thanos_render::common::Ingress {
            host: "query.example.com".to_owned(),
            path: "/".to_owned(),
            secret_name: None,
            class_name: None,
            annotations: BTreeMap::new(),
        });
    }
    thanos_render::query::render(&spec, &ctx()).expect("render query")
}

/// Applies `objects` as the provider does ([`Cluster::apply_objects`]): outcomes in the order of
/// `objects`, the first error in that order (what an earlier step applied stays applied).
pub async fn apply_all(
    c: &Cluster,
    objects: &[thanos_render::Object],
    options: thanos_cluster::ApplyOptions,
    cancel: &CancellationToken,
) -> thanos_cluster::Result<Vec<thanos_cluster::Applied>> {
    // The provider's path: one LIST per kind, concurrent writes per step (`apply_one`, a read
    // before the write, is covered by tests/secrets.rs and tests/apply.rs).
    let items: Vec<_> = objects.iter().map(|o| (o, options)).collect();
    c.apply_objects(&items, cancel).await
}

/// The Deployments and StatefulSets among applied objects, in order.
pub fn rollout_targets(applied: &[thanos_cluster::Applied]) -> Vec<thanos_cluster::ObjectKey> {
    applied
        .iter()
        .map(|a| a.key.clone())
        .filter(|k| k.kind == "Deployment" || k.kind == "StatefulSet")
        .collect()
}

pub fn owner(kind: thanos_render::meta::Kind, name: &str, ns: &str) -> thanos_cluster::Owner {
    thanos_cluster::Owner::new(kind, name, ns)
}

pub const SHORT: Duration = Duration::from_secs(60);
