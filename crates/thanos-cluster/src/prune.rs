//! Deleting owned objects that are no longer rendered.
//!
//! Only objects carrying both ownership labels of the owner are ever candidates (see
//! [`crate::inventory`]). They are deleted all at once, workloads with foreground propagation
//! (the garbage collector removes a workload's pods before the workload itself, so once it is
//! gone its pods are too), then the prune waits, watching, until every deleted object is gone.
//! PersistentVolumeClaims are never in the rendered set: they are deleted only with
//! [`PvcPolicy::Delete`], after their workloads are gone, and never while a kept StatefulSet
//! would use them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::future::join_all;
use kube::api::DeleteParams;

use crate::delete::PvcPolicy;
use crate::error::{Error, ObjectKey, Result};
use crate::inventory::Owner;
use crate::kinds::{order, sort_in_apply_order};
use crate::{CancellationToken, Cluster};

impl Cluster {
    /// Deletes every object `owner` owns that is not in `keep` (PVCs per `pvc_policy`) and
    /// waits up to `timeout` until they are gone. Returns the deleted objects' keys.
    pub async fn prune(
        &self,
        owner: &Owner,
        keep: &[ObjectKey],
        pvc_policy: PvcPolicy,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Vec<ObjectKey>> {
        let owned = self.owned_keys(owner, cancel).await?;
        self.prune_listed(&owned, keep, pvc_policy, timeout, cancel)
            .await
    }

    /// [`Cluster::prune`] of the objects `owned` lists ([`Cluster::owned_keys`]). An apply
    /// lists them while it writes: what it writes is rendered, so kept, and everything a
    /// prune deletes existed before the writes (the state lock keeps any other apply of the
    /// same resource away), so the list need not wait for the writes.
    pub async fn prune_listed(
        &self,
        owned: &[ObjectKey],
        keep: &[ObjectKey],
        pvc_policy: PvcPolicy,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Vec<ObjectKey>> {
        let keep: BTreeSet<&ObjectKey> = keep.iter().collect();
        let kept_statefulsets: Vec<&str> = keep
            .iter()
            .filter(|k| k.kind == "StatefulSet")
            .map(|k| k.name.as_str())
            .collect();
        let mut doomed: Vec<&ObjectKey> = owned
            .iter()
            .filter(|key| !keep.contains(key))
            .filter(|key| {
                key.kind != "PersistentVolumeClaim"
                    || (pvc_policy == PvcPolicy::Delete
                        && !kept_statefulsets
                            .iter()
                            .any(|s| pvc_belongs_to(&key.name, s)))
            })
            .collect();
        // Reverse apply order (that of the returned keys); PVCs in a batch of their own, after
        // their workloads are gone.
        doomed.sort_by_key(|key| std::cmp::Reverse(order(&key.kind)));
        let (pvcs, others): (Vec<&ObjectKey>, Vec<&ObjectKey>) = doomed
            .into_iter()
            .partition(|key| key.kind == "PersistentVolumeClaim");
        let deadline = tokio::time::Instant::now() + timeout;
        let mut deleted = Vec::new();
        for batch in [others, pvcs] {
            let keys: Vec<ObjectKey> = batch.into_iter().cloned().collect();
            // Concurrently: foreground deletion lets the garbage collector order what depends
            // on what (a workload's pods go before it does). The first failure is reported.
            let results = join_all(keys.iter().map(|key| self.delete_object(key, cancel))).await;
            results.into_iter().collect::<Result<Vec<()>>>()?;
            self.wait_gone(&keys, deadline, timeout, cancel).await?;
            deleted.extend(keys);
        }
        Ok(deleted)
    }

    /// Deletes one object; absent objects are fine. A workload is deleted in the foreground, so
    /// it is gone only once its pods are; anything else in the background (the default),
    /// since nothing we render depends on it: it goes at once, and what the cluster made for
    /// it (a Service's EndpointSlices) is collected afterwards. A foreground deletion of an
    /// object without dependents still waits for the garbage collector to take its finalizer
    /// off, which under load cost a destroy more than the deletions themselves.
    pub async fn delete_object(&self, key: &ObjectKey, cancel: &CancellationToken) -> Result<()> {
        let api = self.dynamic_api(key)?;
        let dp = if matches!(key.kind.as_str(), "Deployment" | "StatefulSet") {
            DeleteParams::foreground()
        } else {
            DeleteParams::background()
        };
        tracing::info!(%key, "deleting");
        self.listings.forget();
        match self.call(key, cancel, || api.delete(&key.name, &dp)).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Waits until none of `keys` exists (watching each kind and namespace, see
    /// `crate::gone`), or fails at `deadline` naming what is left.
    pub(crate) async fn wait_gone(
        &self,
        keys: &[ObjectKey],
        deadline: tokio::time::Instant,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<()> {
        let mut groups: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
        for key in keys {
            groups
                .entry((key.namespace.as_str(), key.kind.as_str()))
                .or_default()
                .insert(key.name.clone());
        }
        let waits = groups
            .into_iter()
            .map(|((namespace, kind), names)| async move {
                let key = ObjectKey::new(kind, namespace, "*");
                let api = self.dynamic_api(&key)?;
                let left = self
                    .wait_names_gone(&api, &key, names, deadline, cancel)
                    .await?;
                Ok::<_, Error>(
                    left.into_iter()
                        .map(|name| ObjectKey::new(kind, namespace, name))
                        .collect::<Vec<_>>(),
                )
            });
        let mut left = Vec::new();
        for r in join_all(waits).await {
            left.extend(r?);
        }
        if left.is_empty() {
            return Ok(());
        }
        sort_in_apply_order(&mut left);
        Err(Error::Timeout {
            what: "deleted objects to disappear".into(),
            waited: timeout,
            missing: format!(
                "still present: {} (a finalizer or a dependent may hold them)",
                left.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }
}

/// Whether PVC `pvc` was created by StatefulSet `sts` (`<template>-<sts>-<ordinal>`).
pub fn pvc_belongs_to(pvc: &str, sts: &str) -> bool {
    let Some((rest, ordinal)) = pvc.rsplit_once('-') else {
        return false;
    };
    !ordinal.is_empty()
        && ordinal.bytes().all(|b| b.is_ascii_digit())
        && rest.len() > sts.len() + 1
        && rest.ends_with(sts)
        && rest.as_bytes()[rest.len() - sts.len() - 1] == b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pvc_names() {
        assert!(pvc_belongs_to("data-thanosreceive-x-0", "thanosreceive-x"));
        assert!(pvc_belongs_to("data-thanosreceive-x-12", "thanosreceive-x"));
        assert!(!pvc_belongs_to(
            "data-thanosreceive-xy-0",
            "thanosreceive-x"
        ));
        assert!(!pvc_belongs_to("thanosreceive-x-0", "thanosreceive-x"));
        assert!(!pvc_belongs_to("data-thanosreceive-x-a", "thanosreceive-x"));
    }
}
