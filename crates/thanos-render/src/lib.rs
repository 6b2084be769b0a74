//! Pure rendering of the Thanos stacks managed by terraform-provider-thanos.
//!
//! Validated specs in ([`query::QuerySpec`], [`receive::ReceiveSpec`],
//! [`storage::StorageSpec`]: fully known values, the parts every resource shares in one
//! [`common::Common`]), typed Kubernetes objects out ([`object::Rendered`]). No IO, no
//! Terraform types, no clock, no randomness: the same input renders byte-identical output, so
//! `terraform plan` works offline and shows exactly what will change. Cluster knowledge
//! (discovered hashring members) is an explicit input.
//!
//! The provider's resource layer turns a Terraform configuration into these specs and checks
//! every rule on the way (with the syntax checkers of [`validate`] and the per-resource rules
//! this crate exports, such as the `extra_args` deny lists and derived-name limits); rendering
//! therefore never re-validates and fails only for reasons that need the cluster (a discovered
//! ring that is empty).
//!
//! Modules:
//! - [`query`], [`receive`], [`storage`]: one per Terraform resource (spec, `render`, computed
//!   attributes, the rules only that resource has); [`frontend`]: a query's query frontend;
//! - [`common`]: the shared spec parts and [`common::RenderContext`] (provider defaults);
//!   [`pod`]: what every pod gets (ServiceAccount, pull secrets, annotations, priority class,
//!   extra volumes, the mount paths we keep) and [`security`] its security contexts;
//!   [`monitor`]: the ServiceMonitor of each Service;
//! - [`envoy`]: the query's TLS store-proxy sidecar config, validated against Envoy's protobuf
//!   schema; [`hashring`]: `hashrings.json`; [`discovery`]: label selectors and EndpointSlices →
//!   endpoint strings;
//! - [`rule`]: `thanos_rule` (the ruler, its rule-file ConfigMaps, PrometheusRule objects
//!   turned into rule files); [`rules`]: rule files, checked as `thanos tools rules-check`
//!   checks them and rendered to canonical YAML;
//! - [`meta`]: names, labels, annotation keys; [`args`]: `extra_args` rules;
//!   [`validate`]: findings with attribute paths ([`validate::Invalid`]) and the syntax
//!   checkers;
//! - [`object`]: [`object::Object`], [`object::Rendered`]; [`diff`]: what an update changes,
//!   object by object and field by field (Secrets only as changed);
//! - [`placement`]: which ingestors Thanos writes a series to, and how much a ring change moves;
//! - [`objstore`]: the objstore YAML (`s3`, `gcs`, `azure`, `filesystem`), with credentials
//!   from write-only attributes; [`secret`]: the owned Secret it goes into, whose public form
//!   (credentials replaced by their versions) is all that plans and state see.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod args;
pub mod common;
pub mod diff;
pub mod discovery;
pub mod envoy;
pub mod frontend;
pub mod hashring;
pub mod meta;
pub mod monitor;
pub mod object;
pub mod objstore;
pub mod placement;
pub mod pod;
pub mod query;
pub mod receive;
pub mod rule;
pub mod rules;
pub mod secret;
pub mod security;
pub mod storage;
pub mod validate;
mod workload;

pub use common::RenderContext;
pub use object::{Object, Rendered};
pub use validate::{Invalid, PathSegment};

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// What only the cluster could tell is wrong (a discovered ring without members).
    #[error("invalid configuration: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Invalid>),
    /// A hashring that selects its members has no discovered endpoints in the input yet (the
    /// caller plans it as known after apply, or discovers it first).
    #[error("hashring {ring:?} selects its endpoints and has not been discovered yet")]
    Undiscovered { ring: String },
    /// The rendered Envoy configuration does not match Envoy's schema (a bug in this crate:
    /// such a config is never returned).
    #[error(transparent)]
    Envoy(#[from] envoy::SchemaError),
    /// The spec breaks a rule that validation guarantees (a bug in the caller).
    #[error("the spec was not validated: {0}")]
    Unvalidated(String),
}
