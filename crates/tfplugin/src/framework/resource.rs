//! What a provider and its resources implement. The framework does the protocol work (decoding,
//! schema-driven defaults and unknowns, replacement paths, encoding, plan rules); these traits
//! carry only the decisions that need knowledge of the resource.

use std::sync::Arc;

use async_trait::async_trait;
use tfvalue::{AttributePath, Value};
use tokio_util::sync::CancellationToken;

use super::diag::Diagnostics;
use super::schema::Schema;

/// Per-request context.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Cancelled when Terraform calls StopProvider (Ctrl-C): long waits must select on it.
    pub cancel: CancellationToken,
    /// Terraform may accept a deferred answer ("plan this later").
    pub deferral_allowed: bool,
}

impl Context {
    /// Resolves when the user interrupted Terraform.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// Why a change is deferred to a later plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deferral {
    /// The provider block depends on values only known after apply (e.g. a cluster created in
    /// the same run).
    ProviderConfigUnknown,
    /// This resource's configuration is not known enough yet.
    ResourceConfigUnknown,
    /// Something this resource needs does not exist yet.
    AbsentPrerequisite,
}

pub struct ConfigureRequest {
    pub terraform_version: String,
    pub config: Value,
    pub deferral_allowed: bool,
}

#[derive(Default)]
pub struct ConfigureResponse {
    pub diagnostics: Diagnostics,
    /// Defer every resource operation of this provider instance (only honoured when Terraform
    /// allows deferral; otherwise resources must cope, e.g. by planning offline).
    pub defer: Option<Deferral>,
}

/// A provider: its configuration block and its resources.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The schema of the `provider "..." {}` block.
    fn schema(&self) -> Schema;
    fn resources(&self) -> Vec<Arc<dyn Resource>>;
    /// Checks of the provider block that do not need it to be known.
    async fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    async fn configure(&self, request: ConfigureRequest) -> ConfigureResponse;
}

pub struct ValidateRequest<'a> {
    /// May contain unknown values anywhere. Schema defaults are already filled in where the
    /// configuration left an attribute null.
    pub config: &'a Value,
}

/// Inputs of a plan. `planned` already has the framework's work done: configured values,
/// defaults, prior values for unchanged resources, unknown for computed attributes that will
/// change. Resources refine it (fill in values they can compute now, add replacements).
pub struct PlanRequest {
    pub prior_state: Option<Value>,
    pub config: Value,
    pub planned: Value,
    pub prior_private: Vec<u8>,
}

pub struct PlanResponse {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
    pub deferred: Option<Deferral>,
}

impl PlanResponse {
    /// Accept the framework's plan as it is.
    pub fn unchanged(request: PlanRequest) -> Self {
        Self {
            planned: request.planned,
            requires_replace: Vec::new(),
            private: request.prior_private,
            diagnostics: Diagnostics::new(),
            deferred: None,
        }
    }
}

pub struct ApplyRequest {
    /// `None` for a create.
    pub prior_state: Option<Value>,
    pub planned: Value,
    pub config: Value,
    pub planned_private: Vec<u8>,
}

/// The result of a create or update. On error, return the best state you have: for a create
/// that got half way, the state of what exists (Terraform marks it tainted); `None` keeps the
/// prior state.
pub struct ApplyResponse {
    pub state: Option<Value>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct DeleteRequest {
    pub prior_state: Value,
    pub private: Vec<u8>,
    /// Whether this destroy was planned through [`Resource::plan_destroy`], whose warnings
    /// the user has then seen. Terraform and OpenTofu always plan it; Pulumi's bridge deletes
    /// without a plan, so a delete that was not planned must say what the plan would have.
    pub planned: bool,
}

pub struct ReadRequest {
    pub state: Value,
    pub private: Vec<u8>,
}

pub struct ReadResponse {
    /// `None`: the remote object is gone, so Terraform removes it from state and plans a create.
    pub state: Option<Value>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
    pub deferred: Option<Deferral>,
}

pub struct ImportResponse {
    /// Only identifying attributes need to be set; Terraform calls read next.
    pub state: Option<Value>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// The full type name, e.g. `thanos_query`.
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// Checks beyond the schema's own validators. The config may hold unknowns: only report
    /// what is certain.
    async fn validate(&self, _context: &Context, _request: ValidateRequest<'_>) -> Diagnostics {
        Diagnostics::new()
    }

    async fn plan(&self, _context: &Context, request: PlanRequest) -> PlanResponse {
        PlanResponse::unchanged(request)
    }

    async fn create(&self, context: &Context, request: ApplyRequest) -> ApplyResponse;
    async fn read(&self, context: &Context, request: ReadRequest) -> ReadResponse;
    async fn update(&self, context: &Context, request: ApplyRequest) -> ApplyResponse;
    async fn delete(&self, context: &Context, request: DeleteRequest) -> Diagnostics;

    /// A state written with an older schema version (`version`), as its cty JSON, turned into
    /// the current schema's shape before it is decoded with the current type. Called only when
    /// `version` is older than [`Resource::schema`]'s; the default keeps the state as it is.
    fn upgrade_state(
        &self,
        _version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, super::diag::Diagnostic> {
        Ok(state)
    }

    /// `terraform import TYPE.NAME ID` and `import {}` blocks.
    async fn import(&self, _context: &Context, _id: &str) -> ImportResponse {
        ImportResponse {
            state: None,
            private: Vec::new(),
            diagnostics: super::diag::Diagnostic::error(
                "Import is not supported",
                format!("{} resources cannot be imported.", self.type_name()),
            )
            .into(),
        }
    }

    /// Warnings (or errors) to show when the resource is planned for destruction. A delete
    /// that was not planned ([`DeleteRequest::planned`]) should report the same warnings.
    async fn plan_destroy(&self, _context: &Context, _prior_state: &Value) -> Diagnostics {
        Diagnostics::new()
    }
}
