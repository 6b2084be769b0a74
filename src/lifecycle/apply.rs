//! Create and update: render from the plan, server-side apply every object and the record,
//! delete owned objects no longer rendered, and wait for the rollout (and, for ingestors, until
//! routers can discover them). Discovered rings and selected objects must still be the ones
//! the plan showed.

use std::time::Duration;

use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Context, Diagnostic, Diagnostics, Input, Schema,
};
use tfvalue::Value;
use thanos_cluster::{ApplyOptions, ObjectKey, PvcPolicy, WaitOptions};
use thanos_render::Object;
use thanos_render::common::LabelSelector;
use thanos_render::validate::Report;

use super::discover::{self, Need};
use super::plan::{desired, write_computed};
use super::seen::Seen;
use super::{
    Env, Kind, decode, decode_planned, diagnostics, failure, hold, identity, objects, owner,
    reload, served,
};
use crate::cluster::ClusterApi;

/// How long a create or update waits at most when `timeouts` says nothing.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

pub async fn apply<K: Kind>(
    env: &Env,
    schema: &Schema,
    context: &Context,
    request: ApplyRequest,
    action: &str,
) -> ApplyResponse {
    let respond = |state: Option<Value>, d: Diagnostics| ApplyResponse {
        state,
        private: Vec::new(),
        diagnostics: d,
    };
    let prior = request.prior_state;
    let planned = request.planned;
    // What the last apply or refresh knew of each object; passed through the plan.
    let prior_seen = Seen::decode(&request.planned_private);
    let model = match decode_planned::<K>(schema, &planned, &request.config) {
        Ok(m) => m,
        Err(d) => return respond(prior, d),
    };
    let (Some(owner), Some((name, namespace))) = (owner::<K>(&model), identity::<K>(&model)) else {
        return respond(
            prior,
            Diagnostic::error(
                "Invalid plan",
                "name and namespace must be known at apply time",
            )
            .into(),
        );
    };
    let mut report = Report::default();
    let spec = K::validate(&model, &mut report);
    if !report.0.is_empty() {
        return respond(prior, diagnostics(&report.0, false));
    }
    let cluster = match env.clusters.cluster_for_changes().await {
        Ok(c) => c,
        Err(message) => {
            return respond(
                prior,
                Diagnostic::error(
                    format!(
                        "Cannot {action} {}: no usable Kubernetes cluster",
                        K::TYPE_NAME
                    ),
                    message,
                )
                .into(),
            );
        }
    };
    // The plan showed these computed values (selected objects, ring members): they are
    // decided again now, and never applied when they differ.
    let mut applied = model.clone();
    let selected =
        match discover::selected::<K>(env, &mut applied, &namespace, context, Need::Required).await
        {
            Ok(s) => s,
            Err(d) => return respond(prior, d.into()),
        };
    let spec = if selected.read {
        K::validate(&applied, &mut Report::default())
    } else {
        spec
    };
    let Some(mut spec) = spec else {
        return respond(
            prior,
            Diagnostic::error(
                "Invalid plan",
                "Some values of the configuration are still unknown at apply time. This is a bug in the provider or in Terraform; please report it.",
            )
            .into(),
        );
    };
    let discovered =
        match discover::rings::<K>(env, &model, &namespace, context, Need::Required).await {
            Ok(d) => d,
            Err(d) => return respond(prior, d.into()),
        };
    K::set_computed(&mut applied, &discovered);
    if let Err(d) = K::plan_still_holds(&model, &applied) {
        return respond(prior, d.into());
    }
    // Pods the plan kept for rings of other resources stay kept; a ring that lists more of
    // them now than the plan knew stops the apply (see `hold`).
    let held = prior_seen.held();
    let mut warnings = Diagnostics::new();
    let prior_model = prior.as_ref().and_then(|p| decode::<K>(p).ok());
    if let Some(leaving) = K::leaving(&model, prior_model.as_ref(), held) {
        match hold::decide(cluster.as_ref(), &leaving, &context.cancel).await {
            Ok(now) => {
                if let Err(d) = hold::check_apply(&now, held, &leaving) {
                    return respond(prior, d.into());
                }
            }
            Err(e) => warnings.push(hold::unchecked(&leaving, &e)),
        }
    }
    if let Some(size) = held {
        K::hold(&mut spec, size);
    }
    let objects = match desired::<K>(env, schema, &spec, &planned, &discovered) {
        Ok(Some(o)) => o,
        // Apply discovers every selector ring (an empty one included), so this is a bug.
        Ok(None) => {
            return respond(
                prior,
                Diagnostic::error(
                    format!("Cannot render {}", K::TYPE_NAME),
                    "A hashring's members were not discovered at apply time. This is a bug in the provider; please report it.",
                )
                .into(),
            );
        }
        Err(d) => return respond(prior, d),
    };
    // Kinds of other tools (ServiceMonitor) must be served before anything is written.
    if let Err(d) = served::check_apply::<K>(
        cluster.as_ref(),
        &namespace,
        &owner.part_of,
        &objects,
        context,
    )
    .await
    {
        return respond(prior, d.into());
    }
    K::lifecycle_mut(&mut applied).objects = Input::Known(objects::entries(&objects));
    let mut state = planned.clone();
    write_computed(&schema.block, &applied, &mut state);

    // After a failure part of the stack may exist: return the state so Terraform records it
    // (a create is then tainted) and a destroy cleans it up. A server that never answered
    // this process received no write: Terraform keeps what it had (a create records nothing,
    // so the next plan is the same create, not the replacement of a resource that never was).
    let partial = |d: Diagnostic| {
        if cluster.has_answered() {
            respond(Some(state.clone()), d.into())
        } else {
            respond(prior.clone(), d.into())
        }
    };
    let common = K::lifecycle(&model);
    let options = ApplyOptions {
        force_conflicts: common.force_conflicts.known().copied().unwrap_or(false),
        adopt_existing: common.adopt_existing.known().copied().unwrap_or(false),
    };
    let summary = format!("Failed to {action} {} {namespace}/{name}", K::TYPE_NAME);
    // Objects the refresh found changed out of band are the ones the plan said it will set
    // back: for those, fields another manager took over are taken back. Any other conflict
    // stops the apply (e.g. a field an autoscaler owns).
    let repairs = prior_model
        .as_ref()
        .map(|m| objects::drifted(&K::lifecycle(m).objects))
        .unwrap_or_default();
    let prior_entries = prior_model
        .as_ref()
        .and_then(|m| K::lifecycle(m).objects.known().cloned())
        .unwrap_or_default();
    let timeout = K::lifecycle(&model).timeout(action, DEFAULT_TIMEOUT);
    let wait = common.wait_for_rollout.known().copied().unwrap_or(true);
    // An ordered change first applies, and waits for, the step its kind names.
    if let Some((step, what)) = K::interim(&spec, prior_model.as_ref(), &discovered) {
        tracing::info!(step = %what, "{action} {namespace}/{name}: first step");
        let step_objects = match desired::<K>(env, schema, &step, &planned, &discovered) {
            Ok(Some(o)) => o,
            Ok(None) => {
                return respond(
                    prior.clone(),
                    Diagnostic::error(
                        format!("{summary}: {what}"),
                        "A hashring's members were not discovered for the first step. This is a bug in the provider; please report it.",
                    )
                    .into(),
                );
            }
            Err(d) => return respond(prior.clone(), d),
        };
        if let Err(e) = write_objects(
            cluster.as_ref(),
            &step_objects,
            options,
            &repairs,
            &prior_entries,
            &prior_seen,
            None,
            context,
        )
        .await
        {
            return partial(failure(format!("{summary}: {what}"), e));
        }
        if wait {
            let keys: Vec<ObjectKey> = step_objects.iter().map(ObjectKey::of).collect();
            let options = WaitOptions {
                timeout,
                ..WaitOptions::default()
            };
            if let Err(e) = cluster
                .wait_for_rollout(&keys, options, &context.cancel)
                .await
            {
                return partial(failure(
                    format!("{summary}: {what}: the rollout did not finish"),
                    e,
                ));
            }
        }
        tracing::info!(step = %what, "{action} {namespace}/{name}: first step done");
    }
    // What the resource owns is learnt with the writes (see `Cluster::prune_listed`): the
    // prune after them then starts deleting at once.
    let (mut seen, written, owned) = match write_objects(
        cluster.as_ref(),
        &objects,
        options,
        &repairs,
        &prior_entries,
        &prior_seen,
        Some(&owner),
        context,
    )
    .await
    {
        Ok(done) => done,
        Err(e) => return partial(failure(summary, e)),
    };
    let keep: Vec<ObjectKey> = objects.iter().map(ObjectKey::of).collect();
    let pruned = match owned {
        Ok(owned) => {
            cluster
                .prune_listed(
                    &owner,
                    &owned,
                    &keep,
                    PvcPolicy::Retain,
                    timeout,
                    &context.cancel,
                )
                .await
        }
        Err(e) => Err(e),
    };
    if let Err(e) = pruned {
        return partial(failure(
            format!("{summary}: removing objects no longer rendered"),
            e,
        ));
    }
    if wait {
        let options = WaitOptions {
            timeout,
            ..WaitOptions::default()
        };
        tracing::info!("{action} {namespace}/{name}: waiting for the rollout");
        let rolled_out = match cluster
            .wait_for_rollout(&keep, options, &context.cancel)
            .await
        {
            Ok(rolled_out) => rolled_out,
            Err(e) => return partial(failure(format!("{summary}: the rollout did not finish"), e)),
        };
        match reload::after_apply(
            cluster.as_ref(),
            &K::in_place_reloads(&spec),
            &objects,
            &prior_entries,
            timeout,
            context,
        )
        .await
        {
            Ok(restarted) => warnings.extend(restarted),
            Err(d) => return partial(d),
        }
        let expected = K::published_endpoints(&model);
        if !expected.is_empty()
            && let Err(detail) = wait_until_discoverable::<K>(
                cluster.as_ref(),
                &namespace,
                &name,
                &expected,
                timeout,
                context,
            )
            .await
        {
            return partial(Diagnostic::error(summary, detail));
        }
        record_rolled_out(&written, &rolled_out, &objects, &mut seen);
    }
    seen.set_held(held);
    let mut diagnostics = selected.diagnostics;
    diagnostics.extend(warnings);
    ApplyResponse {
        state: Some(state),
        private: seen.encode(),
        diagnostics,
    }
}

/// What [`write_objects`] returns: what the provider now knows of each object, the objects as
/// written, and the keys of what the owner owned before the writes (none without an owner).
type Written = (
    Seen,
    Vec<thanos_cluster::LiveObject>,
    Result<Vec<ObjectKey>, thanos_cluster::Error>,
);

/// Server-side applies `objects` (in the cluster's order: see `Cluster::apply_objects`): an
/// owned Secret whose write-only values did not change is left alone, and fields of an object
/// a refresh found drifted are taken back. Returns what the provider now knows of each object
/// (see [`Seen`]): the versions the writes got back, and for a Secret left alone what `prior`
/// knew of it; with an `owner`, also what it owned before the writes, for the prune
/// (`ClusterApi::apply_objects_listing_owned`).
#[allow(clippy::too_many_arguments)]
async fn write_objects(
    cluster: &dyn ClusterApi,
    objects: &[Object],
    options: ApplyOptions,
    repairs: &[(String, String)],
    prior_entries: &super::settings::Objects,
    prior: &Seen,
    owner: Option<&thanos_cluster::Owner>,
    context: &Context,
) -> Result<Written, thanos_cluster::Error> {
    let mut seen = Seen::default();
    let mut writes = Vec::with_capacity(objects.len());
    for object in objects {
        if objects::write_only_unchanged(cluster, object, prior_entries, context).await? {
            seen.carry(prior, object);
            continue;
        }
        let mut options = options;
        if repairs.contains(&(object.kind().to_string(), object.name().to_string())) {
            options.force_conflicts = true;
        }
        writes.push((object, options));
    }
    let (written, owned) = match owner {
        Some(owner) => {
            cluster
                .apply_objects_listing_owned(&writes, owner, &context.cancel)
                .await?
        }
        None => (
            cluster.apply_objects(&writes, &context.cancel).await?,
            Ok(Vec::new()),
        ),
    };
    for ((object, _), live) in writes.iter().zip(&written) {
        seen.record(object, &live.listed());
    }
    Ok((seen, written, owned))
}

/// After the rollout: the workloads as the wait last saw them, rolled out, when nothing they
/// were written with changed (the same `generation`, which every change of their spec raises,
/// and the labels and annotations they were rendered with), so the next refresh need not
/// judge them. The deployment controller annotates a Deployment with its revision after the
/// write: that annotation is its own and no drift, but it changes the content digest `Seen`
/// recorded from the write's answer (`thanos_cluster::drift::content_digest`); status writes
/// alone (a rollout) leave the digest as it was. The wait's own reads and watch events carry
/// the workloads, so this costs no request.
fn record_rolled_out(
    written: &[thanos_cluster::LiveObject],
    rolled_out: &[thanos_cluster::LiveObject],
    rendered: &[Object],
    seen: &mut Seen,
) {
    for live in rolled_out {
        let (Some(then), Some(object)) = (
            written.iter().find(|w| w.key == live.key),
            rendered.iter().find(|o| ObjectKey::of(o) == live.key),
        ) else {
            continue;
        };
        let same_generation =
            then.json.pointer("/metadata/generation") == live.json.pointer("/metadata/generation");
        if same_generation && keeps_rendered_metadata(object, &live.json) {
            seen.record(object, &live.listed());
        }
    }
}

/// Whether `live` still has every label and annotation `object` is rendered with, at its value.
fn keeps_rendered_metadata(object: &Object, live: &serde_json::Value) -> bool {
    let rendered = object.to_json();
    ["labels", "annotations"].iter().all(|field| {
        let ours = rendered
            .pointer(&format!("/metadata/{field}"))
            .and_then(serde_json::Value::as_object);
        let theirs = live.pointer(&format!("/metadata/{field}"));
        ours.into_iter()
            .flatten()
            .all(|(k, v)| theirs.and_then(|t| t.get(k)) == Some(v))
    })
}

/// Waits until discovery through this resource's own labels returns exactly `expected`.
///
/// Pods are Ready before the EndpointSlice controller publishes them, so a ring applied right
/// after its ingestors (`depends_on`) could otherwise discover only some of them and write a
/// ring the next plan changes again. An ingestor is applied once it can be discovered under
/// the names its `ingestor_endpoints` promise.
async fn wait_until_discoverable<K: Kind>(
    cluster: &dyn ClusterApi,
    namespace: &str,
    name: &str,
    expected: &[String],
    timeout: Duration,
    context: &Context,
) -> Result<(), String> {
    let selector = LabelSelector {
        match_labels: thanos_render::meta::ownership_labels(K::OWNER, name),
        match_expressions: Vec::new(),
    };
    let mut expected = expected.to_vec();
    expected.sort();
    let waited = cluster
        .wait_for_endpoints(namespace, &selector, &expected, timeout, &context.cancel)
        .await;
    match waited {
        Ok(Ok(())) => Ok(()),
        Ok(Err(found)) => Err(format!(
            "The pods are Ready but only {} of {} ingestor endpoints were published in \
             EndpointSlices within {timeout:?} (found: {}), so routers would discover an \
             incomplete hashring.",
            found.len(),
            expected.len(),
            found.join(", ")
        )),
        Err(thanos_cluster::Error::Cancelled { .. }) => Err("cancelled while waiting for the ingestors' endpoints to be published (Ctrl-C, or the client stopped the provider)".into()),
        Err(e) => Err(e.to_string()),
    }
}
