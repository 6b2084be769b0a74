//! Tests that need a cluster of their own, because they would disturb the shared ones: the API
//! server killed and restarted in the middle of an apply, and 50 stacks applied with
//! `-parallelism=20` against an API server that throttles (429).
//!
//! The cluster is started by the test (`scripts/cluster.sh up`) under the name in
//! `THANOS_TEST_SPARE_CLUSTER` (port base from `THANOS_TEST_SPARE_CLUSTER_PORT_BASE` when the
//! name is not one of a-e; `make test` sets both); it is stopped when the test ends.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::cluster_support::Kube;
use crate::crash::{
    APPLY, assert_converged, destroy_clean, held_stack, output_text, state_objects, wait_until,
};
use crate::harness::{REQUIRED_PROVIDERS, Workdir, clis};
use crate::lifecycle::{apply_step, assert_empty_plans, provider_block};

fn cluster_script() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/cluster.sh"))
}

/// The spare cluster, up for the life of this value.
struct SpareCluster {
    name: String,
    base: Option<String>,
}

impl SpareCluster {
    fn start() -> Option<Self> {
        let name = match std::env::var("THANOS_TEST_SPARE_CLUSTER") {
            Ok(name) if !name.is_empty() => name,
            _ => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "THANOS_TEST_SPARE_CLUSTER is not set in CI: `make test` sets it"
                );
                eprintln!(
                    "skipped: THANOS_TEST_SPARE_CLUSTER is not set (a cluster name this test may start and stop, e.g. `e`)"
                );
                return None;
            }
        };
        let cluster = Self {
            name,
            base: std::env::var("THANOS_TEST_SPARE_CLUSTER_PORT_BASE")
                .ok()
                .filter(|b| !b.is_empty()),
        };
        cluster.script("up");
        Some(cluster)
    }

    #[track_caller]
    fn script(&self, command: &str) {
        let mut run = Command::new(cluster_script());
        run.args([command, &self.name]);
        if let Some(base) = &self.base {
            run.env("CLUSTER_PORT_BASE", base);
        }
        let output = run.output().expect("scripts/cluster.sh");
        assert!(
            output.status.success(),
            "scripts/cluster.sh {command} {} failed:\n{}",
            self.name,
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn kubeconfig(&self) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(".cache/cluster")
            .join(&self.name)
            .join("kubeconfig")
    }
}

impl Drop for SpareCluster {
    fn drop(&mut self) {
        let mut run = Command::new(cluster_script());
        run.args(["down", &self.name]);
        if let Some(base) = &self.base {
            run.env("CLUSTER_PORT_BASE", base);
        }
        let _ = run.output();
    }
}

#[test]
fn api_server_restart_mid_apply_and_fifty_stacks_under_throttling() {
    let Some(cluster) = SpareCluster::start() else {
        return;
    };
    let kube = Kube::new(cluster.kubeconfig());
    for cli in clis() {
        api_server_restart_mid_apply(&cluster, &kube, &cli);
    }
    fifty_stacks_under_throttling(&kube, &clis()[0]);
}

/// Restart during the apply: the API server is killed and started again after the apply
/// wrote its objects, while it waits for the ingestors, whose pods a ResourceQuota keeps from
/// being created (nothing fails: the rollout just does not finish) until the test deletes it.
/// The apply finishes (a wait reads again after a failed poll), and the stack has converged.
/// Should the apply fail instead, its diagnostic says what the API server did (unreachable,
/// or its error while starting), and the next apply converges.
fn api_server_restart_mid_apply(cluster: &SpareCluster, kube: &Kube, cli: &crate::harness::Cli) {
    let ns = format!("restart-{}", cli.name);
    kube.ok(&["create", "namespace", &ns]);
    kube.ok(&["-n", &ns, "create", "quota", "hold", "--hard=pods=0"]);
    let work = Workdir::new("restart", cli);
    work.write(
        "main.tf",
        &format!(
            "{REQUIRED_PROVIDERS}{}{}",
            provider_block(kube),
            held_stack(&ns, "")
        ),
    );
    work.init(cli);
    let mut apply = work.spawn(cli, APPLY);
    // The record is the last object an apply writes; then it prunes and waits.
    wait_until(
        "the apply has written the ingestors' objects",
        Duration::from_secs(120),
        || {
            assert!(
                apply.try_wait().unwrap().is_none(),
                "the apply ended before the restart"
            );
            kube.get(&ns, "configmap/thanosreceive-ingestor-terraform")
                .is_some()
        },
    );
    cluster.script("restart-apiserver");
    kube.ok(&["-n", &ns, "delete", "quota", "hold"]);
    let (ok, text) = output_text(apply);
    if !ok {
        let server = kube.ok(&[
            "config",
            "view",
            "--minify",
            "-o",
            "jsonpath={.clusters[0].cluster.server}",
        ]);
        let host = server.trim_start_matches("https://");
        // Unreachable names the server; an answer of the starting server (5xx) names the
        // object and the server's words.
        assert!(
            (text.contains(host) || text.contains("Kubernetes API"))
                && !text.contains("This is a bug"),
            "{}: an apply that fails across an API server restart must say what the API server did:\n{text}",
            cli.name
        );
        eprintln!(
            "{}: the apply failed across the restart (allowed; the next one must converge):\n{text}",
            cli.name
        );
    }
    apply_step(&work, cli);
    assert_converged(kube, &ns, &work, cli);
    destroy_clean(kube, &ns, &work, cli);
}

/// `namespace/kind/name` of every object in the cluster with our managed-by label, claims
/// left out.
fn labelled_objects(kube: &Kube) -> BTreeSet<String> {
    let text = kube.ok(&[
        "get",
        "secrets,configmaps,services,deployments,statefulsets,ingresses,poddisruptionbudgets,serviceaccounts",
        "--all-namespaces",
        "-l",
        "app.kubernetes.io/managed-by=terraform-provider-thanos",
        "-o",
        "jsonpath={range .items[*]}{.metadata.namespace}/{.kind}/{.metadata.name}{\"\\n\"}{end}",
    ]);
    text.lines().map(str::to_owned).collect()
}

/// The API server's count of requests it refused with 429, for server-side applies (only this
/// provider applies server-side on this cluster).
fn throttled_applies(kube: &Kube) -> u64 {
    let metrics = kube.ok(&["get", "--raw", "/metrics"]);
    metrics
        .lines()
        .filter(|l| {
            l.starts_with("apiserver_request_total{")
                && l.contains("code=\"429\"")
                && l.contains("verb=\"APPLY\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

const COPIES: usize = 50;

/// 50 copies of the quickstart (bench/hcl/stack: 150 resources, 650 objects), applied with
/// `-parallelism=20` by a service account that API Priority and Fairness holds to 5 concurrent
/// requests: the API server refuses some requests with 429, the provider retries them with
/// backoff, and the apply succeeds, with every labelled object in the state.
fn fifty_stacks_under_throttling(kube: &Kube, cli: &crate::harness::Cli) {
    kube.ok(&["-n", "default", "create", "serviceaccount", "loader"]);
    kube.ok(&[
        "create",
        "clusterrolebinding",
        "loader",
        "--clusterrole=cluster-admin",
        "--serviceaccount=default:loader",
    ]);
    // API Priority and Fairness: the loader's requests get a priority level of their own with
    // a small share of the server's concurrency (2 shares: 5 seats of 600) and no queue, so
    // the server answers what exceeds it with 429 at once; the controllers are not throttled.
    let flow = r#"{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "PriorityLevelConfiguration",
   "metadata": {"name": "acceptance-loader"},
   "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 2, "lendablePercent": 0,
            "borrowingLimitPercent": 0, "limitResponse": {"type": "Reject"}}}},
  {"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema",
   "metadata": {"name": "acceptance-loader"},
   "spec": {"priorityLevelConfiguration": {"name": "acceptance-loader"}, "matchingPrecedence": 500,
            "distinguisherMethod": {"type": "ByUser"},
            "rules": [{"subjects": [{"kind": "ServiceAccount", "serviceAccount": {"name": "loader", "namespace": "default"}}],
                       "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"], "clusterScope": true}],
                       "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]}]}}]}"#;
    let work = Workdir::new("load", cli);
    work.write("flow.json", flow);
    kube.ok(&["create", "-f", work.dir.join("flow.json").to_str().unwrap()]);
    let token = kube
        .ok(&[
            "-n",
            "default",
            "create",
            "token",
            "loader",
            "--duration=1h",
        ])
        .trim()
        .to_string();
    let view = |path: &str, raw: bool| {
        let mut args = vec!["config", "view", "--minify", "-o", path];
        if raw {
            args.push("--raw");
        }
        kube.ok(&args)
    };
    let server = view("jsonpath={.clusters[0].cluster.server}", false);
    let ca = view(
        "jsonpath={.clusters[0].cluster.certificate-authority-data}",
        true,
    );
    let mut namespaces = String::new();
    for i in 0..COPIES {
        namespaces.push_str(&format!(
            "{{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {{\"name\": \"load-q{i}\"}}}}\n"
        ));
    }
    work.write("namespaces.json", &namespaces);
    kube.ok(&[
        "create",
        "-f",
        work.dir.join("namespaces.json").to_str().unwrap(),
    ]);
    std::fs::create_dir_all(work.dir.join("stack")).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/bench/hcl/stack/main.tf"),
        work.dir.join("stack/main.tf"),
    )
    .unwrap();
    work.write(
        "main.tf",
        &format!(
            r#"{REQUIRED_PROVIDERS}
provider "thanos" {{
  host                   = "{server}"
  token                  = "{token}"
  cluster_ca_certificate = base64decode("{ca}")
}}

module "quickstart" {{
  source    = "./stack"
  count     = {COPIES}
  namespace = "load-q${{count.index}}"
}}
"#
        ),
    );
    work.init(cli);
    let before = throttled_applies(kube);
    let started = std::time::Instant::now();
    work.run(
        cli,
        &[
            "apply",
            "-auto-approve",
            "-no-color",
            "-input=false",
            "-parallelism=20",
        ],
    )
    .success();
    let took = started.elapsed();
    let throttled = throttled_applies(kube) - before;
    eprintln!(
        "{}: {COPIES} stacks applied in {took:?}; the API server refused {throttled} server-side applies with 429",
        cli.name
    );
    assert!(
        throttled > 0,
        "the API server never throttled the apply: the retry path was not tested"
    );
    assert_eq!(
        labelled_objects(kube),
        state_objects(&work, cli)
            .into_iter()
            .map(|(namespace, key)| format!("{namespace}/{key}"))
            .collect::<BTreeSet<String>>(),
        "the objects with our labels are not the ones the state lists"
    );
    assert_empty_plans(&work, cli);
}
