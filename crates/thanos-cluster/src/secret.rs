//! Reading a Secret's data, for the checks a plan makes before anything is applied (a query's
//! TLS Secrets). Read only: the provider never writes Secrets.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;

use crate::error::{ObjectKey, Result};
use crate::{CancellationToken, Cluster};

impl Cluster {
    /// The data of Secret `namespace/name` by key (decoded; `stringData` is folded into `data`
    /// by the API server), or `None` when it does not exist.
    pub async fn secret_data(
        &self,
        namespace: &str,
        name: &str,
        cancel: &CancellationToken,
    ) -> Result<Option<BTreeMap<String, Vec<u8>>>> {
        let key = ObjectKey::new("Secret", namespace, name);
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let secret = self.call(&key, cancel, || api.get_opt(name)).await?;
        Ok(secret.map(|s| {
            s.data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect()
        }))
    }
}
