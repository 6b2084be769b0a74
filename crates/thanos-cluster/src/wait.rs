//! Waiting for Deployments and StatefulSets to roll out, failing early with Kubernetes' own
//! reason when a pod cannot get there.
//!
//! A workload is rolled out when the controller has seen its latest spec
//! (`status.observedGeneration >= metadata.generation`) and every desired replica is updated
//! and ready (Deployments: updated, available and total replicas all equal `spec.replicas`, so
//! no old pod is left; StatefulSets: updated and ready replicas equal `spec.replicas`).
//!
//! Early failures (the wait stops at once with [`Error::RolloutFailed`]):
//! - a container (or init container) waiting with `ImagePullBackOff`, `ErrImagePull`,
//!   `CrashLoopBackOff`, `CreateContainerConfigError`, `CreateContainerError`,
//!   `InvalidImageName`;
//! - a pod with `PodScheduled=False` (`Unschedulable`, with the scheduler's message) for longer
//!   than [`WaitOptions::unschedulable_grace`] (so a brief one is not reported on first
//!   sight). A pod the scheduler holds back only because its claims are not bound yet
//!   ([`UNBOUND_CLAIMS`]) is waiting, not stuck: a slow provisioner or a busy PersistentVolume
//!   controller binds them in its own time, so it waits up to the timeout, which names it;
//! - a Deployment with `Progressing=False`, reason `ProgressDeadlineExceeded`.
//!
//! Each workload is read once and then followed by a watch from that version, whose events
//! carry it: a change costs no request, and the wait returns the workloads as it last saw
//! them (what the apply records). A read that fails with a transient error (the API server
//! restarting, 429s beyond `call`'s retries) does not end the wait: the next turn reads again,
//! for up to a minute without an answer.
//!
//! On timeout, [`Error::Timeout`] says what is still missing per workload (`1 of 2 pods ready;
//! pod x: ContainersNotReady`).

use std::collections::HashMap;
use std::time::Duration;

use futures::stream::{BoxStream, SelectAll};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, DynamicObject, ListParams, WatchEvent, WatchParams};
use tokio::time::Instant;

use crate::error::{Error, ObjectKey, Result};
use crate::inventory::LiveObject;
use crate::kinds::api_resource;
use crate::{CancellationToken, Cluster, cancelled, sleep};

/// How long a rollout wait goes on reading a cluster that does not answer (an API server
/// restart takes seconds; a cluster gone for good should not hold the apply to its timeout).
const UNREADABLE_GRACE: Duration = Duration::from_secs(60);

/// Waiting for a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    /// Give up after this long ([`Error::Timeout`]).
    pub timeout: Duration,
    /// How often the pods of a workload not rolled out yet are looked at, at most (the
    /// workloads themselves are followed by watch), and how often a workload that cannot be
    /// watched is read again.
    pub poll: Duration,
    /// How long a pod may stay unschedulable before the wait fails.
    pub unschedulable_grace: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(600),
            poll: Duration::from_secs(1),
            unschedulable_grace: Duration::from_secs(10),
        }
    }
}

impl WaitOptions {
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            timeout,
            ..Self::default()
        }
    }
}

/// Container waiting reasons that never fix themselves by waiting.
pub const FATAL_WAITING_REASONS: &[&str] = &[
    "ImagePullBackOff",
    "ErrImagePull",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "InvalidImageName",
];

/// What the wait remembers of the pods: since when each has been unschedulable (by uid), and
/// per workload when its pods were last looked at and what they said.
#[derive(Debug, Default)]
pub(crate) struct PodWatch {
    unschedulable_since: HashMap<String, Instant>,
    checked: HashMap<String, (Instant, Vec<String>)>,
}

/// What one poll found about one workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Progress {
    Done,
    /// Not yet: what is missing.
    Pending(String),
}

/// Workload status, kind-independent.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct WorkloadStatus {
    pub desired: i32,
    pub generation: i64,
    pub observed_generation: i64,
    pub replicas: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    pub deployment: bool,
    /// `(reason, message)` of Progressing=False/ProgressDeadlineExceeded.
    pub deadline_exceeded: Option<(String, String)>,
    pub selector: Option<LabelSelector>,
}

impl WorkloadStatus {
    fn from_deployment(d: &Deployment) -> Self {
        let spec = d.spec.clone().unwrap_or_default();
        let st = d.status.clone().unwrap_or_default();
        let deadline_exceeded = st
            .conditions
            .iter()
            .flatten()
            .find(|c| {
                c.type_ == "Progressing"
                    && c.status == "False"
                    && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
            })
            .map(|c| {
                (
                    "ProgressDeadlineExceeded".to_owned(),
                    c.message.clone().unwrap_or_default(),
                )
            });
        Self {
            desired: spec.replicas.unwrap_or(1),
            generation: d.metadata.generation.unwrap_or(0),
            observed_generation: st.observed_generation.unwrap_or(0),
            replicas: st.replicas.unwrap_or(0),
            updated: st.updated_replicas.unwrap_or(0),
            ready: st.ready_replicas.unwrap_or(0),
            available: st.available_replicas.unwrap_or(0),
            deployment: true,
            deadline_exceeded,
            selector: Some(spec.selector),
        }
    }

    fn from_statefulset(s: &StatefulSet) -> Self {
        let spec = s.spec.clone().unwrap_or_default();
        let st = s.status.clone().unwrap_or_default();
        let on_delete = spec
            .update_strategy
            .as_ref()
            .and_then(|u| u.type_.as_deref())
            == Some("OnDelete");
        let desired = spec.replicas.unwrap_or(1);
        Self {
            desired,
            generation: s.metadata.generation.unwrap_or(0),
            observed_generation: st.observed_generation.unwrap_or(0),
            replicas: st.replicas,
            // OnDelete never updates pods by itself: do not wait for it.
            updated: if on_delete {
                desired
            } else {
                st.updated_replicas.unwrap_or(0)
            },
            ready: st.ready_replicas.unwrap_or(0),
            available: st.available_replicas.unwrap_or(0),
            deployment: false,
            deadline_exceeded: None,
            selector: Some(spec.selector),
        }
    }

    pub(crate) fn progress(&self) -> Progress {
        if self.observed_generation < self.generation {
            return Progress::Pending(
                "the controller has not yet observed the latest spec".to_owned(),
            );
        }
        let d = self.desired;
        let mut missing = Vec::new();
        if self.updated < d {
            missing.push(format!("{} of {d} pods updated", self.updated));
        }
        if self.ready < d {
            missing.push(format!("{} of {d} pods ready", self.ready));
        } else if self.available < d {
            missing.push(format!("{} of {d} pods available", self.available));
        }
        if self.replicas > d {
            missing.push(format!("{} old pods still terminating", self.replicas - d));
        }
        if missing.is_empty() {
            Progress::Done
        } else {
            Progress::Pending(missing.join(", "))
        }
    }
}

/// What the scheduler says of a pod whose `Immediate` claims are not bound yet (the
/// VolumeBinding plugin's PreFilter, `pkg/scheduler/framework/plugins/volumebinding/
/// volume_binding.go` of Kubernetes 1.37): the PersistentVolume controller binds them later,
/// and the pod is scheduled then.
pub(crate) const UNBOUND_CLAIMS: &str = "pod has unbound immediate PersistentVolumeClaims";

/// A stuck pod found by [`pod_problems`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PodProblem {
    /// Fatal now.
    Fatal { reason: String, message: String },
    /// Unschedulable (fatal after the grace period).
    Unschedulable { reason: String, message: String },
    /// Not ready yet, for this reason (for the timeout message).
    NotReady(String),
}

/// What is wrong with one pod, if anything.
pub(crate) fn pod_problem(pod: &Pod) -> Option<PodProblem> {
    let status = pod.status.clone().unwrap_or_default();
    let statuses = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for cs in statuses {
        if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
            let reason = w.reason.clone().unwrap_or_default();
            if FATAL_WAITING_REASONS.contains(&reason.as_str()) {
                return Some(PodProblem::Fatal {
                    reason,
                    message: format!(
                        "container {}: {}",
                        cs.name,
                        w.message.clone().unwrap_or_default()
                    ),
                });
            }
        }
    }
    let conditions = status.conditions.clone().unwrap_or_default();
    if let Some(c) = conditions
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
    {
        let message = c.message.clone().unwrap_or_default();
        if message.contains(UNBOUND_CLAIMS) {
            return Some(PodProblem::NotReady(format!(
                "waiting for its PersistentVolumeClaims to be bound (the scheduler: {message})"
            )));
        }
        return Some(PodProblem::Unschedulable {
            reason: c.reason.clone().unwrap_or_else(|| "Unschedulable".into()),
            message,
        });
    }
    let ready = conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .is_some_and(|c| c.status == "True");
    if ready {
        return None;
    }
    let reason = conditions
        .iter()
        .find(|c| c.type_ == "Ready" && c.status != "True")
        .and_then(|c| c.reason.clone())
        .or_else(|| status.phase.clone())
        .unwrap_or_else(|| "Pending".into());
    Some(PodProblem::NotReady(reason))
}

fn selector_string(sel: &LabelSelector) -> Option<String> {
    // Rendered workloads select with matchLabels only.
    let labels = sel.match_labels.as_ref()?;
    if labels.is_empty() {
        return None;
    }
    Some(
        labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// One workload being waited for.
struct Watched {
    key: ObjectKey,
    /// The workload as last read or delivered by its watch; `None` until it is read (again).
    latest: Option<LiveObject>,
    /// Whether an open watch keeps `latest` current; when not, the next turn reads it.
    watched: bool,
    /// Which of the workload's watches counts: raised whenever one is given up, so what an
    /// abandoned watch still delivers is ignored.
    epoch: u64,
    /// Rolled out: no longer looked at.
    done: bool,
}

/// What a workload's watch delivers, tagged with the workload's index and the watch's epoch;
/// `None` when the watch ended (its server-side timeout, or an error).
type Delivery = (usize, u64, Option<kube::Result<WatchEvent<DynamicObject>>>);

/// What a watch delivered, applied to its workload: a changed workload replaces what was seen
/// of it; a deletion, an error or the end of the watch have it read again at the next turn.
fn take(items: &mut [Watched], (index, epoch, event): Delivery) {
    let Some(item) = items.get_mut(index) else {
        return;
    };
    if item.done || item.epoch != epoch {
        return;
    }
    match event {
        Some(Ok(WatchEvent::Added(o) | WatchEvent::Modified(o))) => {
            if let Some(ar) = api_resource(&item.key.kind) {
                item.latest = Some(LiveObject::of_listed(
                    &item.key.kind,
                    &item.key.namespace,
                    &ar,
                    o,
                ));
            }
        }
        Some(Ok(WatchEvent::Bookmark(_))) => {}
        Some(Ok(WatchEvent::Deleted(_))) => {
            item.latest = None;
            item.watched = false;
            item.epoch += 1;
        }
        // An error event (410 Gone: the version is too old), a broken stream, or the end.
        Some(Ok(WatchEvent::Error(_)) | Err(_)) | None => {
            item.watched = false;
            item.epoch += 1;
        }
    }
}

/// How long the server keeps a rollout watch open before it must be opened again.
const WATCH_SECONDS: u32 = 60;

impl Cluster {
    /// Waits until every Deployment and StatefulSet in `workloads` has rolled out (other
    /// kinds are ignored) and returns each as the wait last saw it, rolled out. See the module
    /// docs for the early failures.
    ///
    /// Each workload is read once and then followed by a watch from that version: the
    /// events carry the workload, so a change costs no read, and the watch is opened again
    /// only when the server ends it. Its pods are looked at while it is not rolled out, no
    /// more often than [`WaitOptions::poll`], also when it does not change (an image that
    /// cannot be pulled changes no workload status).
    pub async fn wait_for_rollout(
        &self,
        workloads: &[ObjectKey],
        options: WaitOptions,
        cancel: &CancellationToken,
    ) -> Result<Vec<LiveObject>> {
        let mut items: Vec<Watched> = workloads
            .iter()
            .filter(|k| k.kind == "Deployment" || k.kind == "StatefulSet")
            .map(|key| Watched {
                key: key.clone(),
                latest: None,
                watched: false,
                epoch: 0,
                done: false,
            })
            .collect();
        let deadline = Instant::now() + options.timeout;
        let mut pods = PodWatch::default();
        let mut watches: SelectAll<BoxStream<'static, Delivery>> = SelectAll::new();
        // Since when every read has failed transiently (reset by any answer).
        let mut unreadable_since: Option<Instant> = None;
        loop {
            let mut missing = Vec::new();
            for (index, item) in items.iter_mut().enumerate() {
                if item.done {
                    continue;
                }
                if item.latest.is_none() || !item.watched {
                    match self.read_workload(&item.key, cancel).await {
                        Ok(found) => {
                            unreadable_since = None;
                            item.latest = found;
                        }
                        // The API server did not answer, even after `call`'s retries (it
                        // restarts, or throttles): the rollout goes on without us, so read it
                        // again at the next turn instead of failing a long wait on a blip; a
                        // cluster gone for longer than UNREADABLE_GRACE fails the wait.
                        Err(e)
                            if e.is_transient()
                                && unreadable_since.get_or_insert_with(Instant::now).elapsed()
                                    < UNREADABLE_GRACE =>
                        {
                            tracing::debug!(key = %item.key, error = %e, "rollout not readable now, polling on");
                            missing.push(format!("{}: could not be read: {e}", item.key));
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                    if let Some(live) = &item.latest {
                        match self
                            .watch_workload(
                                (index, item.epoch),
                                &item.key,
                                live.resource_version(),
                                cancel,
                            )
                            .await
                        {
                            Ok(stream) => {
                                watches.push(stream);
                                item.watched = true;
                            }
                            Err(e @ Error::Cancelled { .. }) => return Err(e),
                            Err(e) => {
                                tracing::debug!(key = %item.key, error = %e, "cannot watch: polling");
                            }
                        }
                    }
                }
                let Some(live) = &item.latest else {
                    missing.push(format!("{}: it does not exist", item.key));
                    continue;
                };
                match self.judge(live, &options, &mut pods, cancel).await? {
                    Progress::Done => item.done = true,
                    Progress::Pending(what) => missing.push(format!("{}: {what}", item.key)),
                }
            }
            let Some(first) = items.iter().find(|i| !i.done).map(|i| i.key.clone()) else {
                return Ok(items.into_iter().filter_map(|i| i.latest).collect());
            };
            if Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: format!(
                        "the rollout of {}",
                        items
                            .iter()
                            .filter(|i| !i.done)
                            .map(|i| i.key.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    waited: options.timeout,
                    missing: missing.join("; "),
                });
            }
            let nap = options
                .poll
                .min(deadline.saturating_duration_since(Instant::now()))
                .max(Duration::from_millis(50));
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(cancelled(&first)),
                Some(delivery) = watches.next() => {
                    take(&mut items, delivery);
                    // Whatever else has arrived meanwhile, before the next turn.
                    while let Some(Some(delivery)) = watches.next().now_or_never() {
                        take(&mut items, delivery);
                    }
                }
                r = sleep(nap, cancel, &first) => r?,
            }
        }
    }

    /// The workload now; `None` when it does not exist.
    async fn read_workload(
        &self,
        key: &ObjectKey,
        cancel: &CancellationToken,
    ) -> Result<Option<LiveObject>> {
        let (api, ar) = self.dynamic_api_of(key)?;
        let found = self.call(key, cancel, || api.get_opt(&key.name)).await?;
        Ok(found.map(|o| LiveObject::of_listed(&key.kind, &key.namespace, &ar, o)))
    }

    /// A watch of the workload from `version`, its deliveries tagged with `(index, epoch)`,
    /// ending with `None`.
    async fn watch_workload(
        &self,
        (index, epoch): (usize, u64),
        key: &ObjectKey,
        version: &str,
        cancel: &CancellationToken,
    ) -> Result<BoxStream<'static, Delivery>> {
        let (api, _) = self.dynamic_api_of(key)?;
        let wp = WatchParams::default()
            .fields(&format!("metadata.name={}", key.name))
            .timeout(WATCH_SECONDS);
        let stream = self.call(key, cancel, || api.watch(&wp, version)).await?;
        Ok(stream
            .map(move |event| (index, epoch, Some(event)))
            .chain(futures::stream::once(async move { (index, epoch, None) }))
            .boxed())
    }

    /// Whether one workload, as last seen, has rolled out; if not, what is missing, with
    /// what its pods say (looked at no more often than `options.poll`: a watched workload
    /// changes more often than that, and what its pods said last time stands in between).
    async fn judge(
        &self,
        live: &LiveObject,
        options: &WaitOptions,
        pods: &mut PodWatch,
        cancel: &CancellationToken,
    ) -> Result<Progress> {
        let key = &live.key;
        let unexpected = |e: serde_json::Error| Error::Unexpected {
            object: key.clone(),
            message: format!("cannot read the workload's status: {e}"),
        };
        let status = if key.kind == "Deployment" {
            WorkloadStatus::from_deployment(
                &serde_json::from_value::<Deployment>(live.json.clone()).map_err(unexpected)?,
            )
        } else {
            WorkloadStatus::from_statefulset(
                &serde_json::from_value::<StatefulSet>(live.json.clone()).map_err(unexpected)?,
            )
        };
        if let Some((reason, message)) = &status.deadline_exceeded {
            return Err(Error::RolloutFailed {
                workload: key.clone(),
                pod: String::new(),
                reason: reason.clone(),
                message: message.clone(),
            });
        }
        let Progress::Pending(what) = status.progress() else {
            return Ok(Progress::Done);
        };
        // Not done: look at the pods for a reason.
        let Some(selector) = status.selector.as_ref().and_then(selector_string) else {
            return Ok(Progress::Pending(what));
        };
        let name = key.to_string();
        let reasons = match pods.checked.get(&name) {
            Some((at, reasons)) if at.elapsed() < options.poll => reasons.clone(),
            _ => {
                let reasons = self
                    .pod_reasons(
                        key,
                        &selector,
                        options,
                        &mut pods.unschedulable_since,
                        cancel,
                    )
                    .await?;
                pods.checked.insert(name, (Instant::now(), reasons.clone()));
                reasons
            }
        };
        Ok(Progress::Pending(if reasons.is_empty() {
            what
        } else {
            format!("{what}; {}", reasons.join("; "))
        }))
    }

    /// Why the pods `selector` selects are not ready yet; an error when one never will be.
    async fn pod_reasons(
        &self,
        key: &ObjectKey,
        selector: &str,
        options: &WaitOptions,
        unschedulable_since: &mut HashMap<String, Instant>,
        cancel: &CancellationToken,
    ) -> Result<Vec<String>> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &key.namespace);
        let lp = ListParams::default().labels(selector);
        let list = self.call(key, cancel, || pods.list(&lp)).await?;
        let mut reasons = Vec::new();
        let mut items = list.items;
        items.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        for pod in &items {
            if pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let name = pod.metadata.name.clone().unwrap_or_default();
            let uid = pod.metadata.uid.clone().unwrap_or_else(|| name.clone());
            match pod_problem(pod) {
                None => {
                    unschedulable_since.remove(&uid);
                }
                Some(PodProblem::Fatal { reason, message }) => {
                    return Err(Error::RolloutFailed {
                        workload: key.clone(),
                        pod: name,
                        reason,
                        message,
                    });
                }
                Some(PodProblem::Unschedulable { reason, message }) => {
                    let since = *unschedulable_since.entry(uid).or_insert_with(Instant::now);
                    if since.elapsed() >= options.unschedulable_grace {
                        return Err(Error::RolloutFailed {
                            workload: key.clone(),
                            pod: name,
                            reason: format!("FailedScheduling ({reason})"),
                            message,
                        });
                    }
                    reasons.push(format!("pod {name}: {reason}: {message}"));
                }
                Some(PodProblem::NotReady(reason)) => {
                    unschedulable_since.remove(&uid);
                    reasons.push(format!("pod {name}: {reason}"));
                }
            }
        }
        Ok(reasons)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateWaiting, ContainerStatus, PodCondition, PodStatus,
    };

    #[test]
    fn progress_reports_what_is_missing() {
        let mut s = WorkloadStatus {
            desired: 2,
            generation: 2,
            observed_generation: 2,
            replicas: 2,
            updated: 2,
            ready: 1,
            available: 1,
            ..Default::default()
        };
        assert_eq!(s.progress(), Progress::Pending("1 of 2 pods ready".into()));
        s.ready = 2;
        s.available = 2;
        assert_eq!(s.progress(), Progress::Done);
        s.observed_generation = 1;
        assert!(matches!(s.progress(), Progress::Pending(_)));
    }

    fn pod(waiting: Option<&str>, scheduled_false: bool) -> Pod {
        Pod {
            status: Some(PodStatus {
                container_statuses: waiting.map(|r| {
                    vec![ContainerStatus {
                        name: "thanos".into(),
                        state: Some(ContainerState {
                            waiting: Some(ContainerStateWaiting {
                                reason: Some(r.into()),
                                message: Some("back-off pulling image".into()),
                            }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }]
                }),
                conditions: Some(vec![PodCondition {
                    type_: if scheduled_false {
                        "PodScheduled".into()
                    } else {
                        "Ready".into()
                    },
                    status: "False".into(),
                    reason: Some(if scheduled_false {
                        "Unschedulable".into()
                    } else {
                        "ContainersNotReady".into()
                    }),
                    message: Some("0/2 nodes are available".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_pod_waiting_for_its_claims_to_bind_is_not_stuck() {
        let mut p = pod(None, true);
        let condition = &mut p.status.as_mut().unwrap().conditions.as_mut().unwrap()[0];
        // As kube-scheduler words it when a claim with Immediate binding has no volume yet.
        condition.message = Some(format!(
            "0/3 nodes are available: {UNBOUND_CLAIMS}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
        ));
        match pod_problem(&p) {
            Some(PodProblem::NotReady(reason)) => {
                assert!(reason.starts_with("waiting for its PersistentVolumeClaims to be bound"));
                assert!(reason.contains(UNBOUND_CLAIMS), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn classifies_pods() {
        assert!(matches!(
            pod_problem(&pod(Some("ImagePullBackOff"), false)),
            Some(PodProblem::Fatal { reason, .. }) if reason == "ImagePullBackOff"
        ));
        assert!(matches!(
            pod_problem(&pod(Some("ContainerCreating"), false)),
            Some(PodProblem::NotReady(r)) if r == "ContainersNotReady"
        ));
        assert!(matches!(
            pod_problem(&pod(None, true)),
            Some(PodProblem::Unschedulable { reason, message }) if reason == "Unschedulable" && message.contains("0/2")
        ));
    }
}
