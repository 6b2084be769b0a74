//! After an apply: workloads that load a changed file in place (a router's `hashrings.json`,
//! `router.hashrings_reload = "in_place"`) are waited for until every pod runs it; when that
//! cannot be seen, their pods are restarted, so the apply still ends with the file loaded.

use std::collections::BTreeMap;
use std::time::Duration;

use tfplugin::framework::{Context, Diagnostic, Diagnostics};
use thanos_cluster::{ObjectKey, RingLoad, WaitOptions};
use thanos_render::Object;

use super::{failure, objects, settings::Objects};
use crate::cluster::ClusterApi;

/// A workload whose pods re-read a mounted file rather than roll when it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InPlace {
    /// The Deployment.
    pub workload: ObjectKey,
    /// Labels of its pods.
    pub pod_labels: BTreeMap<String, String>,
    /// The port that serves their metrics.
    pub metrics_port: i32,
    /// The ConfigMap (by `objects` key, `ConfigMap/<name>`) and its key holding the file.
    pub config_map: String,
    pub file: &'static str,
}

/// Waits for each of `reloads` whose file this apply changed (its hash differs from `prior`;
/// on a create the pods start with it), or restarts its pods. Returns warnings (a restart, and
/// why the load could not be seen); an error when the pods never loaded the file.
pub async fn after_apply(
    cluster: &dyn ClusterApi,
    reloads: &[InPlace],
    written: &[Object],
    prior: &Objects,
    timeout: Duration,
    context: &Context,
) -> Result<Diagnostics, Diagnostic> {
    let mut warnings = Diagnostics::new();
    for reload in reloads {
        let Some(Object::ConfigMap(cm)) = written
            .iter()
            .find(|o| objects::key(o) == reload.config_map)
        else {
            continue;
        };
        let changed = prior
            .get(&reload.config_map)
            .is_some_and(|before| *before != objects::hash(&Object::ConfigMap(cm.clone())));
        let content = cm.data.as_ref().and_then(|d| d.get(reload.file));
        let (true, Some(content)) = (changed, content) else {
            continue;
        };
        let what = format!("{}/{}", reload.workload.namespace, reload.workload.name);
        tracing::info!(workload = %what, "waiting for the pods to load the new {}", reload.file);
        let load = cluster
            .wait_ring_loaded(
                &reload.workload.namespace,
                &reload.pod_labels,
                reload.metrics_port,
                content,
                timeout,
                &context.cancel,
            )
            .await
            .map_err(|e| {
                failure(
                    format!("The pods of {what} did not load the new {}", reload.file),
                    e,
                )
            })?;
        let RingLoad::Unobservable(why) = load else {
            continue;
        };
        tracing::info!(workload = %what, reason = %why, "restarting the pods to load the new file");
        cluster
            .restart_deployment(&reload.workload, &context.cancel)
            .await
            .map_err(|e| failure(format!("Failed to restart {what}"), e))?;
        let options = WaitOptions {
            timeout,
            ..WaitOptions::default()
        };
        cluster
            .wait_for_rollout(
                std::slice::from_ref(&reload.workload),
                options,
                &context.cancel,
            )
            .await
            .map_err(|e| {
                failure(
                    format!("Failed to restart {what}: the rollout did not finish"),
                    e,
                )
            })?;
        warnings.push(Diagnostic::warning(
            format!("Restarted {what} to load the new {}", reload.file),
            format!(
                "The pods reload the file in place (hashrings_reload = \"in_place\"), but whether they had could not be read: {why}. They were restarted instead, so they run it now. Grant the provider's credentials get on pods/proxy in this namespace so the next change needs no restart, or set hashrings_reload = \"restart\" to always restart."
            ),
        ));
    }
    Ok(warnings)
}
