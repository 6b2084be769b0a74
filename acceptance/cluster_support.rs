//! The Kubernetes side of the acceptance tests: the local control planes started by
//! `scripts/cluster.sh` (their kubeconfigs in `THANOS_TEST_KUBECONFIG` and, for the
//! multi-cluster test, `THANOS_TEST_KUBECONFIG_B`, both set by `make test`), a namespace per
//! test, and kubectl for checks and out-of-band changes.

use std::path::PathBuf;
use std::process::Command;

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
