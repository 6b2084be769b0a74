//! What one resource owns in the cluster: every object in its namespace that carries both
//! ownership labels (`app.kubernetes.io/managed-by=terraform-provider-thanos` and
//! `app.kubernetes.io/part-of=thanos-<kind>-<name>`), across the kinds we render plus the
//! PersistentVolumeClaims its StatefulSets created from their (labelled) claim templates.

use futures::future::join_all;
use kube::api::{DynamicObject, ListParams};
use serde_json::Value;
use thanos_render::meta::{self, MANAGED_BY, MANAGER, PART_OF};

use crate::apply::is_owned_by;
use crate::error::{ObjectKey, Result};
use crate::kinds::{OPTIONAL_KINDS, OWNED_KINDS, order, sort_in_apply_order};
use crate::{CancellationToken, Cluster};

/// One resource's identity in the cluster: its namespace and its `part-of` label value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub namespace: String,
    /// `thanos-<query|receive|storage>-<name>` ([`meta::part_of`]).
    pub part_of: String,
}

impl Owner {
    pub fn new(kind: meta::Kind, name: &str, namespace: &str) -> Self {
        Self {
            namespace: namespace.to_owned(),
            part_of: meta::part_of(kind, name),
        }
    }

    /// The label selector that finds exactly this owner's objects.
    pub fn label_selector(&self) -> String {
        format!("{MANAGED_BY}={MANAGER},{PART_OF}={}", self.part_of)
    }
}

/// What the LISTs of `kinds` (in that order) found. A kind only some resources own that the
/// credentials may not list, or the cluster does not serve, is none owned.
pub(crate) fn owned_of_lists<T>(
    owner: &Owner,
    kinds: &[&str],
    lists: Vec<Result<Vec<T>>>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for (kind, found) in kinds.iter().zip(lists) {
        match found {
            Ok(found) => out.extend(found),
            // Only a resource with `object_storage` owns a Secret (with `service_account` a
            // ServiceAccount, with `service_monitor` ServiceMonitors), and its credentials had
            // to be allowed to write them. Credentials that may not even list them (a role
            // made for the kinds resources owned before) own none, and neither does a cluster
            // without prometheus-operator's CRDs: not seeing them must not break every other
            // resource.
            Err(e)
                if OPTIONAL_KINDS.contains(kind)
                    && (matches!(e, crate::Error::Forbidden { .. }) || e.is_not_found()) =>
            {
                tracing::debug!(namespace = %owner.namespace, %kind, error = %e, "cannot list: none owned");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// One live owned object.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveObject {
    pub key: ObjectKey,
    /// The object as the server returned it.
    pub json: Value,
}

impl LiveObject {
    pub fn resource_version(&self) -> &str {
        self.json
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// What a drift check compares of the object, as a short digest (see
    /// [`crate::drift::content_digest`]).
    pub fn content_digest(&self) -> String {
        crate::drift::content_digest(&self.json)
    }

    /// One item of a LIST of `kind` in `namespace`, as a GET or a write would have answered
    /// it (a LIST's items lack `apiVersion` and `kind`): the content digests of the two agree.
    pub(crate) fn of_listed(
        kind: &str,
        namespace: &str,
        ar: &kube::api::ApiResource,
        item: DynamicObject,
    ) -> LiveObject {
        let name = item.metadata.name.clone().unwrap_or_default();
        let mut json = serde_json::to_value(&item).unwrap_or(Value::Null);
        if let Some(obj) = json.as_object_mut() {
            obj.insert("apiVersion".into(), Value::String(ar.api_version.clone()));
            obj.insert("kind".into(), Value::String(ar.kind.clone()));
        }
        LiveObject {
            key: ObjectKey::new(kind, namespace, name),
            json,
        }
    }

    /// Whether deletion has started (a finalizer or foreground deletion holds it).
    pub fn is_terminating(&self) -> bool {
        self.json.pointer("/metadata/deletionTimestamp").is_some()
    }
}

impl Cluster {
    /// Every object `owner` owns, sorted by kind (apply order, PVCs last) then name.
    pub async fn inventory(
        &self,
        owner: &Owner,
        cancel: &CancellationToken,
    ) -> Result<Vec<LiveObject>> {
        self.inventory_of(owner, OWNED_KINDS, cancel).await
    }

    /// The objects of `kinds` (some of [`OWNED_KINDS`]) `owner` owns, sorted as
    /// [`Cluster::inventory`]: a refresh needs only the kinds its state renders.
    pub async fn inventory_of(
        &self,
        owner: &Owner,
        kinds: &[&str],
        cancel: &CancellationToken,
    ) -> Result<Vec<LiveObject>> {
        // One LIST per kind, all at once (the in-flight bound of `Cluster::call` applies).
        let lists = join_all(
            kinds
                .iter()
                .map(|kind| self.inventory_kind(owner, kind, cancel)),
        )
        .await;
        let mut out = owned_of_lists(owner, kinds, lists)?;
        out.sort_by(|a, b| {
            (order(&a.key.kind), &a.key.name).cmp(&(order(&b.key.kind), &b.key.name))
        });
        Ok(out)
    }

    /// The keys of every object `owner` owns, from one metadata-only LIST per kind: what a
    /// prune needs to know (which objects exist), without the objects themselves.
    pub async fn owned_keys(
        &self,
        owner: &Owner,
        cancel: &CancellationToken,
    ) -> Result<Vec<ObjectKey>> {
        let lists = join_all(
            OWNED_KINDS
                .iter()
                .map(|kind| self.owned_keys_of_kind(owner, kind, cancel)),
        )
        .await;
        let mut out = owned_of_lists(owner, OWNED_KINDS, lists)?;
        sort_in_apply_order(&mut out);
        Ok(out)
    }

    pub(crate) async fn owned_keys_of_kind(
        &self,
        owner: &Owner,
        kind: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<ObjectKey>> {
        let key = ObjectKey::new(kind, &owner.namespace, "*");
        let api = self.dynamic_api(&key)?;
        let lp = ListParams::default().labels(&owner.label_selector());
        let list = self.call(&key, cancel, || api.list_metadata(&lp)).await?;
        Ok(list
            .items
            .into_iter()
            // Belt and braces: never return anything without both labels.
            .filter(|item| is_owned_by(&item.metadata, &owner.part_of))
            .map(|item| {
                ObjectKey::new(
                    kind,
                    &owner.namespace,
                    item.metadata.name.unwrap_or_default(),
                )
            })
            .collect())
    }

    /// Owned objects of one kind.
    pub async fn inventory_kind(
        &self,
        owner: &Owner,
        kind: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<LiveObject>> {
        let key = ObjectKey::new(kind, &owner.namespace, "*");
        let (api, ar) = self.dynamic_api_of(&key)?;
        let lp = ListParams::default().labels(&owner.label_selector());
        let list = self.call(&key, cancel, || api.list(&lp)).await?;
        let mut out = Vec::new();
        for item in list.items {
            // Belt and braces: never return anything without both labels.
            if !is_owned_by(&item.metadata, &owner.part_of) {
                continue;
            }
            out.push(LiveObject::of_listed(kind, &owner.namespace, &ar, item));
        }
        Ok(out)
    }
}
