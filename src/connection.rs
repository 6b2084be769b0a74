//! The provider's connection to Kubernetes: made from the provider block (plus the `KUBE_*`
//! variables hashicorp/kubernetes reads), opened at most once per provider process and only
//! when something needs the cluster. Planning never needs it; with no reachable cluster, plans
//! are computed offline.

use tfvalue::Value;
use thanos_cluster::{Cluster, ClusterConfig, ExecAuth};
use tokio::sync::OnceCell;

/// What the provider block said about the cluster.
pub enum Connection {
    /// The provider block holds values only known after apply (a cluster created in the same
    /// run): plan offline now, connect when the values are known.
    Unknown,
    /// Usable settings (possibly empty: then any operation that needs the cluster says what to
    /// set).
    Settings {
        config: Box<ClusterConfig>,
        cluster: OnceCell<Result<Cluster, String>>,
    },
}

impl Connection {
    /// Reads the connection settings of a decoded provider configuration.
    pub fn from_provider_config(config: &Value) -> Self {
        if !config.is_wholly_known() {
            return Connection::Unknown;
        }
        let text = |name: &str| {
            config
                .get_attr(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let strings = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_list)
                .unwrap_or_default()
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        };
        let exec = config
            .get_attr("exec")
            .filter(|v| !v.is_null())
            .map(|e| ExecAuth {
                api_version: e
                    .get_attr("api_version")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                command: e
                    .get_attr("command")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                args: strings(e.get_attr("args")),
                env: e
                    .get_attr("env")
                    .and_then(Value::as_map)
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        let block = ClusterConfig {
            config_path: text("config_path"),
            config_paths: strings(config.get_attr("config_paths")),
            config_context: text("config_context"),
            config_context_cluster: text("config_context_cluster"),
            config_context_auth_info: text("config_context_auth_info"),
            host: text("host"),
            token: text("token"),
            client_certificate: text("client_certificate"),
            client_key: text("client_key"),
            cluster_ca_certificate: text("cluster_ca_certificate"),
            insecure: config.get_attr("insecure").and_then(Value::as_bool),
            tls_server_name: text("tls_server_name"),
            proxy_url: text("proxy_url"),
            exec,
        };
        Connection::Settings {
            config: Box::new(ClusterConfig::from_env_and(block)),
            cluster: OnceCell::new(),
        }
    }

    /// The connected cluster, or why there is none (a message for a diagnostic). The first
    /// caller connects; everyone after gets the same answer.
    pub async fn cluster(&self) -> Result<&Cluster, String> {
        match self {
            Connection::Unknown => Err(
                "The provider configuration is not known yet (it depends on resources created in this run); \
                 apply the resources it depends on first, or use -target."
                    .into(),
            ),
            Connection::Settings { config, cluster } => cluster
                .get_or_init(|| async { config.connect().await.map_err(|e| e.to_string()) })
                .await
                .as_ref()
                .map_err(Clone::clone),
        }
    }

    /// Whether any connection setting was given at all (else plans never try the cluster).
    pub fn is_configured(&self) -> bool {
        match self {
            Connection::Unknown => false,
            Connection::Settings { config, .. } => !config.is_empty(),
        }
    }
}

impl Default for Connection {
    fn default() -> Self {
        Connection::Settings {
            config: Box::default(),
            cluster: OnceCell::new(),
        }
    }
}
