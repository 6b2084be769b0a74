//! Acceptance tests: the real `terraform` and `tofu` CLIs driving the real provider binary.
//! See `harness` for how the CLIs are found and the provider installed. `pulumi` drives it
//! through the Pulumi CLI and its any-Terraform-provider bridge (`pulumi_support`).

mod cluster_support;
mod crash;
mod examples;
mod harness;
mod lifecycle;
mod multicluster;
mod objstore;
mod plan;
mod production;
mod pulumi;
mod pulumi_support;
mod registry;
mod rule;
mod schema;
mod spare;
