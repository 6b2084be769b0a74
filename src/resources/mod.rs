//! One module per Terraform resource type: its model (every field declared once, with its
//! description), the validation that turns the model into the renderer's spec, and the
//! computed attributes it decides. [`shared`] holds the fields all of them have ([`pod`]: the
//! pod fields among them), [`blocks`] the
//! blocks they reuse ([`objstore`]: the `object_storage` block), [`checks`] the steps
//! validation is made of. The lifecycle they share is
//! in [`crate::lifecycle`].

pub mod blocks;
pub mod checks;
pub mod objstore;
pub mod pod;
pub mod query;
pub mod receive;
pub mod rule;
pub mod shared;
pub mod storage;

use std::sync::Arc;

use tfplugin::framework::Resource;

use crate::lifecycle::{SharedEnv, StackResource};

/// Every resource type of the provider.
pub fn all(env: SharedEnv) -> Vec<Arc<dyn Resource>> {
    vec![
        Arc::new(StackResource::<query::Query>::new(env.clone())),
        Arc::new(StackResource::<receive::Receive>::new(env.clone())),
        Arc::new(StackResource::<rule::Rule>::new(env.clone())),
        Arc::new(StackResource::<storage::Storage>::new(env)),
    ]
}
