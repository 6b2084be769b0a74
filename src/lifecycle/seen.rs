//! What the provider last saw of each object, kept in the resource's private state (opaque
//! bytes Terraform stores next to the state and hands back on every request): per object,
//! the `resourceVersion` at which the object was known to hold exactly its rendering, the
//! short hash of that rendering (as in `objects`), and the digest of what a drift check
//! compares of the object then (`thanos_cluster::drift::content_digest`).
//!
//! A refresh judges drift with a server-side-apply dry run per object (see
//! `thanos_cluster::drift`), the costliest part of planning an applied stack. The API server
//! changes an object's `resourceVersion` on every write to it, by anyone (an edit, a scale, a
//! label, a controller's status update, a delete and re-create), so an object whose version is
//! the one recorded here, and whose rendering has the recorded hash, cannot have drifted: its
//! dry run is skipped. Nor can one at another version whose content digest is the recorded
//! one: only its status or the server's metadata moved (a controller's status write, which a
//! running workload or disruption budget gets whenever its pods change), and the dry run would
//! see the same object. Anything else is judged by the server as before. The apply records
//! what its writes got back (and, after a rollout, the workloads as the controllers left
//! them); a refresh records the objects it found in sync.
//!
//! The same bytes carry the size a held scale-down keeps (`super::hold`), from a plan to its
//! apply and from an apply to the refreshes after it.
//!
//! The bytes are JSON,
//! `{"seen":{"<Kind>/<name>":["<resourceVersion>","<hash>","<digest>"]},"held":3}` (`held`
//! only while a scale-down is held; entries written before the digest have two items and are
//! trusted at their version alone). Bytes
//! that are empty (a state written before this existed, an import, a client that keeps no
//! private state) or that do not parse mean nothing is known: every object is judged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thanos_cluster::Listed;
use thanos_render::Object;

use super::objects;

/// Objects by `objects` key (`<Kind>/<name>`).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    seen: BTreeMap<String, Entry>,
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

    /// Records that `object`, as rendered now, is what the cluster holds as `live`. An object
    /// without a version (a client or test that reports none) records nothing.
    pub fn record(&mut self, object: &Object, live: &Listed) {
        self.record_entry(
            objects::key(object),
            &live.resource_version,
            objects::hash(object),
            live.digest.clone(),
        );
    }

    /// Keeps what `from` knows of `object` (one this apply left alone).
    pub fn carry(&mut self, from: &Seen, object: &Object) {
        let key = objects::key(object);
        if let Some(known) = from.seen.get(&key) {
            self.seen.insert(key, known.clone());
        }
    }

    /// Whether `object`, now `live` in the cluster, still holds its rendering as recorded: the
    /// same rendering, and the same version (nobody wrote it since) or the same content digest
    /// (only its status or the server's metadata moved).
    pub fn unchanged(&self, object: &Object, live: &Listed) -> bool {
        self.unchanged_entry(
            &objects::key(object),
            &live.resource_version,
            &objects::hash(object),
            &live.digest,
        )
    }

    /// [`Seen::unchanged`] of one entry.
    fn unchanged_entry(&self, key: &str, version: &str, hash: &str, digest: &str) -> bool {
        let Some(entry) = self.seen.get(key) else {
            return false;
        };
        if version.is_empty() || entry.hash != hash {
            return false;
        }
        entry.version == version || (!entry.digest.is_empty() && entry.digest == digest)
    }

    fn record_entry(&mut self, key: String, version: &str, hash: String, digest: String) {
        if version.is_empty() {
            return;
        }
        let version = version.to_owned();
        self.seen.insert(
            key,
            Entry {
                version,
                hash,
                digest,
            },
        );
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// What is known of one object, written as `["<resourceVersion>", "<rendering hash>",
/// "<digest>"]` (and read from the two items entries had before the digest).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct Entry {
    version: String,
    hash: String,
    /// Empty in entries recorded before the digest existed.
    #[serde(default)]
    digest: String,
}

impl Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (&self.version, &self.hash, &self.digest).serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seen: &mut Seen, key: &str, version: &str, hash: &str, digest: &str) {
        seen.record_entry(key.into(), version, hash.into(), digest.into());
    }

    #[test]
    fn bytes_round_trip_and_unreadable_bytes_record_nothing() {
        let mut seen = Seen::default();
        entry(
            &mut seen,
            "Service/a",
            "41",
            "0123456789ab",
            "00ff00ff00ff00ff",
        );
        entry(
            &mut seen,
            "ConfigMap/b",
            "",
            "ffffffffffff",
            "00ff00ff00ff00ff",
        );
        let bytes = seen.encode();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"seen":{"Service/a":["41","0123456789ab","00ff00ff00ff00ff"]}}"#
        );
        assert_eq!(Seen::decode(&bytes), seen);
        for unreadable in [&b""[..], b"{", b"null", b"[1]", b"{\"seen\":{\"a\":[1,2]}}"] {
            assert!(Seen::decode(unreadable).is_empty(), "{unreadable:?}");
        }
        assert!(Seen::default().encode().is_empty());
    }

    #[test]
    fn entries_from_before_the_digest_are_read_and_trusted_at_their_version_alone() {
        let before = Seen::decode(br#"{"seen":{"Service/a":["41","0123456789ab"]},"held":2}"#);
        assert_eq!(before.held(), Some(2));
        assert!(before.unchanged_entry("Service/a", "41", "0123456789ab", "00ff00ff00ff00ff"));
        // Its empty digest never matches, not even an empty one.
        assert!(!before.unchanged_entry("Service/a", "42", "0123456789ab", ""));
    }

    #[test]
    fn unchanged_needs_the_same_rendering_and_the_same_version_or_content() {
        let mut seen = Seen::default();
        entry(
            &mut seen,
            "Service/a",
            "41",
            "0123456789ab",
            "00ff00ff00ff00ff",
        );
        let table = [
            ("Service/a", "41", "0123456789ab", "00ff00ff00ff00ff", true),
            // Nobody wrote it since: the digest is not even needed.
            ("Service/a", "41", "0123456789ab", "1111111111111111", true),
            // Only its status moved (a controller's write): the same content.
            ("Service/a", "42", "0123456789ab", "00ff00ff00ff00ff", true),
            // Written since, and what a dry run compares changed (by anyone).
            ("Service/a", "42", "0123456789ab", "1111111111111111", false),
            // Rendered differently now (a new provider version, another configuration).
            ("Service/a", "41", "ba9876543210", "00ff00ff00ff00ff", false),
            ("Service/a", "42", "ba9876543210", "00ff00ff00ff00ff", false),
            // Never recorded.
            ("Service/b", "41", "0123456789ab", "00ff00ff00ff00ff", false),
            // A live object without a version is never trusted.
            ("Service/a", "", "0123456789ab", "00ff00ff00ff00ff", false),
        ];
        for (key, version, hash, digest, want) in table {
            assert_eq!(
                seen.unchanged_entry(key, version, hash, digest),
                want,
                "{key} {version} {hash} {digest}"
            );
        }
    }
}
