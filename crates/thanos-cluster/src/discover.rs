//! Hashring discovery: which ready endpoints a ring's `endpoints_selector` (and
//! `endpoints_namespace_selector`) selects right now.
//!
//! The cluster half only lists: Namespaces (when a namespace selector is given) and
//! EndpointSlices (discovery.k8s.io/v1). What matches and which endpoint strings come out is
//! decided by [`thanos_render::discovery`], the same code the plan uses, so the endpoints are
//! canonical (`<pod>.<service>.<namespace>.svc:<grpc port>`), sorted, de-duplicated and ready
//! only.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use thanos_render::common::LabelSelector;
use thanos_render::discovery::{endpoints_from_slices, selector_matches};
use tokio::time::Instant;

use crate::error::{ObjectKey, Result};
use crate::{CancellationToken, Cluster};

impl Cluster {
    /// The endpoints a ring of a receive in `own_namespace` selects: EndpointSlices whose
    /// labels match `endpoints_selector`, in `own_namespace` when `namespace_selector` is
    /// `None`, else in every namespace whose labels match it (`{}` = all namespaces).
    pub async fn discover_endpoints(
        &self,
        own_namespace: &str,
        endpoints_selector: &LabelSelector,
        namespace_selector: Option<&LabelSelector>,
        cancel: &CancellationToken,
    ) -> Result<Vec<String>> {
        let namespaces = self
            .selected_namespaces(own_namespace, namespace_selector, cancel)
            .await?;
        let mut slices = Vec::new();
        for ns in &namespaces {
            let key = ObjectKey::new("EndpointSlice", ns, "*");
            let api: Api<EndpointSlice> = Api::namespaced(self.client.clone(), ns);
            // The server filters on match_labels; expressions are checked here.
            let mut lp = ListParams::default();
            if let Some(labels) = label_query(endpoints_selector) {
                lp = lp.labels(&labels);
            }
            let list = self.call(&key, cancel, || api.list(&lp)).await?;
            slices.extend(
                list.items
                    .into_iter()
                    .filter(|s| selects(endpoints_selector, s)),
            );
        }
        Ok(endpoints_from_slices(&slices))
    }

    /// Waits until the EndpointSlices in `namespace` that `selector` matches publish exactly
    /// `expected` (sorted) as ready endpoints, following them by watch: the EndpointSlice
    /// controller publishes a pod some time after it is Ready, and a ring applied after its
    /// ingestors must find all of them. `Ok(Err(found))` when `timeout` passes first, with
    /// the endpoints published by then.
    pub async fn wait_for_endpoints(
        &self,
        namespace: &str,
        selector: &LabelSelector,
        expected: &[String],
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<std::result::Result<(), Vec<String>>> {
        let key = ObjectKey::new("EndpointSlice", namespace, "*");
        let api: Api<EndpointSlice> = Api::namespaced(self.client.clone(), namespace);
        let labels = label_query(selector);
        let deadline = Instant::now() + timeout;
        let found = |slices: &BTreeMap<String, EndpointSlice>| {
            let matching: Vec<EndpointSlice> = slices
                .values()
                .filter(|s| selects(selector, s))
                .cloned()
                .collect();
            endpoints_from_slices(&matching)
        };
        loop {
            // What exists now, then every change after it until the watch ends.
            let mut lp = ListParams::default();
            if let Some(labels) = &labels {
                lp = lp.labels(labels);
            }
            let list = self.call(&key, cancel, || api.list(&lp)).await?;
            let version = list.metadata.resource_version.clone().unwrap_or_default();
            let mut slices: BTreeMap<String, EndpointSlice> = list
                .items
                .into_iter()
                .map(|s| (s.metadata.name.clone().unwrap_or_default(), s))
                .collect();
            let mut now = found(&slices);
            if now == expected {
                return Ok(Ok(()));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Err(now));
            }
            let mut wp = WatchParams::default().timeout(left.as_secs().clamp(1, 60) as u32);
            if let Some(labels) = &labels {
                wp = wp.labels(labels);
            }
            let mut events = match self.call(&key, cancel, || api.watch(&wp, &version)).await {
                Ok(events) => events.boxed(),
                Err(e @ crate::Error::Cancelled { .. }) => return Err(e),
                // Cannot watch: read again shortly.
                Err(e) => {
                    tracing::debug!(%key, error = %e, "cannot watch EndpointSlices: polling");
                    crate::sleep(Duration::from_millis(250).min(left), cancel, &key).await?;
                    continue;
                }
            };
            loop {
                let event = tokio::select! {
                    biased;
                    _ = cancel.cancelled() => return Err(crate::cancelled(&key)),
                    _ = tokio::time::sleep_until(deadline) => return Ok(Err(now)),
                    event = events.next() => event,
                };
                match event {
                    Some(Ok(WatchEvent::Added(s) | WatchEvent::Modified(s))) => {
                        slices.insert(s.metadata.name.clone().unwrap_or_default(), s);
                    }
                    Some(Ok(WatchEvent::Deleted(s))) => {
                        slices.remove(&s.metadata.name.clone().unwrap_or_default());
                    }
                    Some(Ok(WatchEvent::Bookmark(_))) => continue,
                    // An error event (410 Gone), a broken stream or the end: list again.
                    Some(Ok(WatchEvent::Error(_)) | Err(_)) | None => break,
                }
                now = found(&slices);
                if now == expected {
                    return Ok(Ok(()));
                }
            }
        }
    }

    /// [`Cluster::discover_endpoints`] for a ring that selects its members.
    pub async fn discover_ring(
        &self,
        own_namespace: &str,
        ring: &thanos_render::receive::RingSelector,
        cancel: &CancellationToken,
    ) -> Result<Vec<String>> {
        self.discover_endpoints(
            own_namespace,
            &ring.endpoints_selector,
            ring.namespace_selector.as_ref(),
            cancel,
        )
        .await
    }
}

/// Whether `selector` selects `slice` by its labels (expressions included).
fn selects(selector: &LabelSelector, slice: &EndpointSlice) -> bool {
    let empty = BTreeMap::new();
    selector_matches(selector, slice.metadata.labels.as_ref().unwrap_or(&empty))
}

/// The part of `selector` the server can filter on (its `match_labels`); expressions are
/// checked by the caller.
fn label_query(selector: &LabelSelector) -> Option<String> {
    let labels = &selector.match_labels;
    (!labels.is_empty()).then(|| {
        labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// A router's `hashrings.json` as this provider wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashringFile {
    /// The ConfigMap that holds it.
    pub config_map: ObjectKey,
    /// The file's text.
    pub text: String,
}

impl Cluster {
    /// The `hashrings.json` of every receive router this provider applied (ConfigMaps with
    /// its `managed-by` and receive `component` labels and a `hashrings.json` key), in every
    /// namespace the credentials may list ConfigMaps in: all of them, or `own_namespace` when
    /// listing across namespaces is forbidden. Sorted by namespace and name. Rings written by
    /// other tools are not found.
    pub async fn hashring_files(
        &self,
        own_namespace: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<HashringFile>> {
        use k8s_openapi::api::core::v1::ConfigMap;
        use thanos_render::meta;

        let lp = ListParams::default().labels(&format!(
            "{}={},{}={}",
            meta::MANAGED_BY,
            meta::MANAGER,
            meta::COMPONENT,
            meta::Kind::Receive.component()
        ));
        let all: Api<ConfigMap> = Api::all(self.client.clone());
        let everywhere = ObjectKey::new("ConfigMap", "", "*");
        let list = match self.call(&everywhere, cancel, || all.list(&lp)).await {
            Ok(list) => list,
            Err(crate::Error::Forbidden { .. }) => {
                let own: Api<ConfigMap> = Api::namespaced(self.client.clone(), own_namespace);
                let key = ObjectKey::new("ConfigMap", own_namespace, "*");
                self.call(&key, cancel, || own.list(&lp)).await?
            }
            Err(e) => return Err(e),
        };
        let mut files: Vec<HashringFile> = list
            .items
            .into_iter()
            .filter_map(|cm| {
                let text = cm.data?.remove(thanos_render::receive::HASHRINGS_FILE)?;
                Some(HashringFile {
                    config_map: ObjectKey::new(
                        "ConfigMap",
                        cm.metadata.namespace.as_deref().unwrap_or_default(),
                        cm.metadata.name.as_deref().unwrap_or_default(),
                    ),
                    text,
                })
            })
            .collect();
        files.sort_by(|a, b| {
            (&a.config_map.namespace, &a.config_map.name)
                .cmp(&(&b.config_map.namespace, &b.config_map.name))
        });
        Ok(files)
    }
}
