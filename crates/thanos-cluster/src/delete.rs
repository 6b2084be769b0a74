//! Deleting everything one resource owns (`terraform destroy`).

use std::time::Duration;

use crate::error::{ObjectKey, Result};
use crate::inventory::Owner;
use crate::{CancellationToken, Cluster};

/// What happens to the PersistentVolumeClaims of deleted StatefulSets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PvcPolicy {
    /// Keep them (and their data); a re-created StatefulSet of the same name binds them again.
    #[default]
    Retain,
    /// Delete them once their StatefulSet is gone.
    Delete,
}

impl PvcPolicy {
    /// `Retain` / `Delete` as the schema spells them (case-insensitive); anything else is
    /// `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "retain" => Some(Self::Retain),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }
}

impl Cluster {
    /// Deletes every object `owner` owns (workloads with foreground propagation, see
    /// [`Cluster::delete_object`]) and waits up to `timeout` until they are gone; PVCs per
    /// `pvc_policy`. Objects already gone are fine. Returns the deleted objects' keys.
    pub async fn delete_all(
        &self,
        owner: &Owner,
        pvc_policy: PvcPolicy,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Vec<ObjectKey>> {
        self.prune(owner, &[], pvc_policy, timeout, cancel).await
    }
}
