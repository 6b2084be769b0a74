//! The lifecycle every resource type shares, split by phase, each in its own module:
//!
//! - [`plan`]: decode and validate the configuration, render offline, and (when the cluster is
//!   reachable) discover selector hashrings and read selected objects of other tools, so the
//!   plan shows their members and contents;
//! - [`apply`]: render from the plan, server-side apply every object and the [`record`],
//!   delete owned objects no longer rendered, wait for the rollout; never write a ring (or
//!   selected objects) the plan did not show;
//! - [`read`]: find what exists; an object missing or changed out of band shows in `objects`
//!   (see [`objects`]), so the next plan says which objects it repairs; nothing left means the
//!   resource is gone;
//! - [`delete`]: delete every owned object, claims as the user chose;
//! - [`import`]: `<namespace>/<name>`, the configuration read back from the [`record`];
//! - [`preflight`]: at plan, what the configuration needs from the cluster (Secrets), read when
//!   the cluster is reachable and judged by the kind;
//! - [`served`]: kinds of other tools the rendered objects need (a ServiceMonitor's CRD), a
//!   warning at plan, checked before the apply writes anything.
//!
//! What differs between resource types is a [`Kind`]: its model (the Terraform value decoded
//! once), the validation that turns it into a spec, rendering, and a few hooks only some types
//! need (receive's hashrings, a ruler's selected PrometheusRules). [`StackResource`] serves
//! any kind to the framework by calling the phases. The phases talk to the cluster through
//! [`crate::cluster::ClusterApi`], so each is unit-tested against an in-memory cluster
//! (`fake`).

pub mod apply;
pub mod delete;
pub mod discover;
pub mod hold;
pub mod import;
pub mod objects;
pub mod plan;
pub mod preflight;
pub mod read;
pub mod record;
pub mod reload;
pub mod seen;
pub mod served;
pub mod settings;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

use std::marker::PhantomData;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Context, DeleteRequest, Diagnostic, Diagnostics, ImportResponse,
    Model, PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, Schema, ValidateRequest,
};
use tfvalue::{AttributePath, Type, Value};
use thanos_cluster::{LiveObject, Owner, PvcPolicy, Selection};
use thanos_render::receive::{Discovered, RingSelector};
use thanos_render::validate::{Invalid, PathSegment, Report};
use thanos_render::{RenderContext, Rendered};

use crate::cluster::Clusters;
use settings::LifecycleModel;

/// One resource type, as the lifecycle sees it.
pub trait Kind: Send + Sync + 'static {
    /// The resource's Terraform value, decoded (and encoded) by `#[derive(Model)]`.
    type Model: Model + Clone + Send + Sync;
    /// The validated configuration rendering takes.
    type Spec: Send + Sync;
    const TYPE_NAME: &'static str;
    /// Which resource type owns the objects (names, ownership labels).
    const OWNER: thanos_render::meta::Kind;

    /// The model's `name` and `namespace`, once both are known.
    fn identity(model: &Self::Model) -> Option<(String, String)>;
    /// The part of the model the lifecycle reads and writes.
    fn lifecycle(model: &Self::Model) -> &LifecycleModel;
    fn lifecycle_mut(model: &mut Self::Model) -> &mut LifecycleModel;
    /// The shared part of a validated spec.
    fn spec_common(spec: &Self::Spec) -> &thanos_render::common::Common;

    /// Every rule, reported at its attribute path. The spec exists only when the whole
    /// configuration is known and valid.
    fn validate(model: &Self::Model, report: &mut Report) -> Option<Self::Spec>;

    /// Optional attributes the plan settles when the configuration leaves them null (see
    /// [`Kind::settle`]); the plan writes them back into the planned value.
    const SETTLED: &'static [&'static str] = &[];

    /// Before validation, decides the [`Kind::SETTLED`] attributes whose value depends on what
    /// was applied before. `config`: the configuration as written (null where left out);
    /// `prior`: the state (`None` on create). Returns warnings for the plan. Query: `tls_mode`.
    fn settle(
        _planned: &mut Self::Model,
        _config: &Self::Model,
        _prior: Option<&Self::Model>,
    ) -> Vec<Invalid> {
        Vec::new()
    }

    /// The Secrets a validated configuration needs in the cluster, read at plan time when the
    /// cluster is reachable (see [`preflight`]).
    fn preflight_secrets(_spec: &Self::Spec) -> Vec<preflight::SecretRef> {
        Vec::new()
    }

    /// Judges the Secrets read for [`Kind::preflight_secrets`], at `now`: errors stop the plan.
    fn preflight(
        _spec: &Self::Spec,
        _secrets: &preflight::Secrets,
        _now: std::time::SystemTime,
    ) -> preflight::Findings {
        preflight::Findings::default()
    }

    /// The Kubernetes objects of a validated spec. `discovered`: members of selector rings.
    fn render(
        spec: &Self::Spec,
        context: &RenderContext,
        discovered: &Discovered,
    ) -> Result<Rendered, thanos_render::Error>;

    /// Sets the computed attributes that the configuration (and discovered ring members)
    /// decide; the others stay as they are (unknown in a plan).
    fn set_computed(model: &mut Self::Model, discovered: &Discovered);

    /// Rings whose members are discovered from the cluster, by ring name.
    fn selector_rings(_model: &Self::Model) -> Vec<(String, RingSelector)> {
        Vec::new()
    }

    /// The plan's warnings about what this change does (members joining or leaving a
    /// hashring, data a scale-down loses), once members are discovered. `prior`: the state
    /// (`None` on create).
    fn warnings(
        _model: &Self::Model,
        _prior: Option<&Self::Model>,
        _discovered: &Discovered,
    ) -> Vec<Invalid> {
        Vec::new()
    }

    /// The endpoints other resources' hashrings discover for this one once it is applied (a
    /// receive's `ingestor_endpoints`): the apply ends once they are discoverable.
    fn published_endpoints(_model: &Self::Model) -> Vec<String> {
        Vec::new()
    }

    /// What happens to volume claims when the resource is destroyed.
    fn pvc_policy_on_delete(_model: &Self::Model) -> PvcPolicy {
        PvcPolicy::Retain
    }

    /// The ring members a state records as applied; `None` when it records none (after an
    /// import, or for resources without rings): then they are discovered.
    fn applied_rings(_model: &Self::Model) -> Option<Discovered> {
        None
    }

    /// What a user must know before this resource is destroyed (data that goes with it):
    /// shown when the destroy is planned, and by a delete that was not planned (Pulumi).
    fn destroy_warnings(_model: &Self::Model) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// A step an update applies, and waits for, before the planned spec, when the order of a
    /// change matters: its spec and what it is, for the log and for errors (receive: pods that
    /// join its own ring are Ready before the ring lists them; pods that leave it are out of
    /// the ring before they stop). `prior`: the state.
    fn interim(
        _spec: &Self::Spec,
        _prior: Option<&Self::Model>,
        _discovered: &Discovered,
    ) -> Option<(Self::Spec, String)> {
        None
    }

    /// Pods this configuration removes that hashrings of other resources may still list (a
    /// receive's ingestors scaling down): see [`hold`]. `prior`: the state; `held`: the size
    /// the last apply held the workload at. `None` when nothing can leave (no read then).
    fn leaving(
        _model: &Self::Model,
        _prior: Option<&Self::Model>,
        _held: Option<i32>,
    ) -> Option<hold::Leaving> {
        None
    }

    /// Workloads of `spec` whose pods load a changed file in place instead of rolling (a
    /// router's ring): the apply waits until they run it (see [`reload`]).
    fn in_place_reloads(_spec: &Self::Spec) -> Vec<reload::InPlace> {
        Vec::new()
    }

    /// `spec` with its workload kept at `size` pods while it publishes only the configured
    /// ones (a scale-down held back: see [`hold`]).
    fn hold(_spec: &mut Self::Spec, _size: i32) {}

    /// At apply time: does what the plan showed still hold (`now`: the plan's model with the
    /// computed attributes decided again)? Receive: the discovered ring members; rule: the
    /// selected PrometheusRules.
    fn plan_still_holds(_planned: &Self::Model, _now: &Self::Model) -> Result<(), Diagnostic> {
        Ok(())
    }

    /// Objects of another tool this resource renders from, selected in the cluster by labels
    /// (a ruler's PrometheusRule objects); `None` when it selects none (or its selector is not
    /// known yet). Read at plan time when the cluster can be reached, at apply time always.
    fn selection(_model: &Self::Model) -> Option<Selection> {
        None
    }

    /// Takes the objects [`Kind::selection`] found into the model's computed attributes, from
    /// which validation builds the spec (so a state renders what was applied, and the plan
    /// shows what changed). Returns warnings: objects left out, and why.
    fn take_selected(_model: &mut Self::Model, _found: &[LiveObject]) -> Vec<Invalid> {
        Vec::new()
    }

    /// Whether the model records what its selection found: a state written by an apply does;
    /// an imported one does not, so a refresh reads the selection.
    fn selection_recorded(_model: &Self::Model) -> bool {
        true
    }
}

/// What every phase needs from the provider: the defaults for rendering and the cluster.
#[derive(Clone)]
pub struct Env {
    pub render: RenderContext,
    pub clusters: Arc<dyn Clusters>,
}

/// The provider's current [`Env`]: replaced by ConfigureProvider, read by every request.
pub type SharedEnv = Arc<RwLock<Env>>;

/// A [`Kind`] served to the framework.
pub struct StackResource<K: Kind> {
    env: SharedEnv,
    schema: Schema,
    ty: Type,
    _kind: PhantomData<K>,
}

impl<K: Kind> StackResource<K> {
    pub fn new(env: SharedEnv) -> Self {
        let schema = schema::<K>();
        let ty = schema.value_type();
        Self {
            env,
            schema,
            ty,
            _kind: PhantomData,
        }
    }

    fn env(&self) -> Env {
        self.env.read().expect("env lock").clone()
    }
}

#[async_trait]
impl<K: Kind> Resource for StackResource<K> {
    fn type_name(&self) -> &'static str {
        K::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        self.schema.clone()
    }

    async fn validate(&self, _context: &Context, request: ValidateRequest<'_>) -> Diagnostics {
        match decode::<K>(request.config) {
            Ok(model) => {
                let mut report = Report::default();
                K::validate(&model, &mut report);
                diagnostics(&report.0, false)
            }
            Err(d) => d,
        }
    }

    async fn plan(&self, context: &Context, request: PlanRequest) -> PlanResponse {
        plan::plan::<K>(&self.env(), &self.schema, context, request).await
    }

    async fn create(&self, context: &Context, request: ApplyRequest) -> ApplyResponse {
        apply::apply::<K>(&self.env(), &self.schema, context, request, "create").await
    }

    async fn update(&self, context: &Context, request: ApplyRequest) -> ApplyResponse {
        apply::apply::<K>(&self.env(), &self.schema, context, request, "update").await
    }

    async fn read(&self, context: &Context, request: ReadRequest) -> ReadResponse {
        read::read::<K>(&self.env(), &self.schema, context, request).await
    }

    async fn delete(&self, context: &Context, request: DeleteRequest) -> Diagnostics {
        delete::delete::<K>(&self.env(), context, request).await
    }

    async fn plan_destroy(&self, _context: &Context, prior_state: &Value) -> Diagnostics {
        match decode::<K>(prior_state) {
            Ok(model) => K::destroy_warnings(&model).into_iter().collect(),
            // The state cannot be read: the delete will say so.
            Err(_) => Diagnostics::new(),
        }
    }

    async fn import(&self, context: &Context, id: &str) -> ImportResponse {
        import::import::<K>(&self.env(), &self.ty, context, id).await
    }

    fn upgrade_state(
        &self,
        version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostic> {
        Ok(upgrade_state(version, state))
    }
}

/// The model of a resource value, or the decoding errors as diagnostics at their paths.
pub fn decode<K: Kind>(value: &Value) -> Result<K::Model, Diagnostics> {
    K::Model::from_value(value).map_err(|errors| errors.iter().map(|e| e.to_diagnostic()).collect())
}

/// The model of a planned value with the configuration's write-only values put back (a plan
/// never holds them): what plan and apply validate and render. Only the model sees them; the
/// planned value, the state and the record never do.
pub fn decode_planned<K: Kind>(
    schema: &Schema,
    planned: &Value,
    config: &Value,
) -> Result<K::Model, Diagnostics> {
    decode::<K>(&schema.block.merge_write_only(planned, config))
}

/// The model of a stored value (a state), its write-only values unknown: given once, never
/// stored, so a refresh renders everything but what they alone decide (see
/// `thanos_render::secret`).
pub fn decode_stored<K: Kind>(schema: &Schema, state: &Value) -> Result<K::Model, Diagnostics> {
    decode::<K>(&schema.block.withhold_write_only(state))
}

/// The version of every resource type's state: 1 since `objects` became a map of
/// `<kind>/<name>` to a short hash (0: a list of objects; see [`objects::upgrade_v0`]).
pub const SCHEMA_VERSION: i64 = 1;

/// The schema of a resource type, as Terraform sees it.
pub fn schema<K: Kind>() -> Schema {
    Schema::new(SCHEMA_VERSION, K::Model::block())
}

/// A state of an older schema version (cty JSON) in the current shape.
pub fn upgrade_state(version: i64, mut state: serde_json::Value) -> serde_json::Value {
    if version < 1
        && let Some(objects) = state.get_mut("objects")
    {
        *objects = objects::upgrade_v0(objects);
    }
    state
}

/// The model's `name` and `namespace`, once both are known.
pub fn identity<K: Kind>(model: &K::Model) -> Option<(String, String)> {
    K::identity(model)
}

/// The owner of a resource's objects, once name and namespace are known.
pub fn owner<K: Kind>(model: &K::Model) -> Option<Owner> {
    let (name, namespace) = identity::<K>(model)?;
    Some(Owner::new(K::OWNER, &name, &namespace))
}

/// Validation findings as diagnostics at their attribute paths.
pub fn diagnostics(findings: &[Invalid], warning: bool) -> Diagnostics {
    findings
        .iter()
        .map(|i| {
            let d = if warning {
                Diagnostic::warning(i.summary.clone(), i.detail.clone())
            } else {
                Diagnostic::error(i.summary.clone(), i.detail.clone())
            };
            d.at(attribute_path(&i.path))
        })
        .collect()
}

pub fn attribute_path(path: &[PathSegment]) -> AttributePath {
    let mut out = AttributePath::root();
    for segment in path {
        out = match segment {
            PathSegment::Attr(name) => out.attr(name.clone()),
            PathSegment::Index(i) => out.index(*i as i64),
            PathSegment::Key(k) => out.key(k.clone()),
        };
    }
    out
}

/// What a failed step leaves behind, for a diagnostic.
pub fn failure(summary: String, error: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::error(summary, error.to_string())
}
