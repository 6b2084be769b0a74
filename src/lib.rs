//! terraform-provider-thanos: declare a multi-cluster Thanos stack in HCL; the provider renders
//! it (crate `thanos-render`, pure) and applies it to Kubernetes.
//!
//! - [`provider`]: the provider block and configuration.
//! - [`resources`]: one module per resource type, the only place where Terraform values,
//!   rendering and cluster IO meet.
//!
//! The protocol and the framework live in crate `tfplugin`, values in crate `tfvalue`.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod connection;
pub mod docs;
pub mod provider;
pub mod resources;
