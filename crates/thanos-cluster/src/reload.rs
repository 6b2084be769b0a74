//! Routers that load a changed ring in place: waiting until each pod runs the new
//! `hashrings.json`, and restarting the pods when that cannot be seen.
//!
//! A router reports the file it runs as `thanos_receive_config_hash` on its HTTP port
//! (`thanos_render::hashring::running_config`). The pods are read through the API server's
//! pod proxy (`/api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy/metrics`), so the provider
//! needs no route to pod IPs, only `get` on `pods/proxy`. When the proxy cannot answer (that
//! permission is missing, the API server cannot reach pods, the pod serves no metrics), the
//! load cannot be seen, and the caller restarts the pods instead: they start with the new file.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams};
use thanos_render::hashring::{RunningConfig, running_config};

use crate::error::{Error, ObjectKey, Result};
use crate::{CancellationToken, Cluster};

/// The field manager of a restart: not ours, so our server-side applies neither remove its
/// annotation (which would roll the pods again) nor see it as drift.
pub const RESTART_MANAGER: &str = "terraform-provider-thanos-restart";
/// The pod-template annotation a restart sets (as `kubectl rollout restart` does with its own).
pub const RESTARTED_AT: &str = "thanos.paodin.io/restarted-at";
/// How long one read of a pod's metrics may take.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the pods are read again while some still run another file.
const POLL: Duration = Duration::from_secs(1);

/// Whether the pods were seen running the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RingLoad {
    /// Every Ready pod reports it.
    Loaded,
    /// A pod's metrics could not be read: why.
    Unobservable(String),
}

impl Cluster {
    /// Waits until every Ready pod in `namespace` with `labels` runs a `hashrings.json` with
    /// `content` (read on `port`), for at most `timeout`. A timeout is an error that names
    /// each pod still running another file.
    pub async fn wait_ring_loaded(
        &self,
        namespace: &str,
        labels: &BTreeMap<String, String>,
        port: i32,
        content: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<RingLoad> {
        let key = ObjectKey::new("Pod", namespace, "*");
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let selector = labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        let lp = ListParams::default().labels(&selector);
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let pods = self.call(&key, cancel, || api.list(&lp)).await?;
            let mut behind = Vec::new();
            for pod in pods.items.iter().filter(|p| is_ready(p)) {
                let name = pod.metadata.name.clone().unwrap_or_default();
                let running = match self.pod_metrics(namespace, &name, port, cancel).await? {
                    Ok(text) => running_config(&text),
                    Err(why) => return Ok(RingLoad::Unobservable(why)),
                };
                if running.hash.is_none() {
                    return Ok(RingLoad::Unobservable(format!(
                        "pod {namespace}/{name} reports no thanos_receive_config_hash"
                    )));
                }
                if !running.runs(content) {
                    behind.push(describe(&name, &running));
                }
            }
            if behind.is_empty() {
                return Ok(RingLoad::Loaded);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: "the routers to load the new hashrings.json".into(),
                    waited: timeout,
                    missing: format!(
                        "still on another file: {}. The kubelet updates a mounted ConfigMap within about a minute and the router re-reads the file every hashrings_refresh_interval; a refused file is in the pod's log",
                        behind.join("; ")
                    ),
                });
            }
            tokio::select! {
                _ = cancel.cancelled() => return Err(cancelled()),
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// One pod's `/metrics` through the API server's proxy: the text, or why it could not be
    /// read (`Err` only for a cancelled request).
    async fn pod_metrics(
        &self,
        namespace: &str,
        pod: &str,
        port: i32,
        cancel: &CancellationToken,
    ) -> Result<std::result::Result<String, String>> {
        let path = format!("/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy/metrics");
        let request = match http::Request::get(&path).body(Vec::new()) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let read = tokio::time::timeout(READ_TIMEOUT, self.client.request_text(request));
        tokio::select! {
            _ = cancel.cancelled() => Err(cancelled()),
            answer = read => Ok(match answer {
                Ok(Ok(text)) => Ok(text),
                Ok(Err(e)) => Err(format!("reading {path}: {e}")),
                Err(_) => Err(format!("reading {path}: no answer within {READ_TIMEOUT:?}")),
            }),
        }
    }

    /// Restarts the pods of a Deployment (a new pod-template annotation, set by
    /// [`RESTART_MANAGER`]), as `kubectl rollout restart` does; the caller waits for the
    /// rollout.
    pub async fn restart_deployment(
        &self,
        key: &ObjectKey,
        cancel: &CancellationToken,
    ) -> Result<()> {
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), &key.namespace);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let body = serde_json::json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": key.name, "namespace": key.namespace},
            "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now.to_string()}}}},
        });
        let params = PatchParams::apply(RESTART_MANAGER).force();
        let patch = Patch::Apply(&body);
        self.listings.forget();
        self.call(key, cancel, || api.patch(&key.name, &params, &patch))
            .await
            .map(|_| ())
    }
}

fn cancelled() -> Error {
    Error::Cancelled {
        what: "waiting for the routers to load the new hashrings.json".into(),
    }
}

fn is_ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn describe(pod: &str, running: &RunningConfig) -> String {
    match (running.hash, running.last_reload_ok) {
        (_, Some(false)) => format!("{pod} (its last reload was refused)"),
        (Some(hash), _) => format!("{pod} (config hash {hash})"),
        (None, _) => pod.to_owned(),
    }
}
