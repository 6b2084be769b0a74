//! The `provider "thanos" {}` block: how to reach Kubernetes, and defaults for resources.
//!
//! Connection settings use the names and `KUBE_*` environment variables of the hashicorp
//! Kubernetes provider, so existing configurations carry over. There is never a silent fallback
//! to localhost or in-cluster credentials.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use tfplugin::framework::{
    Attribute, Block, ConfigureRequest, ConfigureResponse, Deferral, NestedBlock, Provider,
    Resource, Schema, Validator,
};
use tfvalue::Value;

use crate::connection::Connection;
use crate::resources;

/// The provider's source address, used in docs, examples and debug mode.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/paodin/thanos";
/// Thanos image used when neither the resource nor the provider names one; the renderer owns
/// it (it matches the Thanos the real-Thanos tests build, tools/versions.env).
pub const DEFAULT_THANOS_IMAGE: &str = thanos_render::common::DEFAULT_THANOS_IMAGE;
/// Envoy image of the store proxy sidecar: the release whose API the renderer validates against.
pub const DEFAULT_ENVOY_IMAGE: &str = thanos_render::envoy::DEFAULT_ENVOY_IMAGE;

pub fn schema() -> Schema {
    let env = |var: &str| format!(" Can also be set with `{var}`.");
    Schema::new(
        0,
        Block::new(
            "The Thanos provider renders Thanos query, receive and storage stacks and applies \
             them to Kubernetes with server-side apply. Planning never needs the cluster; when \
             it is reachable, plans also show discovered hashring members and drift.",
        )
        .attribute(Attribute::string("config_path").description(format!("Path to a kubeconfig file.{}", env("KUBE_CONFIG_PATH"))))
        .attribute(Attribute::string_list("config_paths").description(format!("Kubeconfig files merged in order, like `KUBECONFIG`.{}", env("KUBE_CONFIG_PATHS"))))
        .attribute(Attribute::string("config_context").description(format!("Kubeconfig context to use instead of the current one.{}", env("KUBE_CTX"))))
        .attribute(Attribute::string("config_context_cluster").description(format!("Overrides the cluster of the kubeconfig context.{}", env("KUBE_CTX_CLUSTER"))))
        .attribute(Attribute::string("config_context_auth_info").description(format!("Overrides the user of the kubeconfig context.{}", env("KUBE_CTX_AUTH_INFO"))))
        .attribute(Attribute::string("host").description(format!("API server URL, e.g. `https://10.0.0.1:6443`.{}", env("KUBE_HOST"))))
        .attribute(Attribute::string("token").sensitive().description(format!("Bearer token.{}", env("KUBE_TOKEN"))))
        .attribute(Attribute::string("client_certificate").description(format!("PEM client certificate for TLS authentication.{}", env("KUBE_CLIENT_CERT_DATA"))))
        .attribute(Attribute::string("client_key").sensitive().description(format!("PEM key of `client_certificate`.{}", env("KUBE_CLIENT_KEY_DATA"))))
        .attribute(Attribute::string("cluster_ca_certificate").description(format!("PEM CA bundle that signs the API server's certificate.{}", env("KUBE_CLUSTER_CA_CERT_DATA"))))
        .attribute(Attribute::bool("insecure").description(format!("Skip verification of the API server's certificate. Never use in production.{}", env("KUBE_INSECURE"))))
        .attribute(Attribute::string("tls_server_name").description(format!("Server name checked against the API server's certificate.{}", env("KUBE_TLS_SERVER_NAME"))))
        .attribute(Attribute::string("proxy_url").description(format!("HTTP(S) proxy for API server requests.{}", env("KUBE_PROXY_URL"))))
        .attribute(Attribute::string("default_thanos_image").validate(Validator::not_empty()).description(format!("Thanos image of resources that set no `image`. Defaults to `{DEFAULT_THANOS_IMAGE}`.")))
        .attribute(Attribute::string("default_envoy_image").validate(Validator::not_empty()).description(format!("Envoy image of query sidecars that set no `envoy.image`. Defaults to `{DEFAULT_ENVOY_IMAGE}`.")))
        .block(NestedBlock::single(
            "exec",
            Block::new("Get credentials from a command (a client-go credential plugin), as in a kubeconfig `exec` user.")
                .attribute(Attribute::string("api_version").required().description("API version of the plugin's ExecCredential, e.g. `client.authentication.k8s.io/v1`."))
                .attribute(Attribute::string("command").required().description("Command to run."))
                .attribute(Attribute::string_list("args").description("Arguments of the command."))
                .attribute(Attribute::string_map("env").description("Extra environment variables of the command.")),
        )),
    )
}

/// What `ConfigureProvider` learned, for the resources of this process.
#[derive(Default, Clone)]
pub struct Configured {
    pub thanos_image: String,
    pub envoy_image: String,
    pub connection: Arc<Connection>,
}

pub struct ThanosProvider {
    configured: Arc<RwLock<Configured>>,
}

impl ThanosProvider {
    pub fn new() -> Self {
        Self {
            configured: Arc::new(RwLock::new(Configured {
                thanos_image: DEFAULT_THANOS_IMAGE.into(),
                envoy_image: DEFAULT_ENVOY_IMAGE.into(),
                connection: Arc::new(Connection::default()),
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
        resources::all(self.configured.clone())
    }

    async fn configure(&self, request: ConfigureRequest) -> ConfigureResponse {
        let config = &request.config;
        let text = |name: &str, fallback: &str| match config.get_attr(name) {
            Some(Value::String(s)) => s.clone(),
            _ => fallback.to_string(),
        };
        let unknown = !config.is_wholly_known();
        *self.configured.write().expect("configured lock") = Configured {
            thanos_image: text("default_thanos_image", DEFAULT_THANOS_IMAGE),
            envoy_image: text("default_envoy_image", DEFAULT_ENVOY_IMAGE),
            connection: Arc::new(Connection::from_provider_config(config)),
        };
        // A cluster created in the same run: defer when Terraform allows it; otherwise the
        // resources plan offline (rendering never needs the cluster).
        ConfigureResponse {
            diagnostics: Default::default(),
            defer: (unknown && request.deferral_allowed).then_some(Deferral::ProviderConfigUnknown),
        }
    }
}
