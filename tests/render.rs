//! Rendering, end to end from a configuration: golden objects for the seed's documented
//! scenarios, the seed's bugs that must never come back, validation with attribute paths,
//! invariants every rendered stack keeps, and the real Envoy's verdict on every rendered Envoy
//! configuration. Configurations are JSON written like HCL (see
//! `terraform_provider_thanos::testing`), taken through the schema's defaults, the model and
//! validation exactly as a plan takes them.

#[path = "render/cross_field.rs"]
mod cross_field;
#[path = "render/diff.rs"]
mod diff;
#[path = "render/envoy_validate.rs"]
mod envoy_validate;
#[path = "render/golden.rs"]
mod golden;
#[path = "render/invariants.rs"]
mod invariants;
#[path = "render/objstore.rs"]
mod objstore;
#[path = "render/production.rs"]
mod production;
#[path = "render/rule.rs"]
mod rule;
#[path = "render/seed_bugs.rs"]
mod seed_bugs;
#[path = "render/support.rs"]
mod support;
#[path = "render/validation.rs"]
mod validation;
