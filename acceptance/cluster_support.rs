//! The Kubernetes side of the acceptance tests: the local control planes started by
//! `scripts/cluster.sh` (their kubeconfigs in `THANOS_TEST_KUBECONFIG` and, for the
//! multi-cluster test, `THANOS_TEST_KUBECONFIG_B`, both set by `make test`), a namespace per
//! test, and kubectl for checks and out-of-band changes.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The kubeconfig of the test cluster, or `None` (the test then says why it did not run; in CI
/// a missing cluster is a failure, never a silent pass).
pub fn kubeconfig() -> Option<PathBuf> {
    kubeconfig_from("THANOS_TEST_KUBECONFIG")
}

/// The kubeconfig of the second test cluster (another API server), as [`kubeconfig`].
pub fn kubeconfig_b() -> Option<PathBuf> {
    kubeconfig_from("THANOS_TEST_KUBECONFIG_B")
}

fn kubeconfig_from(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{var} is not set in CI: `make test` starts the clusters and sets it"
            );
            eprintln!(
                "skipped: {var} is not set (run `make test`, or `make cluster-up` and export it)"
            );
            None
        }
    }
}

/// One kind's changes in a namespace while a test acts (`kubectl get --watch`), to tell in
/// which order an apply changed things. Events carry the object's `resourceVersion`: one
/// API server with one etcd numbers every write in order, across kinds, so comparing them
/// orders changes of different objects (true of the local clusters these tests start).
pub struct Watch {
    child: Child,
    out: PathBuf,
}

/// A watched change: the object as it was after the write numbered `rv`.
#[derive(Debug, Clone)]
pub struct Change {
    pub rv: u64,
    pub object: serde_json::Value,
}

impl Watch {
    /// Starts watching `kind` in `namespace`; changes already made show as the objects' state.
    pub fn start(kube: &Kube, namespace: &str, kind: &str) -> Watch {
        let out = std::env::temp_dir().join(format!(
            "watch-{namespace}-{kind}-{}.json",
            std::process::id()
        ));
        let file = std::fs::File::create(&out).expect("watch output");
        let child = Command::new(&kube.kubectl)
            .arg("--kubeconfig")
            .arg(&kube.kubeconfig)
            .args([
                "-n",
                namespace,
                "get",
                kind,
                "--watch",
                "--output-watch-events",
                "-o",
                "json",
            ])
            .stdout(Stdio::from(file))
            .stderr(Stdio::null())
            .spawn()
            .expect("kubectl get --watch");
        Watch { child, out }
    }

    /// Stops watching and returns every change seen, in write order.
    pub fn stop(mut self) -> Vec<Change> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        let _ = std::fs::remove_file(&self.out);
        let mut changes: Vec<Change> = serde_json::Deserializer::from_str(&text)
            .into_iter::<serde_json::Value>()
            .map_while(Result::ok)
            .filter_map(|event| {
                let object = event["object"].clone();
                let rv = object["metadata"]["resourceVersion"]
                    .as_str()?
                    .parse()
                    .ok()?;
                Some(Change { rv, object })
            })
            .collect();
        changes.sort_by_key(|c| c.rv);
        changes
    }
}

/// The write number of the first change in `changes` for which `pred` holds.
pub fn first(changes: &[Change], pred: impl Fn(&serde_json::Value) -> bool) -> Option<u64> {
    changes.iter().find(|c| pred(&c.object)).map(|c| c.rv)
}

fn kubectl_path() -> PathBuf {
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/tools.sh"))
        .args(["path", "kubectl"])
        .output()
        .expect("scripts/tools.sh");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// kubectl against the test cluster.
pub struct Kube {
    kubeconfig: PathBuf,
    kubectl: PathBuf,
}

impl Kube {
    /// The rings of `hashrings.json` in the ConfigMap of receive `receive` in `namespace`.
    pub fn hashrings(&self, namespace: &str, receive: &str) -> serde_json::Value {
        let cm = self
            .get(
                namespace,
                &format!("configmap/thanosreceive-{receive}-hashrings"),
            )
            .unwrap_or_else(|| panic!("no hashrings ConfigMap of {namespace}/{receive}"));
        serde_json::from_str(
            cm["data"]["hashrings.json"]
                .as_str()
                .expect("hashrings.json"),
        )
        .expect("hashrings.json is JSON")
    }

    /// The endpoints of the first ring of [`Kube::hashrings`].
    pub fn ring_endpoints(&self, namespace: &str, receive: &str) -> Vec<String> {
        self.hashrings(namespace, receive)[0]["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .map(|e| e.as_str().expect("an endpoint").to_owned())
            .collect()
    }

    pub fn new(kubeconfig: PathBuf) -> Self {
        Self {
            kubeconfig,
            kubectl: kubectl_path(),
        }
    }

    pub fn kubeconfig(&self) -> &std::path::Path {
        &self.kubeconfig
    }

    /// Runs kubectl; returns (success, stdout + stderr).
    pub fn run(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(&self.kubectl)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .output()
            .expect("run kubectl");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let (ok, text) = self.run(args);
        assert!(ok, "kubectl {args:?} failed: {text}");
        text
    }

    /// An object as JSON, or `None` when it does not exist.
    pub fn get(&self, namespace: &str, kind_name: &str) -> Option<serde_json::Value> {
        let (ok, text) = self.run(&["-n", namespace, "get", kind_name, "-o", "json"]);
        ok.then(|| serde_json::from_str(&text).expect("kubectl json"))
    }

    /// Names (`kind/name`) of every object in `namespace` carrying our managed-by label.
    pub fn owned(&self, namespace: &str) -> Vec<String> {
        let text = self.ok(&[
            "-n",
            namespace,
            "get",
            "secrets,configmaps,services,deployments,statefulsets,ingresses,poddisruptionbudgets,persistentvolumeclaims",
            "-l",
            "app.kubernetes.io/managed-by=terraform-provider-thanos",
            "-o",
            "name",
        ]);
        let mut names: Vec<String> = text.lines().map(str::to_owned).collect();
        names.sort();
        names
    }
}

/// A namespace for one test, deleted (without waiting) when dropped.
pub struct Namespace<'a> {
    pub name: String,
    kube: &'a Kube,
}

impl<'a> Namespace<'a> {
    pub fn new(kube: &'a Kube, test: &str, cli: &str) -> Self {
        let name = format!("acc-{test}-{cli}-{}", std::process::id() % 100_000);
        let _ = kube.run(&["delete", "namespace", &name, "--wait=false"]);
        kube.ok(&["create", "namespace", &name]);
        Self { name, kube }
    }
}

impl Drop for Namespace<'_> {
    fn drop(&mut self) {
        let _ = self
            .kube
            .run(&["delete", "namespace", &self.name, "--wait=false"]);
    }
}
