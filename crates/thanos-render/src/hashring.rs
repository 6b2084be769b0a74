//! `hashrings.json` exactly as Thanos receive reads it (`--receive.hashrings-file`): a list of
//! `HashringConfig` (`pkg/receive/config.go` of the pinned Thanos): `hashring`, `tenants`,
//! `tenant_matcher_type` (`exact`, the default, or `glob`), `endpoints` (an address string,
//! or `{"address", "az"}`), `algorithm` (`hashmod` or `ketama`; unset means the router's
//! `--receive.hashrings-algorithm`, whose default is `hashmod`), `external_labels` (a map)
//! and `shuffle_sharding_config` (`shard_size`, `cache_size`, `overrides` of
//! `{shard_size, tenants, tenant_matcher_type}`).
//!
//! Rules: hard rings in spec order, the soft ring last (Thanos uses the first ring whose
//! tenants match, and a ring without tenants matches every tenant); `hashring`, `tenants` and
//! `endpoints` always present (`tenants: []`, never `null`); tenants and endpoints sorted and
//! de-duplicated so the file, and the ring's series assignment, never change unless
//! membership does. Every other field is written only when it differs from Thanos's default,
//! so a ring that uses none of them is written exactly as earlier versions wrote it (the file
//! does not change, the routers do not reload it).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::placement::Algorithm;

/// One ring, as written to `hashrings.json`. The `hashrings` computed attribute shows its
/// name, tenants and endpoint addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashringEntry {
    #[serde(rename = "hashring", default)]
    pub name: String,
    #[serde(default)]
    pub tenants: Vec<String>,
    #[serde(
        rename = "tenant_matcher_type",
        default,
        skip_serializing_if = "TenantMatcher::is_exact"
    )]
    pub tenant_matcher: TenantMatcher,
    pub endpoints: Vec<RingEndpoint>,
    /// `None`: the router's default (`--receive.hashrings-algorithm`, `hashmod` unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<Algorithm>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub external_labels: BTreeMap<String, String>,
    #[serde(
        rename = "shuffle_sharding_config",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub shuffle_sharding: Option<ShuffleSharding>,
}

impl HashringEntry {
    /// A ring of these tenants and endpoints (sorted, de-duplicated) with every other field at
    /// Thanos's default.
    pub fn new(name: &str, tenants: &[String], endpoints: &[String]) -> Self {
        HashringEntry {
            name: name.to_owned(),
            tenants: sorted_unique(tenants),
            tenant_matcher: TenantMatcher::Exact,
            endpoints: sorted_unique(endpoints)
                .into_iter()
                .map(RingEndpoint::new)
                .collect(),
            algorithm: None,
            external_labels: BTreeMap::new(),
            shuffle_sharding: None,
        }
    }

    /// The endpoint addresses, in file order.
    pub fn addresses(&self) -> Vec<String> {
        self.endpoints.iter().map(|e| e.address.clone()).collect()
    }

    /// The algorithm the router uses for this ring when its `--receive.hashrings-algorithm`
    /// is `default`.
    pub fn algorithm_or(&self, default: Algorithm) -> Algorithm {
        self.algorithm.unwrap_or(default)
    }
}

/// How a ring's `tenants` are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantMatcher {
    /// The tenant equals one of them (Thanos also reads `""` as exact).
    #[default]
    #[serde(alias = "")]
    Exact,
    /// The tenant matches one of them as a glob (Go's `filepath.Match`).
    Glob,
}

impl TenantMatcher {
    pub const VALUES: &[&str] = &["exact", "glob"];

    pub fn parse(s: &str) -> Option<TenantMatcher> {
        match s {
            "exact" => Some(TenantMatcher::Exact),
            "glob" => Some(TenantMatcher::Glob),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TenantMatcher::Exact => "exact",
            TenantMatcher::Glob => "glob",
        }
    }

    fn is_exact(&self) -> bool {
        *self == TenantMatcher::Exact
    }
}

/// A ring member: its address and, on a ketama ring, its availability zone. Written as the
/// address alone when it has no zone (the form every Thanos version reads).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RingEndpoint {
    pub address: String,
    /// `None` and `Some("")` mean the same: no zone.
    pub az: Option<String>,
}

impl RingEndpoint {
    pub fn new(address: impl Into<String>) -> Self {
        RingEndpoint {
            address: address.into(),
            az: None,
        }
    }

    pub fn with_az(address: impl Into<String>, az: impl Into<String>) -> Self {
        RingEndpoint {
            address: address.into(),
            az: Some(az.into()),
        }
    }

    /// The zone, `""` for none.
    pub fn zone(&self) -> &str {
        self.az.as_deref().unwrap_or("")
    }
}

impl Serialize for RingEndpoint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct WithZone<'a> {
            address: &'a str,
            az: &'a str,
        }
        match self.zone() {
            "" => s.serialize_str(&self.address),
            az => WithZone {
                address: &self.address,
                az,
            }
            .serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for RingEndpoint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Address(String),
            Object {
                address: String,
                #[serde(default)]
                az: String,
            },
        }
        Ok(match Form::deserialize(d)? {
            Form::Address(address) => RingEndpoint::new(address),
            Form::Object { address, az } if az.is_empty() => RingEndpoint::new(address),
            Form::Object { address, az } => RingEndpoint::with_az(address, az),
        })
    }
}

/// `shuffle_sharding_config`: each tenant writes to its own `shard_size` endpoints of the
/// ring (ketama only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShuffleSharding {
    pub shard_size: usize,
    /// Tenant shards a router keeps built (Thanos's default, 100, when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_size: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<ShardOverride>,
    /// Draw each shard from all endpoints as one zone (the shard's ring still spreads a
    /// series' replicas over zones); written only when set, which Thanos reads as `false`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub zone_awareness_disabled: bool,
}

/// A shard size for some tenants. Thanos applies an override only when its
/// `tenant_matcher_type` is `exact` or `glob` (not when it is missing), so it is always
/// written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardOverride {
    pub shard_size: usize,
    #[serde(default)]
    pub tenants: Vec<String>,
    /// `None`: missing or empty in the file (Thanos never applies such an override).
    #[serde(
        rename = "tenant_matcher_type",
        default,
        deserialize_with = "override_matcher",
        serialize_with = "write_override_matcher"
    )]
    pub tenant_matcher: Option<TenantMatcher>,
}

fn override_matcher<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<TenantMatcher>, D::Error> {
    let s = Option::<String>::deserialize(d)?.unwrap_or_default();
    match s.as_str() {
        "" => Ok(None),
        other => TenantMatcher::parse(other)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown tenant matcher {other:?}"))),
    }
}

fn write_override_matcher<S: serde::Serializer>(
    m: &Option<TenantMatcher>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.map_or("", TenantMatcher::as_str))
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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

/// What a router reports as `thanos_receive_config_hash` once it has loaded a file with this
/// content: the first 48 bits of its SHA-256, little-endian, as a float (`hashAsMetricValue`
/// in `pkg/receive/config.go`). How an apply knows that routers have loaded a new ring.
pub fn config_hash_metric(content: &str) -> f64 {
    let sum = Sha256::digest(content.as_bytes());
    let mut bytes = [0u8; 8];
    bytes[..6].copy_from_slice(&sum[..6]);
    u64::from_le_bytes(bytes) as f64
}

/// What a router's `/metrics` says of the `hashrings.json` it runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunningConfig {
    /// `thanos_receive_config_hash`: see [`config_hash_metric`].
    pub hash: Option<f64>,
    /// `thanos_receive_config_last_reload_successful`: whether the last file it read was
    /// accepted (a refused file leaves the router on the ring it had).
    pub last_reload_ok: Option<bool>,
}

impl RunningConfig {
    /// Whether the router runs a file with `content`.
    pub fn runs(&self, content: &str) -> bool {
        self.hash == Some(config_hash_metric(content)) && self.last_reload_ok == Some(true)
    }
}

/// [`RunningConfig`] from the Prometheus text exposition of a router (`/metrics`); the two
/// gauges are unlabelled (`pkg/receive/config.go` `NewConfigWatcher`).
pub fn running_config(metrics: &str) -> RunningConfig {
    let mut out = RunningConfig {
        hash: None,
        last_reload_ok: None,
    };
    for line in metrics.lines() {
        let mut fields = line.split_whitespace();
        let (Some(name), Some(value)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        match name {
            "thanos_receive_config_hash" => out.hash = Some(value),
            "thanos_receive_config_last_reload_successful" => {
                out.last_reload_ok = Some(value == 1.0)
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_config_is_read_from_a_routers_metrics() {
        let content = "[]\n";
        let exposition = format!(
            "# HELP thanos_receive_config_hash Hash of the currently loaded hashring configuration file.\n\
             # TYPE thanos_receive_config_hash gauge\n\
             thanos_receive_config_hash {:e}\n\
             thanos_receive_config_last_reload_success_timestamp_seconds 1.7e+09\n\
             thanos_receive_config_last_reload_successful 1\n",
            config_hash_metric(content)
        );
        let running = running_config(&exposition);
        assert!(running.runs(content), "{running:?}");
        assert!(!running.runs("[{}]\n"));
        let refused = exposition.replace("successful 1", "successful 0");
        assert!(!running_config(&refused).runs(content));
        assert_eq!(
            running_config("go_goroutines 12\n"),
            RunningConfig {
                hash: None,
                last_reload_ok: None
            }
        );
    }

    #[test]
    fn a_plain_ring_is_written_as_before() {
        let r = HashringEntry::new(
            "default",
            &["b".into(), "a".into(), "a".into()],
            &["x:1".into(), "w:1".into()],
        );
        assert_eq!(
            to_json_text(&[r]),
            "[\n  {\n    \"hashring\": \"default\",\n    \"tenants\": [\n      \"a\",\n      \"b\"\n    ],\n    \"endpoints\": [\n      \"w:1\",\n      \"x:1\"\n    ]\n  }\n]\n"
        );
    }

    #[test]
    fn every_field_round_trips() {
        let mut r = HashringEntry::new("r", &["team-*".into()], &[]);
        r.tenant_matcher = TenantMatcher::Glob;
        r.endpoints = vec![RingEndpoint::with_az("a:1", "z1"), RingEndpoint::new("b:1")];
        r.algorithm = Some(Algorithm::Ketama);
        r.external_labels = BTreeMap::from([("region".into(), "eu".into())]);
        r.shuffle_sharding = Some(ShuffleSharding {
            shard_size: 2,
            cache_size: 0,
            overrides: vec![ShardOverride {
                shard_size: 1,
                tenants: vec!["team-a".into()],
                tenant_matcher: Some(TenantMatcher::Exact),
            }],
            zone_awareness_disabled: false,
        });
        let text = to_json_text(std::slice::from_ref(&r));
        let back: Vec<HashringEntry> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, vec![r]);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v[0]["endpoints"][0],
            serde_json::json!({"address": "a:1", "az": "z1"})
        );
        assert_eq!(v[0]["endpoints"][1], "b:1");
        assert_eq!(
            v[0]["shuffle_sharding_config"]["overrides"][0]["tenant_matcher_type"],
            "exact"
        );
    }

    #[test]
    fn thanos_forms_are_read() {
        let v: Vec<HashringEntry> = serde_json::from_str(
            r#"[{"endpoints": [{"address": "a:1", "az": ""}], "tenant_matcher_type": "",
                 "shuffle_sharding_config": {"shard_size": 1, "overrides": [{"shard_size": 2}]}}]"#,
        )
        .unwrap();
        assert_eq!(v[0].endpoints, vec![RingEndpoint::new("a:1")]);
        assert_eq!(v[0].tenant_matcher, TenantMatcher::Exact);
        let o = &v[0].shuffle_sharding.as_ref().unwrap().overrides[0];
        assert_eq!(o.tenant_matcher, None);
    }

    #[test]
    fn config_hash_is_thanos_metric_value() {
        // sha256("") starts e3 b0 c4 42 98 fc: read little-endian, 48 bits.
        assert_eq!(config_hash_metric(""), 0xfc9842c4b0e3u64 as f64);
        assert_ne!(config_hash_metric("[]"), config_hash_metric("[ ]"));
    }
}
