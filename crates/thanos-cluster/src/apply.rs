//! Server-side apply of rendered objects.
//!
//! Objects are applied with the field manager [`FIELD_MANAGER`] ([`Cluster::apply_objects`]:
//! concurrently within a step of [`apply_phase`], the steps in order; [`Cluster::apply_one`]:
//! one object):
//! 1. the live object's metadata is known (one metadata LIST per kind and namespace for
//!    [`Cluster::apply_objects`], else a read); when it exists without this resource's ownership labels
//!    (`managed-by` and this owner's `part-of`) the apply stops with [`Error::NotOurs`] unless
//!    [`ApplyOptions::adopt_existing`]; adopting applies that object with `force` so we take
//!    over the fields we render from whoever set them (kubectl, another tool);
//! 2. the object is applied (`force` only with [`ApplyOptions::force_conflicts`]); a field
//!    another manager owns with a different value gives [`Error::Conflict`] naming it;
//! 3. transient errors (429, 5xx, connection trouble) are retried with backoff.
//!
//! [`Cluster::apply_objects_listing_owned`] also returns what the resource owned before the
//! writes, for the prune after them, taking the kinds it writes from step 1's listing.
//!
//! **StatefulSet replace path.** Kubernetes refuses (422) changes to a StatefulSet's
//! `volumeClaimTemplates`, `selector`, `serviceName` and `podManagementPolicy`. When that
//! happens we delete the StatefulSet with `propagationPolicy=Orphan` (its pods keep running
//! and its PersistentVolumeClaims are untouched), wait until it is gone and apply it again.
//! The new StatefulSet adopts the orphaned pods (same selector) and rolls them to the new
//! template one by one, and its pods bind the existing PVCs by name
//! (`<template>-<statefulset>-<ordinal>`), so no data is lost. A changed template does not
//! resize or re-class existing PVCs: only new ordinals get the new template.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use futures::future::join_all;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::ObjectMeta;
use serde_json::Value;
use thanos_render::Object;
use thanos_render::meta::{MANAGED_BY, MANAGER, PART_OF};

use crate::error::{Error, ObjectKey, Result};
use crate::inventory::{LiveObject, Owner, owned_of_lists};
use crate::kinds::{OWNED_KINDS, api_resource, apply_phase, sort_in_apply_order};
use crate::{CancellationToken, Cluster};

/// What [`Cluster::apply_objects`] lists before it writes: per (namespace, kind), the metadata
/// of every object by name, or `None` when the kind could not be listed.
type Listed = HashMap<(String, String), Option<HashMap<String, ObjectMeta>>>;

/// The `(namespace, kind)` of every object in `objects`: what the apply lists before it writes.
fn groups_of(objects: &[(&Object, ApplyOptions)]) -> BTreeSet<(String, String)> {
    objects
        .iter()
        .map(|(object, _)| {
            let key = ObjectKey::of(object);
            (key.namespace, key.kind)
        })
        .collect()
}

/// The server-side-apply field manager of every write.
pub const FIELD_MANAGER: &str = "terraform-provider-thanos";

/// How long the replace path waits for the orphan-deleted StatefulSet to disappear.
const REPLACE_WAIT: Duration = Duration::from_secs(60);

/// Apply settings (the resource's `force_conflicts` and `adopt_existing`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Take ownership of fields another field manager owns (SSA `force`).
    pub force_conflicts: bool,
    /// Apply over existing objects that lack this resource's ownership labels.
    pub adopt_existing: bool,
}

/// The outcome of applying one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub key: ObjectKey,
    /// The object as the server returned it after the apply.
    pub json: Value,
    /// The object did not exist before.
    pub created: bool,
    /// An existing object without our labels was adopted.
    pub adopted: bool,
    /// The StatefulSet replace path ran (see the module docs).
    pub replaced: bool,
}

impl From<Applied> for LiveObject {
    /// The object as the server returned it after the apply.
    fn from(applied: Applied) -> Self {
        LiveObject {
            key: applied.key,
            json: applied.json,
        }
    }
}

impl Applied {
    /// `metadata.resourceVersion` of the applied object.
    pub fn resource_version(&self) -> &str {
        self.json
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// The ownership labels `desired` carries: `(managed-by, part-of)`.
pub(crate) fn owner_labels(object: &Object) -> (String, String) {
    let labels = object.metadata().labels.clone().unwrap_or_default();
    (
        labels.get(MANAGED_BY).cloned().unwrap_or_default(),
        labels.get(PART_OF).cloned().unwrap_or_default(),
    )
}

/// Whether `live` carries managed-by=terraform-provider-thanos and part-of=`part_of`.
pub fn is_owned_by(live: &kube::core::ObjectMeta, part_of: &str) -> bool {
    let labels = live.labels.clone().unwrap_or_default();
    labels.get(MANAGED_BY).map(String::as_str) == Some(MANAGER)
        && labels.get(PART_OF).map(String::as_str) == Some(part_of)
}

impl Cluster {
    pub(crate) fn dynamic_api(&self, key: &ObjectKey) -> Result<Api<DynamicObject>> {
        self.dynamic_api_of(key).map(|(api, _)| api)
    }

    /// [`Cluster::dynamic_api`] and the API resource it serves (a LIST's items lack their
    /// `apiVersion` and `kind`, which it names).
    pub(crate) fn dynamic_api_of(
        &self,
        key: &ObjectKey,
    ) -> Result<(Api<DynamicObject>, kube::api::ApiResource)> {
        let ar = api_resource(&key.kind).ok_or_else(|| Error::Unexpected {
            object: key.clone(),
            message: format!("kind {} is not one this provider manages", key.kind),
        })?;
        let api = Api::namespaced_with(self.client.clone(), &key.namespace, &ar);
        Ok((api, ar))
    }

    /// Reads one object; `None` when it does not exist.
    pub async fn get(
        &self,
        key: &ObjectKey,
        cancel: &CancellationToken,
    ) -> Result<Option<DynamicObject>> {
        let api = self.dynamic_api(key)?;
        self.call(key, cancel, || api.get_opt(&key.name)).await
    }

    /// Applies one object (see the module docs), reading its metadata first.
    pub async fn apply_one(
        &self,
        object: &Object,
        options: ApplyOptions,
        cancel: &CancellationToken,
    ) -> Result<Applied> {
        let key = ObjectKey::of(object);
        let api = self.dynamic_api(&key)?;
        let live = self
            .call(&key, cancel, || api.get_metadata_opt(&key.name))
            .await?
            .map(|m| m.metadata);
        self.apply_seen(object, live, options, cancel).await
    }

    /// Applies `objects` (see the module docs) without a read before each write: one
    /// metadata LIST per kind and namespace says what exists, whose it is and whether it is
    /// being deleted; then the objects of one [`apply_phase`] are applied concurrently and the
    /// phases one after the other. A kind the credentials may not list (or a cluster does not
    /// serve) falls back to reading its objects one by one. The outcomes come in the order of
    /// `objects`. The first error in that order is returned, after every write of its phase
    /// has finished (none is abandoned half way); later phases are not started.
    pub async fn apply_objects(
        &self,
        objects: &[(&Object, ApplyOptions)],
        cancel: &CancellationToken,
    ) -> Result<Vec<Applied>> {
        let listed = self.list_before_writes(groups_of(objects), cancel).await;
        self.apply_listed(objects, &listed, cancel).await
    }

    /// [`Cluster::apply_objects`], and beside it the keys of everything `owner` owned before
    /// the writes, for the prune after them ([`Cluster::prune_listed`]; the same keys as
    /// [`Cluster::owned_keys`]). The kinds the apply lists anyway, every object of the kind
    /// and namespace, give their owned keys from that listing, filtered by the owner's
    /// labels; only the other kinds a resource can own are listed by those labels, while the
    /// apply writes. A kind whose listing failed is listed by the labels after the writes.
    /// The second result is that of the owned keys: a failure there leaves the writes done.
    pub async fn apply_objects_listing_owned(
        &self,
        objects: &[(&Object, ApplyOptions)],
        owner: &Owner,
        cancel: &CancellationToken,
    ) -> Result<(Vec<Applied>, Result<Vec<ObjectKey>>)> {
        let groups = groups_of(objects);
        let others: Vec<&str> = OWNED_KINDS
            .iter()
            .copied()
            .filter(|kind| !groups.contains(&(owner.namespace.clone(), (*kind).to_owned())))
            .collect();
        let ((listed, applied), other_lists) = tokio::join!(
            async {
                let listed = self.list_before_writes(groups, cancel).await;
                let applied = self.apply_listed(objects, &listed, cancel).await;
                (listed, applied)
            },
            join_all(
                others
                    .iter()
                    .map(|kind| self.owned_keys_of_kind(owner, kind, cancel))
            )
        );
        let applied = applied?;
        let mut other_lists: HashMap<&str, Result<Vec<ObjectKey>>> =
            others.into_iter().zip(other_lists).collect();
        let mut lists = Vec::with_capacity(OWNED_KINDS.len());
        for kind in OWNED_KINDS {
            let list = match other_lists.remove(kind) {
                Some(list) => list,
                None => match listed.get(&(owner.namespace.clone(), (*kind).to_owned())) {
                    Some(Some(found)) => Ok(found
                        .iter()
                        .filter(|(_, meta)| is_owned_by(meta, &owner.part_of))
                        .map(|(name, _)| ObjectKey::new(*kind, &owner.namespace, name.as_str()))
                        .collect()),
                    _ => self.owned_keys_of_kind(owner, kind, cancel).await,
                },
            };
            lists.push(list);
        }
        let owned = owned_of_lists(owner, OWNED_KINDS, lists).map(|mut owned| {
            sort_in_apply_order(&mut owned);
            owned
        });
        Ok((applied, owned))
    }

    /// The metadata of every object of each `(namespace, kind)` of `groups`, by name: `None`
    /// for a kind that cannot be listed.
    async fn list_before_writes(
        &self,
        groups: BTreeSet<(String, String)>,
        cancel: &CancellationToken,
    ) -> Listed {
        let found = join_all(groups.iter().map(|(namespace, kind)| async move {
            let key = ObjectKey::new(kind.as_str(), namespace.as_str(), "*");
            let lp = ListParams::default();
            let found = match self.dynamic_api(&key) {
                Ok(api) => self.call(&key, cancel, || api.list_metadata(&lp)).await,
                Err(e) => Err(e),
            };
            match found {
                Ok(list) => Some(
                    list.items
                        .into_iter()
                        .map(|m| (m.metadata.name.clone().unwrap_or_default(), m.metadata))
                        .collect::<HashMap<_, _>>(),
                ),
                Err(e) => {
                    tracing::debug!(%key, error = %e, "cannot list: reading each object instead");
                    None
                }
            }
        }))
        .await;
        groups.into_iter().zip(found).collect()
    }

    /// Applies `objects` (see [`Cluster::apply_objects`]) as `listed` says they are.
    async fn apply_listed(
        &self,
        objects: &[(&Object, ApplyOptions)],
        listed: &Listed,
        cancel: &CancellationToken,
    ) -> Result<Vec<Applied>> {
        let mut phases: Vec<u8> = objects.iter().map(|(o, _)| apply_phase(o.kind())).collect();
        phases.sort_unstable();
        phases.dedup();
        let mut done: Vec<Option<Applied>> = vec![None; objects.len()];
        for phase in phases {
            let step = objects
                .iter()
                .enumerate()
                .filter(|(_, (o, _))| apply_phase(o.kind()) == phase);
            let results = join_all(step.map(|(i, (object, options))| {
                let key = ObjectKey::of(object);
                let seen = listed
                    .get(&(key.namespace.clone(), key.kind.clone()))
                    .and_then(Option::as_ref)
                    .map(|found| found.get(&key.name).cloned());
                async move {
                    let applied = match seen {
                        Some(live) => self.apply_seen(object, live, *options, cancel).await,
                        None => self.apply_one(object, *options, cancel).await,
                    };
                    (i, applied)
                }
            }))
            .await;
            for (i, r) in results {
                done[i] = Some(r?);
            }
        }
        Ok(done.into_iter().flatten().collect())
    }

    /// Applies one object whose live metadata (`None`: it does not exist) was just read.
    async fn apply_seen(
        &self,
        object: &Object,
        mut live: Option<ObjectMeta>,
        options: ApplyOptions,
        cancel: &CancellationToken,
    ) -> Result<Applied> {
        let key = ObjectKey::of(object);
        let api = self.dynamic_api(&key)?;
        let (_, part_of) = owner_labels(object);
        if live
            .as_ref()
            .is_some_and(|l| l.deletion_timestamp.is_some())
        {
            // Still being deleted (a destroy or prune just before): applying now would patch
            // an object that is about to vanish. Wait for it to go, then create it afresh.
            self.wait_deleted(&api, &key, "a previous deletion to finish", cancel)
                .await?;
            live = None;
        }
        let mut adopted = false;
        if let Some(live) = &live
            && !is_owned_by(live, &part_of)
        {
            if !options.adopt_existing {
                let current = live
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(PART_OF))
                    .map(|p| format!("; it is labelled {PART_OF}={p}"))
                    .unwrap_or_default();
                return Err(Error::NotOurs {
                    kind: key.kind.clone(),
                    namespace: key.namespace.clone(),
                    name: key.name.clone(),
                    part_of,
                    current,
                });
            }
            adopted = true;
        }
        let force = options.force_conflicts || adopted;
        // An owned Secret goes to the server with its sealed data, which exists only while
        // Terraform sends the write-only values (plan and apply).
        let Some(body) = object.apply_json() else {
            return Err(Error::Unexpected {
                object: key,
                message: "the Secret's write-only values are not at hand, so it cannot be written (only an apply, which Terraform sends them to, writes it). This is a bug in the provider; please report it.".into(),
            });
        };
        let result = self.ssa(&api, &key, &body, force, false, cancel).await;
        let (json, replaced) = match result {
            Ok(v) => (v, false),
            Err(Error::Invalid { causes, .. })
                if key.kind == "StatefulSet" && immutable_statefulset_change(&causes) =>
            {
                tracing::info!(%key, "immutable StatefulSet field changed: orphan-delete and re-create");
                self.replace_statefulset(&api, &key, &body, force, cancel)
                    .await?
            }
            Err(Error::Api {
                code: 404, message, ..
            }) if message.contains("namespaces") => {
                return Err(Error::NamespaceNotFound {
                    namespace: key.namespace.clone(),
                    object: key,
                });
            }
            Err(e) => return Err(e),
        };
        Ok(Applied {
            key,
            json,
            created: live.is_none(),
            adopted,
            replaced,
        })
    }

    /// One server-side apply (optionally a dry run) of `body`; the server's answer as JSON.
    pub(crate) async fn ssa(
        &self,
        api: &Api<DynamicObject>,
        key: &ObjectKey,
        body: &Value,
        force: bool,
        dry_run: bool,
        cancel: &CancellationToken,
    ) -> Result<Value> {
        let mut params = PatchParams::apply(FIELD_MANAGER);
        params.force = force;
        params.dry_run = dry_run;
        if !dry_run {
            self.listings.forget();
        }
        let patch = Patch::Apply(body);
        let applied = self
            .call(key, cancel, || api.patch(&key.name, &params, &patch))
            .await?;
        serde_json::to_value(&applied).map_err(|e| Error::Unexpected {
            object: key.clone(),
            message: e.to_string(),
        })
    }

    async fn replace_statefulset(
        &self,
        api: &Api<DynamicObject>,
        key: &ObjectKey,
        body: &Value,
        force: bool,
        cancel: &CancellationToken,
    ) -> Result<(Value, bool)> {
        let dp = DeleteParams::orphan();
        self.listings.forget();
        match self.call(key, cancel, || api.delete(&key.name, &dp)).await {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        self.wait_deleted(
            api,
            key,
            "its deletion (orphaning its pods and PVCs) so it can be re-created with changed immutable fields",
            cancel,
        )
        .await?;
        let v = self.ssa(api, key, body, force, false, cancel).await?;
        Ok((v, true))
    }

    /// Waits until `key` no longer exists (at most [`REPLACE_WAIT`]), watching it.
    async fn wait_deleted(
        &self,
        api: &Api<DynamicObject>,
        key: &ObjectKey,
        why: &str,
        cancel: &CancellationToken,
    ) -> Result<()> {
        let deadline = tokio::time::Instant::now() + REPLACE_WAIT;
        let names = BTreeSet::from([key.name.clone()]);
        let left = self
            .wait_names_gone(api, key, names, deadline, cancel)
            .await?;
        if left.is_empty() {
            return Ok(());
        }
        Err(Error::Timeout {
            what: format!("{key}: {why}"),
            waited: REPLACE_WAIT,
            missing: "the object still exists (a finalizer or its dependents hold it)".into(),
        })
    }
}

/// Whether a 422 on a StatefulSet is Kubernetes' "updates to statefulset spec for fields other
/// than ... are forbidden" (volumeClaimTemplates, selector, serviceName, podManagementPolicy).
pub fn immutable_statefulset_change(causes: &[String]) -> bool {
    const IMMUTABLE: &[&str] = &[
        "spec.volumeClaimTemplates",
        "spec.selector",
        "spec.serviceName",
        "spec.podManagementPolicy",
    ];
    causes.iter().any(|c| {
        // Older API servers: one "spec: Forbidden: updates to statefulset spec ..." cause;
        // newer ones name the field ("spec.volumeClaimTemplates: ... field is immutable").
        c.contains("updates to statefulset spec for fields other than")
            || IMMUTABLE.iter().any(|f| {
                c.strip_prefix(f)
                    .is_some_and(|rest| rest.starts_with(':') || rest.starts_with('['))
                    && (c.contains("immutable") || c.contains("Forbidden"))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_immutable_statefulset_message() {
        let c = "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', \
                 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' \
                 and 'minReadySeconds' are forbidden"
            .to_owned();
        assert!(immutable_statefulset_change(&[c]));
        assert!(immutable_statefulset_change(&[
            "spec.volumeClaimTemplates: Invalid value: [...]: field is immutable".to_owned()
        ]));
        assert!(immutable_statefulset_change(&[
            "spec.selector: Invalid value: {}: field is immutable".to_owned()
        ]));
        assert!(!immutable_statefulset_change(&[
            "spec.replicas: Invalid value: -1".to_owned()
        ]));
        assert!(!immutable_statefulset_change(&[
            "spec.template.spec.containers[0].image: Required value".to_owned()
        ]));
    }

    #[test]
    fn ownership_needs_both_labels() {
        let mut meta = kube::core::ObjectMeta::default();
        assert!(!is_owned_by(&meta, "thanos-query-q"));
        meta.labels = Some(
            [
                (MANAGED_BY.to_owned(), MANAGER.to_owned()),
                (PART_OF.to_owned(), "thanos-query-other".to_owned()),
            ]
            .into(),
        );
        assert!(!is_owned_by(&meta, "thanos-query-q"));
        assert!(is_owned_by(&meta, "thanos-query-other"));
    }
}
