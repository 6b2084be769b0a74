//! The provider's connection to Kubernetes: made from the provider block (plus the `KUBE_*`
//! variables hashicorp/kubernetes reads), opened at most once per provider process and only
//! when something needs the cluster. Planning never needs it; with no reachable cluster, plans
//! are computed offline.

use std::sync::Arc;

use async_trait::async_trait;
use thanos_cluster::{Cluster, ClusterConfig, Patience};
use tokio::sync::OnceCell;

use crate::cluster::{ClusterApi, Clusters};

/// What the provider block said about the cluster.
pub enum Connection {
    /// The provider block holds values only known after apply (a cluster created in the same
    /// run): plan offline now, connect when the values are known.
    Unknown,
    /// Usable settings (possibly empty: then any operation that needs the cluster says what to
    /// set).
    Settings {
        config: Box<ClusterConfig>,
        cluster: OnceCell<Result<Arc<Cluster>, String>>,
    },
}

impl Connection {
    /// The connection to the cluster `block` describes (the provider block's settings; the
    /// `KUBE_*` variables fill what it leaves out). `unknown`: some of the block is only known
    /// after apply (plan offline now).
    pub fn new(block: ClusterConfig, unknown: bool) -> Self {
        if unknown {
            return Connection::Unknown;
        }
        Connection::Settings {
            config: Box::new(ClusterConfig::from_env_and(block)),
            cluster: OnceCell::new(),
        }
    }
}

#[async_trait]
impl Clusters for Connection {
    fn is_configured(&self) -> bool {
        match self {
            Connection::Unknown => false,
            Connection::Settings { config, .. } => !config.is_empty(),
        }
    }

    /// The connected cluster, or why there is none (a message for a diagnostic). The first
    /// caller connects; everyone after gets the same answer.
    async fn cluster(&self) -> Result<Arc<dyn ClusterApi>, String> {
        let cluster = self.connected().await?;
        Ok(cluster.clone())
    }

    /// The same connection, patient with an API server it cannot reach (see
    /// [`Patience::Long`]).
    async fn cluster_for_changes(&self) -> Result<Arc<dyn ClusterApi>, String> {
        let cluster = self.connected().await?;
        Ok(Arc::new(cluster.with_patience(Patience::Long)))
    }
}

impl Connection {
    async fn connected(&self) -> Result<&Arc<Cluster>, String> {
        match self {
            Connection::Unknown => Err(
                "The provider configuration is not known yet (it depends on resources created in this run); \
                 apply the resources it depends on first, or use -target."
                    .into(),
            ),
            Connection::Settings { config, cluster } => cluster
                .get_or_init(|| async {
                    config
                        .connect()
                        .await
                        .map(Arc::new)
                        .map_err(|e| e.to_string())
                })
                .await
                .as_ref()
                .map_err(Clone::clone),
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
