//! Kubernetes IO for terraform-provider-thanos: everything that talks to a cluster.
//!
//! [`thanos_render`] turns a resource's spec into typed objects offline; this crate
//! connects ([`config::ClusterConfig`]), applies them with server-side apply
//! ([`Cluster::apply_objects`]; [`Cluster::apply_one`] for one), finds what one resource owns ([`Cluster::inventory`]), deletes what
//! is no longer rendered ([`Cluster::prune`]; everything, for a destroy), detects drift without
//! false positives ([`Cluster::drift`]), waits for rollouts with early, explained failures
//! ([`Cluster::wait_for_rollout`]) and discovers hashring members
//! ([`Cluster::discover_endpoints`], [`Cluster::discover_ring`]) and reads the objects of
//! other tools a resource renders from ([`Cluster::select`]: a ruler's PrometheusRules). It
//! knows nothing of Terraform.
//!
//! Every call that can take time takes a [`CancellationToken`] and returns
//! [`Error::Cancelled`] promptly once it is cancelled.
//!
//! How the provider uses it (its `cluster` module wraps these calls in one trait, and its
//! `lifecycle` module calls them):
//! - configure: `ClusterConfig::from_env_and(block)`; if [`ClusterConfig::is_empty`], plans are
//!   offline and apply fails with [`Error::NotConfigured`]; else [`Cluster::connect`] when
//!   something first needs the cluster;
//! - plan (when reachable): [`Cluster::discover_ring`] fills selector hashrings,
//!   [`Cluster::select`] reads selected PrometheusRules;
//! - create/update: [`Cluster::apply_objects`] of the rendered objects (with `force` for the
//!   ones a refresh found drifted), then [`Cluster::prune`] with the rendered keys as `keep`, then
//!   (if `wait_for_rollout`) [`Cluster::wait_for_rollout`] on the rendered keys, and for
//!   ingestors [`Cluster::discover_endpoints`] until routers can find every one of them;
//! - plan (when reachable): [`Cluster::secret_data`] of the Secrets a query's TLS stores use;
//! - read/refresh: [`Cluster::inventory`] (nothing left = the resource is gone), then
//!   [`Cluster::drift_known`] of the objects rendered from state, judged on what the inventory
//!   found;
//! - import: [`Cluster::get`] of the record ConfigMap; [`Cluster::inventory`] to explain a
//!   missing one;
//! - delete: [`Cluster::prune`] with nothing to keep (what [`Cluster::delete_all`] does) and the
//!   resource's [`PvcPolicy`].
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
// Errors carry the object, reason and message a Terraform user needs; they are built once per
// failed call, never on a hot path, so their size does not matter.
#![allow(clippy::result_large_err)]

pub mod apply;
pub mod config;
pub mod delete;
pub mod discover;
pub mod drift;
pub mod error;
mod gone;
pub mod inventory;
pub mod kinds;
pub mod listing;
pub mod prune;
pub mod reload;
pub mod secret;
pub mod select;
pub mod wait;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

pub use apply::{Applied, ApplyOptions, FIELD_MANAGER};
pub use config::{ClusterConfig, ExecAuth};
pub use delete::PvcPolicy;
pub use discover::HashringFile;
pub use drift::Drift;
pub use error::{Error, ObjectKey, Result};
pub use inventory::{LiveObject, Owner};
pub use listing::Listed;
pub use reload::RingLoad;
pub use select::{ForeignKind, Selection};
pub use tokio_util::sync::CancellationToken;
pub use wait::WaitOptions;

/// A connected cluster: a kube client plus the API server URL (for error messages), and the
/// bound on requests in flight that every clone shares.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    host: String,
    in_flight: Arc<Semaphore>,
    patience: Patience,
    /// Whether the server has answered this process at least once (shared by every clone).
    answered: Arc<AtomicBool>,
    /// When a request last gave up on a server it could not reach, and why (shared by every
    /// clone; any answer clears it): see [`REMEMBER_UNREACHABLE`].
    unreachable: Arc<std::sync::Mutex<Option<(std::time::Instant, String)>>>,
    /// Listings shared by the refreshes of a namespace's resources (shared by every clone;
    /// forgotten at every write): see [`listing`].
    listings: Arc<listing::Listings>,
}

/// How long a plan's requests take "unreachable" for an answer without trying: a plan of many
/// resources against a cluster that is down otherwise tries (twice, with a backoff) for each
/// of them in turn before it warns (5 to 6 seconds for 150 resources, docs/performance.md),
/// while the outcome is the same warning. Applies and destroys (`Patience::Long`) always try.
pub const REMEMBER_UNREACHABLE: Duration = Duration::from_secs(5);

/// How long a request goes on trying an API server it cannot reach (connection refused or
/// reset, a timeout). Other transient errors (5xx, 429) are retried the same either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Patience {
    /// Tried twice: a plan or refresh against a cluster that is down warns (or fails) fast.
    Brief,
    /// For 16 to 32 seconds once the server has answered this process: an apply or destroy
    /// that is changing the cluster rides out an API server restart (seconds, issue 19's
    /// test) instead of stopping half way. A server that never answered (a wrong address, a
    /// cluster that is down) still fails fast.
    Long,
}

impl Patience {
    /// Tries of one request that meets a connection error; `answered`: whether the server
    /// has answered this process before.
    fn unreachable_attempts(self, answered: bool) -> u32 {
        match self {
            // 250 ms doubling to 4 s, jittered down by up to half: 31.75 s of backoff at most.
            Patience::Long if answered => 12,
            _ => 2,
        }
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("host", &self.host).finish()
    }
}

/// How often one request is tried when the error is transient (5xx, connection).
const ATTEMPTS: u32 = 4;
/// How often when the API server throttles (429): it asks clients to come back later, and an
/// apply of many resources at once (`-parallelism=20`) outlasts four quick tries, and twelve
/// tries within 20 seconds (issue 19's load test). With the backoff below, 32 to 64 seconds;
/// Ctrl-C ends it at once.
const THROTTLED_ATTEMPTS: u32 = 20;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The backoff doubles up to this.
const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// At most this many requests of one provider process are in flight at once (watches count
/// only while they are being opened). Objects are applied, compared and deleted concurrently,
/// and Terraform works on up to 10 resources at a time, so without a bound one `apply` of a
/// large estate would open a connection per object and crowd out everyone else using the API
/// server (whose own default is 400 mutating plus 200 read-only requests in flight, shared by
/// every client). 16 keeps a few connections busy while leaving the server most of its
/// capacity; docs/performance.md has the measurements.
pub const MAX_IN_FLIGHT: usize = 16;
impl Cluster {
    pub fn new(client: kube::Client, host: impl Into<String>) -> Self {
        Self {
            client,
            host: host.into(),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            patience: Patience::Brief,
            answered: Arc::new(AtomicBool::new(false)),
            unreachable: Arc::default(),
            listings: Arc::default(),
        }
    }

    /// A plan's answer for a server that was found unreachable moments ago, without trying.
    fn recently_unreachable(&self, key: &ObjectKey) -> Option<Error> {
        if self.patience == Patience::Long {
            return None;
        }
        let last = self.unreachable.lock().ok()?.clone()?;
        let (at, why) = last;
        let ago = at.elapsed();
        (ago < REMEMBER_UNREACHABLE).then(|| {
            tracing::debug!(%key, "not tried: the server was unreachable {} ms ago", ago.as_millis());
            Error::Unreachable {
                host: self.host.clone(),
                source: kube::Error::Service(
                    format!("{why} ({} ms ago; not tried again)", ago.as_millis()).into(),
                ),
            }
        })
    }

    /// Whether the server has answered this process at least once: until it has, no write
    /// of this process can have reached it.
    pub fn has_answered(&self) -> bool {
        self.answered.load(Ordering::Relaxed)
    }

    /// The server answered (a success or an error status): it is reachable.
    fn heard_from_server(&self) {
        self.answered.store(true, Ordering::Relaxed);
        if let Ok(mut last) = self.unreachable.lock() {
            *last = None;
        }
    }

    /// A request gave up on a server it could not reach, for `why`.
    fn gave_up_unreachable(&self, why: &kube::Error) {
        if let Ok(mut last) = self.unreachable.lock() {
            *last = Some((std::time::Instant::now(), error::chain(why)));
        }
    }

    /// The same cluster (client, bound on requests in flight) with `patience` for an API
    /// server it cannot reach.
    pub fn with_patience(&self, patience: Patience) -> Self {
        Self {
            patience,
            ..self.clone()
        }
    }

    /// Connects with `config` (see [`ClusterConfig::client`]); does not contact the server.
    pub async fn connect(config: &ClusterConfig) -> Result<Self> {
        config.connect().await
    }

    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// The API server URL.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Checks that the API server answers (GET /version).
    pub async fn ping(&self, cancel: &CancellationToken) -> Result<()> {
        let key = ObjectKey::new("APIServer", "", &self.host);
        self.call(&key, cancel, || self.client.apiserver_version())
            .await
            .map(|_| ())
    }

    /// Runs one API request, retrying transient failures with exponential backoff, and maps
    /// the final error for `key`.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        key: &ObjectKey,
        cancel: &CancellationToken,
        mut f: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        if let Some(e) = self.recently_unreachable(key) {
            return Err(e);
        }
        let mut delay = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let r = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(cancelled(key)),
                r = async {
                    // Held for this attempt only: a backoff sleep frees the slot.
                    let _permit = self.in_flight.acquire().await;
                    f().await
                } => r,
            };
            match r {
                Ok(v) => {
                    self.heard_from_server();
                    return Ok(v);
                }
                Err(e) => {
                    let e = Error::from_kube(e, key, &self.host);
                    if !matches!(e, Error::Unreachable { .. }) {
                        self.heard_from_server();
                    }
                    // Connection trouble: as patient as the work is (see `Patience`); 429
                    // and 5xx get their own tries.
                    let limit = match e {
                        Error::Unreachable { .. } => self
                            .patience
                            .unreachable_attempts(self.answered.load(Ordering::Relaxed)),
                        Error::Throttled { .. } => THROTTLED_ATTEMPTS,
                        _ => ATTEMPTS,
                    };
                    if !e.is_transient() || attempt >= limit {
                        if let Error::Unreachable { source, .. } = &e {
                            self.gave_up_unreachable(source);
                        }
                        return Err(e);
                    }
                    tracing::debug!(%key, attempt, error = %e, "transient error, retrying");
                    sleep(jittered(delay), cancel, key).await?;
                    delay = (delay * 2).min(MAX_BACKOFF);
                    attempt += 1;
                }
            }
        }
    }
}

/// `delay` shortened by a random part of up to half, so that requests throttled together do
/// not all come back at the same moment.
fn jittered(delay: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    // Each RandomState is keyed anew: a random number without a dependency.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let half = delay / 2;
    half + half.mul_f64((random % 1024) as f64 / 1024.0)
}

pub(crate) fn cancelled(key: &ObjectKey) -> Error {
    Error::Cancelled {
        what: format!("work on {key}"),
    }
}

/// Sleeps `d` unless cancelled first.
pub(crate) async fn sleep(d: Duration, cancel: &CancellationToken, key: &ObjectKey) -> Result<()> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(cancelled(key)),
        _ = tokio::time::sleep(d) => Ok(()),
    }
}
