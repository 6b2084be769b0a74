//! What the three resources share: validation through the renderer, planning of every value
//! that configuration alone decides (object list and hashes, endpoints, URLs), and — until
//! cluster IO lands — honest refusal to change a cluster.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Context, DeleteRequest, Diagnostic, Diagnostics, ImportResponse,
    PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, Schema, ValidateRequest,
};
use tfvalue::Value;
use thanos_render::{Invalid, RenderContext, Rendered};

use super::model;
use crate::provider::Configured;

/// Discovered hashring members by ring name (receive only).
pub type Discovered = BTreeMap<String, Vec<String>>;

/// One resource type's connection to the renderer.
pub trait Stack: Send + Sync + 'static {
    type Spec: DeserializeOwned + Send + Sync;
    const TYPE_NAME: &'static str;
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
}

pub struct StackResource<S: Stack> {
    configured: Arc<RwLock<Configured>>,
    _stack: PhantomData<S>,
}

impl<S: Stack> StackResource<S> {
    pub fn new(configured: Arc<RwLock<Configured>>) -> Self {
        Self {
            configured,
            _stack: PhantomData,
        }
    }

    fn render_context(&self) -> RenderContext {
        let c = self.configured.read().expect("configured lock");
        RenderContext {
            thanos_image: c.thanos_image.clone(),
            envoy_image: c.envoy_image.clone(),
        }
    }

    fn spec(value: &Value) -> Result<(S::Spec, bool), Diagnostic> {
        let json = model::spec_json(value, S::COMPUTED);
        Ok((model::to_spec(json.json)?, json.has_unknown))
    }

    fn not_yet(&self, what: &str) -> Diagnostic {
        Diagnostic::error(
            format!("{} cannot {what} yet", S::TYPE_NAME),
            format!(
                "This build of terraform-provider-thanos validates and plans {} but does not yet \
                 {what} it on a cluster. Nothing was changed in the cluster.",
                S::TYPE_NAME
            ),
        )
    }
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

    async fn plan(&self, _context: &Context, request: PlanRequest) -> PlanResponse {
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
        if let (Some(ns), Some(name)) = (ns, name) {
            set(&mut planned, "id", Value::from(format!("{ns}/{name}")));
        }
        // Discovery from the cluster arrives with cluster IO; until then selector rings are
        // "known after apply".
        let discovered = Discovered::new();
        for (attr, value) in S::computed(&spec, &discovered) {
            set(&mut planned, attr, value);
        }
        for warning in S::warnings(&spec, &discovered) {
            diagnostics.push(model::invalid_to_diagnostic(&warning, true));
        }
        // The object list is recomputed on every plan (not kept from state), so that drift
        // recorded by a refresh shows as a change to repair.
        if !has_unknown {
            match S::render(&spec, &self.render_context(), &discovered) {
                Ok(rendered) => set(&mut planned, "objects", model::objects_value(&rendered)),
                Err(thanos_render::Error::Invalid(list)) => {
                    for invalid in list {
                        diagnostics.push(model::invalid_to_diagnostic(&invalid, false));
                    }
                }
                Err(thanos_render::Error::Undiscovered { .. }) => {
                    set(&mut planned, "objects", Value::unknown())
                }
                Err(e) => {
                    diagnostics.error(format!("Cannot render {}", S::TYPE_NAME), e.to_string())
                }
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

    async fn create(&self, _context: &Context, _request: ApplyRequest) -> ApplyResponse {
        ApplyResponse {
            state: None,
            private: Vec::new(),
            diagnostics: self.not_yet("create").into(),
        }
    }

    async fn read(&self, _context: &Context, request: ReadRequest) -> ReadResponse {
        ReadResponse {
            state: Some(request.state),
            private: request.private,
            diagnostics: Diagnostics::new(),
            deferred: None,
        }
    }

    async fn update(&self, _context: &Context, _request: ApplyRequest) -> ApplyResponse {
        ApplyResponse {
            state: None,
            private: Vec::new(),
            diagnostics: self.not_yet("update").into(),
        }
    }

    async fn delete(&self, _context: &Context, _request: DeleteRequest) -> Diagnostics {
        self.not_yet("delete").into()
    }

    async fn import(&self, _context: &Context, _id: &str) -> ImportResponse {
        ImportResponse {
            state: None,
            private: Vec::new(),
            diagnostics: self.not_yet("import").into(),
        }
    }
}
