//! The `provider "thanos" {}` block: how to reach Kubernetes, and defaults for resources.
//!
//! Connection settings use the names and `KUBE_*` environment variables of the hashicorp
//! Kubernetes provider, so existing configurations carry over. There is never a silent fallback
//! to localhost or in-cluster credentials.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use tfplugin::framework::{
    ConfigureRequest, ConfigureResponse, Deferral, Input, Model, Provider, Resource, Schema,
    Validator,
};
use thanos_cluster::{ClusterConfig, ExecAuth};
use thanos_render::RenderContext;

use crate::connection::Connection;
use crate::lifecycle::{Env, SharedEnv};
use crate::resources;

/// The provider's source address, used in docs, examples and debug mode.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/paodin/thanos";
/// Thanos image used when neither the resource nor the provider names one; the renderer owns
/// it (it matches the Thanos the real-Thanos tests build, tools/versions.env).
pub const DEFAULT_THANOS_IMAGE: &str = thanos_render::common::DEFAULT_THANOS_IMAGE;
/// Envoy image of the store proxy sidecar: the release the real-Envoy tests run.
pub const DEFAULT_ENVOY_IMAGE: &str = thanos_render::envoy::DEFAULT_ENVOY_IMAGE;

/// The Thanos provider renders Thanos query, receive and storage stacks and applies them to
/// Kubernetes with server-side apply. Planning never needs the cluster; when it is reachable,
/// plans also show discovered hashring members and drift.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct ProviderModel {
    /// Path to a kubeconfig file. Can also be set with `KUBE_CONFIG_PATH`.
    pub config_path: Input<String>,
    /// Kubeconfig files merged in order, like `KUBECONFIG`. Can also be set with
    /// `KUBE_CONFIG_PATHS`.
    pub config_paths: Input<Vec<String>>,
    /// Kubeconfig context to use instead of the current one. Can also be set with `KUBE_CTX`.
    pub config_context: Input<String>,
    /// Overrides the cluster of the kubeconfig context. Can also be set with
    /// `KUBE_CTX_CLUSTER`.
    pub config_context_cluster: Input<String>,
    /// Overrides the user of the kubeconfig context. Can also be set with
    /// `KUBE_CTX_AUTH_INFO`.
    pub config_context_auth_info: Input<String>,
    /// API server URL, e.g. `https://10.0.0.1:6443`. Can also be set with `KUBE_HOST`.
    pub host: Input<String>,
    /// Bearer token. Can also be set with `KUBE_TOKEN`.
    #[tf(sensitive)]
    pub token: Input<String>,
    /// PEM client certificate for TLS authentication. Can also be set with
    /// `KUBE_CLIENT_CERT_DATA`.
    pub client_certificate: Input<String>,
    /// PEM key of `client_certificate`. Can also be set with `KUBE_CLIENT_KEY_DATA`.
    #[tf(sensitive)]
    pub client_key: Input<String>,
    /// PEM CA bundle that signs the API server's certificate. Can also be set with
    /// `KUBE_CLUSTER_CA_CERT_DATA`.
    pub cluster_ca_certificate: Input<String>,
    /// Skip verification of the API server's certificate. Never use in production. Can also be
    /// set with `KUBE_INSECURE`.
    pub insecure: Input<bool>,
    /// Server name checked against the API server's certificate. Can also be set with
    /// `KUBE_TLS_SERVER_NAME`.
    pub tls_server_name: Input<String>,
    /// HTTP(S) proxy for API server requests. Can also be set with `KUBE_PROXY_URL`.
    pub proxy_url: Input<String>,
    #[tf(
        validate = Validator::not_empty(),
        description = format!("Thanos image of resources that set no `image`. Defaults to `{DEFAULT_THANOS_IMAGE}`.")
    )]
    pub default_thanos_image: Input<String>,
    #[tf(
        validate = Validator::not_empty(),
        description = format!("Envoy image of query sidecars that set no `envoy.image`. Defaults to `{DEFAULT_ENVOY_IMAGE}`.")
    )]
    pub default_envoy_image: Input<String>,
    #[tf(block)]
    pub exec: Input<ExecModel>,
}

/// Get credentials from a command (a client-go credential plugin), as in a kubeconfig `exec`
/// user.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct ExecModel {
    /// API version of the plugin's ExecCredential, e.g. `client.authentication.k8s.io/v1`.
    #[tf(required)]
    pub api_version: Input<String>,
    /// Command to run.
    #[tf(required)]
    pub command: Input<String>,
    /// Arguments of the command.
    pub args: Input<Vec<String>>,
    /// Extra environment variables of the command.
    pub env: Input<BTreeMap<String, String>>,
}

impl ProviderModel {
    /// The connection settings of the block (what it leaves unset stays unset).
    pub fn cluster_config(&self) -> ClusterConfig {
        let text = |v: &Input<String>| v.known().cloned();
        let exec = self.exec.known().map(|e| ExecAuth {
            api_version: e.api_version.known().cloned().unwrap_or_default(),
            command: e.command.known().cloned().unwrap_or_default(),
            args: e.args.known().cloned().unwrap_or_default(),
            env: e
                .env
                .known()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect(),
        });
        ClusterConfig {
            config_path: text(&self.config_path),
            config_paths: self.config_paths.known().cloned().unwrap_or_default(),
            config_context: text(&self.config_context),
            config_context_cluster: text(&self.config_context_cluster),
            config_context_auth_info: text(&self.config_context_auth_info),
            host: text(&self.host),
            token: text(&self.token),
            client_certificate: text(&self.client_certificate),
            client_key: text(&self.client_key),
            cluster_ca_certificate: text(&self.cluster_ca_certificate),
            insecure: self.insecure.known().copied(),
            tls_server_name: text(&self.tls_server_name),
            proxy_url: text(&self.proxy_url),
            exec,
        }
    }
}

pub fn schema() -> Schema {
    Schema::new(0, ProviderModel::block())
}

pub struct ThanosProvider {
    env: SharedEnv,
}

impl ThanosProvider {
    pub fn new() -> Self {
        Self {
            env: Arc::new(RwLock::new(Env {
                render: RenderContext {
                    thanos_image: DEFAULT_THANOS_IMAGE.into(),
                    envoy_image: DEFAULT_ENVOY_IMAGE.into(),
                },
                clusters: Arc::new(Connection::default()),
            })),
        }
    }
}

impl Default for ThanosProvider {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Provider for ThanosProvider {
    fn schema(&self) -> Schema {
        schema()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        resources::all(self.env.clone())
    }

    async fn configure(&self, request: ConfigureRequest) -> ConfigureResponse {
        let unknown = !request.config.is_wholly_known();
        let model = match ProviderModel::from_value(&request.config) {
            Ok(m) => m,
            Err(errors) => {
                return ConfigureResponse {
                    diagnostics: errors.iter().map(|e| e.to_diagnostic()).collect(),
                    defer: None,
                };
            }
        };
        let image = |v: &Input<String>, fallback: &str| {
            v.known().cloned().unwrap_or_else(|| fallback.to_owned())
        };
        *self.env.write().expect("env lock") = Env {
            render: RenderContext {
                thanos_image: image(&model.default_thanos_image, DEFAULT_THANOS_IMAGE),
                envoy_image: image(&model.default_envoy_image, DEFAULT_ENVOY_IMAGE),
            },
            clusters: Arc::new(Connection::new(model.cluster_config(), unknown)),
        };
        // A cluster created in the same run: defer when Terraform allows it; otherwise the
        // resources plan offline (rendering never needs the cluster).
        ConfigureResponse {
            diagnostics: Default::default(),
            defer: (unknown && request.deferral_allowed).then_some(Deferral::ProviderConfigUnknown),
        }
    }
}
