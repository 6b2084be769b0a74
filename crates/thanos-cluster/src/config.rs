//! The Kubernetes connection: the provider block's fields (named as in hashicorp/kubernetes),
//! their `KUBE_*` environment variables, and building a client from them.
//!
//! Rules:
//! - an explicit block value wins over its environment variable;
//! - with nothing configured at all, [`ClusterConfig::client`] fails with
//!   [`Error::NotConfigured`]: we never read `~/.kube/config`, `KUBECONFIG` or in-cluster
//!   credentials on our own;
//! - a kubeconfig (`config_path`/`config_paths`, merged in order, first file wins) selects a
//!   context (`config_context` or the file's current context) whose cluster and user
//!   `config_context_cluster` / `config_context_auth_info` may replace; the inline settings
//!   (`host`, `token`, certificates, `insecure`, `tls_server_name`, `proxy_url`, `exec`) then
//!   override what the kubeconfig says, as hashicorp/kubernetes does;
//! - without a kubeconfig the inline settings alone describe the cluster (`host` required).

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use kube::config::{
    AuthInfo, Cluster as KubeCluster, Context, ExecConfig, ExecInteractiveMode, KubeConfigOptions,
    Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};

use crate::error::{Error, Result};

/// Connect timeout for the API server.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Timeout for one API response (we never stream, so this can be short).
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The `exec` block: a credential plugin.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecAuth {
    pub api_version: String,
    pub command: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// The provider block's connection settings (every field optional).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterConfig {
    pub config_path: Option<String>,
    pub config_paths: Vec<String>,
    pub config_context: Option<String>,
    pub config_context_cluster: Option<String>,
    pub config_context_auth_info: Option<String>,
    /// API server URL (`https://host:port`).
    pub host: Option<String>,
    pub token: Option<String>,
    /// PEM.
    pub client_certificate: Option<String>,
    /// PEM.
    pub client_key: Option<String>,
    /// PEM.
    pub cluster_ca_certificate: Option<String>,
    pub insecure: Option<bool>,
    pub tls_server_name: Option<String>,
    pub proxy_url: Option<String>,
    pub exec: Option<ExecAuth>,
}

/// The environment variables, named as hashicorp/kubernetes names them.
pub mod env {
    pub const CONFIG_PATH: &str = "KUBE_CONFIG_PATH";
    pub const CONFIG_PATHS: &str = "KUBE_CONFIG_PATHS";
    pub const CTX: &str = "KUBE_CTX";
    pub const CTX_CLUSTER: &str = "KUBE_CTX_CLUSTER";
    pub const CTX_AUTH_INFO: &str = "KUBE_CTX_AUTH_INFO";
    pub const HOST: &str = "KUBE_HOST";
    pub const TOKEN: &str = "KUBE_TOKEN";
    pub const CLIENT_CERT_DATA: &str = "KUBE_CLIENT_CERT_DATA";
    pub const CLIENT_KEY_DATA: &str = "KUBE_CLIENT_KEY_DATA";
    pub const CLUSTER_CA_CERT_DATA: &str = "KUBE_CLUSTER_CA_CERT_DATA";
    pub const INSECURE: &str = "KUBE_INSECURE";
    pub const TLS_SERVER_NAME: &str = "KUBE_TLS_SERVER_NAME";
    pub const PROXY_URL: &str = "KUBE_PROXY_URL";
    /// Every variable read, in the order above.
    pub const ALL: &[&str] = &[
        CONFIG_PATH,
        CONFIG_PATHS,
        CTX,
        CTX_CLUSTER,
        CTX_AUTH_INFO,
        HOST,
        TOKEN,
        CLIENT_CERT_DATA,
        CLIENT_KEY_DATA,
        CLUSTER_CA_CERT_DATA,
        INSECURE,
        TLS_SERVER_NAME,
        PROXY_URL,
    ];
}

impl ClusterConfig {
    /// `block` completed from the process environment (`KUBE_*`); block values win.
    pub fn from_env_and(block: ClusterConfig) -> ClusterConfig {
        Self::from_lookup_and(block, |k| std::env::var(k).ok())
    }

    /// [`ClusterConfig::from_env_and`] with an explicit variable lookup (tests, or a caller
    /// that has its own environment). Empty variables count as unset.
    pub fn from_lookup_and(
        block: ClusterConfig,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> ClusterConfig {
        let get = |k: &str| lookup(k).filter(|v| !v.is_empty());
        let or = |b: Option<String>, k: &str| b.or_else(|| get(k));
        let config_paths = if block.config_paths.is_empty() {
            get(env::CONFIG_PATHS)
                .map(|v| {
                    v.split(':')
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        } else {
            block.config_paths
        };
        ClusterConfig {
            config_path: or(block.config_path, env::CONFIG_PATH),
            config_paths,
            config_context: or(block.config_context, env::CTX),
            config_context_cluster: or(block.config_context_cluster, env::CTX_CLUSTER),
            config_context_auth_info: or(block.config_context_auth_info, env::CTX_AUTH_INFO),
            host: or(block.host, env::HOST),
            token: or(block.token, env::TOKEN),
            client_certificate: or(block.client_certificate, env::CLIENT_CERT_DATA),
            client_key: or(block.client_key, env::CLIENT_KEY_DATA),
            cluster_ca_certificate: or(block.cluster_ca_certificate, env::CLUSTER_CA_CERT_DATA),
            insecure: block.insecure.or_else(|| {
                get(env::INSECURE).map(|v| matches!(v.trim(), "1" | "true" | "TRUE" | "True"))
            }),
            tls_server_name: or(block.tls_server_name, env::TLS_SERVER_NAME),
            proxy_url: or(block.proxy_url, env::PROXY_URL),
            exec: block.exec,
        }
    }

    /// Whether nothing that could select a cluster is configured.
    pub fn is_empty(&self) -> bool {
        self.kubeconfig_paths().is_empty()
            && self.host.is_none()
            && self.token.is_none()
            && self.client_certificate.is_none()
            && self.client_key.is_none()
            && self.cluster_ca_certificate.is_none()
            && self.exec.is_none()
            && self.config_context.is_none()
            && self.config_context_cluster.is_none()
            && self.config_context_auth_info.is_none()
            && self.insecure.is_none()
            && self.tls_server_name.is_none()
            && self.proxy_url.is_none()
    }

    /// `config_path` then `config_paths`, `~/` expanded, de-duplicated.
    pub fn kubeconfig_paths(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in self.config_path.iter().chain(self.config_paths.iter()) {
            let p = expand_home(p);
            if !p.is_empty() && !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }

    /// The effective kubeconfig: one cluster, user and context (`thanos`) built from the
    /// kubeconfig files and the inline overrides.
    pub fn effective_kubeconfig(&self) -> Result<Kubeconfig> {
        if self.is_empty() {
            return Err(Error::NotConfigured);
        }
        let paths = self.kubeconfig_paths();
        let (mut cluster, mut user, namespace) = if paths.is_empty() {
            (KubeCluster::default(), AuthInfo::default(), None)
        } else {
            let mut merged = Kubeconfig::default();
            for p in &paths {
                let file = Kubeconfig::read_from(p).map_err(|e| Error::Config {
                    message: format!("cannot read kubeconfig {p:?}: {e}"),
                })?;
                merged = merged.merge(file).map_err(|e| Error::Config {
                    message: format!("cannot merge kubeconfig {p:?}: {e}"),
                })?;
            }
            select(&merged, self, &paths)?
        };

        if let Some(host) = &self.host {
            cluster.server = Some(host.clone());
        }
        if let Some(ca) = &self.cluster_ca_certificate {
            cluster.certificate_authority = None;
            cluster.certificate_authority_data = Some(b64(ca));
        }
        if let Some(insecure) = self.insecure {
            cluster.insecure_skip_tls_verify = Some(insecure);
        }
        if let Some(name) = &self.tls_server_name {
            cluster.tls_server_name = Some(name.clone());
        }
        if let Some(proxy) = &self.proxy_url {
            cluster.proxy_url = Some(proxy.clone());
        }
        if let Some(token) = &self.token {
            user.token = Some(token.clone().into());
            user.token_file = None;
        }
        if let Some(cert) = &self.client_certificate {
            user.client_certificate = None;
            user.client_certificate_data = Some(b64(cert));
        }
        if let Some(key) = &self.client_key {
            user.client_key = None;
            user.client_key_data = Some(b64(key).into());
        }
        if let Some(exec) = &self.exec {
            let e = ExecConfig {
                api_version: Some(if exec.api_version.is_empty() {
                    "client.authentication.k8s.io/v1beta1".to_owned()
                } else {
                    exec.api_version.clone()
                }),
                command: Some(exec.command.clone()),
                args: Some(exec.args.clone()),
                env: Some(
                    exec.env
                        .iter()
                        .map(|(k, v)| {
                            HashMap::from([
                                ("name".to_owned(), k.clone()),
                                ("value".to_owned(), v.clone()),
                            ])
                        })
                        .collect(),
                ),
                interactive_mode: Some(ExecInteractiveMode::Never),
                ..Default::default()
            };
            user.exec = Some(e);
        }
        match cluster.server.as_deref() {
            None | Some("") => {
                return Err(Error::Config {
                    message: if paths.is_empty() {
                        "host is not set: set host (or KUBE_HOST) to the API server URL, or \
                         config_path (or KUBE_CONFIG_PATH) to a kubeconfig"
                            .to_owned()
                    } else {
                        format!(
                            "the selected cluster in {} has no server URL; set host",
                            paths.join(", ")
                        )
                    },
                });
            }
            Some(_) => {}
        }

        Ok(Kubeconfig {
            clusters: vec![NamedCluster {
                name: "thanos".into(),
                cluster: Some(cluster),
                ..Default::default()
            }],
            auth_infos: vec![NamedAuthInfo {
                name: "thanos".into(),
                auth_info: Some(user),
                ..Default::default()
            }],
            contexts: vec![NamedContext {
                name: "thanos".into(),
                context: Some(Context {
                    cluster: "thanos".into(),
                    user: Some("thanos".into()),
                    namespace,
                    ..Default::default()
                }),
                ..Default::default()
            }],
            current_context: Some("thanos".into()),
            ..Default::default()
        })
    }

    /// The kube client configuration (timeouts set; never inferred from the environment).
    pub async fn kube_config(&self) -> Result<kube::Config> {
        let kc = self.effective_kubeconfig()?;
        let opts = KubeConfigOptions {
            context: Some("thanos".into()),
            cluster: None,
            user: None,
        };
        let mut config = kube::Config::from_custom_kubeconfig(kc, &opts)
            .await
            .map_err(|e| Error::Config {
                message: e.to_string(),
            })?;
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        config.read_timeout = Some(READ_TIMEOUT);
        config.reset_reader_on_write = true;
        // One retry policy, ours (crate::Cluster::call): it honours cancellation and maps errors.
        config.default_retry = false;
        Ok(config)
    }

    /// A client for the configured cluster. Fails with [`Error::NotConfigured`] when nothing
    /// is configured. Does not contact the server.
    pub async fn client(&self) -> Result<kube::Client> {
        let config = self.kube_config().await?;
        kube::Client::try_from(config).map_err(|e| Error::Config {
            message: format!("cannot build a Kubernetes client: {e}"),
        })
    }

    /// A [`crate::Cluster`] handle (client plus the host for error messages).
    pub async fn connect(&self) -> Result<crate::Cluster> {
        let config = self.kube_config().await?;
        let host = config.cluster_url.to_string();
        let client = kube::Client::try_from(config).map_err(|e| Error::Config {
            message: format!("cannot build a Kubernetes client: {e}"),
        })?;
        Ok(crate::Cluster::new(client, host))
    }
}

/// Picks the context, cluster and user from a merged kubeconfig.
fn select(
    kc: &Kubeconfig,
    cfg: &ClusterConfig,
    paths: &[String],
) -> Result<(KubeCluster, AuthInfo, Option<String>)> {
    let files = paths.join(", ");
    let ctx_name = cfg
        .config_context
        .clone()
        .or_else(|| kc.current_context.clone().filter(|c| !c.is_empty()));
    let context = match &ctx_name {
        Some(name) => Some(
            kc.contexts
                .iter()
                .find(|c| &c.name == name)
                .and_then(|c| c.context.clone())
                .ok_or_else(|| Error::Config {
                    message: format!(
                        "context {name:?} not found in {files} (contexts: {})",
                        kc.contexts
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })?,
        ),
        None => None,
    };
    let cluster_name = cfg
        .config_context_cluster
        .clone()
        .or_else(|| context.as_ref().map(|c| c.cluster.clone()));
    let user_name = cfg
        .config_context_auth_info
        .clone()
        .or_else(|| context.as_ref().and_then(|c| c.user.clone()));
    let cluster = match &cluster_name {
        Some(name) => kc
            .clusters
            .iter()
            .find(|c| &c.name == name)
            .and_then(|c| c.cluster.clone())
            .ok_or_else(|| Error::Config {
                message: format!("cluster {name:?} not found in {files}"),
            })?,
        None if cfg.host.is_some() => KubeCluster::default(),
        None => {
            return Err(Error::Config {
                message: format!(
                    "{files} has no current-context; set config_context (or KUBE_CTX)"
                ),
            });
        }
    };
    let user = match &user_name {
        Some(name) => kc
            .auth_infos
            .iter()
            .find(|c| &c.name == name)
            .and_then(|c| c.auth_info.clone())
            .ok_or_else(|| Error::Config {
                message: format!("user {name:?} not found in {files}"),
            })?,
        None => AuthInfo::default(),
    };
    Ok((cluster, user, context.and_then(|c| c.namespace)))
}

fn b64(pem: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(pem.as_bytes())
}

fn expand_home(p: &str) -> String {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return format!("{}/{rest}", home.to_string_lossy());
    }
    p.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn empty_means_not_configured() {
        let c = ClusterConfig::from_lookup_and(ClusterConfig::default(), lookup(&[]));
        assert!(c.is_empty());
        assert!(matches!(
            c.effective_kubeconfig(),
            Err(Error::NotConfigured)
        ));
        // KUBECONFIG is not one of ours: still nothing configured.
        let c = ClusterConfig::from_lookup_and(
            ClusterConfig::default(),
            lookup(&[("KUBECONFIG", "/etc/k"), ("KUBE_CONFIG_PATH", "")]),
        );
        assert!(c.is_empty());
    }

    #[test]
    fn env_fills_gaps_and_block_wins() {
        let block = ClusterConfig {
            host: Some("https://block:6443".into()),
            insecure: Some(false),
            ..Default::default()
        };
        let c = ClusterConfig::from_lookup_and(
            block,
            lookup(&[
                ("KUBE_HOST", "https://env:6443"),
                ("KUBE_TOKEN", "t0k"),
                ("KUBE_INSECURE", "true"),
                ("KUBE_CONFIG_PATHS", "/a:/b::/c"),
                ("KUBE_CTX", "ctx"),
                ("KUBE_CTX_CLUSTER", "cl"),
                ("KUBE_CTX_AUTH_INFO", "u"),
                ("KUBE_CLIENT_CERT_DATA", "CERT"),
                ("KUBE_CLIENT_KEY_DATA", "KEY"),
                ("KUBE_CLUSTER_CA_CERT_DATA", "CA"),
                ("KUBE_TLS_SERVER_NAME", "sni"),
                ("KUBE_PROXY_URL", "http://proxy:3128"),
                ("KUBE_CONFIG_PATH", "/k"),
            ]),
        );
        assert_eq!(c.host.as_deref(), Some("https://block:6443"));
        assert_eq!(c.insecure, Some(false));
        assert_eq!(c.token.as_deref(), Some("t0k"));
        assert_eq!(c.config_paths, vec!["/a", "/b", "/c"]);
        assert_eq!(c.config_path.as_deref(), Some("/k"));
        assert_eq!(c.config_context.as_deref(), Some("ctx"));
        assert_eq!(c.config_context_cluster.as_deref(), Some("cl"));
        assert_eq!(c.config_context_auth_info.as_deref(), Some("u"));
        assert_eq!(c.client_certificate.as_deref(), Some("CERT"));
        assert_eq!(c.client_key.as_deref(), Some("KEY"));
        assert_eq!(c.cluster_ca_certificate.as_deref(), Some("CA"));
        assert_eq!(c.tls_server_name.as_deref(), Some("sni"));
        assert_eq!(c.proxy_url.as_deref(), Some("http://proxy:3128"));
        assert_eq!(c.kubeconfig_paths(), vec!["/k", "/a", "/b", "/c"]);

        let c = ClusterConfig::from_lookup_and(
            ClusterConfig {
                config_paths: vec!["/x".into()],
                ..Default::default()
            },
            lookup(&[("KUBE_CONFIG_PATHS", "/a:/b"), ("KUBE_INSECURE", "0")]),
        );
        assert_eq!(c.config_paths, vec!["/x"]);
        assert_eq!(c.insecure, Some(false));
    }

    #[test]
    fn inline_settings_build_a_kubeconfig() {
        let c = ClusterConfig {
            host: Some("https://127.0.0.1:6443".into()),
            token: Some("abc".into()),
            cluster_ca_certificate: Some("-----BEGIN CERTIFICATE-----\n".into()),
            tls_server_name: Some("kubernetes".into()),
            exec: Some(ExecAuth {
                command: "get-token".into(),
                args: vec!["--x".into()],
                env: vec![("A".into(), "1".into())],
                ..Default::default()
            }),
            ..Default::default()
        };
        let kc = c.effective_kubeconfig().unwrap();
        let cl = kc.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cl.server.as_deref(), Some("https://127.0.0.1:6443"));
        assert_eq!(cl.tls_server_name.as_deref(), Some("kubernetes"));
        assert_eq!(
            cl.certificate_authority_data.as_deref(),
            Some(b64("-----BEGIN CERTIFICATE-----\n").as_str())
        );
        let u = kc.auth_infos[0].auth_info.as_ref().unwrap();
        let exec = u.exec.as_ref().unwrap();
        assert_eq!(exec.command.as_deref(), Some("get-token"));
        assert_eq!(
            exec.api_version.as_deref(),
            Some("client.authentication.k8s.io/v1beta1")
        );
        assert_eq!(exec.env.as_ref().unwrap()[0]["name"], "A");
    }

    #[test]
    fn token_without_host_says_what_to_set() {
        let c = ClusterConfig {
            token: Some("abc".into()),
            ..Default::default()
        };
        let e = c.effective_kubeconfig().unwrap_err();
        assert!(e.to_string().contains("host"), "{e}");
    }

    #[test]
    fn kubeconfig_context_overrides() {
        let dir = std::env::temp_dir().join(format!("thanos-cluster-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kubeconfig");
        std::fs::write(
            &path,
            r#"apiVersion: v1
kind: Config
current-context: one
clusters:
- name: c1
  cluster: {server: "https://one:6443"}
- name: c2
  cluster: {server: "https://two:6443", insecure-skip-tls-verify: true}
users:
- name: u1
  user: {token: t1}
- name: u2
  user: {token: t2}
contexts:
- name: one
  context: {cluster: c1, user: u1, namespace: ns1}
- name: two
  context: {cluster: c2, user: u2}
"#,
        )
        .unwrap();
        let p = path.to_string_lossy().into_owned();
        let server = |c: &ClusterConfig| {
            let kc = c.effective_kubeconfig().unwrap();
            kc.clusters[0]
                .cluster
                .as_ref()
                .unwrap()
                .server
                .clone()
                .unwrap()
        };
        let base = ClusterConfig {
            config_path: Some(p.clone()),
            ..Default::default()
        };
        assert_eq!(server(&base), "https://one:6443");
        let two = ClusterConfig {
            config_context: Some("two".into()),
            ..base.clone()
        };
        assert_eq!(server(&two), "https://two:6443");
        let mixed = ClusterConfig {
            config_context_cluster: Some("c2".into()),
            ..base.clone()
        };
        assert_eq!(server(&mixed), "https://two:6443");
        let host = ClusterConfig {
            host: Some("https://three:6443".into()),
            ..base.clone()
        };
        assert_eq!(server(&host), "https://three:6443");
        let missing = ClusterConfig {
            config_context: Some("nope".into()),
            ..base.clone()
        };
        let e = missing.effective_kubeconfig().unwrap_err();
        assert!(e.to_string().contains("\"nope\" not found"), "{e}");
        let unreadable = ClusterConfig {
            config_path: Some(dir.join("absent").to_string_lossy().into_owned()),
            ..Default::default()
        };
        assert!(matches!(
            unreadable.effective_kubeconfig(),
            Err(Error::Config { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
