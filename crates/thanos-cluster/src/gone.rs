//! Waiting until objects are gone, by watching rather than polling: one metadata LIST says
//! which are still there, then a WATCH from that list's resourceVersion reports each deletion
//! as it happens (foreground deletion ends when the garbage collector has removed the
//! dependents, which can take a while and is over at an instant no poll interval hits). An
//! expired or closed watch is followed by a fresh LIST, so nothing is missed.

use std::collections::BTreeSet;
use std::pin::pin;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, DynamicObject, ListParams, WatchEvent, WatchParams};
use tokio::time::Instant;

use crate::error::{ObjectKey, Result};
use crate::{CancellationToken, Cluster, cancelled, sleep};

/// A watch that ends sooner than this is followed by a short pause before the next LIST, so a
/// server that closes watches at once is not asked in a tight loop.
const QUICK_END: Duration = Duration::from_secs(1);
const PAUSE: Duration = Duration::from_millis(250);

impl Cluster {
    /// Waits until none of `names` (objects of `api`'s kind in its namespace; `key` names them
    /// in errors) exists, or until `deadline`. Returns the names still there (empty: all gone).
    pub(crate) async fn wait_names_gone(
        &self,
        api: &Api<DynamicObject>,
        key: &ObjectKey,
        mut left: BTreeSet<String>,
        deadline: Instant,
        cancel: &CancellationToken,
    ) -> Result<BTreeSet<String>> {
        // One object: the server filters by name; several: the kind in the namespace.
        let fields = match (left.len(), left.first()) {
            (1, Some(name)) => Some(format!("metadata.name={name}")),
            _ => None,
        };
        let mut lp = ListParams::default();
        if let Some(f) = &fields {
            lp = lp.fields(f);
        }
        loop {
            let list = self.call(key, cancel, || api.list_metadata(&lp)).await?;
            let present: BTreeSet<String> = list
                .items
                .iter()
                .filter_map(|m| m.metadata.name.clone())
                .collect();
            left.retain(|n| present.contains(n));
            let now = Instant::now();
            if left.is_empty() || now >= deadline {
                return Ok(left);
            }
            let version = list.metadata.resource_version.clone().unwrap_or_default();
            // The server ends a watch after at most this long (kube caps it below 295 s).
            let secs = deadline
                .saturating_duration_since(now)
                .as_secs()
                .clamp(1, 290) as u32;
            let mut wp = WatchParams::default().timeout(secs);
            if let Some(f) = &fields {
                wp = wp.fields(f);
            }
            let started = Instant::now();
            let stream = self
                .call(key, cancel, || api.watch_metadata(&wp, &version))
                .await?;
            let mut stream = pin!(stream);
            loop {
                let event = tokio::select! {
                    biased;
                    _ = cancel.cancelled() => return Err(cancelled(key)),
                    _ = tokio::time::sleep_until(deadline) => break,
                    e = stream.next() => e,
                };
                match event {
                    Some(Ok(WatchEvent::Deleted(m))) => {
                        if let Some(name) = &m.metadata.name {
                            left.remove(name);
                        }
                        if left.is_empty() {
                            return Ok(left);
                        }
                    }
                    Some(Ok(WatchEvent::Added(_) | WatchEvent::Modified(_)))
                    | Some(Ok(WatchEvent::Bookmark(_))) => {}
                    // Expired (410) or broken: list again from a fresh version.
                    Some(Ok(WatchEvent::Error(_))) | Some(Err(_)) | None => break,
                }
            }
            if started.elapsed() < QUICK_END && Instant::now() < deadline {
                sleep(PAUSE, cancel, key).await?;
            }
        }
    }
}
