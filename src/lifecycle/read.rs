//! Refresh: what exists of the resource now. An object that is missing or changed out of band
//! shows in `objects`, so the next plan says which objects it repairs; when nothing the
//! resource created is left, it is gone and Terraform plans a create. What exists is learnt
//! from listings shared by the resources of a namespace (`thanos_cluster::listing`: versions
//! and content digests, not objects); objects nobody changed (beyond their status) since the
//! provider last knew them in sync are not judged again (see [`super::seen`]), and only the
//! others are read in full.

use std::collections::HashMap;

use tfplugin::framework::{
    Context, Diagnostic, Diagnostics, Input, ReadRequest, ReadResponse, Schema,
};
use tfvalue::Value;
use thanos_cluster::{Drift, Listed, LiveObject, ObjectKey};
use thanos_render::Object;
use thanos_render::validate::Report;

use super::discover::{self, Need};
use super::plan::{desired, write_computed};
use super::seen::Seen;
use super::{Env, Kind, decode_stored, failure, identity, objects, owner};
use crate::cluster::ClusterApi;

pub async fn read<K: Kind>(
    env: &Env,
    schema: &Schema,
    context: &Context,
    request: ReadRequest,
) -> ReadResponse {
    let unchanged = |state: Value, private: Vec<u8>, diagnostics: Diagnostics| ReadResponse {
        state: Some(state),
        private,
        diagnostics,
        deferred: None,
    };
    let state = request.state;
    let mut model = match decode_stored::<K>(schema, &state) {
        Ok(m) => m,
        Err(d) => return unchanged(state, request.private, d),
    };
    let (Some(owner), Some((name, namespace))) = (owner::<K>(&model), identity::<K>(&model)) else {
        return unchanged(state, request.private, Diagnostics::new());
    };
    let cluster = match env.clusters.cluster().await {
        Ok(c) => c,
        Err(message) => {
            let d = Diagnostic::warning(
                format!("Could not refresh {} {namespace}/{name}", K::TYPE_NAME),
                format!(
                    "The cluster could not be reached, so drift is not checked and the state is used as it is: {message}"
                ),
            );
            return unchanged(state, request.private, d.into());
        }
    };
    // What the state renders (when it renders): the objects to judge, and so the kinds to list.
    let known = Seen::decode(&request.private);
    let rendered = render_state::<K>(
        env,
        schema,
        context,
        &mut model,
        &state,
        (&namespace, &name),
        known.held(),
    )
    .await;
    let kinds: Vec<&str> = match &rendered {
        Some(desired) => {
            let mut kinds: Vec<&str> = desired.iter().map(|o| o.kind()).collect();
            kinds.sort_unstable();
            kinds.dedup();
            kinds
        }
        None => thanos_cluster::kinds::OWNED_KINDS.to_vec(),
    };
    let listed = match cluster.listed(&owner, &kinds, &context.cancel).await {
        Ok(l) => l,
        Err(e) => {
            let d = refresh_failure(format!("Failed to read {}", K::TYPE_NAME), e);
            return unchanged(state, request.private, d);
        }
    };
    // Everything this resource created is gone (claims may be kept on purpose): plan a create.
    if listed.iter().all(|o| o.key.kind == "PersistentVolumeClaim") {
        return ReadResponse {
            state: None,
            private: request.private,
            diagnostics: Diagnostics::new(),
            deferred: None,
        };
    }
    // Not renderable as recorded, or with what is discoverable now: keep the state as it is.
    let Some(desired) = rendered else {
        return unchanged(state, request.private, Diagnostics::new());
    };
    // Objects nobody changed since they were last known to hold their rendering are in sync;
    // only the others are read in full and judged by the server (see `seen`).
    let found: HashMap<&ObjectKey, &Listed> = listed.iter().map(|o| (&o.key, o)).collect();
    let listed_of = |object: &Object| found.get(&ObjectKey::of(object)).copied();
    let untouched: Vec<bool> = desired
        .iter()
        .map(|o| listed_of(o).is_some_and(|l| known.unchanged(o, l)))
        .collect();
    let judge: Vec<Object> = desired
        .iter()
        .zip(&untouched)
        .filter(|(_, untouched)| !**untouched)
        .map(|(o, _)| o.clone())
        .collect();
    let live = match read_to_judge(cluster.as_ref(), &owner, &judge, context).await {
        Ok(l) => l,
        Err(e) => {
            let d = refresh_failure(format!("Failed to read {}", K::TYPE_NAME), e);
            return unchanged(state, request.private, d);
        }
    };
    let judged = match cluster.drift_known(&judge, &live, &context.cancel).await {
        Ok(d) => d,
        Err(e) => {
            let d = refresh_failure(format!("Failed to check {} for drift", K::TYPE_NAME), e);
            return unchanged(state, request.private, d);
        }
    };
    tracing::debug!(
        resource = %format!("{namespace}/{name}"),
        unchanged = desired.len() - judge.len(),
        judged = judge.len(),
        "refresh"
    );
    // What was judged is recorded as it was read for the judgement.
    let read: HashMap<&ObjectKey, Listed> = live.iter().map(|o| (&o.key, o.listed())).collect();
    // In the order of `desired`: untouched objects in sync, the others as judged (in order).
    let mut judged = judged.into_iter().map(|(_, d)| d);
    let mut seen = Seen::default();
    seen.set_held(known.held());
    let mut drift = Vec::with_capacity(desired.len());
    for (object, untouched) in desired.iter().zip(untouched) {
        let (d, as_seen) = if untouched {
            (Drift::InSync, listed_of(object))
        } else {
            let d = judged.next().unwrap_or(Drift::Missing);
            (d, read.get(&ObjectKey::of(object)))
        };
        if let (true, Some(as_seen)) = (d.is_in_sync(), as_seen) {
            seen.record(object, as_seen);
        }
        drift.push(d);
    }
    K::lifecycle_mut(&mut model).objects = Input::Known(objects::refreshed(&desired, &drift));
    let mut new_state = state;
    write_computed(&schema.block, &model, &mut new_state);
    unchanged(new_state, seen.encode(), Diagnostics::new())
}

/// The objects to judge, read in full: one LIST per kind among them (an object not found is
/// read alone by the drift check, `Cluster::drift_known`). Nothing when nothing is judged.
async fn read_to_judge(
    cluster: &dyn ClusterApi,
    owner: &thanos_cluster::Owner,
    judge: &[Object],
    context: &Context,
) -> Result<Vec<LiveObject>, thanos_cluster::Error> {
    if judge.is_empty() {
        return Ok(Vec::new());
    }
    let mut kinds: Vec<&str> = judge.iter().map(|o| o.kind()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    cluster
        .inventory_kinds(owner, &kinds, &context.cancel)
        .await
}

/// The objects the recorded state renders, with `model` completed as a refreshed state is
/// (`id`, computed values), its workload held as the last apply held it (`held`); `None` when
/// it does not render (invalid as recorded, or rings not discoverable now).
async fn render_state<K: Kind>(
    env: &Env,
    schema: &Schema,
    context: &Context,
    model: &mut K::Model,
    state: &Value,
    (namespace, name): (&str, &str),
    held: Option<i32>,
) -> Option<Vec<thanos_render::Object>> {
    // A state without the selection it applied (an import) reads it now.
    if !K::selection_recorded(model) {
        let _ = discover::selected::<K>(env, model, namespace, context, Need::BestEffort).await;
    }
    let mut spec = K::validate(model, &mut Report::default())?;
    if let Some(size) = held {
        K::hold(&mut spec, size);
    }
    // Drift is judged against the rings as applied (recorded in state), so a membership change
    // is not mistaken for an edit: the next plan discovers the current members and shows them
    // joining or leaving. Only a state without rings (an import) discovers now.
    let discovered = match K::applied_rings(model) {
        Some(rings) => rings,
        None => discover::rings::<K>(env, model, namespace, context, Need::BestEffort)
            .await
            .unwrap_or_default(),
    };
    // A complete state, also after an import (whose record holds only configuration).
    K::lifecycle_mut(model).id = Input::Known(format!("{namespace}/{name}"));
    K::set_computed(model, &discovered);
    desired::<K>(env, schema, &spec, state, &discovered)
        .ok()
        .flatten()
}

/// A refresh that could not talk to the cluster. An unreachable API server is a warning (the
/// recorded state is used, so planning keeps working offline, as the contract promises); any
/// other failure (forbidden, invalid credentials) is an error the user must fix.
fn refresh_failure(summary: String, error: thanos_cluster::Error) -> Diagnostics {
    if matches!(error, thanos_cluster::Error::Unreachable { .. }) {
        Diagnostic::warning(
            summary,
            format!(
                "{error}\n\nThe recorded state is used as it is: drift is not checked until the cluster can be reached."
            ),
        )
        .into()
    } else {
        failure(summary, error).into()
    }
}
