//! Drift: does the live object still match what we apply?
//!
//! The comparison is done by the API server itself: a server-side-apply **dry run**
//! (`dryRun=All`, our field manager, `force`) of the desired object returns what the object
//! would look like if we applied it now. Defaulting, quantity normalisation (`1000m` = `1`),
//! int-or-string and list-merge semantics are therefore the server's, never a local guess, so
//! they cause no false drift; fields other managers own and we do not render (an annotation
//! someone added, `spec.clusterIP`, status) are kept by the dry run and cause none either. A
//! field we render that someone changed (`kubectl edit`, `kubectl scale`) comes back to our
//! value in the dry run, so it is reported.
//!
//! Compared: the whole object except `status` and the metadata the server maintains
//! (`resourceVersion`, `managedFields`, `generation`, `uid`, `creationTimestamp`, `selfLink`,
//! `deletionTimestamp`, `deletionGracePeriodSeconds`).

use std::collections::{BTreeSet, HashMap};

use futures::future::join_all;
use serde_json::Value;
use thanos_render::Object;

use crate::error::{ObjectKey, Result};
use crate::inventory::LiveObject;
use crate::{CancellationToken, Cluster};

/// At most this many differing paths are listed.
pub const MAX_PATHS: usize = 20;

/// The drift state of one desired object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The object does not exist.
    Missing,
    /// Applying it now would change nothing.
    InSync,
    /// Applying it would change these JSON paths (`/spec/replicas`, `/data/key`, ...).
    Drifted { paths: Vec<String> },
}

impl Drift {
    pub fn is_in_sync(&self) -> bool {
        matches!(self, Drift::InSync)
    }
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::Missing => write!(f, "missing"),
            Drift::InSync => write!(f, "in sync"),
            Drift::Drifted { paths } => {
                write!(f, "changed in the cluster: {}", paths.join(", "))
            }
        }
    }
}

impl Cluster {
    /// The drift state of each object in `desired` (same order), reading each one first.
    pub async fn drift(
        &self,
        desired: &[Object],
        cancel: &CancellationToken,
    ) -> Result<Vec<(ObjectKey, Drift)>> {
        self.drift_known(desired, &[], cancel).await
    }

    /// The drift state of each object in `desired` (same order), given what an inventory just
    /// found: an object found there is not read again (the dry run is still one request per
    /// object: it is the server's judgement); one not found is read, so an object without our
    /// labels is judged as before. All concurrently; the first error in the order of `desired`
    /// is returned.
    pub async fn drift_known(
        &self,
        desired: &[Object],
        live: &[LiveObject],
        cancel: &CancellationToken,
    ) -> Result<Vec<(ObjectKey, Drift)>> {
        let found: HashMap<&ObjectKey, &LiveObject> = live.iter().map(|o| (&o.key, o)).collect();
        let judged = join_all(desired.iter().map(|object| {
            let key = ObjectKey::of(object);
            let seen = found.get(&key).map(|o| o.json.clone());
            async move {
                let d = match seen {
                    Some(json) => self.drift_of(object, json, cancel).await,
                    None => self.drift_one(object, cancel).await,
                };
                d.map(|d| (key, d))
            }
        }))
        .await;
        judged.into_iter().collect()
    }

    /// The drift state of one desired object.
    pub async fn drift_one(&self, desired: &Object, cancel: &CancellationToken) -> Result<Drift> {
        let key = ObjectKey::of(desired);
        let api = self.dynamic_api(&key)?;
        let Some(live) = self.call(&key, cancel, || api.get_opt(&key.name)).await? else {
            return Ok(Drift::Missing);
        };
        let live = serde_json::to_value(&live).unwrap_or(Value::Null);
        self.drift_of(desired, live, cancel).await
    }

    /// The drift state of `desired` against `live`, the object as the server returned it.
    ///
    /// The dry run answers from the object as it is when the server runs it, which is not
    /// always the object `live` read: a controller may write in between (the deployment
    /// controller adds `deployment.kubernetes.io/revision` to a Deployment just created). A
    /// dry run keeps the stored object's `resourceVersion` (`DryRunnableStorage.GuaranteedUpdate`
    /// in k8s.io/apiserver `pkg/registry/generic/registry/dryrun.go` applies the change to the
    /// current object and writes nothing), so a version that differs from the one read means
    /// the two were different objects: read again and judge again, a few times, rather than
    /// report another manager's write as drift.
    async fn drift_of(
        &self,
        desired: &Object,
        mut live: Value,
        cancel: &CancellationToken,
    ) -> Result<Drift> {
        let key = ObjectKey::of(desired);
        let api = self.dynamic_api(&key)?;
        let mut attempt = 1;
        loop {
            if live.pointer("/metadata/deletionTimestamp").is_some() {
                return Ok(Drift::Missing);
            }
            let (body, mut paths) = match desired {
                Object::Secret(secret) if secret.is_withheld() => {
                    withheld_secret_body(secret, &live)
                }
                other => (other.to_json(), Vec::new()),
            };
            let dry = match self.ssa(&api, &key, &body, true, true, cancel).await {
                Ok(v) => v,
                // Gone between the read and the dry run.
                Err(e) if e.is_not_found() => return Ok(Drift::Missing),
                // The desired StatefulSet differs in a field Kubernetes cannot change in place:
                // certainly drifted; apply will take the replace path (see crate::apply).
                Err(crate::Error::Invalid { causes, .. })
                    if key.kind == "StatefulSet"
                        && crate::apply::immutable_statefulset_change(&causes) =>
                {
                    return Ok(Drift::Drifted {
                        paths: immutable_paths(&causes),
                    });
                }
                Err(e) => return Err(e),
            };
            if attempt < DRY_RUN_ATTEMPTS && resource_version(&dry) != resource_version(&live) {
                attempt += 1;
                match self.call(&key, cancel, || api.get_opt(&key.name)).await? {
                    Some(fresh) => live = serde_json::to_value(&fresh).unwrap_or(Value::Null),
                    None => return Ok(Drift::Missing),
                }
                continue;
            }
            paths.extend(diff_paths(&normalise(live), &normalise(dry)));
            paths.sort();
            paths.dedup();
            return Ok(if paths.is_empty() {
                Drift::InSync
            } else {
                Drift::Drifted { paths }
            });
        }
    }
}

/// How many times one object is read and dry-run when it keeps changing in between (see
/// `Cluster::drift_of`); the last answer is judged as it is.
const DRY_RUN_ATTEMPTS: u32 = 3;

fn resource_version(v: &Value) -> Option<&str> {
    v.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
}

/// What to dry-run for an owned Secret whose write-only values are withheld (a refresh), and
/// the data keys that drifted. The live data, redacted (its write-only values replaced by the
/// markers the public form has), must equal the public data: then only write-only values can
/// differ, which the state never knew, and the live data is what we would apply. Otherwise the
/// key that differs has drifted (a hand edit of the file, another bucket). Either way the
/// dry run carries the live data, so it judges the rest of the Secret (labels, type) alone.
fn withheld_secret_body(
    secret: &thanos_render::secret::OwnedSecret,
    live: &Value,
) -> (Value, Vec<String>) {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;
    let live_data: BTreeMap<String, ByteString> = live
        .get("data")
        .and_then(|d| serde_json::from_value(d.clone()).ok())
        .unwrap_or_default();
    let public = secret.public().data.clone().unwrap_or_default();
    let redacted = secret.redact(&live_data);
    let mut data = BTreeMap::new();
    let mut drifted = Vec::new();
    // Only our keys: a key another manager added is theirs, as in any other object.
    for (k, v) in &public {
        if let Some(l) = live_data.get(k) {
            data.insert(k.clone(), l.clone());
        }
        if redacted.get(k) != Some(v) {
            drifted.push(format!("/data/{}", k.replace('~', "~0").replace('/', "~1")));
        }
    }
    let mut body = serde_json::to_value(secret.public()).unwrap_or(Value::Null);
    if let Some(obj) = body.as_object_mut() {
        obj.insert(
            "data".into(),
            serde_json::to_value(&data).unwrap_or(Value::Null),
        );
    }
    (body, drifted)
}

/// `/spec/volumeClaimTemplates (immutable: ...)` from the API server's causes.
fn immutable_paths(causes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = causes
        .iter()
        .map(|c| {
            let field = c.split(':').next().unwrap_or("spec");
            let field = field.split('[').next().unwrap_or(field);
            format!(
                "/{} (immutable: apply re-creates the StatefulSet, keeping its pods and PVCs)",
                field.replace('.', "/")
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Removes what the server maintains and what we never compare.
pub fn normalise(mut v: Value) -> Value {
    if let Some(obj) = v.as_object_mut() {
        obj.remove("status");
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in [
                "resourceVersion",
                "managedFields",
                "generation",
                "uid",
                "creationTimestamp",
                "selfLink",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ] {
                meta.remove(k);
            }
        }
    }
    v
}

/// A short digest of what a drift check compares of `live`: the object [`normalise`]d, without
/// its status and the metadata the server maintains.
///
/// Controllers write status all the time (a rollout, a pod restarting, a disruption budget's
/// counts), and each write gives the object a new `resourceVersion`. The dry run of the same
/// rendering against two versions with the same digest sees the same object and gives the same
/// answer, so a caller that knew the object in sync at one digest may skip judging it again at
/// another version with that digest. `serde_json` keeps object keys sorted here (no
/// `preserve_order`), so the digest does not depend on the order the server wrote them in.
pub fn content_digest(live: &Value) -> String {
    let compared = normalise(live.clone());
    let mut digest = thanos_render::object::sha256_hex(compared.to_string().as_bytes());
    digest.truncate(DIGEST_DIGITS);
    digest
}

/// Hex digits kept of [`content_digest`]: 64 bits, ample to tell the versions of one object
/// apart.
const DIGEST_DIGITS: usize = 16;

/// JSON-pointer paths where `a` and `b` differ (sorted, at most [`MAX_PATHS`] plus a
/// "... and N more" entry).
pub fn diff_paths(a: &Value, b: &Value) -> Vec<String> {
    let mut out = BTreeSet::new();
    walk(a, b, String::new(), &mut out);
    let total = out.len();
    let mut v: Vec<String> = out.into_iter().take(MAX_PATHS).collect();
    if total > MAX_PATHS {
        v.push(format!("... and {} more", total - MAX_PATHS));
    }
    v
}

fn walk(a: &Value, b: &Value, path: String, out: &mut BTreeSet<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => walk(va, vb, p, out),
                    _ => {
                        out.insert(p);
                    }
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                walk(va, vb, format!("{path}/{i}"), out);
            }
        }
        _ if a == b => {}
        _ => {
            out.insert(if path.is_empty() { "/".into() } else { path });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ignores_server_metadata_and_status() {
        let a = json!({"metadata": {"name": "x", "resourceVersion": "1", "managedFields": [1]}, "status": {"a": 1}, "spec": {"r": 1}});
        let b = json!({"metadata": {"name": "x", "resourceVersion": "2", "generation": 3}, "spec": {"r": 1}});
        assert!(diff_paths(&normalise(a), &normalise(b)).is_empty());
    }

    #[test]
    fn content_digest_ignores_status_and_server_metadata_only() {
        let base = json!({
            "metadata": {"name": "x", "resourceVersion": "1", "generation": 1,
                         "labels": {"a": "1"}, "managedFields": [1]},
            "spec": {"replicas": 2},
            "status": {"readyReplicas": 0}
        });
        let digest = content_digest(&base);
        assert_eq!(digest.len(), DIGEST_DIGITS);
        // A controller's status write: a new version, the same digest.
        let mut status = base.clone();
        status["metadata"]["resourceVersion"] = json!("2");
        status["metadata"]["managedFields"] = json!([1, 2]);
        status["status"]["readyReplicas"] = json!(2);
        assert_eq!(content_digest(&status), digest);
        // Anything a dry run compares changes it.
        type Change = (&'static str, fn(&mut Value));
        let changes: [Change; 4] = [
            ("a scale", |v| v["spec"]["replicas"] = json!(3)),
            ("a label edited", |v| {
                v["metadata"]["labels"]["a"] = json!("2")
            }),
            ("a label added", |v| {
                v["metadata"]["labels"]["b"] = json!("1")
            }),
            ("an annotation added", |v| {
                v["metadata"]["annotations"] = json!({"someone": "else"})
            }),
        ];
        for (what, change) in changes {
            let mut changed = base.clone();
            change(&mut changed);
            assert_ne!(content_digest(&changed), digest, "{what}");
        }
    }

    #[test]
    fn lists_differing_paths() {
        let a = json!({"spec": {"replicas": 3, "template": {"args": ["a", "b"]}}, "data": {"k/1": "x"}});
        let b = json!({"spec": {"replicas": 2, "template": {"args": ["a", "c"]}}, "data": {}});
        assert_eq!(
            diff_paths(&a, &b),
            vec!["/data/k~11", "/spec/replicas", "/spec/template/args/1"]
        );
        let a = json!({"l": [1, 2]});
        let b = json!({"l": [1]});
        assert_eq!(diff_paths(&a, &b), vec!["/l"]);
    }
}
