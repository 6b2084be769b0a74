//! Kinds of other tools that rendered objects need the cluster to serve: a ServiceMonitor
//! exists only where prometheus-operator's CustomResourceDefinition is installed.
//!
//! A plan that can reach the cluster warns when one is missing and says how to fix it (a
//! warning, not an error: the same apply may install the CRD, e.g. a Helm release this
//! resource depends on). The apply asks again before it writes anything, and stops while the
//! kind is still not served, so a stack is never left half applied for it. The question is a
//! list through [`ClusterApi::select`], which answers `None` for a kind the cluster does not
//! serve.

use tfplugin::framework::{Context, Diagnostic, Diagnostics};
use thanos_cluster::kinds::SERVICE_MONITOR;
use thanos_cluster::{ForeignKind, Selection};
use thanos_render::Object;
use thanos_render::common::LabelSelector;
use thanos_render::validate::Path;

use super::{Env, Kind, attribute_path};
use crate::cluster::ClusterApi;

/// The foreign kinds among `objects`, with the attribute that renders them.
fn needed(objects: &[Object]) -> Vec<(ForeignKind, &'static str)> {
    if objects
        .iter()
        .any(|o| matches!(o, Object::ServiceMonitor(_)))
    {
        vec![(SERVICE_MONITOR, "service_monitor")]
    } else {
        Vec::new()
    }
}

/// Whether the cluster serves `kind` (`None`: the cluster could not say).
async fn served(
    cluster: &dyn ClusterApi,
    namespace: &str,
    owner: &str,
    kind: ForeignKind,
    context: &Context,
) -> Option<bool> {
    let selection = Selection {
        kind,
        selector: LabelSelector {
            match_labels: std::iter::once((
                thanos_render::meta::PART_OF.to_owned(),
                owner.to_owned(),
            ))
            .collect(),
            match_expressions: Vec::new(),
        },
        namespace_selector: None,
    };
    match cluster.select(namespace, &selection, &context.cancel).await {
        Ok(found) => Some(found.is_some()),
        Err(e) => {
            tracing::debug!(kind = kind.kind, error = %e, "cannot tell whether the cluster serves the kind");
            None
        }
    }
}

fn unserved<K: Kind>(kind: ForeignKind, attribute: &str, warning: bool) -> Diagnostic {
    let summary = format!(
        "The cluster does not serve {} ({})",
        kind.kind,
        kind.api_version()
    );
    let detail = format!(
        "{attribute} renders {kind}s for this {ty}, and the cluster has no CustomResourceDefinition for them. Install prometheus-operator (for example with the kube-prometheus-stack Helm chart) or only its CustomResourceDefinitions (the prometheus-operator-crds Helm chart, or example/prometheus-operator-crd/ of the prometheus-operator repository), or remove the {attribute} block (or set enabled = false).{after}",
        kind = kind.kind,
        ty = K::TYPE_NAME,
        after = if warning {
            " The apply checks again before it writes anything."
        } else {
            " Nothing was applied."
        }
    );
    let d = if warning {
        Diagnostic::warning(summary, detail)
    } else {
        Diagnostic::error(summary, detail)
    };
    d.at(attribute_path(&Path::root().attr(attribute).0))
}

/// At plan: a warning per needed kind the cluster does not serve; nothing when the cluster is
/// not configured or cannot be asked.
pub async fn plan_warnings<K: Kind>(
    env: &Env,
    namespace: &str,
    owner: &str,
    objects: &[Object],
    context: &Context,
) -> Diagnostics {
    let mut out = Diagnostics::new();
    let needed = needed(objects);
    if needed.is_empty() || !env.clusters.is_configured() {
        return out;
    }
    let Ok(cluster) = env.clusters.cluster().await else {
        return out;
    };
    for (kind, attribute) in needed {
        if served(cluster.as_ref(), namespace, owner, kind, context).await == Some(false) {
            out.push(unserved::<K>(kind, attribute, true));
        }
    }
    out
}

/// At apply, before anything is written: an error for the first needed kind the cluster does
/// not serve. A cluster that cannot say lets the apply go on (its own errors will tell).
pub async fn check_apply<K: Kind>(
    cluster: &dyn ClusterApi,
    namespace: &str,
    owner: &str,
    objects: &[Object],
    context: &Context,
) -> Result<(), Diagnostic> {
    for (kind, attribute) in needed(objects) {
        if served(cluster, namespace, owner, kind, context).await == Some(false) {
            return Err(unserved::<K>(kind, attribute, false));
        }
    }
    Ok(())
}
