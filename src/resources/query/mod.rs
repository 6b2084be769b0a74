//! `thanos_query`: a Thanos Querier Deployment and Service, the ConfigMap listing its stores,
//! the envoy sidecar that reaches TLS-protected stores (`tls_mode = "envoy"`), and optional
//! Ingresses. [`preflight`]: the TLS Secrets checked against the cluster at plan time.

pub mod frontend;
pub mod preflight;

use std::collections::BTreeMap;

use tfplugin::framework::{Input, Model, Validator};
use tfvalue::Value;
use thanos_render::args::DENY_ALWAYS;
use thanos_render::common::Common;
use thanos_render::query::{self as render, Envoy, QuerySpec, Store, StoreTls, TlsMode};
use thanos_render::receive::Discovered;
use thanos_render::validate::{self, Invalid, Path, Report};
use thanos_render::{RenderContext, Rendered};

use super::blocks::{self, IngressModel, ResourcesModel};
use super::checks::{self, Checked};
use super::shared::{self, CommonModel, PULL_POLICIES};
use crate::lifecycle::Kind;
use crate::lifecycle::settings::LifecycleModel;

pub const TYPE_NAME: &str = "thanos_query";

/// A Thanos Query (querier) deployment: it answers PromQL over every configured store, in this
/// cluster or in others.
///
/// **Stores in other clusters.** A store with `secret_name` is reached with TLS: its
/// certificate is verified with the CA bundle in that Secret and must name `server_name` (by
/// default the host of `address`) among its subject alternative names; with
/// `client_secret_name` the query also presents a client certificate (mutual TLS). `tls_mode`
/// says who speaks TLS: `"native"` (the default for new queries) lets Thanos's own gRPC client
/// do it, configured per store in the query's endpoint config file, with the Secrets mounted
/// into the query container; `"envoy"` adds an envoy sidecar that takes the query's plaintext
/// gRPC on a local port per store and speaks TLS to the store, as the operator this provider
/// replaces did. Both accept TLS 1.2 and 1.3. Natively, a store's TLS error is in the query's log and in
/// its partial-response warnings; through the sidecar the query only sees "upstream connect
/// error" and the sidecar's log says why.
///
/// **Strict stores.** Thanos leaves a store that fails its health checks out of every query,
/// and one that never answered appears nowhere, not even in the query's store status. A store
/// with `strict = true` is always queried: while it fails, every query answers with a
/// partial-response warning that names it. Use it for member clusters whose absence must never
/// go unnoticed.
///
/// **TLS preflight.** When the plan can reach the cluster, it checks every TLS store's
/// Secrets: `secret_name` must exist and hold PEM certificates under `ca_key`,
/// `client_secret_name` a `tls.crt` and the `tls.key` that belongs to it. A missing Secret or
/// key, a certificate that does not parse or has expired, and a key that does not match are
/// errors at the store; a certificate that expires within 30 days is a warning with the date.
/// A plan that cannot reach the cluster (or read its Secrets) skips the check silently.
///
/// **Query frontend.** With a `frontend` block, a `thanos query-frontend` Deployment and
/// Service stand in front of the querier, and `http_url` and `http_ingress` serve the frontend:
/// whatever reads them (a Grafana data source, a ruler's `query_endpoints`) gets split,
/// retried and cached range queries without another change. The querier stays reachable at
/// its own Service, `http://thanosquery-<name>-operated.<namespace>.svc:10902`, and over gRPC
/// at `grpc_endpoint`.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct QueryModel {
    #[tf(flatten)]
    pub common: CommonModel,
    /// Number of querier pods. Defaults to `1`.
    #[tf(default = thanos_render::common::DEFAULT_REPLICAS, validate = Validator::int_at_least(0))]
    pub replicas: Input<i64>,
    /// Store API endpoints the querier fans out to, in order.
    #[tf(nested)]
    pub stores: Input<Vec<StoreModel>>,
    /// Only query series matching these labels (`--selector-label`, rendered sorted).
    pub selector_labels: Input<BTreeMap<String, String>>,
    /// Labels that mark replicas of the same series, removed when deduplicating
    /// (`--query.replica-label`). Defaults to `["prometheus_replica", "receive_replica"]`, which
    /// deduplicates Prometheus HA pairs and replicated Thanos Receive data.
    #[tf(default = Value::list(render::DEFAULT_REPLICA_LABELS.iter().copied()))]
    pub replica_labels: Input<Vec<String>>,
    /// The querier's Store API address inside the cluster (`host:port`), for a higher-level
    /// query.
    #[tf(computed)]
    pub grpc_endpoint: Input<String>,
    /// The HTTP API URL inside the cluster: the query frontend's when `frontend` is set, else
    /// the querier's.
    #[tf(computed)]
    pub http_url: Input<String>,
    /// Compute resources of the querier container.
    #[tf(block)]
    pub resources: Input<ResourcesModel>,
    /// An Ingress exposing the HTTP API and UI (port 10902): the query frontend's when
    /// `frontend` is set, else the querier's. Removing the block deletes the Ingress.
    #[tf(block)]
    pub http_ingress: Input<IngressModel>,
    /// An Ingress exposing the querier's Store API over gRPC (port 10901). Removing the block
    /// deletes the Ingress.
    #[tf(block)]
    pub grpc_ingress: Input<IngressModel>,
    /// How stores with `secret_name` are reached with TLS: `"native"` (Thanos's own gRPC
    /// client, TLS configured per store in the query's endpoint config file; no sidecar) or
    /// `"envoy"` (an envoy sidecar speaks TLS to the store, as the operator this provider
    /// replaces did). New queries default to `"native"`: one process instead of two, no second
    /// image to pull and patch, stores read at startup, and a store's TLS error reported by the
    /// query itself (its log, its partial-response warnings), where Envoy keeps the reason to
    /// itself. A query applied by a provider version without this attribute keeps `"envoy"`
    /// until you set `"native"` (its next plan shows `tls_mode = "envoy"`), and removing the
    /// attribute keeps the current mode: the data path never changes unless you ask. Switching
    /// is an in-place update: the pods roll, the sidecar and its ConfigMap come or go.
    #[tf(optional_computed, use_state_for_unknown, validate = Validator::one_of(TlsMode::VALUES))]
    pub tls_mode: Input<String>,
    /// The envoy sidecar of `tls_mode = "envoy"`, present when some store has `secret_name`.
    #[tf(block)]
    pub envoy: Input<EnvoyModel>,
    /// A query frontend (`thanos query-frontend`) in front of the querier: it splits long
    /// range queries, retries failed requests and caches results. With it, `http_url` and
    /// `http_ingress` serve the frontend (the querier stays reachable inside the cluster at
    /// `thanosquery-<name>-operated:10902`). Removing the block deletes it.
    #[tf(block)]
    pub frontend: Input<frontend::FrontendModel>,
}

/// One store of `stores`.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct StoreModel {
    /// Store API address: `host:port`, or a Thanos DNS discovery form (`dns+`, `dnssrv+`,
    /// `dnssrvnoa+`) for stores reached directly. A store with `secret_name` must be
    /// `host:port`.
    #[tf(required, validate = Validator::not_empty())]
    pub address: Input<String>,
    /// Secret holding the CA that signs the store's certificate. Setting it routes this store
    /// through the envoy sidecar with TLS.
    #[tf(validate = checks::dns_label_validator())]
    pub secret_name: Input<String>,
    /// Key of the CA certificate in `secret_name`. Defaults to `ca.crt`.
    pub ca_key: Input<String>,
    /// Secret with `tls.crt` and `tls.key` presented to the store (mutual TLS). Needs
    /// `secret_name`.
    #[tf(validate = checks::dns_label_validator())]
    pub client_secret_name: Input<String>,
    /// Name sent as SNI and checked against the store certificate's subject alternative names.
    /// Defaults to the host of `address`.
    pub server_name: Input<String>,
    /// Always query this store, even while it fails its health checks (Thanos's strict
    /// endpoint). A store that is not strict and fails is left out of every query without a
    /// word: Thanos lists it nowhere until it has answered once. A strict one stays in: every
    /// query answers with a partial-response warning naming it and its error. Use it for a
    /// member cluster whose absence must never go unnoticed. The cost: while it is down every
    /// query carries that warning, waits for its failure (at once for a refused connection or a
    /// TLS error, up to the connect timeout for an address that does not answer), and fails
    /// outright when partial responses are disabled. Needs a `host:port` address (Thanos
    /// refuses strict endpoints found by DNS). Defaults to `false`.
    pub strict: Input<bool>,
}

/// The envoy sidecar of `tls_mode = "envoy"`, present when some store has `secret_name`.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct EnvoyModel {
    /// Envoy image. Defaults to the provider's `default_envoy_image`.
    pub image: Input<String>,
    /// Pull policy of the envoy image. Defaults to `IfNotPresent`.
    #[tf(validate = Validator::one_of(PULL_POLICIES))]
    pub image_pull_policy: Input<String>,
    /// Compute resources of the envoy sidecar.
    #[tf(block)]
    pub resources: Input<ResourcesModel>,
}

/// `thanos_query` as a resource.
pub struct Query;

impl Kind for Query {
    type Model = QueryModel;
    type Spec = QuerySpec;
    const TYPE_NAME: &'static str = TYPE_NAME;
    const OWNER: thanos_render::meta::Kind = thanos_render::meta::Kind::Query;

    fn identity(model: &QueryModel) -> Option<(String, String)> {
        model.common.identity()
    }

    fn lifecycle(model: &QueryModel) -> &LifecycleModel {
        &model.common.lifecycle
    }

    fn lifecycle_mut(model: &mut QueryModel) -> &mut LifecycleModel {
        &mut model.common.lifecycle
    }

    fn spec_common(spec: &QuerySpec) -> &Common {
        &spec.common
    }

    fn validate(m: &QueryModel, r: &mut Report) -> Option<QuerySpec> {
        validate(m, r)
    }

    const SETTLED: &'static [&'static str] = &["tls_mode"];

    fn settle(
        planned: &mut QueryModel,
        config: &QueryModel,
        prior: Option<&QueryModel>,
    ) -> Vec<Invalid> {
        settle_tls_mode(planned, config, prior)
    }

    fn preflight_secrets(spec: &QuerySpec) -> Vec<crate::lifecycle::preflight::SecretRef> {
        preflight::secrets(spec)
    }

    fn preflight(
        spec: &QuerySpec,
        secrets: &crate::lifecycle::preflight::Secrets,
        now: std::time::SystemTime,
    ) -> crate::lifecycle::preflight::Findings {
        preflight::check(spec, secrets, now)
    }

    fn render(
        spec: &QuerySpec,
        context: &RenderContext,
        _discovered: &Discovered,
    ) -> Result<Rendered, thanos_render::Error> {
        render::render(spec, context)
    }

    fn set_computed(m: &mut QueryModel, _discovered: &Discovered) {
        if let (Some(name), Some(ns)) = (m.common.name.known(), m.common.namespace.known()) {
            m.grpc_endpoint = Input::Known(render::grpc_endpoint(name, ns));
            m.http_url = match &m.frontend {
                Input::Known(_) => Input::Known(render::http_url(name, ns, true)),
                Input::Null => Input::Known(render::http_url(name, ns, false)),
                Input::Unknown => Input::Unknown,
            };
        }
    }
}

/// `tls_mode` when the configuration leaves it out: `"native"` for a new query; for one that
/// exists, what it was applied with, and `"envoy"` when its state predates the attribute (every
/// earlier version used the sidecar), with a warning that says so.
pub fn settle_tls_mode(
    planned: &mut QueryModel,
    config: &QueryModel,
    prior: Option<&QueryModel>,
) -> Vec<Invalid> {
    if !config.tls_mode.is_null() {
        return Vec::new();
    }
    let (mode, warning) = match prior.map(|p| p.tls_mode.known()) {
        None => (TlsMode::Native.as_str().to_owned(), None),
        Some(Some(applied)) => (applied.clone(), None),
        Some(None) => (
            TlsMode::Envoy.as_str().to_owned(),
            Some(Invalid {
                path: Path::root().attr("tls_mode").0,
                summary: "This query keeps its envoy sidecar".into(),
                detail: "This query was applied by a provider version that always reached TLS \
                         stores through the envoy sidecar, so tls_mode is set to \"envoy\" and \
                         nothing about its data path changes. Set tls_mode = \"native\" to let \
                         Thanos speak TLS to the stores itself, without the sidecar (the default \
                         for new queries); set tls_mode = \"envoy\" to make this explicit."
                    .into(),
            }),
        ),
    };
    planned.tls_mode = Input::Known(mode);
    warning.into_iter().collect()
}

/// Every rule of a `thanos_query`.
pub fn validate(m: &QueryModel, r: &mut Report) -> Option<QuerySpec> {
    let root = Path::root();
    let tls_mode = checks::parsed(r, &root.attr("tls_mode"), &m.tls_mode, |s| {
        TlsMode::parse(s).ok_or_else(|| {
            (
                "Invalid tls_mode",
                format!("{s:?} is not one of {:?}", TlsMode::VALUES),
            )
        })
    });
    let native = tls_mode == Checked::Known(TlsMode::Native);
    let deny: &[&[thanos_render::args::Denied]] = if native {
        &[DENY_ALWAYS, render::DENY_QUERY, render::DENY_QUERY_NATIVE]
    } else {
        &[DENY_ALWAYS, render::DENY_QUERY]
    };
    let has_frontend = !m.frontend.is_null();
    let common = shared::common(
        &m.common,
        r,
        shared::Rules {
            kind: thanos_render::meta::Kind::Query,
            derived: &|name| render::derived_names(name, has_frontend),
            deny,
            mounts: render::MOUNT_PATHS,
        },
    );
    let resources = blocks::resources(&m.resources, &root.attr("resources"), r);
    let replicas = checks::replicas(r, &root.attr("replicas"), &m.replicas);
    let stores = stores(r, &root.attr("stores"), &m.stores);
    // Any string is a valid value: it is Go-quoted when rendered.
    let selector_labels = checks::map(
        r,
        &root.attr("selector_labels"),
        &m.selector_labels,
        |k, _| match validate::prometheus_label_name(k) {
            Ok(()) => Vec::new(),
            Err(e) => vec![("Invalid selector label", e)],
        },
    );
    let replica_labels = checks::unique_strings(
        r,
        &root.attr("replica_labels"),
        &m.replica_labels,
        "replica label",
        |l| validate::prometheus_label_name(l).map_err(|e| ("Invalid replica label", e)),
    );
    let http_ingress = blocks::ingress(&m.http_ingress, &root.attr("http_ingress"), r);
    let grpc_ingress = blocks::ingress(&m.grpc_ingress, &root.attr("grpc_ingress"), r);
    if native && m.envoy.known().is_some() {
        r.push(
            &root.attr("envoy"),
            "Envoy settings without the sidecar",
            "the envoy block configures the sidecar of tls_mode = \"envoy\", but this query uses \
             tls_mode = \"native\" (the default for new queries), which has no sidecar: set \
             tls_mode = \"envoy\" to keep the sidecar, or remove the block",
        );
    }
    let envoy = envoy(r, &root.attr("envoy"), &m.envoy);
    let frontend = frontend::frontend(&m.frontend, &root.attr("frontend"), r);
    Some(QuerySpec {
        common: common.into_value()?,
        replicas: replicas.into_value()?,
        resources: resources.into_value()?,
        stores: stores.into_value()?,
        selector_labels: selector_labels.into_value()?,
        replica_labels: replica_labels.into_option()?.unwrap_or_else(|| {
            render::DEFAULT_REPLICA_LABELS
                .iter()
                .map(|s| (*s).to_owned())
                .collect()
        }),
        http_ingress: http_ingress.into_option()?,
        grpc_ingress: grpc_ingress.into_option()?,
        // Unset where nothing settled it: a state written before the attribute existed (a
        // refresh or import of objects rendered with the sidecar), or `terraform validate`,
        // which only reports findings.
        tls_mode: tls_mode.into_option()?.unwrap_or(TlsMode::Envoy),
        envoy: envoy.into_value()?,
        frontend: frontend.into_option()?,
    })
}

fn stores(r: &mut Report, path: &Path, v: &Input<Vec<StoreModel>>) -> Checked<Vec<Store>> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut index = 0;
    checks::list(r, path, v, |s, p, r| {
        let i = index;
        index += 1;
        store(s, p, r, i, &mut seen)
    })
}

fn store(
    s: &StoreModel,
    p: &Path,
    r: &mut Report,
    i: usize,
    seen: &mut BTreeMap<String, usize>,
) -> Checked<Store> {
    let proxied = s.secret_name.known().is_some();
    let address = match &s.address {
        Input::Known(a) => {
            let before = r.0.len();
            let at = p.attr("address");
            if let Some(first) = seen.insert(a.clone(), i) {
                r.push(
                    &at,
                    "Duplicate store",
                    format!(
                        "{a:?} is already stores[{first}]; each store may be listed once (duplicate proxied stores would also give Envoy duplicate listeners)"
                    ),
                );
            }
            if proxied {
                if let Err(e) = validate::host_port(a) {
                    r.push(
                        &at,
                        "Invalid proxied store address",
                        format!(
                            "a store with secret_name is reached with TLS at one static address (the sidecar's upstream, or a Thanos endpoint with its own TLS settings, which Thanos only allows for static addresses), so its address must be a plain host:port without a dns+/dnssrv+ prefix: {e}"
                        ),
                    );
                }
            } else if s.secret_name.is_null()
                && let Err(e) = render::direct_address(a)
            {
                r.push(&at, "Invalid store address", e);
            }
            if r.0.len() == before {
                Checked::Known(a.clone())
            } else {
                Checked::Missing
            }
        }
        Input::Null => Checked::Unset,
        Input::Unknown => Checked::Missing,
    }
    .required(r, &p.attr("address"));
    if s.secret_name.is_null() {
        for (attr, v) in [
            ("ca_key", &s.ca_key),
            ("client_secret_name", &s.client_secret_name),
            ("server_name", &s.server_name),
        ] {
            if v.known().is_some() {
                r.push(
                    &p.attr(attr),
                    "Unused TLS setting",
                    format!(
                        "{attr} only applies to a store reached with TLS: set secret_name (the Secret holding the CA bundle) too"
                    ),
                );
            }
        }
    }
    let secret = checks::string(r, &p.attr("secret_name"), &s.secret_name, |n| {
        validate::dns_subdomain(n).map_err(|e| ("Invalid Secret name", e))
    });
    let client = checks::string(
        r,
        &p.attr("client_secret_name"),
        &s.client_secret_name,
        |n| validate::dns_subdomain(n).map_err(|e| ("Invalid Secret name", e)),
    );
    let ca_key = checks::string(r, &p.attr("ca_key"), &s.ca_key, |k| {
        validate::config_key(k).map_err(|e| ("Invalid ca_key", e))
    });
    let server_name = checks::string(r, &p.attr("server_name"), &s.server_name, |n| {
        validate::host(n).map_err(|e| ("Invalid server_name", e))
    });
    let strict = checks::plain(&s.strict);
    if let (Checked::Known(true), Input::Known(a)) = (&strict, &s.address)
        && ["dns+", "dnssrv+", "dnssrvnoa+"]
            .iter()
            .any(|prefix| a.starts_with(prefix))
    {
        r.push(
            &p.attr("strict"),
            "Strict store found by DNS",
            format!(
                "{a:?} is discovered through DNS, and Thanos refuses a strict endpoint whose addresses are not static (a query with it would not start): give the store as host:port, or leave strict unset"
            ),
        );
    }
    Checked::all(|| {
        let tls = match secret.into_option()? {
            None => None,
            Some(secret_name) => Some(StoreTls {
                secret_name,
                ca_key: ca_key
                    .into_option()?
                    .unwrap_or_else(|| render::DEFAULT_CA_KEY.to_owned()),
                client_secret_name: client.into_option()?,
                server_name: server_name.into_option()?,
            }),
        };
        Some(Store {
            address: address.into_value()?,
            tls,
            strict: strict.clone().into_option()?.unwrap_or(false),
        })
    })
}

fn envoy(r: &mut Report, p: &Path, v: &Input<EnvoyModel>) -> Checked<Envoy> {
    checks::block(v, |e| {
        let image = checks::image(r, &p.attr("image"), &e.image);
        let pull = checks::one_of(
            r,
            &p.attr("image_pull_policy"),
            &e.image_pull_policy,
            PULL_POLICIES,
        );
        let resources = blocks::resources(&e.resources, &p.attr("resources"), r);
        Checked::all(|| {
            Some(Envoy {
                image: image.into_option()?,
                image_pull_policy: pull.into_option()?,
                resources: resources.into_value()?,
            })
        })
    })
    .or(Envoy::default)
}
