//! Acceptance tests: the real `terraform` and `tofu` CLIs driving the real provider binary.
//! See `harness` for how the CLIs are found and the provider installed.

mod examples;
mod harness;
mod plan;
mod schema;
