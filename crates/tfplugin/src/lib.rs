//! The Terraform plugin protocol (tfplugin6) for Rust providers, and a small framework on top.
//!
//! Layers, each only using the ones below it:
//! - [`serve`]: how Terraform launches us (go-plugin handshake, AutoMTLS, stderr logging).
//! - [`pb`]: the generated gRPC types of `proto/` (never exposed to resource code).
//! - [`framework`]: schemas, diagnostics, the `Provider`/`Resource` traits and the plan pipeline.
//!
//! Nothing here knows about Thanos or Kubernetes; values come from the `tfvalue` crate.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

// `#[derive(Model)]` names `::tfplugin`; this lets this crate's own tests use the derive.
#[cfg(test)]
extern crate self as tfplugin;

pub mod framework;
pub mod serve;

/// Generated protocol bindings (see `proto/`).
pub mod pb {
    #![allow(clippy::all, missing_docs)]
    pub mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
    pub mod plugin {
        tonic::include_proto!("plugin");
    }
}
