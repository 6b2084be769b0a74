//! Import by `<namespace>/<name>`: the configuration is read back from the record every apply
//! writes, so the plan after an import is empty. Objects without a record (made by other
//! tools) are not guessed at: the diagnostic says how to take them over.

use tfplugin::framework::{Context, Diagnostic, Diagnostics, ImportResponse};
use tfvalue::Type;
use thanos_cluster::{ObjectKey, Owner};

use super::{Env, Kind, record};

pub async fn import<K: Kind>(env: &Env, ty: &Type, context: &Context, id: &str) -> ImportResponse {
    let error = |summary: String, detail: String| ImportResponse {
        state: None,
        private: Vec::new(),
        diagnostics: Diagnostic::error(summary, detail).into(),
    };
    let Some((namespace, name)) = id
        .split_once('/')
        .filter(|(ns, n)| !ns.is_empty() && !n.is_empty() && !n.contains('/'))
    else {
        return error(
            format!("Invalid import ID {id:?}"),
            format!(
                "Import a {} by `<namespace>/<name>`, e.g. `monitoring/{}`.",
                K::TYPE_NAME,
                K::TYPE_NAME.trim_start_matches("thanos_")
            ),
        );
    };
    let cluster = match env.clusters.cluster().await {
        Ok(c) => c,
        Err(message) => {
            return ImportResponse {
                state: None,
                private: Vec::new(),
                diagnostics: Diagnostic::error(
                    format!(
                        "Cannot import {}: no usable Kubernetes cluster",
                        K::TYPE_NAME
                    ),
                    message,
                )
                .into(),
            };
        }
    };
    let key = ObjectKey::new("ConfigMap", namespace, record::name(K::OWNER, name));
    let found = match cluster.get(&key, &context.cancel).await {
        Ok(r) => r,
        Err(e) => {
            return error(
                format!("Cannot import {} {id}", K::TYPE_NAME),
                e.to_string(),
            );
        }
    };
    // A record without its key is as good as none.
    let Some(found) = found.filter(record::holds_configuration) else {
        let owner = Owner::new(K::OWNER, name, namespace);
        let owned = cluster
            .inventory(&owner, &context.cancel)
            .await
            .unwrap_or_default();
        return if owned.is_empty() {
            error(
                format!("Cannot import non-existent {} {id}", K::TYPE_NAME),
                format!(
                    "No objects of a {} named {name:?} exist in namespace {namespace:?}.",
                    K::TYPE_NAME
                ),
            )
        } else {
            error(
                format!(
                    "Cannot import {} {id}: its configuration record is missing",
                    K::TYPE_NAME
                ),
                format!(
                    "Objects of this resource exist, but ConfigMap {} (written by every apply) does not. \
                     Write the configuration in HCL and apply it with `adopt_existing = true` to take the objects over.",
                    key.name
                ),
            )
        };
    };
    match record::read(&found.json, ty) {
        Ok(state) => ImportResponse {
            state: Some(state),
            private: Vec::new(),
            diagnostics: Diagnostics::new(),
        },
        Err(e) => error(
            format!(
                "Cannot import {} {id}: unreadable configuration record",
                K::TYPE_NAME
            ),
            e,
        ),
    }
}
