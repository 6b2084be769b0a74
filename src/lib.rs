//! terraform-provider-thanos: declare a multi-cluster Thanos stack in HCL; the provider renders
//! it (crate `thanos-render`, pure) and applies it to Kubernetes.
//!
//! - [`provider`]: the provider block and configuration; [`connection`]: the cluster it
//!   describes, connected once when something needs it.
//! - [`resources`]: one module per resource type: its model (every field declared once), the
//!   validation into the renderer's spec, its computed attributes.
//! - [`lifecycle`]: plan, apply, read, delete, import and the record, shared by every
//!   resource type, each phase in its own module.
//! - [`cluster`]: the cluster calls the lifecycle makes, behind a trait (unit tests use an
//!   in-memory cluster; `thanos-cluster` is the real one).
//!
//! The protocol and the framework live in crate `tfplugin`, values in crate `tfvalue`.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod cluster;
pub mod connection;
pub mod docs;
pub mod lifecycle;
pub mod provider;
pub mod resources;
pub mod testing;
