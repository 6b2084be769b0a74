//! `hashrings.json` exactly as Thanos receive reads it (`--receive.hashrings-file`).
//!
//! Rules: hard rings in spec order, the soft ring last (Thanos uses the first ring whose
//! tenants match, and a ring without tenants matches every tenant); every field always present
//! (`tenants: []`, `endpoints: [...]`, never `null`); tenants and endpoints sorted and
//! de-duplicated so the file, and the ring's series assignment, never change unless membership
//! does.

use serde::Serialize;

/// One ring, as written to `hashrings.json` and exposed as the `hashrings` computed attribute
/// (where `hashring` is called `name`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HashringEntry {
    #[serde(rename = "hashring")]
    pub name: String,
    pub tenants: Vec<String>,
    pub endpoints: Vec<String>,
}

impl HashringEntry {
    pub fn new(name: &str, tenants: &[String], endpoints: &[String]) -> Self {
        HashringEntry {
            name: name.to_owned(),
            tenants: sorted_unique(tenants),
            endpoints: sorted_unique(endpoints),
        }
    }
}

pub(crate) fn sorted_unique(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}

/// The file content (pretty JSON, trailing newline).
pub fn to_json_text(rings: &[HashringEntry]) -> String {
    let mut s = serde_json::to_string_pretty(rings).expect("hashrings serialize");
    s.push('\n');
    s
}
