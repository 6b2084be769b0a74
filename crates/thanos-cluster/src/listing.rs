//! What a refresh needs to know of the objects a resource owns, without the objects: per
//! object its `resourceVersion` and the digest of what a drift check compares
//! ([`crate::drift::content_digest`]). A refresh judges only objects whose version and digest
//! both differ from what it recorded, and reads those in full.
//!
//! One LIST per kind and namespace (by this provider's `managed-by` label, every resource's
//! objects at once) is shared by the resources of that namespace that ask within
//! [`SHARED_FOR`]: Terraform refreshes a namespace's resources one after the other as its
//! dependency graph allows, so the second and third resource of a namespace (an ingestor, its
//! router, a query) make no request of their own. Only the versions and digests are kept, a
//! few dozen bytes per object, so a plan of many namespaces holds little. Any write by this
//! process forgets every listing (a read after it lists again).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::join_all;
use kube::api::ListParams;
use thanos_render::meta::{MANAGED_BY, MANAGER, PART_OF};
use tokio::sync::OnceCell;

use crate::error::{ObjectKey, Result};
use crate::inventory::{LiveObject, Owner, owned_of_lists};
use crate::kinds::order;
use crate::{CancellationToken, Cluster};

/// How long one namespace's listing of a kind answers other resources of the namespace. A
/// plan's refresh of 150 resources takes about a second and a half; a listing older than this
/// is made again.
pub const SHARED_FOR: Duration = Duration::from_secs(5);

/// One owned object as a listing saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: ObjectKey,
    pub resource_version: String,
    /// [`crate::drift::content_digest`] of the object as listed.
    pub digest: String,
}

impl LiveObject {
    /// What a listing keeps of this object.
    pub fn listed(&self) -> Listed {
        Listed {
            key: self.key.clone(),
            resource_version: self.resource_version().to_owned(),
            digest: self.content_digest(),
        }
    }
}

/// The listings of this process, shared by every clone of its [`Cluster`].
#[derive(Default)]
pub(crate) struct Listings {
    by_kind: Mutex<HashMap<(String, String), Arc<Listing>>>,
}

/// One kind in one namespace: every object with our `managed-by` label, with its `part-of`.
struct Listing {
    made: Instant,
    objects: OnceCell<Vec<(String, Listed)>>,
}

impl Listings {
    /// The listing of `kind` in `namespace` to share: a recent one, or a new one to fill.
    fn get(&self, namespace: &str, kind: &str) -> Arc<Listing> {
        let mut by_kind = self.by_kind.lock().unwrap_or_else(|p| p.into_inner());
        by_kind.retain(|_, l| l.made.elapsed() < SHARED_FOR);
        by_kind
            .entry((namespace.to_owned(), kind.to_owned()))
            .or_insert_with(|| {
                Arc::new(Listing {
                    made: Instant::now(),
                    objects: OnceCell::new(),
                })
            })
            .clone()
    }

    /// Forgets every listing: this process wrote to the cluster.
    pub(crate) fn forget(&self) {
        self.by_kind
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

impl Cluster {
    /// The version and digest of every object of `kinds` that `owner` owns, sorted as
    /// [`Cluster::inventory`], from listings shared with the other resources of its namespace
    /// (see the module docs). A kind only some resources own that the credentials may not
    /// list, or the cluster does not serve, is none owned.
    pub async fn listed(
        &self,
        owner: &Owner,
        kinds: &[&str],
        cancel: &CancellationToken,
    ) -> Result<Vec<Listed>> {
        let lists = join_all(kinds.iter().map(|kind| async move {
            let listing = self.listings.get(&owner.namespace, kind);
            let all = listing
                .objects
                .get_or_try_init(|| self.list_all_of_ours(&owner.namespace, kind, cancel))
                .await?;
            Ok(all
                .iter()
                .filter(|(part_of, _)| *part_of == owner.part_of)
                .map(|(_, listed)| listed.clone())
                .collect::<Vec<_>>())
        }))
        .await;
        let mut out = owned_of_lists(owner, kinds, lists)?;
        out.sort_by(|a, b| {
            (order(&a.key.kind), &a.key.name).cmp(&(order(&b.key.kind), &b.key.name))
        });
        Ok(out)
    }

    /// Every object of `kind` in `namespace` that this provider manages, with its `part-of`.
    async fn list_all_of_ours(
        &self,
        namespace: &str,
        kind: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<(String, Listed)>> {
        let key = ObjectKey::new(kind, namespace, "*");
        let (api, ar) = self.dynamic_api_of(&key)?;
        let lp = ListParams::default().labels(&format!("{MANAGED_BY}={MANAGER}"));
        let list = self.call(&key, cancel, || api.list(&lp)).await?;
        Ok(list
            .items
            .into_iter()
            .filter_map(|item| {
                let part_of = item.metadata.labels.as_ref()?.get(PART_OF)?.clone();
                let live = LiveObject::of_listed(kind, namespace, &ar, item);
                Some((part_of, live.listed()))
            })
            .collect())
    }
}
