//! Hashring discovery: which ready endpoints a ring's `endpoints_selector` (and
//! `endpoints_namespace_selector`) selects right now.
//!
//! The cluster half only lists: Namespaces (when a namespace selector is given) and
//! EndpointSlices (discovery.k8s.io/v1). What matches and which endpoint strings come out is
//! decided by [`thanos_render::discovery`], the same code the plan uses, so the endpoints are
//! canonical (`<pod>.<service>.<namespace>.svc:<grpc port>`), sorted, de-duplicated and ready
//! only.

use std::collections::BTreeMap;

use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams};
use thanos_render::common::LabelSelector;
use thanos_render::discovery::{endpoints_from_slices, selector_matches};

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
            let labels = &endpoints_selector.match_labels;
            if !labels.is_empty() {
                lp = lp.labels(
                    &labels
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(","),
                );
            }
            let list = self.call(&key, cancel, || api.list(&lp)).await?;
            let empty = BTreeMap::new();
            slices.extend(list.items.into_iter().filter(|s| {
                selector_matches(
                    endpoints_selector,
                    s.metadata.labels.as_ref().unwrap_or(&empty),
                )
            }));
        }
        Ok(endpoints_from_slices(&slices))
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
