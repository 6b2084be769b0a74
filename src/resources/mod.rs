//! One module per Terraform resource type: its schema and its connection to rendering
//! (`thanos-render`) and cluster IO. `stack` holds what the three share, `model` converts
//! Terraform values to render specs, `fragments` holds shared schema pieces.

pub mod fragments;
pub mod model;
pub mod query;
pub mod receive;
pub mod stack;
pub mod storage;

use std::sync::{Arc, RwLock};

use tfplugin::framework::Resource;

use crate::provider::Configured;
use stack::StackResource;

/// Every resource type of the provider.
pub fn all(configured: Arc<RwLock<Configured>>) -> Vec<Arc<dyn Resource>> {
    vec![
        Arc::new(StackResource::<query::Query>::new(configured.clone())),
        Arc::new(StackResource::<receive::Receive>::new(configured.clone())),
        Arc::new(StackResource::<storage::Storage>::new(configured)),
    ]
}
