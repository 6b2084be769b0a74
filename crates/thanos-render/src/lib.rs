//! Pure rendering of the Thanos stacks managed by terraform-provider-thanos.
//!
//! Typed spec in ([`query::QuerySpec`], [`receive::ReceiveSpec`], [`storage::StorageSpec`],
//! whose fields mirror the Terraform schema 1:1), typed Kubernetes objects out
//! ([`object::Rendered`]). No IO, no Terraform types, no clock, no randomness: the same input
//! renders byte-identical output, so `terraform plan` works offline and shows exactly what will
//! change. Cluster knowledge (discovered hashring members) is an explicit input.
//!
//! Modules:
//! - [`query`], [`receive`], [`storage`]: one per Terraform resource (spec, `validate`,
//!   `render`, computed attributes);
//! - [`common`]: shared spec parts and [`common::RenderContext`] (provider defaults);
//! - [`envoy`]: the query's TLS store-proxy sidecar config, validated against Envoy's protobuf
//!   schema; [`hashring`]: `hashrings.json`; [`discovery`]: label selectors and EndpointSlices →
//!   endpoint strings;
//! - [`meta`]: names, labels, annotation keys; [`args`]: `extra_args` rules;
//!   [`validate`]: [`validate::Invalid`] with attribute paths and the syntax checkers;
//! - [`object`]: [`object::Object`], [`object::Rendered`];
//! - [`objstore`]: the objstore YAML (`s3`, `gcs`, `azure`, `filesystem`); credentials apart.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod args;
pub mod common;
pub mod discovery;
pub mod envoy;
pub mod hashring;
pub mod meta;
pub mod object;
pub mod objstore;
pub mod query;
pub mod receive;
pub mod storage;
pub mod validate;
mod workload;

pub use common::RenderContext;
pub use object::{Object, Rendered};
pub use validate::{Invalid, PathSegment};

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration breaks validation rules (the same list `validate` returns).
    #[error("invalid configuration: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Invalid>),
    /// A required value is unset or still unknown; render needs a fully known spec.
    #[error("{path} is required")]
    Missing { path: String },
    /// A hashring that selects its members has no discovered endpoints in the input yet (the
    /// caller plans it as known after apply, or discovers it first).
    #[error("hashring {ring:?} selects its endpoints and has not been discovered yet")]
    Undiscovered { ring: String },
    /// The rendered Envoy configuration does not match Envoy's schema (a bug in this crate:
    /// such a config is never returned).
    #[error(transparent)]
    Envoy(#[from] envoy::SchemaError),
}
