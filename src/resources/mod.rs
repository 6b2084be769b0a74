//! One module per Terraform resource type: its schema and how it ties rendering
//! (`thanos-render`) to cluster IO. Shared schema pieces live in `fragments`.

pub mod fragments;
pub mod query;
pub mod receive;
pub mod storage;

mod pending;

use std::sync::{Arc, RwLock};

use tfplugin::framework::Resource;

use crate::provider::Configured;

/// Every resource type of the provider.
pub fn all(configured: Arc<RwLock<Configured>>) -> Vec<Arc<dyn Resource>> {
    vec![
        Arc::new(pending::Pending::new(
            query::TYPE_NAME,
            query::schema,
            configured.clone(),
        )),
        Arc::new(pending::Pending::new(
            receive::TYPE_NAME,
            receive::schema,
            configured.clone(),
        )),
        Arc::new(pending::Pending::new(
            storage::TYPE_NAME,
            storage::schema,
            configured,
        )),
    ]
}
