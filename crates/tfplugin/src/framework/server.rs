//! The tfplugin6 gRPC service on top of a [`Provider`]. One thin method per RPC: decode, call
//! the framework and the resource, encode. Every user-facing problem becomes a diagnostic;
//! gRPC errors are reserved for RPCs we do not implement.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tfvalue::{Type, Value};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::Instrument as _;

use super::convert::{decode_value, deferred_to_pb, diagnostics_to_pb, encode_value, schema_to_pb};
use super::diag::{Diagnostic, Diagnostics};
use super::plan::{fill_absent, plan_change, unknown_paths, validate_config, with_defaults};
use super::resource::{
    ApplyRequest, ConfigureRequest, Context, Deferral, DeleteRequest, PlanRequest, Provider,
    ReadRequest, Resource, ValidateRequest,
};
use super::schema::Schema;
use crate::pb::tfplugin6 as pb;
use crate::pb::tfplugin6::provider_server::Provider as PbProvider;

struct Registered {
    resource: Arc<dyn Resource>,
    schema: Schema,
    ty: Type,
}

/// Serves a [`Provider`] over tfplugin6.
pub struct ProviderService<P: Provider> {
    provider: Arc<P>,
    provider_schema: Schema,
    provider_type: Type,
    resources: BTreeMap<&'static str, Registered>,
    /// Replaced on every StopProvider: cancelling the current token stops work in flight, the
    /// fresh one lets later calls run.
    cancel: Mutex<CancellationToken>,
    /// Set by ConfigureProvider when the provider asked to defer everything.
    deferral: Mutex<Option<Deferral>>,
    request_ids: AtomicU64,
}

impl<P: Provider> ProviderService<P> {
    pub fn new(provider: P) -> Self {
        let provider_schema = provider.schema();
        let provider_type = provider_schema.value_type();
        let resources = provider
            .resources()
            .into_iter()
            .map(|resource| {
                let schema = resource.schema();
                let ty = schema.value_type();
                (
                    resource.type_name(),
                    Registered {
                        resource,
                        schema,
                        ty,
                    },
                )
            })
            .collect();
        Self {
            provider: Arc::new(provider),
            provider_schema,
            provider_type,
            resources,
            cancel: Mutex::new(CancellationToken::new()),
            deferral: Mutex::new(None),
            request_ids: AtomicU64::new(1),
        }
    }

    fn context(&self, deferral_allowed: bool) -> Context {
        Context {
            cancel: self.cancel.lock().expect("cancel lock").clone(),
            deferral_allowed,
        }
    }

    fn span(&self, rpc: &'static str, type_name: &str) -> tracing::Span {
        let id = self.request_ids.fetch_add(1, Ordering::Relaxed);
        tracing::debug_span!("rpc", tf_rpc = rpc, tf_resource_type = type_name, tf_req_id = %id)
    }

    fn resource(&self, type_name: &str) -> Result<&Registered, Diagnostics> {
        self.resources.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown resource type",
                format!(
                    "This provider has no resource type {type_name:?}. It provides: {}.",
                    self.resources
                        .keys()
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .into()
        })
    }

    fn active_deferral(&self, client: Option<&pb::ClientCapabilities>) -> Option<Deferral> {
        let allowed = client.is_some_and(|c| c.deferral_allowed);
        if allowed {
            *self.deferral.lock().expect("deferral lock")
        } else {
            None
        }
    }
}

/// A decoding failure is a bug on one side or the other; report it with the value's path.
fn value_error(what: &str, error: tfvalue::Error) -> Diagnostics {
    Diagnostic::error(
        format!("Invalid {what} received from Terraform"),
        format!(
            "The provider could not decode the {what}: {error}. This is a bug in the provider \
             or in Terraform; please report it."
        ),
    )
    .into()
}

/// Decodes the values of one request with the resource's type; the first failure names which
/// value could not be decoded.
fn decode_each<const N: usize>(
    ty: &Type,
    values: [(Option<&pb::DynamicValue>, &str); N],
) -> Result<[Value; N], Diagnostics> {
    let mut out: [Value; N] = std::array::from_fn(|_| Value::Null);
    for (slot, (dv, what)) in out.iter_mut().zip(values) {
        *slot = decode_value(dv, ty).map_err(|e| value_error(what, e))?;
    }
    Ok(out)
}

fn encode_error(what: &str, error: tfvalue::Error) -> Diagnostics {
    Diagnostic::error(
        format!("Provider produced an invalid {what}"),
        format!("The provider could not encode the {what}: {error}. This is a bug in the provider; please report it."),
    )
    .into()
}

fn encode_or(
    diags: &mut Diagnostics,
    what: &str,
    value: &Value,
    ty: &Type,
) -> Option<pb::DynamicValue> {
    match encode_value(value, ty) {
        Ok(dv) => Some(dv),
        Err(e) => {
            diags.extend(encode_error(what, e));
            None
        }
    }
}

fn null_or(value: Value) -> Option<Value> {
    if value.is_null() { None } else { Some(value) }
}

#[tonic::async_trait]
impl<P: Provider> PbProvider for ProviderService<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            resources: self
                .resources
                .keys()
                .map(|name| pb::get_metadata::ResourceMetadata {
                    type_name: name.to_string(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema_to_pb(&self.provider_schema)),
            resource_schemas: self
                .resources
                .iter()
                .map(|(name, r)| (name.to_string(), schema_to_pb(&r.schema)))
                .collect(),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        // No identity schemas yet: imports use the `namespace/name` id string.
        Ok(Response::new(Default::default()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let request = request.into_inner();
        let span = self.span("ValidateProviderConfig", "");
        let diagnostics = async {
            let config = match decode_value(request.config.as_ref(), &self.provider_type) {
                Ok(v) => v,
                Err(e) => return value_error("provider configuration", e),
            };
            let mut diags = Diagnostics::new();
            validate_config(
                &self.provider_schema.block,
                &config,
                &Default::default(),
                &mut diags,
            );
            diags.extend(self.provider.validate(&config).await);
            diags
        }
        .instrument(span)
        .await;
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diagnostics_to_pb(&diagnostics),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let request = request.into_inner();
        let span = self.span("ValidateResourceConfig", &request.type_name);
        let diagnostics = async {
            let registered = match self.resource(&request.type_name) {
                Ok(r) => r,
                Err(d) => return d,
            };
            let config = match decode_value(request.config.as_ref(), &registered.ty) {
                Ok(v) => v,
                Err(e) => return value_error("resource configuration", e),
            };
            let mut diags = Diagnostics::new();
            validate_config(
                &registered.schema.block,
                &config,
                &Default::default(),
                &mut diags,
            );
            let context = self.context(false);
            let defaulted = with_defaults(&registered.schema.block, &config);
            let resource_diags = registered
                .resource
                .validate(&context, ValidateRequest { config: &defaulted })
                .await;
            merge_one_error_per_path(&mut diags, resource_diags);
            diags
        }
        .instrument(span)
        .await;
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diagnostics_to_pb(&diagnostics),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let diags: Diagnostics = no_data_sources(&request.into_inner().type_name).into();
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diagnostics_to_pb(&diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let request = request.into_inner();
        let span = self.span("UpgradeResourceState", &request.type_name);
        let _entered = span.enter();
        let mut diags = Diagnostics::new();
        let upgraded = (|| {
            let registered = self
                .resource(&request.type_name)
                .map_err(|d| diags.extend(d))
                .ok()?;
            if request.version > registered.schema.version {
                diags.error(
                    "Resource state written by a newer provider",
                    format!(
                        "The state of this {} was written with schema version {}, newer than this \
                         provider's {}. Upgrade the provider to the version that wrote the state.",
                        request.type_name, request.version, registered.schema.version
                    ),
                );
                return None;
            }
            let raw = request.raw_state.unwrap_or_default();
            if raw.json.is_empty() {
                if !raw.flatmap.is_empty() {
                    diags.error(
                        "Unsupported legacy state",
                        "This state is in the pre-0.12 flatmap format, which this provider never \
                         wrote. Remove the resource from state and import it again.",
                    );
                }
                return None;
            }
            // Same-version upgrades: Terraform already dropped attributes no longer in the
            // schema; the lenient JSON decoder fills attributes added since with null.
            let value = match tfvalue::json::decode(&raw.json, &registered.ty) {
                Ok(v) => fill_absent(&registered.schema.block, v),
                Err(e) => {
                    diags.extend(value_error("stored state", e));
                    return None;
                }
            };
            encode_or(&mut diags, "upgraded state", &value, &registered.ty)
        })();
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: upgraded,
            diagnostics: diagnostics_to_pb(&diags),
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        _request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        Err(Status::unimplemented(
            "this provider declares no resource identity",
        ))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let request = request.into_inner();
        let span = self.span("ConfigureProvider", "");
        let diagnostics = async {
            let config = match decode_value(request.config.as_ref(), &self.provider_type) {
                Ok(v) => v,
                Err(e) => return value_error("provider configuration", e),
            };
            let deferral_allowed = request
                .client_capabilities
                .is_some_and(|c| c.deferral_allowed);
            let response = self
                .provider
                .configure(ConfigureRequest {
                    terraform_version: request.terraform_version,
                    config,
                    deferral_allowed,
                })
                .await;
            *self.deferral.lock().expect("deferral lock") = response.defer;
            response.diagnostics
        }
        .instrument(span)
        .await;
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diagnostics_to_pb(&diagnostics),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let request = request.into_inner();
        let span = self.span("ReadResource", &request.type_name);
        let response = async {
            let mut out = pb::read_resource::Response::default();
            let registered = match self.resource(&request.type_name) {
                Ok(r) => r,
                Err(d) => {
                    out.diagnostics = diagnostics_to_pb(&d);
                    return out;
                }
            };
            let state = match decode_value(request.current_state.as_ref(), &registered.ty) {
                Ok(v) => v,
                Err(e) => {
                    out.diagnostics = diagnostics_to_pb(&value_error("current state", e));
                    return out;
                }
            };
            if let Some(deferral) = self.active_deferral(request.client_capabilities.as_ref()) {
                out.new_state = request.current_state;
                out.private = request.private;
                out.deferred = Some(deferred_to_pb(deferral));
                return out;
            }
            let context = self.context(false);
            let read = registered
                .resource
                .read(
                    &context,
                    ReadRequest {
                        state,
                        private: request.private,
                    },
                )
                .await;
            let mut diags = read.diagnostics;
            let new_state = read.state.unwrap_or(Value::Null);
            out.new_state = encode_or(&mut diags, "state", &new_state, &registered.ty);
            out.private = read.private;
            out.deferred = read.deferred.map(deferred_to_pb);
            out.diagnostics = diagnostics_to_pb(&diags);
            out
        }
        .instrument(span)
        .await;
        Ok(Response::new(response))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let request = request.into_inner();
        let span = self.span("PlanResourceChange", &request.type_name);
        let response = async {
            let mut out = pb::plan_resource_change::Response::default();
            let registered = match self.resource(&request.type_name) {
                Ok(r) => r,
                Err(d) => {
                    out.diagnostics = diagnostics_to_pb(&d);
                    return out;
                }
            };
            let ty = &registered.ty;
            let decoded = decode_each(
                ty,
                [
                    (request.prior_state.as_ref(), "prior state"),
                    (request.proposed_new_state.as_ref(), "proposed new state"),
                    (request.config.as_ref(), "configuration"),
                ],
            );
            let [prior, proposed, config] = match decoded {
                Ok(v) => v,
                Err(d) => {
                    out.diagnostics = diagnostics_to_pb(&d);
                    return out;
                }
            };
            let context = self.context(
                request
                    .client_capabilities
                    .as_ref()
                    .is_some_and(|c| c.deferral_allowed),
            );
            let mut diags = Diagnostics::new();

            // Destroy (we advertise plan_destroy): the plan must be null.
            if proposed.is_null() {
                if !prior.is_null() {
                    diags.extend(registered.resource.plan_destroy(&context, &prior).await);
                }
                out.planned_state = encode_or(&mut diags, "plan", &Value::Null, ty);
                out.planned_private = request.prior_private;
                out.diagnostics = diagnostics_to_pb(&diags);
                return out;
            }

            let prior = null_or(prior);
            let framework =
                plan_change(&registered.schema.block, prior.as_ref(), &config, &proposed);
            if let Some(deferral) = self.active_deferral(request.client_capabilities.as_ref()) {
                out.planned_state = encode_or(&mut diags, "plan", &framework.planned, ty);
                out.deferred = Some(deferred_to_pb(deferral));
                out.diagnostics = diagnostics_to_pb(&diags);
                return out;
            }
            let planned = registered
                .resource
                .plan(
                    &context,
                    PlanRequest {
                        prior_state: prior,
                        config,
                        planned: framework.planned,
                        prior_private: request.prior_private,
                    },
                )
                .await;
            diags.extend(planned.diagnostics);
            let mut replace = framework.requires_replace;
            for path in planned.requires_replace {
                if !replace.contains(&path) {
                    replace.push(path);
                }
            }
            out.requires_replace = replace.iter().map(super::convert::path_to_pb).collect();
            if !diags.has_errors() {
                out.planned_state = encode_or(&mut diags, "plan", &planned.planned, ty);
            }
            out.planned_private = planned.private;
            out.deferred = planned.deferred.map(deferred_to_pb);
            out.diagnostics = diagnostics_to_pb(&diags);
            out
        }
        .instrument(span)
        .await;
        Ok(Response::new(response))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let request = request.into_inner();
        let span = self.span("ApplyResourceChange", &request.type_name);
        let response = async {
            let mut out = pb::apply_resource_change::Response::default();
            let registered = match self.resource(&request.type_name) {
                Ok(r) => r,
                Err(d) => {
                    out.diagnostics = diagnostics_to_pb(&d);
                    return out;
                }
            };
            let ty = &registered.ty;
            let decoded = decode_each(
                ty,
                [
                    (request.prior_state.as_ref(), "prior state"),
                    (request.planned_state.as_ref(), "planned state"),
                    (request.config.as_ref(), "configuration"),
                ],
            );
            let [prior, planned, config] = match decoded {
                Ok(v) => v,
                Err(d) => {
                    out.diagnostics = diagnostics_to_pb(&d);
                    return out;
                }
            };
            let context = self.context(false);
            let mut diags = Diagnostics::new();

            if planned.is_null() {
                diags.extend(
                    registered
                        .resource
                        .delete(
                            &context,
                            DeleteRequest {
                                prior_state: prior.clone(),
                                private: request.planned_private,
                            },
                        )
                        .await,
                );
                // A failed delete keeps the object in state; a successful one must return null.
                let state = if diags.has_errors() { prior } else { Value::Null };
                out.new_state = encode_or(&mut diags, "state", &state, ty);
                out.diagnostics = diagnostics_to_pb(&diags);
                return out;
            }

            let apply = ApplyRequest {
                prior_state: null_or(prior),
                planned,
                config,
                planned_private: request.planned_private,
            };
            let result = if apply.prior_state.is_none() {
                registered.resource.create(&context, apply).await
            } else {
                registered.resource.update(&context, apply).await
            };
            diags.extend(result.diagnostics);
            let mut state = result.state.unwrap_or(Value::Null);
            let unknown = unknown_paths(&state);
            if !unknown.is_empty() {
                for path in &unknown {
                    diags.push(
                        Diagnostic::error(
                            "Provider returned an unknown value after apply",
                            "Every value must be known once applied. This is a bug in the provider; please report it.",
                        )
                        .at(path.clone()),
                    );
                }
                state = state.transform(&mut |_, v| if v.is_unknown() { Value::Null } else { v });
            }
            out.new_state = encode_or(&mut diags, "state", &state, ty);
            out.private = result.private;
            out.diagnostics = diagnostics_to_pb(&diags);
            out
        }
        .instrument(span)
        .await;
        Ok(Response::new(response))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let request = request.into_inner();
        let span = self.span("ImportResourceState", &request.type_name);
        let response = async {
            let mut out = pb::import_resource_state::Response::default();
            let registered = match self.resource(&request.type_name) {
                Ok(r) => r,
                Err(d) => {
                    out.diagnostics = diagnostics_to_pb(&d);
                    return out;
                }
            };
            if let Some(deferral) = self.active_deferral(request.client_capabilities.as_ref()) {
                out.deferred = Some(deferred_to_pb(deferral));
                return out;
            }
            let context = self.context(false);
            let imported = registered.resource.import(&context, &request.id).await;
            let mut diags = imported.diagnostics;
            if let Some(state) = imported.state {
                let state = fill_absent(&registered.schema.block, state);
                if let Some(dv) = encode_or(&mut diags, "imported state", &state, &registered.ty) {
                    out.imported_resources
                        .push(pb::import_resource_state::ImportedResource {
                            type_name: request.type_name.clone(),
                            state: Some(dv),
                            private: imported.private,
                            identity: None,
                        });
                }
            }
            out.diagnostics = diagnostics_to_pb(&diags);
            out
        }
        .instrument(span)
        .await;
        Ok(Response::new(response))
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let request = request.into_inner();
        let diags: Diagnostics = Diagnostic::error(
            "Moving resources across types is not supported",
            format!(
                "A `moved` block cannot turn a {} into a {}. Import the objects instead.",
                request.source_type_name, request.target_type_name
            ),
        )
        .into();
        Ok(Response::new(pb::move_resource_state::Response {
            diagnostics: diagnostics_to_pb(&diags),
            ..Default::default()
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let diags: Diagnostics = no_data_sources(&request.into_inner().type_name).into();
        Ok(Response::new(pb::read_data_source::Response {
            diagnostics: diagnostics_to_pb(&diags),
            ..Default::default()
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        _request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        Err(Status::unimplemented(
            "this provider has no ephemeral resources",
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        _request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        Err(Status::unimplemented(
            "this provider has no ephemeral resources",
        ))
    }

    async fn renew_ephemeral_resource(
        &self,
        _request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        Err(Status::unimplemented(
            "this provider has no ephemeral resources",
        ))
    }

    async fn close_ephemeral_resource(
        &self,
        _request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        Err(Status::unimplemented(
            "this provider has no ephemeral resources",
        ))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(Default::default()))
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!(
                    "this provider has no function named {:?}",
                    request.into_inner().name
                ),
                function_argument: None,
            }),
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        let previous = std::mem::replace(
            &mut *self.cancel.lock().expect("cancel lock"),
            CancellationToken::new(),
        );
        previous.cancel();
        tracing::info!("StopProvider: cancelled operations in flight");
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

/// Adds `more` to `diags`, except errors at a path that already has an error: the schema's
/// validators and a resource's own checks may judge the same attribute, and one clear error
/// per attribute reads better than two saying the same thing.
fn merge_one_error_per_path(diags: &mut Diagnostics, more: Diagnostics) {
    use super::diag::Severity;
    let taken: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .filter_map(|d| d.path.clone())
        .collect();
    for d in more.0 {
        let duplicate =
            d.severity == Severity::Error && d.path.as_ref().is_some_and(|p| taken.contains(p));
        if !duplicate {
            diags.push(d);
        }
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        // Destroys are planned through us, so we can warn about what a destroy deletes.
        plan_destroy: true,
        // Our schema is static; later processes of one run may reuse the cached copy.
        get_provider_schema_optional: true,
        move_resource_state: false,
        generate_resource_config: false,
    }
}

fn no_data_sources(type_name: &str) -> Diagnostic {
    Diagnostic::error(
        "Unknown data source",
        format!("This provider has no data sources (asked for {type_name:?})."),
    )
}
