//! Objects of other tools, selected by labels: what a resource renders from but does not own
//! (a ruler's PrometheusRule objects of prometheus-operator). Read only; never written.
//!
//! The namespaces are chosen as a receive's hashring chooses them (see [`crate::discover`]):
//! the resource's own namespace without a namespace selector, else every namespace whose labels
//! match it (`{}` = all). What matches is decided by [`thanos_render::discovery`], the code the
//! plan uses.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::Value;
use thanos_render::common::LabelSelector;
use thanos_render::discovery::selector_matches;

use crate::error::{ObjectKey, Result};
use crate::inventory::LiveObject;
use crate::{CancellationToken, Cluster};

/// A kind this provider reads but does not render (a custom resource of another tool).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignKind {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// The resource name in API paths (`prometheusrules`).
    pub plural: &'static str,
}

impl ForeignKind {
    /// `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    fn api_resource(&self) -> ApiResource {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(self.group, self.version, self.kind),
            self.plural,
        )
    }
}

/// Which objects of a kind a resource reads: those whose labels `selector` matches, in the
/// resource's namespace, or (with `namespace_selector`) in every namespace whose labels match
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub kind: ForeignKind,
    pub selector: LabelSelector,
    pub namespace_selector: Option<LabelSelector>,
}

/// The server-side part of a label selector: its `match_labels` (expressions are checked here,
/// with the plan's code).
fn label_query(selector: &LabelSelector) -> ListParams {
    let labels = &selector.match_labels;
    if labels.is_empty() {
        return ListParams::default();
    }
    ListParams::default().labels(
        &labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    )
}

impl Cluster {
    /// The namespaces a selection searches: `own` without a namespace selector, else every
    /// namespace whose labels `namespace_selector` matches.
    pub(crate) async fn selected_namespaces(
        &self,
        own: &str,
        namespace_selector: Option<&LabelSelector>,
        cancel: &CancellationToken,
    ) -> Result<Vec<String>> {
        let Some(sel) = namespace_selector else {
            return Ok(vec![own.to_owned()]);
        };
        let key = ObjectKey::new("Namespace", "", "*");
        let api: Api<Namespace> = Api::all(self.client.clone());
        let lp = label_query(sel);
        let list = self.call(&key, cancel, || api.list(&lp)).await?;
        let empty = BTreeMap::new();
        Ok(list
            .items
            .iter()
            .filter(|ns| selector_matches(sel, ns.metadata.labels.as_ref().unwrap_or(&empty)))
            .filter_map(|ns| ns.metadata.name.clone())
            .collect())
    }

    /// The objects `selection` picks for a resource in `own_namespace`, sorted by namespace and
    /// name. `Ok(None)` when the cluster does not serve the kind (its CRD is not installed).
    pub async fn select(
        &self,
        own_namespace: &str,
        selection: &Selection,
        cancel: &CancellationToken,
    ) -> Result<Option<Vec<LiveObject>>> {
        let namespaces: BTreeSet<String> = self
            .selected_namespaces(own_namespace, selection.namespace_selector.as_ref(), cancel)
            .await?
            .into_iter()
            .collect();
        let ar = selection.kind.api_resource();
        let lp = label_query(&selection.selector);
        // One list: the own namespace's, or every namespace's filtered to the selected ones.
        let (api, key): (Api<DynamicObject>, ObjectKey) = match &selection.namespace_selector {
            None => (
                Api::namespaced_with(self.client.clone(), own_namespace, &ar),
                ObjectKey::new(selection.kind.kind, own_namespace, "*"),
            ),
            Some(_) => (
                Api::all_with(self.client.clone(), &ar),
                ObjectKey::new(selection.kind.kind, "", "*"),
            ),
        };
        let list = match self.call(&key, cancel, || api.list(&lp)).await {
            Ok(list) => list,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let empty = BTreeMap::new();
        let mut out: Vec<LiveObject> = list
            .items
            .into_iter()
            .filter(|o| {
                o.metadata
                    .namespace
                    .as_ref()
                    .is_some_and(|ns| namespaces.contains(ns))
                    && selector_matches(
                        &selection.selector,
                        o.metadata.labels.as_ref().unwrap_or(&empty),
                    )
            })
            .map(|o| {
                let key = ObjectKey::new(
                    selection.kind.kind,
                    o.metadata.namespace.clone().unwrap_or_default(),
                    o.metadata.name.clone().unwrap_or_default(),
                );
                let mut json = serde_json::to_value(&o).unwrap_or(Value::Null);
                if let Some(obj) = json.as_object_mut() {
                    obj.insert("apiVersion".into(), Value::String(ar.api_version.clone()));
                    obj.insert("kind".into(), Value::String(ar.kind.clone()));
                }
                LiveObject { key, json }
            })
            .collect();
        out.sort_by(|a, b| (&a.key.namespace, &a.key.name).cmp(&(&b.key.namespace, &b.key.name)));
        Ok(Some(out))
    }
}
