//! What the provider last saw of each object, kept in the resource's private state (opaque
//! bytes Terraform stores next to the state and hands back on every request): per object,
//! the `resourceVersion` at which the object was known to hold exactly its rendering, and the
//! short hash of that rendering (as in `objects`).
//!
//! A refresh judges drift with a server-side-apply dry run per object (see
//! `thanos_cluster::drift`), the costliest part of planning an applied stack. The API server
//! changes an object's `resourceVersion` on every write to it, by anyone (an edit, a scale, a
//! label, a controller's status update, a delete and re-create), so an object whose version is
//! the one recorded here, and whose rendering has the recorded hash, cannot have drifted: its
//! dry run is skipped. Anything else is judged by the server as before. The apply records the
//! versions its writes got back; a refresh records those of the objects it found in sync
//! (a workload's status moves on during its rollout, so its first refresh after an apply is
//! judged, and recorded).
//!
//! The same bytes carry the size a held scale-down keeps (`super::hold`), from a plan to its
//! apply and from an apply to the refreshes after it.
//!
//! The bytes are JSON, `{"seen":{"<Kind>/<name>":["<resourceVersion>","<hash>"]},"held":3}`
//! (`held` only while a scale-down is held). Bytes
//! that are empty (a state written before this existed, an import, a client that keeps no
//! private state) or that do not parse mean nothing is known: every object is judged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thanos_render::Object;

use super::objects;

/// Objects by `objects` key (`<Kind>/<name>`): `(resourceVersion, rendering hash)`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    seen: BTreeMap<String, (String, String)>,
    /// The size a scale-down held the workload at (see `super::hold`): decided by a plan for
    /// its apply, and recorded by the apply so a refresh renders what it applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    held: Option<i32>,
}

impl Seen {
    /// What private state bytes record; nothing when they record nothing readable.
    pub fn decode(private: &[u8]) -> Seen {
        if private.is_empty() {
            return Seen::default();
        }
        serde_json::from_slice(private).unwrap_or_default()
    }

    /// The private state bytes; empty when nothing is recorded.
    pub fn encode(&self) -> Vec<u8> {
        if self.seen.is_empty() && self.held.is_none() {
            return Vec::new();
        }
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The size a scale-down held the workload at, if it was held.
    pub fn held(&self) -> Option<i32> {
        self.held
    }

    pub fn set_held(&mut self, held: Option<i32>) {
        self.held = held;
    }

    /// Records that `object`, as rendered now, is what the cluster holds at
    /// `resource_version`. An empty version (a client or test that reports none) records
    /// nothing.
    pub fn record(&mut self, object: &Object, resource_version: &str) {
        self.record_entry(
            objects::key(object),
            resource_version,
            objects::hash(object),
        );
    }

    /// Keeps what `from` knows of `object` (one this apply left alone).
    pub fn carry(&mut self, from: &Seen, object: &Object) {
        let key = objects::key(object);
        if let Some(known) = from.seen.get(&key) {
            self.seen.insert(key, known.clone());
        }
    }

    /// Whether `object`, now at `resource_version` in the cluster, is exactly as recorded: the
    /// same version and the same rendering (so it holds its rendering, unchanged by anyone
    /// since).
    pub fn unchanged(&self, object: &Object, resource_version: &str) -> bool {
        self.unchanged_entry(
            &objects::key(object),
            resource_version,
            &objects::hash(object),
        )
    }

    fn record_entry(&mut self, key: String, resource_version: &str, hash: String) {
        if resource_version.is_empty() {
            return;
        }
        self.seen.insert(key, (resource_version.to_owned(), hash));
    }

    fn unchanged_entry(&self, key: &str, resource_version: &str, hash: &str) -> bool {
        !resource_version.is_empty()
            && self
                .seen
                .get(key)
                .is_some_and(|(v, h)| v == resource_version && h == hash)
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_unreadable_bytes_record_nothing() {
        let mut seen = Seen::default();
        seen.record_entry("Service/a".into(), "41", "0123456789ab".into());
        seen.record_entry("ConfigMap/b".into(), "", "ffffffffffff".into());
        let bytes = seen.encode();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"seen":{"Service/a":["41","0123456789ab"]}}"#
        );
        assert_eq!(Seen::decode(&bytes), seen);
        for unreadable in [&b""[..], b"{", b"null", b"[1]", b"{\"seen\":{\"a\":[1,2]}}"] {
            assert!(Seen::decode(unreadable).is_empty(), "{unreadable:?}");
        }
        assert!(Seen::default().encode().is_empty());
    }

    #[test]
    fn unchanged_needs_the_same_version_and_the_same_rendering() {
        let mut seen = Seen::default();
        seen.record_entry("Service/a".into(), "41", "0123456789ab".into());
        let table = [
            ("Service/a", "41", "0123456789ab", true),
            // Written since (by anyone).
            ("Service/a", "42", "0123456789ab", false),
            // Rendered differently now (a new provider version, another configuration).
            ("Service/a", "41", "ba9876543210", false),
            // Never recorded.
            ("Service/b", "41", "0123456789ab", false),
            // A live object without a version is never trusted.
            ("Service/a", "", "0123456789ab", false),
        ];
        for (key, version, hash, want) in table {
            assert_eq!(
                seen.unchanged_entry(key, version, hash),
                want,
                "{key} {version} {hash}"
            );
        }
    }
}
