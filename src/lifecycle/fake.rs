//! An in-memory cluster for the lifecycle's unit tests: objects kept as JSON by key, ownership
//! by labels as on a real API server, hashring members the test sets, and a log of every call
//! so a test can check what a phase did and in which order.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value as Json;
use thanos_cluster::{
    ApplyOptions, CancellationToken, Drift, Error, HashringFile, LiveObject, ObjectKey, Owner,
    PvcPolicy, RingLoad, Selection, WaitOptions,
};
use thanos_render::Object;
use thanos_render::common::LabelSelector;
use thanos_render::meta::{MANAGED_BY, MANAGER, PART_OF};
use thanos_render::receive::RingSelector;

use crate::cluster::{ClusterApi, Clusters, Result};
use crate::lifecycle::preflight::SecretData;

#[derive(Default)]
pub struct FakeCluster {
    pub objects: Mutex<BTreeMap<ObjectKey, Json>>,
    /// What any selector ring discovers.
    pub ring_members: Mutex<Vec<String>>,
    /// Every call, as `verb key` lines.
    pub calls: Mutex<Vec<String>>,
    /// Options of every apply, by object key.
    pub applied_with: Mutex<Vec<(ObjectKey, ApplyOptions)>>,
    /// Every object applied, in order, as it was written.
    pub applied: Mutex<Vec<(ObjectKey, Json)>>,
    /// What waiting for routers to load a ring finds (default: loaded).
    pub ring_load: Mutex<Option<RingLoad>>,
    /// The rollout wait fails with this message.
    pub rollout_fails: Mutex<Option<String>>,
    /// Kinds of other tools the cluster does not serve (their CRD is not installed).
    pub unserved: Mutex<Vec<String>>,
    /// Secrets by `(namespace, name)`: their data by key.
    pub secrets: Mutex<BTreeMap<(String, String), SecretData>>,
    /// Reading a Secret fails with this error (e.g. the credentials may not).
    pub secret_read_fails: Mutex<Option<String>>,
    /// The last `resourceVersion` given out: as on a real API server, every write of an
    /// object (ours through `apply`, anyone else's through `insert`) gets a new one.
    pub version: Mutex<u64>,
    /// What happens to each workload while a rollout is waited for (its controller writes
    /// its status; someone edits it): a write, so a new `resourceVersion`.
    #[allow(clippy::type_complexity)]
    pub during_rollout: Mutex<Option<Box<dyn Fn(&mut Json) + Send>>>,
    /// The server never answers: writes fail as unreachable and `has_answered` is false.
    pub never_answers: Mutex<bool>,
}

impl FakeCluster {
    fn log(&self, line: String) {
        self.calls.lock().unwrap().push(line);
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    pub fn keys(&self) -> Vec<ObjectKey> {
        self.objects.lock().unwrap().keys().cloned().collect()
    }

    /// Puts an object in as another tool would (or changes one: a new `resourceVersion`).
    pub fn insert(&self, key: ObjectKey, mut json: Json) {
        self.stamp(&mut json);
        self.objects.lock().unwrap().insert(key, json);
    }

    /// Gives `json` the next `resourceVersion`.
    fn stamp(&self, json: &mut Json) {
        let mut version = self.version.lock().unwrap();
        *version += 1;
        if let Some(meta) = json.get_mut("metadata").and_then(Json::as_object_mut) {
            meta.insert("resourceVersion".into(), Json::String(version.to_string()));
        }
    }

    /// What applying `o` over `live` would give, as a dry run answers: the server keeps the
    /// object's `resourceVersion`.
    fn desired_json(o: &Object, live: &Json) -> Json {
        let mut desired = Self::rendered_json(o, live);
        let version = &live["metadata"]["resourceVersion"];
        if let (false, Some(meta)) = (
            version.is_null(),
            desired.get_mut("metadata").and_then(Json::as_object_mut),
        ) {
            meta.insert("resourceVersion".into(), version.clone());
        }
        desired
    }

    /// What applying `o` now would leave: its sealed form; for an owned Secret whose
    /// write-only values are withheld, its public form with the live data when that data,
    /// redacted, is the public data (as the real cluster judges it, `thanos_cluster::drift`).
    fn rendered_json(o: &Object, live: &Json) -> Json {
        match o {
            Object::Secret(s) if s.is_withheld() => {
                let mut desired = o.to_json();
                let live_data: BTreeMap<String, k8s_openapi::ByteString> =
                    serde_json::from_value(live["data"].clone()).unwrap_or_default();
                if s.redact(&live_data) == s.public().data.clone().unwrap_or_default() {
                    desired["data"] = live["data"].clone();
                }
                desired
            }
            other => other.apply_json().unwrap_or_else(|| other.to_json()),
        }
    }

    fn owned_by(json: &Json, owner: &Owner) -> bool {
        let labels = &json["metadata"]["labels"];
        json["metadata"]["namespace"] == owner.namespace.as_str()
            && labels[MANAGED_BY] == MANAGER
            && labels[PART_OF] == owner.part_of.as_str()
    }

    /// Every object `owner` owns, as a cluster would list it.
    fn owned(&self, owner: &Owner) -> Vec<LiveObject> {
        self.objects
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, json)| Self::owned_by(json, owner))
            .map(|(key, json)| LiveObject {
                key: key.clone(),
                json: json.clone(),
            })
            .collect()
    }
}

#[async_trait]
impl ClusterApi for FakeCluster {
    fn has_answered(&self) -> bool {
        !*self.never_answers.lock().unwrap()
    }

    async fn discover_ring(
        &self,
        namespace: &str,
        _ring: &RingSelector,
        _cancel: &CancellationToken,
    ) -> Result<Vec<String>> {
        self.log(format!("discover_ring {namespace}"));
        let mut members = self.ring_members.lock().unwrap().clone();
        members.sort();
        Ok(members)
    }

    /// The endpoints of the StatefulSets whose labels match: one per replica, as the
    /// EndpointSlice controller publishes them once the pods are Ready.
    async fn discover_endpoints(
        &self,
        namespace: &str,
        selector: &LabelSelector,
        _cancel: &CancellationToken,
    ) -> Result<Vec<String>> {
        self.log(format!("discover_endpoints {namespace}"));
        let mut out = Vec::new();
        let objects = self.objects.lock().unwrap().clone();
        for (key, json) in objects.iter() {
            if key.kind != "StatefulSet" || key.namespace != namespace {
                continue;
            }
            let labels = &json["metadata"]["labels"];
            if !selector
                .match_labels
                .iter()
                .all(|(k, v)| labels[k] == v.as_str())
            {
                continue;
            }
            let service = json["spec"]["serviceName"].as_str().unwrap_or_default();
            let mut published = json["spec"]["replicas"].as_i64().unwrap_or(1);
            // A held scale-down: the Service's label caps what its slices publish.
            let service_key = ObjectKey::new("Service", namespace, service);
            if let Some(below) = objects.get(&service_key).and_then(|s| {
                s["metadata"]["labels"][thanos_render::discovery::PUBLISHED_BELOW_LABEL]
                    .as_str()
                    .and_then(|v| v.parse::<i64>().ok())
            }) {
                published = published.min(below);
            }
            for i in 0..published {
                out.push(thanos_render::discovery::pod_endpoint(
                    &format!("{}-{i}", key.name),
                    service,
                    namespace,
                    thanos_render::meta::GRPC_PORT,
                ));
            }
        }
        out.sort();
        Ok(out)
    }

    /// The inserted objects of the selected kind whose labels match, in `namespace` (without
    /// a namespace selector) or in any namespace (with one: the fake has no Namespace objects).
    async fn select(
        &self,
        namespace: &str,
        selection: &Selection,
        _cancel: &CancellationToken,
    ) -> Result<Option<Vec<LiveObject>>> {
        let kind = selection.kind.kind;
        self.log(format!("select {kind} {namespace}"));
        if self.unserved.lock().unwrap().iter().any(|k| k == kind) {
            return Ok(None);
        }
        Ok(Some(
            self.objects
                .lock()
                .unwrap()
                .iter()
                .filter(|(key, json)| {
                    let labels: BTreeMap<String, String> =
                        serde_json::from_value(json["metadata"]["labels"].clone())
                            .unwrap_or_default();
                    key.kind == kind
                        && (selection.namespace_selector.is_some() || key.namespace == namespace)
                        && thanos_render::discovery::selector_matches(&selection.selector, &labels)
                })
                .map(|(key, json)| LiveObject {
                    key: key.clone(),
                    json: json.clone(),
                })
                .collect(),
        ))
    }

    async fn apply(
        &self,
        object: &Object,
        options: ApplyOptions,
        _cancel: &CancellationToken,
    ) -> Result<LiveObject> {
        let key = ObjectKey::of(object);
        self.log(format!("apply {key}"));
        if *self.never_answers.lock().unwrap() {
            return Err(Error::connection_refused("https://127.0.0.1:1/"));
        }
        // As the real cluster: an owned Secret is written with its sealed data, or not at all.
        let Some(json) = object.apply_json() else {
            return Err(Error::Unexpected {
                object: key,
                message: "write-only values withheld".into(),
            });
        };
        let mut objects = self.objects.lock().unwrap();
        if let Some(existing) = objects.get(&key) {
            let part_of = json["metadata"]["labels"][PART_OF]
                .as_str()
                .unwrap_or_default();
            if existing["metadata"]["labels"][PART_OF] != part_of && !options.adopt_existing {
                return Err(Error::NotOurs {
                    kind: key.kind.clone(),
                    namespace: key.namespace.clone(),
                    name: key.name.clone(),
                    part_of: part_of.to_owned(),
                    current: String::new(),
                });
            }
        }
        self.applied
            .lock()
            .unwrap()
            .push((key.clone(), json.clone()));
        // As a real server: a write that changes nothing keeps the object's version.
        let stored = match objects.get(&key) {
            Some(existing) if *existing == Self::desired_json(object, existing) => existing.clone(),
            _ => {
                let mut stored = json;
                self.stamp(&mut stored);
                stored
            }
        };
        objects.insert(key.clone(), stored.clone());
        self.applied_with
            .lock()
            .unwrap()
            .push((key.clone(), options));
        Ok(LiveObject { key, json: stored })
    }

    async fn prune(
        &self,
        owner: &Owner,
        keep: &[ObjectKey],
        pvc_policy: PvcPolicy,
        _timeout: Duration,
        _cancel: &CancellationToken,
    ) -> Result<()> {
        self.log(format!("prune {} keep {}", owner.part_of, keep.len()));
        self.objects.lock().unwrap().retain(|key, json| {
            !Self::owned_by(json, owner)
                || keep.contains(key)
                || (key.kind == "PersistentVolumeClaim" && pvc_policy == PvcPolicy::Retain)
        });
        Ok(())
    }

    async fn owned_keys(
        &self,
        owner: &Owner,
        _cancel: &CancellationToken,
    ) -> Result<Vec<ObjectKey>> {
        self.log(format!("owned {}", owner.part_of));
        Ok(self.owned(owner).into_iter().map(|o| o.key).collect())
    }

    async fn prune_listed(
        &self,
        owner: &Owner,
        owned: &[ObjectKey],
        keep: &[ObjectKey],
        pvc_policy: PvcPolicy,
        _timeout: Duration,
        _cancel: &CancellationToken,
    ) -> Result<()> {
        self.log(format!("prune {} keep {}", owner.part_of, keep.len()));
        self.objects.lock().unwrap().retain(|key, _| {
            !owned.contains(key)
                || keep.contains(key)
                || (key.kind == "PersistentVolumeClaim" && pvc_policy == PvcPolicy::Retain)
        });
        Ok(())
    }

    async fn wait_for_rollout(
        &self,
        keys: &[ObjectKey],
        _options: WaitOptions,
        _cancel: &CancellationToken,
    ) -> Result<Vec<LiveObject>> {
        self.log(format!("wait {}", keys.len()));
        if let Some(change) = &*self.during_rollout.lock().unwrap() {
            let mut objects = self.objects.lock().unwrap();
            for key in keys {
                if let Some(json) = objects.get_mut(key)
                    && matches!(key.kind.as_str(), "Deployment" | "StatefulSet")
                {
                    change(json);
                    self.stamp(json);
                }
            }
        }
        match self.rollout_fails.lock().unwrap().clone() {
            Some(message) => Err(Error::RolloutFailed {
                workload: keys[0].clone(),
                pod: "pod-0".into(),
                reason: "ImagePullBackOff".into(),
                message,
            }),
            None => {
                let objects = self.objects.lock().unwrap();
                Ok(keys
                    .iter()
                    .filter(|k| matches!(k.kind.as_str(), "Deployment" | "StatefulSet"))
                    .filter_map(|k| {
                        objects.get(k).map(|json| LiveObject {
                            key: k.clone(),
                            json: json.clone(),
                        })
                    })
                    .collect())
            }
        }
    }

    async fn inventory(
        &self,
        owner: &Owner,
        _cancel: &CancellationToken,
    ) -> Result<Vec<LiveObject>> {
        self.log(format!("inventory {}", owner.part_of));
        Ok(self.owned(owner))
    }

    async fn inventory_kinds(
        &self,
        owner: &Owner,
        kinds: &[&str],
        _cancel: &CancellationToken,
    ) -> Result<Vec<LiveObject>> {
        self.log(format!(
            "inventory {} of {}",
            owner.part_of,
            kinds.join(",")
        ));
        Ok(self
            .objects
            .lock()
            .unwrap()
            .iter()
            .filter(|(key, json)| Self::owned_by(json, owner) && kinds.contains(&key.kind.as_str()))
            .map(|(key, json)| LiveObject {
                key: key.clone(),
                json: json.clone(),
            })
            .collect())
    }

    async fn drift(
        &self,
        desired: &[Object],
        _cancel: &CancellationToken,
    ) -> Result<Vec<(ObjectKey, Drift)>> {
        self.log(format!("drift {}", desired.len()));
        let objects = self.objects.lock().unwrap();
        Ok(desired
            .iter()
            .map(|o| {
                let key = ObjectKey::of(o);
                let drift = match objects.get(&key) {
                    None => Drift::Missing,
                    Some(live) => {
                        let desired = Self::desired_json(o, live);
                        if *live == desired {
                            Drift::InSync
                        } else {
                            Drift::Drifted {
                                paths: thanos_cluster::drift::diff_paths(live, &desired),
                            }
                        }
                    }
                };
                (key, drift)
            })
            .collect())
    }

    async fn get(
        &self,
        key: &ObjectKey,
        _cancel: &CancellationToken,
    ) -> Result<Option<LiveObject>> {
        self.log(format!("get {key}"));
        Ok(self
            .objects
            .lock()
            .unwrap()
            .get(key)
            .map(|json| LiveObject {
                key: key.clone(),
                json: json.clone(),
            }))
    }

    async fn secret(
        &self,
        namespace: &str,
        name: &str,
        _cancel: &CancellationToken,
    ) -> Result<Option<BTreeMap<String, Vec<u8>>>> {
        self.log(format!("secret {namespace}/{name}"));
        if let Some(message) = self.secret_read_fails.lock().unwrap().clone() {
            return Err(Error::Forbidden {
                object: ObjectKey::new("Secret", namespace, name),
                message,
            });
        }
        Ok(self
            .secrets
            .lock()
            .unwrap()
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned())
    }

    /// What [`FakeCluster::ring_load`] says, at once.
    async fn wait_ring_loaded(
        &self,
        namespace: &str,
        _labels: &BTreeMap<String, String>,
        _port: i32,
        _content: &str,
        _timeout: Duration,
        _cancel: &CancellationToken,
    ) -> Result<RingLoad> {
        self.log(format!("ring_loaded {namespace}"));
        Ok(self
            .ring_load
            .lock()
            .unwrap()
            .clone()
            .unwrap_or(RingLoad::Loaded))
    }

    async fn restart_deployment(&self, key: &ObjectKey, _cancel: &CancellationToken) -> Result<()> {
        self.log(format!("restart {key}"));
        Ok(())
    }

    /// Every ConfigMap with our `managed-by` label and a `hashrings.json`, in any namespace.
    async fn hashring_files(
        &self,
        namespace: &str,
        _cancel: &CancellationToken,
    ) -> Result<Vec<HashringFile>> {
        self.log(format!("hashring_files {namespace}"));
        let objects = self.objects.lock().unwrap();
        Ok(objects
            .iter()
            .filter(|(key, json)| {
                key.kind == "ConfigMap"
                    && json["metadata"]["labels"][thanos_render::meta::MANAGED_BY]
                        == thanos_render::meta::MANAGER
            })
            .filter_map(|(key, json)| {
                let text = json["data"][thanos_render::receive::HASHRINGS_FILE].as_str()?;
                Some(HashringFile {
                    config_map: key.clone(),
                    text: text.to_owned(),
                })
            })
            .collect())
    }
}

impl FakeCluster {
    /// Puts a Secret in, as another tool would.
    pub fn insert_secret(&self, namespace: &str, name: &str, data: &[(&str, &[u8])]) {
        self.secrets.lock().unwrap().insert(
            (namespace.to_owned(), name.to_owned()),
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
                .collect(),
        );
    }
}

/// A provider connection to the fake cluster, or to none.
pub struct FakeClusters(pub Option<Arc<FakeCluster>>);

#[async_trait]
impl Clusters for FakeClusters {
    fn is_configured(&self) -> bool {
        self.0.is_some()
    }

    async fn cluster(&self) -> std::result::Result<Arc<dyn ClusterApi>, String> {
        match &self.0 {
            Some(c) => Ok(c.clone() as Arc<dyn ClusterApi>),
            None => Err("no Kubernetes cluster is configured".into()),
        }
    }
}
