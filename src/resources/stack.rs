//! What the three resources share: validation through the renderer, planning of every value
//! the configuration decides, and the lifecycle on a cluster:
//!
//! - **plan**: render offline; when the cluster is reachable, discover selector hashrings so the
//!   plan shows their members.
//! - **create/update**: render from the plan, server-side apply every object, delete owned
//!   objects no longer rendered, wait for the rollout. Discovered rings must still match what
//!   the plan showed.
//! - **read**: find what exists; an object that is missing or drifted shows in `objects`, so
//!   the next plan says which objects it repairs. Nothing left at all means the resource is gone.
//! - **delete**: delete every owned object and wait until it is gone; claims follow the
//!   retention the user chose.
//! - **import**: `<namespace>/<name>`; the configuration is read back from the record object
//!   every apply writes, so the plan after an import is empty.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Context, DeleteRequest, Diagnostic, Diagnostics, ImportResponse,
    PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, Schema, ValidateRequest,
};
use tfvalue::{Type, Value};
use thanos_cluster::{ApplyOptions, Cluster, Drift, ObjectKey, Owner, PvcPolicy, WaitOptions};
use thanos_render::meta::Kind;
use thanos_render::{Invalid, Object, RenderContext, Rendered};

use super::model;
use crate::provider::Configured;

/// Discovered hashring members by ring name (receive only).
pub type Discovered = BTreeMap<String, Vec<String>>;

/// Key of the record ConfigMap that holds the resource's configuration (for import).
const RECORD_KEY: &str = "terraform.json";

/// One resource type's connection to the renderer.
pub trait Stack: Send + Sync + 'static {
    type Spec: DeserializeOwned + Send + Sync;
    const TYPE_NAME: &'static str;
    const KIND: Kind;
    /// Computed attributes this resource sets itself (dropped before the spec sees them).
    const COMPUTED: &'static [&'static str];

    fn schema() -> Schema;
    fn validate(spec: &Self::Spec) -> Vec<Invalid>;
    fn render(
        spec: &Self::Spec,
        context: &RenderContext,
        discovered: &Discovered,
    ) -> Result<Rendered, thanos_render::Error>;
    /// Computed attributes known from configuration alone: `(name, value)` for each one that
    /// can be decided now; the others stay unknown.
    fn computed(spec: &Self::Spec, discovered: &Discovered) -> Vec<(&'static str, Value)>;
    /// Warnings that only apply once members are discovered.
    fn warnings(_spec: &Self::Spec, _discovered: &Discovered) -> Vec<Invalid> {
        Vec::new()
    }
    /// Rings whose members are discovered from the cluster (receive only).
    fn selector_rings(_spec: &Self::Spec) -> Vec<thanos_render::receive::Hashring> {
        Vec::new()
    }
    /// The endpoints other resources' hashrings discover for this one once it is applied (a
    /// receive's `ingestor_endpoints`); empty for resources nobody discovers.
    fn published_endpoints(_spec: &Self::Spec) -> Vec<String> {
        Vec::new()
    }
    /// What happens to volume claims when the resource is destroyed.
    fn pvc_policy_on_delete(_state: &Value) -> PvcPolicy {
        PvcPolicy::Retain
    }
}

pub struct StackResource<S: Stack> {
    configured: Arc<RwLock<Configured>>,
    /// The schema's value type, built once (the record and imports encode with it).
    ty: Type,
    _stack: PhantomData<S>,
}

/// What a failed step leaves behind, for a diagnostic.
fn failure(summary: String, error: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::error(summary, error.to_string())
}

impl<S: Stack> StackResource<S> {
    pub fn new(configured: Arc<RwLock<Configured>>) -> Self {
        Self {
            configured,
            ty: S::schema().value_type(),
            _stack: PhantomData,
        }
    }

    fn configured(&self) -> Configured {
        self.configured.read().expect("configured lock").clone()
    }

    fn render_context(&self) -> RenderContext {
        let c = self.configured();
        RenderContext {
            thanos_image: c.thanos_image.clone(),
            envoy_image: c.envoy_image.clone(),
        }
    }

    fn spec(value: &Value) -> Result<(S::Spec, bool), Diagnostic> {
        let json = model::spec_json(value, S::COMPUTED);
        Ok((model::to_spec(json.json)?, json.has_unknown))
    }

    fn owner(state: &Value) -> Option<Owner> {
        let name = state.get_attr("name")?.as_str()?;
        let ns = state.get_attr("namespace")?.as_str()?;
        Some(Owner::new(S::KIND, name, ns))
    }

    /// The connected cluster (a cheap clone of the provider's), or a diagnostic saying what to
    /// configure.
    async fn connected(&self, action: &str) -> Result<Cluster, Diagnostic> {
        let connection = self.configured().connection;
        connection.cluster().await.cloned().map_err(|message| {
            Diagnostic::error(
                format!(
                    "Cannot {action} {}: no usable Kubernetes cluster",
                    S::TYPE_NAME
                ),
                message,
            )
        })
    }

    /// Discovers the members of every selector ring. `Ok(None)`: no cluster to ask (plan
    /// offline). Rings with no member yet are left out, so they plan as "known after apply".
    async fn discover(
        &self,
        spec: &S::Spec,
        namespace: &str,
        context: &Context,
        require_cluster: bool,
    ) -> Result<Discovered, Diagnostic> {
        let rings = S::selector_rings(spec);
        let mut found = Discovered::new();
        if rings.is_empty() {
            return Ok(found);
        }
        let connection = self.configured().connection;
        if !require_cluster && !connection.is_configured() {
            return Ok(found);
        }
        let cluster = match connection.cluster().await {
            Ok(c) => c,
            Err(_) if !require_cluster => return Ok(found),
            Err(message) => {
                return Err(Diagnostic::error(
                    format!("Cannot discover hashring members of {}", S::TYPE_NAME),
                    message,
                ));
            }
        };
        for ring in rings {
            let name = ring.name.clone().unwrap_or_default();
            match cluster
                .discover_ring(namespace, &ring, &context.cancel)
                .await
            {
                Ok(endpoints) if endpoints.is_empty() && !require_cluster => {}
                Ok(endpoints) => {
                    found.insert(name, endpoints);
                }
                Err(e) if !require_cluster => {
                    tracing::warn!(ring = %name, error = %e, "hashring discovery failed; planning the ring as known after apply");
                }
                Err(e) => {
                    return Err(failure(
                        format!("Cannot discover the members of hashring {name:?}"),
                        e,
                    ));
                }
            }
        }
        Ok(found)
    }

    /// Name of the record ConfigMap of resource `name`: written by every apply, read by import.
    fn record_name(name: &str) -> String {
        format!("{}-{name}-terraform", S::KIND.component())
    }

    /// The record object: the resource's configuration (not its computed values), so an import
    /// can rebuild the state exactly.
    fn record(state: &Value, ty: &Type, namespace: &str, name: &str) -> Option<Object> {
        let computed: Vec<&str> = S::COMPUTED
            .iter()
            .copied()
            .chain(["id", "objects"])
            .collect();
        let mut config = state.clone();
        for attr in computed {
            if let Some(slot) = config.get_attr_mut(attr) {
                *slot = Value::Null;
            }
        }
        let json = tfvalue::json::encode(&config, ty).ok()?;
        let mut labels = thanos_render::meta::ownership_labels(S::KIND, name);
        labels.insert(
            thanos_render::meta::COMPONENT.into(),
            S::KIND.component().into(),
        );
        labels.insert(thanos_render::meta::INSTANCE.into(), name.into());
        Some(Object::ConfigMap(k8s_openapi::api::core::v1::ConfigMap {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(Self::record_name(name)),
                namespace: Some(namespace.into()),
                labels: Some(labels),
                annotations: Some(BTreeMap::from([(
                    "thanos.paodin.io/purpose".to_string(),
                    "The Terraform configuration of this resource, read by `terraform import`."
                        .to_string(),
                )])),
                ..Default::default()
            },
            data: Some(BTreeMap::from([(
                RECORD_KEY.to_string(),
                String::from_utf8_lossy(&json).into_owned(),
            )])),
            ..Default::default()
        }))
    }

    /// Every object of a fully known state: the rendered stack and the record. `Ok(None)` when
    /// a hashring selects members that are not in `discovered` yet (known after apply).
    fn desired(
        &self,
        state: &Value,
        discovered: &Discovered,
    ) -> Result<Option<Vec<Object>>, Diagnostic> {
        let (spec, _) = Self::spec(state)?;
        let mut objects = match S::render(&spec, &self.render_context(), discovered) {
            Ok(rendered) => rendered.objects,
            Err(thanos_render::Error::Undiscovered { .. }) => return Ok(None),
            Err(e) => return Err(failure(format!("Cannot render {}", S::TYPE_NAME), e)),
        };
        if let (Some(ns), Some(name)) = (
            state.get_attr("namespace").and_then(Value::as_str),
            state.get_attr("name").and_then(Value::as_str),
        ) {
            objects.extend(Self::record(state, &self.ty, ns, name));
        }
        Ok(Some(objects))
    }

    /// The state after a successful apply: every computed value filled in.
    fn applied_state(
        planned: &Value,
        spec: &S::Spec,
        objects: &[Object],
        discovered: &Discovered,
    ) -> Value {
        let mut state = planned.clone();
        for (attr, value) in S::computed(spec, discovered) {
            if let Some(slot) = state.get_attr_mut(attr) {
                *slot = value;
            }
        }
        if let Some(slot) = state.get_attr_mut("objects") {
            *slot = model::objects_value(objects);
        }
        state
    }

    async fn apply(&self, context: &Context, request: ApplyRequest, action: &str) -> ApplyResponse {
        let respond = |state: Option<Value>, d: Diagnostic| ApplyResponse {
            state,
            private: Vec::new(),
            diagnostics: d.into(),
        };
        let planned = request.planned;
        let Some(owner) = Self::owner(&planned) else {
            return respond(
                None,
                Diagnostic::error(
                    "Invalid plan",
                    "name and namespace must be known at apply time",
                ),
            );
        };
        let cluster = match self.connected(action).await {
            Ok(c) => c,
            Err(d) => return respond(request.prior_state, d),
        };
        let (spec, _) = match Self::spec(&planned) {
            Ok(s) => s,
            Err(d) => return respond(request.prior_state, d),
        };
        let discovered = match self.discover(&spec, &owner.namespace, context, true).await {
            Ok(d) => d,
            Err(d) => return respond(request.prior_state, d),
        };
        // The plan showed these members: never write a ring the plan did not show.
        if let Some(planned_rings) = planned
            .get_attr("hashrings")
            .filter(|v| v.is_known() && !v.is_null())
        {
            let now = S::computed(&spec, &discovered)
                .into_iter()
                .find(|(a, _)| *a == "hashrings")
                .map(|(_, v)| v);
            if let Some(now) = now
                && &now != planned_rings
            {
                return respond(
                    request.prior_state,
                    Diagnostic::error(
                        "Hashring membership changed since the plan",
                        format!(
                            "The members discovered now differ from the ones the plan showed, so nothing was applied. \
                             Run `terraform plan` (or apply) again to review the new membership.\n\nPlanned: {}\nNow: {}",
                            ring_summary(planned_rings),
                            ring_summary(&now)
                        ),
                    )
                    .at(tfvalue::AttributePath::root().attr("hashrings")),
                );
            }
        }
        let objects = match self.desired(&planned, &discovered) {
            Ok(Some(o)) => o,
            // Apply discovers every selector ring (an empty ring included), so this is a bug.
            Ok(None) => {
                return respond(
                    request.prior_state,
                    Diagnostic::error(
                        format!("Cannot render {}", S::TYPE_NAME),
                        "A hashring's members were not discovered at apply time. This is a bug in the provider; please report it.",
                    ),
                );
            }
            Err(d) => return respond(request.prior_state, d),
        };
        let state = Self::applied_state(&planned, &spec, &objects, &discovered);
        // After a failure part of the stack may exist: for a create, return the state so
        // Terraform records it (tainted) and a destroy cleans it up.
        let partial = || Some(state.clone());
        let options = ApplyOptions {
            force_conflicts: planned
                .get_attr("force_conflicts")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            adopt_existing: planned
                .get_attr("adopt_existing")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        };
        let name = planned
            .get_attr("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let summary = format!(
            "Failed to {action} {} {}/{name}",
            S::TYPE_NAME,
            owner.namespace
        );
        // Objects the refresh found changed outside Terraform are the ones the plan said it will
        // set back: for those, fields another manager took over out of band are taken back.
        // Any other conflict stops the apply (e.g. a field an autoscaler owns).
        let repairs = drifted_objects(request.prior_state.as_ref());
        for object in &objects {
            let mut options = options;
            if repairs.contains(&(object.kind().to_string(), object.name().to_string())) {
                options.force_conflicts = true;
            }
            if let Err(e) = cluster.apply_one(object, options, &context.cancel).await {
                return respond(partial(), failure(summary, e));
            }
        }
        let keep: Vec<ObjectKey> = objects.iter().map(ObjectKey::of).collect();
        let timeout = timeout_of(&planned, action, Duration::from_secs(600));
        if let Err(e) = cluster
            .prune(&owner, &keep, PvcPolicy::Retain, timeout, &context.cancel)
            .await
        {
            return respond(
                partial(),
                failure(format!("{summary}: removing objects no longer rendered"), e),
            );
        }
        if planned
            .get_attr("wait_for_rollout")
            .and_then(Value::as_bool)
            .unwrap_or(true)
        {
            let options = WaitOptions {
                timeout,
                ..WaitOptions::default()
            };
            if let Err(e) = cluster
                .wait_for_rollout(&keep, options, &context.cancel)
                .await
            {
                return respond(
                    partial(),
                    failure(format!("{summary}: the rollout did not finish"), e),
                );
            }
            let expected = S::published_endpoints(&spec);
            if !expected.is_empty()
                && let Err(d) = wait_until_discoverable::<S>(
                    &cluster,
                    &owner.namespace,
                    name,
                    &expected,
                    timeout,
                    context,
                )
                .await
            {
                return respond(partial(), Diagnostic::error(summary, d));
            }
        }
        ApplyResponse {
            state: Some(state),
            private: Vec::new(),
            diagnostics: Diagnostics::new(),
        }
    }
}

/// Waits until discovery through this resource's own labels returns exactly `expected`.
///
/// Pods are Ready before the EndpointSlice controller publishes them, so a ring applied right
/// after its ingestors (`depends_on`) could otherwise discover only some of them and write a
/// ring the next plan changes again. An ingestor is applied once it can be discovered under
/// the names its `ingestor_endpoints` promise.
async fn wait_until_discoverable<S: Stack>(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    expected: &[String],
    timeout: Duration,
    context: &Context,
) -> Result<(), String> {
    let selector = thanos_render::common::LabelSelector {
        match_labels: Some(thanos_render::meta::ownership_labels(S::KIND, name)),
        match_expressions: None,
    };
    let mut expected = expected.to_vec();
    expected.sort();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let found = cluster
            .discover_endpoints(namespace, &selector, None, &context.cancel)
            .await
            .map_err(|e| e.to_string())?;
        if found == expected {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "The pods are Ready but only {} of {} ingestor endpoints were published in \
                 EndpointSlices within {timeout:?} (found: {}), so routers would discover an \
                 incomplete hashring.",
                found.len(),
                expected.len(),
                found.join(", ")
            ));
        }
        tokio::select! {
            _ = context.cancelled() => return Err("cancelled while waiting for the ingestors' endpoints to be published (Ctrl-C or Terraform stopped the provider)".into()),
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
}

/// A refresh that could not talk to the cluster. An unreachable API server is a warning (the
/// recorded state is used, so planning keeps working offline, as the contract promises); any
/// other failure (forbidden, invalid credentials) is an error the user must fix.
fn refresh_failure(summary: String, error: thanos_cluster::Error) -> Diagnostics {
    if matches!(error, thanos_cluster::Error::Unreachable { .. }) {
        Diagnostic::warning(
            summary,
            format!("{error}\n\nThe recorded state is used as it is: drift is not checked until the cluster can be reached."),
        )
        .into()
    } else {
        failure(summary, error).into()
    }
}

/// The hashring members a state records as applied, by ring name; `None` when the state has no
/// known rings (after an import, or for resources without rings).
fn applied_rings(state: &Value) -> Option<Discovered> {
    let rings = state
        .get_attr("hashrings")
        .filter(|v| v.is_known() && !v.is_null())?;
    Some(
        rings
            .as_list()?
            .iter()
            .filter_map(|ring| {
                let name = ring.get_attr("name")?.as_str()?.to_string();
                let endpoints = ring
                    .get_attr("endpoints")?
                    .as_list()?
                    .iter()
                    .filter_map(|e| e.as_str().map(str::to_owned))
                    .collect();
                Some((name, endpoints))
            })
            .collect(),
    )
}

/// StatefulSet fields Kubernetes refuses to change in place.
const IMMUTABLE_STATEFULSET_FIELDS: &[(&str, &str)] = &[
    (
        "/spec/volumeClaimTemplates",
        "volume claim templates (data volume size, class or access modes)",
    ),
    ("/spec/selector", "selector"),
    ("/spec/serviceName", "service name"),
    ("/spec/podManagementPolicy", "pod management policy"),
];

/// A warning for each StatefulSet whose change Kubernetes cannot apply in place, so the plan
/// says what the apply will do (replace it, keeping pods' claims) instead of the apply failing.
fn statefulset_replacements(before: &[Object], after: &[Object]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for new in after.iter().filter(|o| o.kind() == "StatefulSet") {
        let Some(old) = before
            .iter()
            .find(|o| o.kind() == "StatefulSet" && o.name() == new.name())
        else {
            continue;
        };
        let (old_json, new_json) = (old.to_json(), new.to_json());
        let changed: Vec<&str> = IMMUTABLE_STATEFULSET_FIELDS
            .iter()
            .filter(|(pointer, _)| old_json.pointer(pointer) != new_json.pointer(pointer))
            .map(|(_, what)| *what)
            .collect();
        if !changed.is_empty() {
            out.push(Diagnostic::warning(
                format!("StatefulSet {} will be replaced", new.name()),
                format!(
                    "Kubernetes cannot change the {} of a StatefulSet in place, so the apply deletes                      StatefulSet {}/{} without deleting its pods or claims and creates it again; its                      pods then roll. Existing PersistentVolumeClaims are kept as they are (with their                      data and their current size); claims for new replicas use the new template.",
                    changed.join(" and "),
                    new.namespace(),
                    new.name()
                ),
            ));
        }
    }
    out
}

/// Marks the `objects` entries of a state that a refresh found changed outside Terraform.
const DRIFT_MARK: &str = "changed outside Terraform: ";

/// `(kind, name)` of every object the prior state records as changed outside Terraform.
fn drifted_objects(prior: Option<&Value>) -> Vec<(String, String)> {
    prior
        .and_then(|p| p.get_attr("objects"))
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter(|o| {
            o.get_attr("hash")
                .and_then(Value::as_str)
                .is_some_and(|h| h.starts_with(DRIFT_MARK))
        })
        .filter_map(|o| {
            Some((
                o.get_attr("kind")?.as_str()?.to_string(),
                o.get_attr("name")?.as_str()?.to_string(),
            ))
        })
        .collect()
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Query => "query",
        Kind::Receive => "receive",
        Kind::Storage => "storage",
    }
}

fn ring_summary(rings: &Value) -> String {
    rings
        .as_list()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let name = r.get_attr("name").and_then(Value::as_str).unwrap_or("?");
            let endpoints: Vec<&str> = r
                .get_attr("endpoints")
                .and_then(Value::as_list)
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            format!("{name} = [{}]", endpoints.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The `timeouts` block's value for an action, parsed as a Go duration.
fn timeout_of(state: &Value, action: &str, fallback: Duration) -> Duration {
    state
        .get_attr("timeouts")
        .and_then(|t| t.get_attr(action))
        .and_then(Value::as_str)
        .and_then(super::fragments::parse_go_duration)
        .unwrap_or(fallback)
}

#[async_trait]
impl<S: Stack> Resource for StackResource<S> {
    fn type_name(&self) -> &'static str {
        S::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        S::schema()
    }

    async fn validate(&self, _context: &Context, request: ValidateRequest<'_>) -> Diagnostics {
        match Self::spec(request.config) {
            Ok((spec, _)) => S::validate(&spec)
                .iter()
                .map(|i| model::invalid_to_diagnostic(i, false))
                .collect(),
            Err(d) => d.into(),
        }
    }

    async fn plan(&self, context: &Context, request: PlanRequest) -> PlanResponse {
        let mut planned = request.planned.clone();
        let mut diagnostics = Diagnostics::new();
        let (spec, has_unknown) = match Self::spec(&planned) {
            Ok(s) => s,
            Err(d) => {
                diagnostics.push(d);
                return PlanResponse {
                    diagnostics,
                    ..PlanResponse::unchanged(request)
                };
            }
        };
        for invalid in S::validate(&spec) {
            diagnostics.push(model::invalid_to_diagnostic(&invalid, false));
        }
        if diagnostics.has_errors() {
            return PlanResponse {
                diagnostics,
                ..PlanResponse::unchanged(request)
            };
        }

        let set = |planned: &mut Value, name: &str, value: Value| {
            if let Some(slot) = planned.get_attr_mut(name) {
                *slot = value;
            }
        };
        let ns = planned
            .get_attr("namespace")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let name = planned
            .get_attr("name")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let (Some(ns), Some(name)) = (&ns, &name) {
            set(&mut planned, "id", Value::from(format!("{ns}/{name}")));
        }
        // When the cluster is reachable, selector rings show their members in the plan.
        let discovered = match &ns {
            Some(ns) => self
                .discover(&spec, ns, context, false)
                .await
                .unwrap_or_default(),
            None => Discovered::new(),
        };
        for (attr, value) in S::computed(&spec, &discovered) {
            set(&mut planned, attr, value);
        }
        for warning in S::warnings(&spec, &discovered) {
            diagnostics.push(model::invalid_to_diagnostic(&warning, true));
        }
        // The object list is recomputed on every plan (not kept from state), so that drift
        // recorded by a refresh shows as a change to repair.
        if !has_unknown {
            match self.desired(&planned, &discovered) {
                Ok(Some(objects)) => {
                    if let Some(prior) = &request.prior_state
                        && let Ok(Some(before)) = self.desired(prior, &discovered)
                    {
                        for warning in statefulset_replacements(&before, &objects) {
                            diagnostics.push(warning);
                        }
                    }
                    set(&mut planned, "objects", model::objects_value(&objects))
                }
                Ok(None) => set(&mut planned, "objects", Value::unknown()),
                Err(d) => diagnostics.push(d),
            }
        } else {
            set(&mut planned, "objects", Value::unknown());
        }
        PlanResponse {
            planned,
            diagnostics,
            ..PlanResponse::unchanged(request)
        }
    }

    async fn create(&self, context: &Context, request: ApplyRequest) -> ApplyResponse {
        self.apply(context, request, "create").await
    }

    async fn update(&self, context: &Context, request: ApplyRequest) -> ApplyResponse {
        self.apply(context, request, "update").await
    }

    async fn read(&self, context: &Context, request: ReadRequest) -> ReadResponse {
        let unchanged = |state: Value, private: Vec<u8>, diagnostics: Diagnostics| ReadResponse {
            state: Some(state),
            private,
            diagnostics,
            deferred: None,
        };
        let state = request.state;
        let Some(owner) = Self::owner(&state) else {
            return unchanged(state, request.private, Diagnostics::new());
        };
        let connection = self.configured().connection;
        let cluster = match connection.cluster().await {
            Ok(c) => c,
            Err(message) => {
                let mut d = Diagnostics::new();
                d.warning(
                    format!("Could not refresh {} {}/{}", S::TYPE_NAME, owner.namespace, state.get_attr("name").and_then(Value::as_str).unwrap_or("")),
                    format!("The cluster could not be reached, so drift is not checked and the state is used as it is: {message}"),
                );
                return unchanged(state, request.private, d);
            }
        };
        let live = match cluster.inventory(&owner, &context.cancel).await {
            Ok(l) => l,
            Err(e) => {
                let diagnostics = refresh_failure(format!("Failed to read {}", S::TYPE_NAME), e);
                return unchanged(state, request.private, diagnostics);
            }
        };
        // Everything this resource created is gone: Terraform plans a create.
        if live.iter().all(|o| o.key.kind == "PersistentVolumeClaim") {
            return ReadResponse {
                state: None,
                private: request.private,
                diagnostics: Diagnostics::new(),
                deferred: None,
            };
        }
        let (spec, _) = match Self::spec(&state) {
            Ok(s) => s,
            Err(d) => return unchanged(state, request.private, d.into()),
        };
        // Drift is judged against the rings as applied (recorded in state), so a membership change
        // is not mistaken for an edit: the next plan discovers the current members and shows them
        // joining or leaving in `hashrings`. Only a state without rings (an import) discovers now.
        let discovered = match applied_rings(&state) {
            Some(rings) => rings,
            None => self
                .discover(&spec, &owner.namespace, context, false)
                .await
                .unwrap_or_default(),
        };
        // A complete state (also after an import, whose record holds only configuration).
        let mut new_state = state.clone();
        if let Some(slot) = new_state.get_attr_mut("id") {
            *slot = Value::from(format!(
                "{}/{}",
                owner.namespace,
                state
                    .get_attr("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            ));
        }
        for (attr, value) in S::computed(&spec, &discovered) {
            if let Some(slot) = new_state.get_attr_mut(attr) {
                *slot = value;
            }
        }
        let desired = match self.desired(&state, &discovered) {
            Ok(Some(d)) => d,
            // Not renderable with what is discoverable now: keep the recorded objects.
            Ok(None) | Err(_) => return unchanged(state, request.private, Diagnostics::new()),
        };
        let drift = match cluster.drift(&desired, &context.cancel).await {
            Ok(d) => d,
            Err(e) => {
                let summary = format!("Failed to check {} for drift", S::TYPE_NAME);
                return unchanged(state, request.private, refresh_failure(summary, e));
            }
        };
        let objects: Vec<Value> = desired
            .iter()
            .zip(drift)
            .filter_map(|(object, (_, drift))| {
                let hash = match drift {
                    Drift::Missing => return None,
                    Drift::InSync => object.content_hash(),
                    Drift::Drifted { paths } => format!("{DRIFT_MARK}{}", paths.join(", ")),
                };
                Some(Value::object([
                    ("api_version", Value::from(object.api_version())),
                    ("kind", Value::from(object.kind())),
                    ("namespace", Value::from(object.namespace())),
                    ("name", Value::from(object.name())),
                    ("hash", Value::from(hash)),
                ]))
            })
            .collect();
        if let Some(slot) = new_state.get_attr_mut("objects") {
            *slot = Value::List(objects);
        }
        unchanged(new_state, request.private, Diagnostics::new())
    }

    async fn delete(&self, context: &Context, request: DeleteRequest) -> Diagnostics {
        let state = request.prior_state;
        let Some(owner) = Self::owner(&state) else {
            return Diagnostics::new();
        };
        let cluster = match self.connected("delete").await {
            Ok(c) => c,
            Err(d) => return d.into(),
        };
        let timeout = timeout_of(&state, "delete", Duration::from_secs(300));
        match cluster
            .delete_all(
                &owner,
                S::pvc_policy_on_delete(&state),
                timeout,
                &context.cancel,
            )
            .await
        {
            Ok(_) => Diagnostics::new(),
            Err(e) => failure(
                format!("Failed to delete {} {}", S::TYPE_NAME, owner.part_of),
                e,
            )
            .into(),
        }
    }

    async fn import(&self, context: &Context, id: &str) -> ImportResponse {
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
                    S::TYPE_NAME,
                    kind_word(S::KIND)
                ),
            );
        };
        let cluster = match self.connected("import").await {
            Ok(c) => c,
            Err(d) => {
                return ImportResponse {
                    state: None,
                    private: Vec::new(),
                    diagnostics: d.into(),
                };
            }
        };
        let key = ObjectKey::new("ConfigMap", namespace, Self::record_name(name));
        let record = match cluster.get(&key, &context.cancel).await {
            Ok(r) => r,
            Err(e) => {
                return error(
                    format!("Cannot import {} {id}", S::TYPE_NAME),
                    e.to_string(),
                );
            }
        };
        let Some(text) = record
            .as_ref()
            .and_then(|r| r.data.pointer(&format!("/data/{RECORD_KEY}")))
            .and_then(|v| v.as_str())
        else {
            let owner = Owner::new(S::KIND, name, namespace);
            let owned = cluster
                .inventory(&owner, &context.cancel)
                .await
                .unwrap_or_default();
            return if owned.is_empty() {
                error(
                    format!("Cannot import non-existent {} {id}", S::TYPE_NAME),
                    format!(
                        "No objects of a {} named {name:?} exist in namespace {namespace:?}.",
                        S::TYPE_NAME
                    ),
                )
            } else {
                error(
                    format!(
                        "Cannot import {} {id}: its configuration record is missing",
                        S::TYPE_NAME
                    ),
                    format!(
                        "Objects of this resource exist, but ConfigMap {} (written by every apply) does not. \
                         Write the configuration in HCL and apply it with `adopt_existing = true` to take the objects over.",
                        key.name
                    ),
                )
            };
        };
        let ty = &self.ty;
        match tfvalue::json::decode(text.as_bytes(), ty) {
            Ok(state) => ImportResponse {
                state: Some(state),
                private: Vec::new(),
                diagnostics: Diagnostics::new(),
            },
            Err(e) => error(
                format!(
                    "Cannot import {} {id}: unreadable configuration record",
                    S::TYPE_NAME
                ),
                e.to_string(),
            ),
        }
    }
}
