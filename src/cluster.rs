//! The cluster as the resource lifecycle sees it: the few calls it makes, behind a trait so the
//! phases can be unit-tested against an in-memory cluster. The real implementation is the
//! `thanos-cluster` crate's [`Cluster`]; the acceptance tests are the proof on a real API
//! server.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use thanos_cluster::{
    ApplyOptions, CancellationToken, Cluster, Drift, Error, HashringFile, Listed, LiveObject,
    ObjectKey, Owner, PvcPolicy, RingLoad, Selection, WaitOptions,
};
use thanos_render::Object;
use thanos_render::common::LabelSelector;
use thanos_render::receive::RingSelector;

pub type Result<T> = std::result::Result<T, Error>;

/// Every call the lifecycle makes on a cluster. Each takes the request's cancellation token
/// and returns promptly with [`Error::Cancelled`] once it is cancelled.
#[async_trait]
pub trait ClusterApi: Send + Sync {
    /// The ready endpoints a selector ring of a receive in `namespace` selects.
    async fn discover_ring(
        &self,
        namespace: &str,
        ring: &RingSelector,
        cancel: &CancellationToken,
    ) -> Result<Vec<String>>;

    /// The ready endpoints of the EndpointSlices in `namespace` that `selector` matches.
    async fn discover_endpoints(
        &self,
        namespace: &str,
        selector: &LabelSelector,
        cancel: &CancellationToken,
    ) -> Result<Vec<String>>;

    /// Waits until [`ClusterApi::discover_endpoints`] returns exactly `expected` (sorted);
    /// `Ok(Err(found))` when `timeout` passes first. This default reads every 250 ms; the
    /// real cluster follows the EndpointSlices by watch.
    async fn wait_for_endpoints(
        &self,
        namespace: &str,
        selector: &LabelSelector,
        expected: &[String],
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<std::result::Result<(), Vec<String>>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let found = self.discover_endpoints(namespace, selector, cancel).await?;
            if found == expected {
                return Ok(Ok(()));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(Err(found));
            }
            tokio::select! {
                _ = cancel.cancelled() => {
                    return Err(thanos_cluster::Error::Cancelled {
                        what: format!("waiting for the EndpointSlices of {namespace}"),
                    });
                }
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
    }

    /// The objects of another tool a resource in `namespace` selects (a ruler's
    /// PrometheusRules), sorted by namespace and name; `None` when the cluster does not serve
    /// their kind (its CRD is not installed).
    async fn select(
        &self,
        namespace: &str,
        selection: &Selection,
        cancel: &CancellationToken,
    ) -> Result<Option<Vec<LiveObject>>>;

    /// Server-side apply of one object; the object as the server returned it (its
    /// `resourceVersion` goes into `lifecycle::seen`).
    async fn apply(
        &self,
        object: &Object,
        options: ApplyOptions,
        cancel: &CancellationToken,
    ) -> Result<LiveObject>;

    /// Server-side apply of several objects: as [`ClusterApi::apply`] of each in turn, which
    /// is what this default does; the real cluster learns what exists with one LIST per kind
    /// and applies concurrently where order does not matter (`Cluster::apply_objects`). The
    /// first error in the order of `objects` is returned. The objects as the server returned
    /// them, in the order of `objects`.
    async fn apply_objects(
        &self,
        objects: &[(&Object, ApplyOptions)],
        cancel: &CancellationToken,
    ) -> Result<Vec<LiveObject>> {
        let mut written = Vec::with_capacity(objects.len());
        for (object, options) in objects {
            written.push(self.apply(object, *options, cancel).await?);
        }
        Ok(written)
    }

    /// [`ClusterApi::apply_objects`], and the keys of everything `owner` owned before the
    /// writes ([`ClusterApi::owned_keys`]), for the prune after them; the second result is
    /// that of the keys. This default does the two side by side; the real cluster takes the
    /// owned objects of the kinds it writes from the listing its writes need anyway
    /// (`Cluster::apply_objects_listing_owned`).
    async fn apply_objects_listing_owned(
        &self,
        objects: &[(&Object, ApplyOptions)],
        owner: &Owner,
        cancel: &CancellationToken,
    ) -> Result<(Vec<LiveObject>, Result<Vec<ObjectKey>>)> {
        let (written, owned) = tokio::join!(
            self.apply_objects(objects, cancel),
            self.owned_keys(owner, cancel)
        );
        Ok((written?, owned))
    }

    /// Whether the API server has answered this provider process at least once (this
    /// default: assume so). Until it has, no write of the process can have reached it.
    fn has_answered(&self) -> bool {
        true
    }

    /// Deletes what `owner` owns that is not in `keep` and waits until it is gone.
    async fn prune(
        &self,
        owner: &Owner,
        keep: &[ObjectKey],
        pvc_policy: PvcPolicy,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<()>;

    /// The keys of everything `owner` owns (what [`ClusterApi::prune_listed`] needs).
    async fn owned_keys(&self, owner: &Owner, cancel: &CancellationToken)
    -> Result<Vec<ObjectKey>>;

    /// [`ClusterApi::prune`] of what `owned` ([`ClusterApi::owned_keys`], listed while the
    /// apply wrote) lists.
    async fn prune_listed(
        &self,
        owner: &Owner,
        owned: &[ObjectKey],
        keep: &[ObjectKey],
        pvc_policy: PvcPolicy,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<()>;

    /// Waits until the workloads among `keys` have rolled out and their pods are Ready;
    /// returns each as the wait last saw it.
    async fn wait_for_rollout(
        &self,
        keys: &[ObjectKey],
        options: WaitOptions,
        cancel: &CancellationToken,
    ) -> Result<Vec<LiveObject>>;

    /// The version and content digest of every object of `kinds` that `owner` owns (this
    /// default: [`ClusterApi::inventory_kinds`]; the real cluster shares one listing per kind
    /// and namespace between the resources of the namespace, `thanos_cluster::listing`).
    async fn listed(
        &self,
        owner: &Owner,
        kinds: &[&str],
        cancel: &CancellationToken,
    ) -> Result<Vec<Listed>> {
        let live = self.inventory_kinds(owner, kinds, cancel).await?;
        Ok(live.iter().map(LiveObject::listed).collect())
    }

    /// Every object `owner` owns.
    async fn inventory(&self, owner: &Owner, cancel: &CancellationToken)
    -> Result<Vec<LiveObject>>;

    /// The objects of `kinds` `owner` owns (this default: [`ClusterApi::inventory`], filtered;
    /// the real cluster lists only those kinds).
    async fn inventory_kinds(
        &self,
        owner: &Owner,
        kinds: &[&str],
        cancel: &CancellationToken,
    ) -> Result<Vec<LiveObject>> {
        let all = self.inventory(owner, cancel).await?;
        Ok(all
            .into_iter()
            .filter(|o| kinds.contains(&o.key.kind.as_str()))
            .collect())
    }

    /// The drift state of each desired object (same order).
    async fn drift(
        &self,
        desired: &[Object],
        cancel: &CancellationToken,
    ) -> Result<Vec<(ObjectKey, Drift)>>;

    /// The drift state of each desired object (same order), given the objects an
    /// [`ClusterApi::inventory`] just found (the real cluster does not read those again);
    /// this default ignores them.
    async fn drift_known(
        &self,
        desired: &[Object],
        _live: &[LiveObject],
        cancel: &CancellationToken,
    ) -> Result<Vec<(ObjectKey, Drift)>> {
        self.drift(desired, cancel).await
    }

    /// One object, if it exists.
    async fn get(&self, key: &ObjectKey, cancel: &CancellationToken) -> Result<Option<LiveObject>>;

    /// The data of a Secret by key, if it exists (for the plan's preflight checks).
    async fn secret(
        &self,
        namespace: &str,
        name: &str,
        cancel: &CancellationToken,
    ) -> Result<Option<BTreeMap<String, Vec<u8>>>>;

    /// The `hashrings.json` of every receive router this provider applied, where the
    /// credentials may list them (everywhere, else `namespace`): see
    /// `Cluster::hashring_files`.
    async fn hashring_files(
        &self,
        namespace: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<HashringFile>>;

    /// Waits until every Ready pod with `labels` runs a `hashrings.json` with `content`, read
    /// from its metrics on `port`; [`RingLoad::Unobservable`] when they cannot be read (see
    /// `thanos_cluster::reload`).
    async fn wait_ring_loaded(
        &self,
        namespace: &str,
        labels: &BTreeMap<String, String>,
        port: i32,
        content: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<RingLoad>;

    /// Restarts a Deployment's pods (`kubectl rollout restart`'s way).
    async fn restart_deployment(&self, key: &ObjectKey, cancel: &CancellationToken) -> Result<()>;
}

/// Where a resource gets its cluster: connected when something first needs it, never to a
/// cluster nobody configured.
#[async_trait]
pub trait Clusters: Send + Sync {
    /// Whether any connection setting was given at all (else plans never try the cluster).
    fn is_configured(&self) -> bool;

    /// The cluster, or why there is none (a sentence for a diagnostic).
    async fn cluster(&self) -> std::result::Result<Arc<dyn ClusterApi>, String>;

    /// The cluster for work that changes it (apply, destroy): once it has begun, an API server
    /// that stops answering for a while (a restart) is waited for rather than leaving the work
    /// half done. Plans and refreshes use [`Clusters::cluster`], which gives up fast.
    async fn cluster_for_changes(&self) -> std::result::Result<Arc<dyn ClusterApi>, String> {
        self.cluster().await
    }
}

#[async_trait]
impl ClusterApi for Cluster {
    async fn discover_ring(
        &self,
        namespace: &str,
        ring: &RingSelector,
        cancel: &CancellationToken,
    ) -> Result<Vec<String>> {
        Cluster::discover_endpoints(
            self,
            namespace,
            &ring.endpoints_selector,
            ring.namespace_selector.as_ref(),
            cancel,
        )
        .await
    }

    async fn discover_endpoints(
        &self,
        namespace: &str,
        selector: &LabelSelector,
        cancel: &CancellationToken,
    ) -> Result<Vec<String>> {
        Cluster::discover_endpoints(self, namespace, selector, None, cancel).await
    }

    async fn wait_for_endpoints(
        &self,
        namespace: &str,
        selector: &LabelSelector,
        expected: &[String],
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<std::result::Result<(), Vec<String>>> {
        Cluster::wait_for_endpoints(self, namespace, selector, expected, timeout, cancel).await
    }

    async fn select(
        &self,
        namespace: &str,
        selection: &Selection,
        cancel: &CancellationToken,
    ) -> Result<Option<Vec<LiveObject>>> {
        Cluster::select(self, namespace, selection, cancel).await
    }

    async fn apply(
        &self,
        object: &Object,
        options: ApplyOptions,
        cancel: &CancellationToken,
    ) -> Result<LiveObject> {
        Ok(self.apply_one(object, options, cancel).await?.into())
    }

    async fn apply_objects(
        &self,
        objects: &[(&Object, ApplyOptions)],
        cancel: &CancellationToken,
    ) -> Result<Vec<LiveObject>> {
        let applied = Cluster::apply_objects(self, objects, cancel).await?;
        Ok(applied.into_iter().map(LiveObject::from).collect())
    }

    fn has_answered(&self) -> bool {
        Cluster::has_answered(self)
    }

    async fn apply_objects_listing_owned(
        &self,
        objects: &[(&Object, ApplyOptions)],
        owner: &Owner,
        cancel: &CancellationToken,
    ) -> Result<(Vec<LiveObject>, Result<Vec<ObjectKey>>)> {
        let (applied, owned) =
            Cluster::apply_objects_listing_owned(self, objects, owner, cancel).await?;
        Ok((applied.into_iter().map(LiveObject::from).collect(), owned))
    }

    async fn prune(
        &self,
        owner: &Owner,
        keep: &[ObjectKey],
        pvc_policy: PvcPolicy,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<()> {
        Cluster::prune(self, owner, keep, pvc_policy, timeout, cancel)
            .await
            .map(|_| ())
    }

    async fn owned_keys(
        &self,
        owner: &Owner,
        cancel: &CancellationToken,
    ) -> Result<Vec<ObjectKey>> {
        Cluster::owned_keys(self, owner, cancel).await
    }

    async fn listed(
        &self,
        owner: &Owner,
        kinds: &[&str],
        cancel: &CancellationToken,
    ) -> Result<Vec<Listed>> {
        Cluster::listed(self, owner, kinds, cancel).await
    }

    async fn prune_listed(
        &self,
        _owner: &Owner,
        owned: &[ObjectKey],
        keep: &[ObjectKey],
        pvc_policy: PvcPolicy,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<()> {
        Cluster::prune_listed(self, owned, keep, pvc_policy, timeout, cancel)
            .await
            .map(|_| ())
    }

    async fn wait_for_rollout(
        &self,
        keys: &[ObjectKey],
        options: WaitOptions,
        cancel: &CancellationToken,
    ) -> Result<Vec<LiveObject>> {
        Cluster::wait_for_rollout(self, keys, options, cancel).await
    }

    async fn inventory(
        &self,
        owner: &Owner,
        cancel: &CancellationToken,
    ) -> Result<Vec<LiveObject>> {
        Cluster::inventory(self, owner, cancel).await
    }

    async fn inventory_kinds(
        &self,
        owner: &Owner,
        kinds: &[&str],
        cancel: &CancellationToken,
    ) -> Result<Vec<LiveObject>> {
        Cluster::inventory_of(self, owner, kinds, cancel).await
    }

    async fn drift(
        &self,
        desired: &[Object],
        cancel: &CancellationToken,
    ) -> Result<Vec<(ObjectKey, Drift)>> {
        Cluster::drift(self, desired, cancel).await
    }

    async fn drift_known(
        &self,
        desired: &[Object],
        live: &[LiveObject],
        cancel: &CancellationToken,
    ) -> Result<Vec<(ObjectKey, Drift)>> {
        Cluster::drift_known(self, desired, live, cancel).await
    }

    async fn get(&self, key: &ObjectKey, cancel: &CancellationToken) -> Result<Option<LiveObject>> {
        let found = Cluster::get(self, key, cancel).await?;
        Ok(found.map(|object| LiveObject {
            key: key.clone(),
            json: serde_json::to_value(object).unwrap_or_default(),
        }))
    }

    async fn secret(
        &self,
        namespace: &str,
        name: &str,
        cancel: &CancellationToken,
    ) -> Result<Option<BTreeMap<String, Vec<u8>>>> {
        self.secret_data(namespace, name, cancel).await
    }

    async fn hashring_files(
        &self,
        namespace: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<HashringFile>> {
        Cluster::hashring_files(self, namespace, cancel).await
    }

    async fn wait_ring_loaded(
        &self,
        namespace: &str,
        labels: &BTreeMap<String, String>,
        port: i32,
        content: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<RingLoad> {
        Cluster::wait_ring_loaded(self, namespace, labels, port, content, timeout, cancel).await
    }

    async fn restart_deployment(&self, key: &ObjectKey, cancel: &CancellationToken) -> Result<()> {
        Cluster::restart_deployment(self, key, cancel).await
    }
}
