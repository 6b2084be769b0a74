//! Destroy: delete every object the resource owns and wait until it is gone; volume claims
//! follow the retention the user chose. A destroy nobody planned (Pulumi's bridge deletes
//! without a plan) reports the warnings the plan would have shown.

use std::time::Duration;

use tfplugin::framework::{Context, DeleteRequest, Diagnostic, Diagnostics};

use super::{Env, Kind, decode, failure, owner};

/// How long a delete waits at most when `timeouts` says nothing.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

pub async fn delete<K: Kind>(env: &Env, context: &Context, request: DeleteRequest) -> Diagnostics {
    let model = match decode::<K>(&request.prior_state) {
        Ok(m) => m,
        Err(d) => return d,
    };
    let Some(owner) = owner::<K>(&model) else {
        return Diagnostics::new();
    };
    let cluster = match env.clusters.cluster_for_changes().await {
        Ok(c) => c,
        Err(message) => {
            return Diagnostic::error(
                format!(
                    "Cannot delete {}: no usable Kubernetes cluster",
                    K::TYPE_NAME
                ),
                message,
            )
            .into();
        }
    };
    let timeout = K::lifecycle(&model).timeout("delete", DEFAULT_TIMEOUT);
    let mut diagnostics = Diagnostics::new();
    if !request.planned {
        diagnostics.extend(K::destroy_warnings(&model).into_iter().collect());
    }
    match cluster
        .prune(
            &owner,
            &[],
            K::pvc_policy_on_delete(&model),
            timeout,
            &context.cancel,
        )
        .await
    {
        Ok(()) => diagnostics,
        Err(e) => failure(
            format!("Failed to delete {} {}", K::TYPE_NAME, owner.part_of),
            e,
        )
        .into(),
    }
}
