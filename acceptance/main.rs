//! Acceptance tests: the real `terraform` and `tofu` CLIs driving the real provider binary.
//! See `harness` for how the CLIs are found and the provider installed.

mod cluster_support;
mod examples;
mod harness;
mod lifecycle;
mod multicluster;
mod plan;
mod schema;
