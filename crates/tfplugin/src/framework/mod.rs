//! A small provider framework: declarative schemas, diagnostics, the `Provider` and `Resource`
//! traits, the schema-driven plan pipeline, and the tfplugin6 service that ties them together.

pub mod client;
mod convert;
pub mod diag;
pub mod model;
pub mod plan;
pub mod resource;
pub mod schema;
pub mod server;
pub mod write_only;

pub use diag::{Diagnostic, Diagnostics, INTERNAL_ERROR_MARK, Severity};
pub use model::{DecodeError, Field, Input, Model};
pub use resource::*;
pub use schema::*;
pub use server::ProviderService;
