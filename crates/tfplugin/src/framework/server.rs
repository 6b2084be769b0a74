//! The tfplugin6 gRPC service on top of a [`Provider`]. One thin method per RPC: decode, call
//! the framework and the resource, encode. Every user-facing problem becomes a diagnostic;
//! gRPC errors are reserved for RPCs we do not implement.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tfvalue::{Type, Value};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::Instrument as _;

use super::client::Client;
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
    /// Set by ConfigureProvider: decides only how diagnostics are worded for the client.
    client: Mutex<Client>,
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
            client: Mutex::new(Client::default()),
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

    /// Schema rules Terraform would refuse the schema for (write-only attributes), as errors:
    /// a bug in the provider, reported before any configuration is read.
    fn schema_problems(&self) -> Diagnostics {
        let mut diags = Diagnostics::new();
        for (name, r) in &self.resources {
            for problem in r.schema.block.write_only_problems() {
                diags.push(Diagnostic::error(
                    "Invalid provider schema",
                    format!("Resource type {name}: {problem}. This is a bug in the provider; please report it."),
                ));
            }
        }
        diags
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

/// The planned private bytes of a destroy planned through `plan_destroy`.
const DESTROY_PLANNED: &[u8] = b"tfplugin:destroy-planned";

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

/// A stored state that does not fit the schema: unlike the values of the other RPCs, which
/// Terraform makes from the configuration, a stored state can be edited by hand (`state push`)
/// or written by another provider, so it gets advice rather than a bug report.
fn stored_state_error(type_name: &str, error: tfvalue::Error) -> Diagnostics {
    Diagnostic::error(
        "Unreadable stored state",
        format!(
            "The stored state of this {type_name} does not fit its schema: {error}. It was \
             changed by hand or written by another provider. Remove the resource from the \
             state and import it again with its ID, `<namespace>/<name>`: the import reads \
             the configuration back from the cluster."
        ),
    )
    .into()
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

/// The one answer to every request this provider does not serve: a diagnostic saying so (never
/// a gRPC error, which Terraform shows as a crash of the plugin).
fn unsupported(what: &str, detail: impl Into<String>) -> Diagnostics {
    Diagnostic::error(format!("{what} is not supported"), detail).into()
}

/// A response that carries diagnostics: what every RPC answers when its preamble fails.
trait WithDiagnostics: Default {
    fn diagnostics_mut(&mut self) -> &mut Vec<pb::Diagnostic>;

    fn set_diagnostics(&mut self, diagnostics: Vec<pb::Diagnostic>) {
        *self.diagnostics_mut() = diagnostics;
    }

    fn failed(diagnostics: &Diagnostics) -> Self {
        let mut out = Self::default();
        out.set_diagnostics(diagnostics_to_pb(diagnostics));
        out
    }
}

macro_rules! with_diagnostics {
    ($($rpc:ident),* $(,)?) => {$(
        impl WithDiagnostics for pb::$rpc::Response {
            fn diagnostics_mut(&mut self) -> &mut Vec<pb::Diagnostic> {
                &mut self.diagnostics
            }
        }
    )*};
}

with_diagnostics!(
    validate_provider_config,
    validate_resource_config,
    validate_data_resource_config,
    upgrade_resource_state,
    configure_provider,
    read_resource,
    plan_resource_change,
    apply_resource_change,
    import_resource_state,
    move_resource_state,
    read_data_source,
    validate_ephemeral_resource_config,
    open_ephemeral_resource,
    renew_ephemeral_resource,
    close_ephemeral_resource,
    upgrade_resource_identity,
);

impl<P: Provider> ProviderService<P> {
    /// Every RPC's frame: a tracing span with the RPC, resource type and a request id; the body's
    /// failure (the preamble's, usually) becomes the response's diagnostics, worded for the
    /// client.
    async fn rpc<R: WithDiagnostics>(
        &self,
        rpc: &'static str,
        type_name: &str,
        body: impl Future<Output = Result<R, Diagnostics>>,
    ) -> Result<Response<R>, Status> {
        let mut out = body
            .instrument(self.span(rpc, type_name))
            .await
            .unwrap_or_else(|d| R::failed(&d));
        let client = *self.client.lock().expect("client lock");
        out.diagnostics_mut()
            .iter_mut()
            .for_each(|d| client.adjust(d));
        Ok(Response::new(out))
    }

    /// The preamble of every resource RPC: the resource type, and the request's values decoded
    /// with its schema. Absent list, set and map blocks arrive as empty collections whatever the
    /// client sent: Terraform sends `[]`, Pulumi's bridge `null`, and a plan must not see a
    /// difference that is not there. The first value that cannot be decoded is named.
    fn resource_values<const N: usize>(
        &self,
        type_name: &str,
        values: [(Option<&pb::DynamicValue>, &str); N],
    ) -> Result<(&Registered, [Value; N]), Diagnostics> {
        let registered = self.resource(type_name)?;
        let mut out: [Value; N] = std::array::from_fn(|_| Value::Null);
        for (slot, (dv, what)) in out.iter_mut().zip(values) {
            let value = decode_value(dv, &registered.ty).map_err(|e| value_error(what, e))?;
            *slot = fill_absent(&registered.schema.block, value);
        }
        Ok((registered, out))
    }
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
            diagnostics: diagnostics_to_pb(&self.schema_problems()),
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
        self.rpc("ValidateProviderConfig", "", async {
            let config = decode_value(request.config.as_ref(), &self.provider_type)
                .map_err(|e| value_error("provider configuration", e))?;
            let mut diags = Diagnostics::new();
            validate_config(
                &self.provider_schema.block,
                &config,
                &Default::default(),
                &mut diags,
            );
            diags.extend(self.provider.validate(&config).await);
            Ok(pb::validate_provider_config::Response {
                diagnostics: diagnostics_to_pb(&diags),
            })
        })
        .await
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let request = request.into_inner();
        self.rpc("ValidateResourceConfig", &request.type_name, async {
            let (registered, [config]) = self.resource_values(
                &request.type_name,
                [(request.config.as_ref(), "resource configuration")],
            )?;
            let mut diags = Diagnostics::new();
            let write_only_allowed = request
                .client_capabilities
                .as_ref()
                .is_some_and(|c| c.write_only_attributes_allowed);
            if !write_only_allowed {
                diags.extend(write_only_unsupported(&registered.schema.block, &config));
            }
            validate_config(
                &registered.schema.block,
                &config,
                &Default::default(),
                &mut diags,
            );
            let defaulted = with_defaults(&registered.schema.block, &config);
            let resource_diags = registered
                .resource
                .validate(&self.context(false), ValidateRequest { config: &defaulted })
                .await;
            merge_one_error_per_path(&mut diags, resource_diags);
            Ok(pb::validate_resource_config::Response {
                diagnostics: diagnostics_to_pb(&diags),
            })
        })
        .await
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let request = request.into_inner();
        self.rpc("ValidateDataResourceConfig", &request.type_name, async {
            Err(no_data_sources(&request.type_name))
        })
        .await
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let request = request.into_inner();
        self.rpc("UpgradeResourceState", &request.type_name, async {
            let registered = self.resource(&request.type_name)?;
            if request.version > registered.schema.version {
                return Err(Diagnostic::error(
                    "Resource state written by a newer provider",
                    format!(
                        "The state of this {} was written with schema version {}, newer than this \
                         provider's {}. Upgrade the provider to the version that wrote the state.",
                        request.type_name, request.version, registered.schema.version
                    ),
                )
                .into());
            }
            let raw = request.raw_state.unwrap_or_default();
            if raw.json.is_empty() {
                if !raw.flatmap.is_empty() {
                    return Err(Diagnostic::error(
                        "Unsupported legacy state",
                        "This state is in the pre-0.12 flatmap format, which this provider never \
                         wrote. Remove the resource from state and import it again.",
                    )
                    .into());
                }
                return Ok(Default::default());
            }
            // An older version is reshaped by the resource first (text that is not JSON goes
            // on as it is: the decoder below says what is wrong with it).
            let old = (request.version < registered.schema.version)
                .then(|| serde_json::from_slice::<serde_json::Value>(&raw.json).ok())
                .flatten();
            let json = match old {
                Some(old) => {
                    let new = registered.resource.upgrade_state(request.version, old)?;
                    serde_json::to_vec(&new).expect("JSON values always serialize")
                }
                None => raw.json,
            };
            // Same-version upgrades: Terraform already dropped attributes no longer in the
            // schema; the lenient JSON decoder fills attributes added since with null.
            let value = tfvalue::json::decode(&json, &registered.ty)
                .map_err(|e| stored_state_error(&request.type_name, e))?;
            let block = &registered.schema.block;
            let value = block.null_write_only(&fill_absent(block, value));
            let mut diags = Diagnostics::new();
            let upgraded_state = encode_or(&mut diags, "upgraded state", &value, &registered.ty);
            Ok(pb::upgrade_resource_state::Response {
                upgraded_state,
                diagnostics: diagnostics_to_pb(&diags),
            })
        })
        .await
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let request = request.into_inner();
        self.rpc("UpgradeResourceIdentity", &request.type_name, async {
            Err(unsupported(
                "Resource identity",
                "This provider declares no resource identity: import by `<namespace>/<name>`.",
            ))
        })
        .await
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let request = request.into_inner();
        self.rpc("ConfigureProvider", "", async {
            let config = decode_value(request.config.as_ref(), &self.provider_type)
                .map_err(|e| value_error("provider configuration", e))?;
            *self.client.lock().expect("client lock") =
                Client::from_terraform_version(&request.terraform_version);
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
            Ok(pb::configure_provider::Response {
                diagnostics: diagnostics_to_pb(&response.diagnostics),
            })
        })
        .await
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let request = request.into_inner();
        self.rpc("ReadResource", &request.type_name, async {
            let (registered, [state]) = self.resource_values(
                &request.type_name,
                [(request.current_state.as_ref(), "current state")],
            )?;
            if let Some(deferral) = self.active_deferral(request.client_capabilities.as_ref()) {
                return Ok(pb::read_resource::Response {
                    new_state: request.current_state,
                    private: request.private,
                    deferred: Some(deferred_to_pb(deferral)),
                    ..Default::default()
                });
            }
            let read = registered
                .resource
                .read(
                    &self.context(false),
                    ReadRequest {
                        state,
                        private: request.private,
                    },
                )
                .await;
            let mut diags = read.diagnostics;
            let new_state = registered
                .schema
                .block
                .null_write_only(&read.state.unwrap_or(Value::Null));
            let new_state = encode_or(&mut diags, "state", &new_state, &registered.ty);
            Ok(pb::read_resource::Response {
                new_state,
                private: read.private,
                deferred: read.deferred.map(deferred_to_pb),
                diagnostics: diagnostics_to_pb(&diags),
                ..Default::default()
            })
        })
        .await
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let request = request.into_inner();
        self.rpc("PlanResourceChange", &request.type_name, async {
            let (registered, [prior, proposed, config]) = self.resource_values(
                &request.type_name,
                [
                    (request.prior_state.as_ref(), "prior state"),
                    (request.proposed_new_state.as_ref(), "proposed new state"),
                    (request.config.as_ref(), "configuration"),
                ],
            )?;
            let ty = &registered.ty;
            let deferral_allowed = request
                .client_capabilities
                .as_ref()
                .is_some_and(|c| c.deferral_allowed);
            let context = self.context(deferral_allowed);
            let mut out = pb::plan_resource_change::Response::default();
            let mut diags = Diagnostics::new();

            // Destroy (we advertise plan_destroy): the plan must be null. The private bytes
            // tell the delete that it was planned (this provider keeps no other private data).
            if proposed.is_null() {
                if !prior.is_null() {
                    diags.extend(registered.resource.plan_destroy(&context, &prior).await);
                }
                out.planned_state = encode_or(&mut diags, "plan", &Value::Null, ty);
                out.planned_private = DESTROY_PLANNED.to_vec();
                out.diagnostics = diagnostics_to_pb(&diags);
                return Ok(out);
            }

            let prior = null_or(prior);
            // Terraform proposes the configured write-only values; they are never planned (nor
            // compared with the prior state, which never has them).
            let proposed = registered.schema.block.null_write_only(&proposed);
            let framework =
                plan_change(&registered.schema.block, prior.as_ref(), &config, &proposed);
            if let Some(deferral) = self.active_deferral(request.client_capabilities.as_ref()) {
                out.planned_state = encode_or(&mut diags, "plan", &framework.planned, ty);
                out.deferred = Some(deferred_to_pb(deferral));
                out.diagnostics = diagnostics_to_pb(&diags);
                return Ok(out);
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
                let planned_state = registered.schema.block.null_write_only(&planned.planned);
                out.planned_state = encode_or(&mut diags, "plan", &planned_state, ty);
            }
            out.planned_private = planned.private;
            out.deferred = planned.deferred.map(deferred_to_pb);
            out.diagnostics = diagnostics_to_pb(&diags);
            Ok(out)
        })
        .await
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let request = request.into_inner();
        self.rpc("ApplyResourceChange", &request.type_name, async {
            let (registered, [prior, planned, config]) = self.resource_values(
                &request.type_name,
                [
                    (request.prior_state.as_ref(), "prior state"),
                    (request.planned_state.as_ref(), "planned state"),
                    (request.config.as_ref(), "configuration"),
                ],
            )?;
            let ty = &registered.ty;
            let context = self.context(false);
            let mut out = pb::apply_resource_change::Response::default();
            let mut diags = Diagnostics::new();

            if planned.is_null() {
                diags.extend(
                    registered
                        .resource
                        .delete(
                            &context,
                            DeleteRequest {
                                prior_state: prior.clone(),
                                planned: request.planned_private == DESTROY_PLANNED,
                                private: request.planned_private,
                            },
                        )
                        .await,
                );
                // A failed delete keeps the object in state; a successful one must return null.
                let state = if diags.has_errors() { prior } else { Value::Null };
                out.new_state = encode_or(&mut diags, "state", &state, ty);
                out.diagnostics = diagnostics_to_pb(&diags);
                return Ok(out);
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
            let mut state = registered
                .schema
                .block
                .null_write_only(&result.state.unwrap_or(Value::Null));
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
            Ok(out)
        })
        .await
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let request = request.into_inner();
        self.rpc("ImportResourceState", &request.type_name, async {
            let (registered, []) = self.resource_values(&request.type_name, [])?;
            let mut out = pb::import_resource_state::Response::default();
            if let Some(deferral) = self.active_deferral(request.client_capabilities.as_ref()) {
                out.deferred = Some(deferred_to_pb(deferral));
                return Ok(out);
            }
            let imported = registered
                .resource
                .import(&self.context(false), &request.id)
                .await;
            let mut diags = imported.diagnostics;
            if let Some(state) = imported.state {
                let block = &registered.schema.block;
                let state = block.null_write_only(&fill_absent(block, state));
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
            Ok(out)
        })
        .await
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let request = request.into_inner();
        self.rpc("MoveResourceState", &request.target_type_name, async {
            Err(unsupported(
                "Moving resources across types",
                format!(
                    "A `moved` block cannot turn a {} into a {}. Import the objects instead.",
                    request.source_type_name, request.target_type_name
                ),
            ))
        })
        .await
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let request = request.into_inner();
        self.rpc("ReadDataSource", &request.type_name, async {
            Err(no_data_sources(&request.type_name))
        })
        .await
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let request = request.into_inner();
        self.rpc(
            "ValidateEphemeralResourceConfig",
            &request.type_name,
            async { Err(no_ephemeral_resources(&request.type_name)) },
        )
        .await
    }

    async fn open_ephemeral_resource(
        &self,
        request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        let request = request.into_inner();
        self.rpc("OpenEphemeralResource", &request.type_name, async {
            Err(no_ephemeral_resources(&request.type_name))
        })
        .await
    }

    async fn renew_ephemeral_resource(
        &self,
        request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        let request = request.into_inner();
        self.rpc("RenewEphemeralResource", &request.type_name, async {
            Err(no_ephemeral_resources(&request.type_name))
        })
        .await
    }

    async fn close_ephemeral_resource(
        &self,
        request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        let request = request.into_inner();
        self.rpc("CloseEphemeralResource", &request.type_name, async {
            Err(no_ephemeral_resources(&request.type_name))
        })
        .await
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
        // The only response without diagnostics: the same words go into its error.
        let name = request.into_inner().name;
        let text = unsupported(
            "Provider functions",
            format!("This provider has no function named {name:?}."),
        )
        .iter()
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect::<Vec<_>>()
        .join("; ");
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text,
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

/// The first version of each CLI that keeps write-only values out of plans and state.
pub const WRITE_ONLY_SINCE: &str = "Terraform 1.11 and OpenTofu 1.11";

/// Write-only values from a CLI that did not say it supports them
/// (`ClientCapabilities.write_only_attributes_allowed`, sent by Terraform and OpenTofu from
/// 1.11 on). An older CLI does not know the attribute is write-only: it would store the value
/// in the state and show it in plans, which is exactly what write-only attributes exist to
/// prevent, so the configuration is refused before any plan, at the attribute's path.
fn write_only_unsupported(block: &super::schema::Block, config: &Value) -> Diagnostics {
    block
        .write_only_values(config)
        .into_iter()
        .map(|path| {
            Diagnostic::error(
                "Write-only attribute not supported by this Terraform version",
                format!(
                    "`{path}` is a write-only attribute: its value is used to apply the change \
                     and is never stored in the state or shown in a plan. Write-only attributes \
                     need {WRITE_ONLY_SINCE} or later; this CLI did not say it supports them, so \
                     it would store the value in the state in clear text. Upgrade the CLI, or \
                     leave `{path}` unset (for object storage, use the cloud's workload \
                     identity instead of keys)."
                ),
            )
            .at(path)
        })
        .collect()
}

fn no_data_sources(type_name: &str) -> Diagnostics {
    unsupported(
        "Data sources",
        format!("This provider has no data sources (asked for {type_name:?})."),
    )
}

fn no_ephemeral_resources(type_name: &str) -> Diagnostics {
    unsupported(
        "Ephemeral resources",
        format!("This provider has no ephemeral resources (asked for {type_name:?})."),
    )
}
