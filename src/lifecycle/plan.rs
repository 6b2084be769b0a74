//! Planning: everything the configuration decides, rendered offline. When the cluster can be
//! reached, selector hashrings show their members and selected objects of other tools (a
//! ruler's PrometheusRules) their contents. The object list is recomputed on every plan
//! (never kept from state), so drift recorded by a refresh shows as a change to repair.

use tfplugin::framework::{
    Block, Context, Diagnostic, Diagnostics, Input, Model, PlanRequest, PlanResponse, Schema,
};
use tfvalue::Value;
use thanos_render::Object;
use thanos_render::receive::Discovered;
use thanos_render::validate::Report;

use super::discover::{self, Need};
use super::seen::Seen;
use super::{
    Env, Kind, decode, decode_planned, decode_stored, diagnostics, hold, identity, objects,
    preflight, record, served,
};

/// Plans a create or an update.
pub async fn plan<K: Kind>(
    env: &Env,
    schema: &Schema,
    context: &Context,
    mut request: PlanRequest,
) -> PlanResponse {
    let mut model = match decode_planned::<K>(schema, &request.planned, &request.config) {
        Ok(m) => m,
        Err(diagnostics) => return unchanged(request, diagnostics),
    };
    let mut diags = Diagnostics::new();
    let prior = request
        .prior_state
        .as_ref()
        .and_then(|p| decode::<K>(p).ok());
    if let Ok(config) = decode::<K>(&request.config) {
        diags.extend(diagnostics(
            &K::settle(&mut model, &config, prior.as_ref()),
            true,
        ));
        // Everything below (the record among the objects) sees the settled value.
        write_attributes(&model, K::SETTLED, &mut request.planned);
    }
    let mut report = Report::default();
    let spec = K::validate(&model, &mut report);
    if !report.0.is_empty() {
        return unchanged(request, diagnostics(&report.0, false));
    }
    // When the cluster is reachable, what the configuration needs from it (TLS Secrets).
    if let Some(spec) = &spec {
        let found = preflight::run::<K>(env, spec, context).await;
        if !found.errors.is_empty() {
            return unchanged(request, diagnostics(&found.errors, false));
        }
        diags.extend(diagnostics(&found.warnings, true));
    }
    let identity = identity::<K>(&model);
    if let Some((name, namespace)) = &identity {
        K::lifecycle_mut(&mut model).id = Input::Known(format!("{namespace}/{name}"));
    }
    // When the cluster is reachable, the objects the configuration selects there (a ruler's
    // PrometheusRules) are read into the model, and the spec is built again from them.
    let mut spec = spec;
    if let Some((_, namespace)) = &identity {
        match discover::selected::<K>(env, &mut model, namespace, context, Need::BestEffort).await {
            Ok(selected) => {
                diags.extend(selected.diagnostics);
                if selected.read {
                    spec = K::validate(&model, &mut Report::default());
                }
            }
            Err(d) => diags.push(d),
        }
    }
    // When the cluster is reachable, selector rings show their members.
    let discovered = match &identity {
        Some((_, namespace)) => {
            discover::rings::<K>(env, &model, namespace, context, Need::BestEffort)
                .await
                .unwrap_or_default()
        }
        None => Discovered::new(),
    };
    K::set_computed(&mut model, &discovered);
    diags.extend(diagnostics(
        &K::warnings(&model, prior.as_ref(), &discovered),
        true,
    ));
    // When the cluster is reachable, pods that rings of other resources still list are kept.
    let mut private = Seen::decode(&request.prior_private);
    let prior_held = private.held();
    let mut held = None;
    if let (Some(spec), Some(leaving)) = (
        spec.as_mut(),
        K::leaving(&model, prior.as_ref(), prior_held),
    ) {
        let (decision, unread) = hold::plan(env, &leaving, context).await;
        diags.extend(unread);
        diags.extend(diagnostics(
            &hold::warning(&decision, &leaving, prior_held)
                .into_iter()
                .collect::<Vec<_>>(),
            true,
        ));
        held = decision.held();
        if let Some(size) = held {
            K::hold(spec, size);
        }
    }
    private.set_held(held);
    let objects = match &spec {
        Some(spec) => match desired::<K>(env, schema, spec, &request.planned, &discovered) {
            Ok(Some(objects)) => {
                if let Some(before) = prior_objects::<K>(
                    env,
                    schema,
                    request.prior_state.as_ref(),
                    prior_held,
                    &discovered,
                ) {
                    for warning in objects::statefulset_replacements(&before, &objects) {
                        diags.push(warning);
                    }
                    if let Some((name, namespace)) = &identity
                        && let Some(warning) = objects::changes(
                            (K::TYPE_NAME, K::OWNER),
                            (name, namespace),
                            &before,
                            &objects,
                        )
                    {
                        diags.push(warning);
                    }
                }
                if let Some((name, namespace)) = &identity {
                    let owner = thanos_render::meta::part_of(K::OWNER, name);
                    diags.extend(
                        served::plan_warnings::<K>(env, namespace, &owner, &objects, context).await,
                    );
                }
                Input::Known(objects::entries(&objects))
            }
            Ok(None) => Input::Unknown,
            Err(d) => {
                diags.extend(d);
                Input::Unknown
            }
        },
        None => Input::Unknown,
    };
    K::lifecycle_mut(&mut model).objects = objects;
    let mut planned = request.planned;
    write_computed(&schema.block, &model, &mut planned);
    PlanResponse {
        planned,
        diagnostics: diags,
        requires_replace: Vec::new(),
        private: private.encode(),
        deferred: None,
    }
}

fn unchanged(request: PlanRequest, diagnostics: Diagnostics) -> PlanResponse {
    PlanResponse {
        diagnostics,
        ..PlanResponse::unchanged(request)
    }
}

/// Every object of a validated configuration: the rendered stack and the record. `Ok(None)`
/// when a hashring selects members not discovered yet (known after apply).
pub fn desired<K: Kind>(
    env: &Env,
    schema: &Schema,
    spec: &K::Spec,
    state: &Value,
    discovered: &Discovered,
) -> Result<Option<Vec<Object>>, Diagnostics> {
    let mut objects = match K::render(spec, &env.render, discovered) {
        Ok(rendered) => rendered.objects,
        Err(thanos_render::Error::Undiscovered { .. }) => return Ok(None),
        Err(thanos_render::Error::Invalid(findings)) => return Err(diagnostics(&findings, false)),
        // Validation accepted the spec, so anything else is ours to fix.
        Err(e) => {
            return Err(Diagnostic::internal(format!("Cannot render {}", K::TYPE_NAME), e).into());
        }
    };
    let common = K::spec_common(spec);
    objects.extend(record::object(
        K::OWNER,
        &schema.block,
        state,
        &common.namespace,
        &common.name,
    ));
    Ok(Some(objects))
}

/// The objects the prior state renders to, to compare with the new ones: with the ring members
/// it records as applied (so a ring's change shows), else with those discovered now, and held
/// as the last apply held it.
fn prior_objects<K: Kind>(
    env: &Env,
    schema: &Schema,
    prior: Option<&Value>,
    held: Option<i32>,
    discovered: &Discovered,
) -> Option<Vec<Object>> {
    let prior = prior?;
    let model = decode_stored::<K>(schema, prior).ok()?;
    let mut spec = K::validate(&model, &mut Report::default())?;
    if let Some(size) = held {
        K::hold(&mut spec, size);
    }
    let applied = K::applied_rings(&model);
    desired::<K>(
        env,
        schema,
        &spec,
        prior,
        applied.as_ref().unwrap_or(discovered),
    )
    .ok()?
}

/// Writes the named attributes of `model` into `value`.
fn write_attributes<M: Model>(model: &M, names: &[&str], value: &mut Value) {
    let encoded = model.to_value();
    for name in names {
        if let (Some(slot), Some(v)) = (value.get_attr_mut(name), encoded.get_attr(name)) {
            *slot = v.clone();
        }
    }
}

/// Writes the computed attributes of `model` into `value` (the rest of `value`, the
/// configuration as the framework planned it, stays exactly as it is).
pub fn write_computed<M: Model>(block: &Block, model: &M, value: &mut Value) {
    let encoded = model.to_value();
    for attribute in &block.attributes {
        if attribute.presence != tfplugin::framework::Presence::Computed {
            continue;
        }
        if let (Some(slot), Some(v)) = (
            value.get_attr_mut(&attribute.name),
            encoded.get_attr(&attribute.name),
        ) {
            *slot = v.clone();
        }
    }
}
