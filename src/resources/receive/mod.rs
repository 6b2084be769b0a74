//! `thanos_receive`: Thanos Receive as a router (Deployment + hashring ConfigMap), an ingestor
//! (StatefulSet with TSDB volumes) or both in one StatefulSet, with its Service and optional
//! remote-write Ingress. What only receive has lives beside it: its hashrings in [`rings`], what
//! changes do to its ingestors' data in [`data_loss`].

pub mod data_loss;
pub mod ring_change;
pub mod rings;
pub mod settle;

use std::collections::BTreeMap;

use tfplugin::framework::{Input, Model, Validator};
use tfvalue::Value;
use thanos_cluster::PvcPolicy;
use thanos_render::args::DENY_ALWAYS;
use thanos_render::common::Common;
use thanos_render::hashring::TenantMatcher;
use thanos_render::placement::Algorithm;
use thanos_render::receive::{
    self as render, DEFAULT_PVC_RETENTION, Discovered, Ingestor, Mode, ReceiveSpec, Reload,
    RingSelector,
};
use thanos_render::validate::{self, Invalid, Path, Report};
use thanos_render::{RenderContext, Rendered};

use super::blocks::{
    self, DataVolumeModel, IngressModel, LabelSelectorModel, ObjectStorageModel, ResourcesModel,
    SecretKeyModel,
};
use super::checks::{self, Checked};
use super::shared::{self, CommonModel};
use crate::lifecycle::Kind;
use crate::lifecycle::settings::LifecycleModel;

pub const TYPE_NAME: &str = "thanos_receive";

/// A Thanos Receive deployment. With a `router` block it routes remote-write requests to
/// ingestors through hashrings; with an `ingestor` block it stores samples in its local TSDB
/// (and ships blocks to object storage); with both, each pod does both; with neither, it is an
/// ingestor.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct ReceiveModel {
    #[tf(flatten)]
    pub common: CommonModel,
    /// Number of receive pods. Defaults to `1`. Ingestors that a hashring of another
    /// resource still lists are not stopped by a scale-down: the plan keeps them running,
    /// unpublished, until the rings drop them, and the next plan shrinks the StatefulSet
    /// (see the hashrings guide).
    #[tf(default = thanos_render::common::DEFAULT_REPLICAS, validate = Validator::int_at_least(0))]
    pub replicas: Input<i64>,
    /// HTTP header carrying the tenant ID (`--receive.tenant-header`). Unset uses Thanos's
    /// default `THANOS-TENANT`.
    pub tenant_header: Input<String>,
    /// Tenant of requests without the tenant header (`--receive.default-tenant-id`).
    pub default_tenant_id: Input<String>,
    /// Seconds a pod may take to stop once asked to (`terminationGracePeriodSeconds`): an
    /// ingestor flushes its head into a block and, with object storage, uploads it; a router
    /// finishes the requests it holds. A pod that is done sooner stops sooner. New receives
    /// default to `900` (15 minutes, as kube-thanos). A receive applied by a provider version
    /// without this attribute keeps Kubernetes' default (30 seconds) until you set it (the
    /// pods then roll once): an upgrade of the provider never rolls them; its plans say so.
    #[tf(optional_computed, use_state_for_unknown, validate = Validator::int_at_least(0))]
    pub termination_grace_period_seconds: Input<i64>,
    /// External label carrying the tenant (`--receive.tenant-label-name`).
    pub tenant_label_name: Input<String>,
    /// The router's hashrings exactly as written to `hashrings.json`: hard rings in order, the
    /// soft ring last, endpoints sorted. Rings with `endpoints_selector` are discovered from
    /// the cluster at plan time, so the plan shows members joining or leaving.
    #[tf(computed)]
    pub hashrings: Input<Vec<RingEntry>>,
    /// Stable per-pod gRPC endpoints of this resource's ingestors
    /// (`<pod>.<service>.<namespace>.svc:10901`), known at plan time. Use them as another
    /// ring's `endpoints`.
    #[tf(computed)]
    pub ingestor_endpoints: Input<Vec<String>>,
    /// Store API address of the ingestors, for `thanos_query.stores`.
    #[tf(computed)]
    pub store_endpoint: Input<String>,
    /// Prometheus remote-write URL of this receive inside the cluster.
    #[tf(computed)]
    pub remote_write_url: Input<String>,
    /// Compute resources of the receive container.
    #[tf(block)]
    pub resources: Input<ResourcesModel>,
    #[tf(block)]
    pub router: Input<RouterModel>,
    #[tf(block)]
    pub ingestor: Input<IngestorModel>,
}

/// One ring of `hashrings`.
#[derive(Model, Debug, Clone, PartialEq, Eq)]
pub struct RingEntry {
    /// The ring's name (`hashring` in `hashrings.json`).
    pub name: String,
    /// The tenants it serves (none: every tenant no other ring claims).
    pub tenants: Vec<String>,
    /// Its members, sorted.
    pub endpoints: Vec<String>,
}

/// Routes incoming remote-write requests to ingestors through hashrings.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct RouterModel {
    /// How often the router re-reads `hashrings.json`
    /// (`--receive.hashrings-file-refresh-interval`), a Prometheus duration such as `1m`.
    /// Thanos also reloads the file when it sees it change; this is its fallback (default
    /// `5m`).
    pub hashrings_refresh_interval: Input<String>,
    /// How the router pods load a changed `hashrings.json`: `"in_place"` (they keep running
    /// and re-read the file, every `hashrings_refresh_interval`, 15s unless set; the apply
    /// waits until each pod reports the new file's `thanos_receive_config_hash`, read through
    /// the API server's pod proxy, and restarts the pods instead when it cannot read it, for
    /// example without `get` on `pods/proxy`) or `"restart"` (the pods roll on every ring
    /// change: remote-write to a stopping pod fails until the client retries). New routers
    /// default to `"in_place"`; a router applied by a provider version without this attribute
    /// keeps `"restart"` (its plans say so). A receive with `ingestor` as well always restarts
    /// (its own ring changes are ordered by rolling its pods).
    #[tf(optional_computed, use_state_for_unknown, validate = Validator::one_of(Reload::VALUES))]
    pub hashrings_reload: Input<String>,
    /// Copies written of each series (`--receive.replication-factor`). Defaults to `1`. Every
    /// static ring needs at least this many endpoints.
    #[tf(default = 1i64, validate = Validator::int_at_least(1))]
    pub replication_factor: Input<i64>,
    /// An Ingress exposing the remote-write endpoint (port 19291). Removing the block deletes
    /// the Ingress.
    #[tf(block)]
    pub remote_write_ingress: Input<IngressModel>,
    /// A hashring that serves only the listed tenants. Rings are matched in order; the soft
    /// ring comes last.
    #[tf(block)]
    pub hard_tenant_hashrings: Input<Vec<HashringModel>>,
    /// The hashring that serves every tenant not claimed by a hard ring.
    #[tf(block)]
    pub soft_tenant_hashring: Input<HashringModel>,
}

/// A hashring.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct HashringModel {
    /// Name of the hashring (`hashring` in `hashrings.json`).
    #[tf(required, validate = Validator::not_empty())]
    pub name: Input<String>,
    /// Tenants this ring serves. A hard ring must list at least one, and a tenant may appear in
    /// only one ring; the soft ring lists none: it serves every tenant no hard ring claims.
    /// With `tenant_matcher = "glob"`, each is a pattern (`*`, `?`, `[a-z]`; `/` never
    /// matches).
    #[tf(default = Value::List(Vec::new()))]
    pub tenants: Input<Vec<String>>,
    /// How `tenants` are matched (`tenant_matcher_type`): `"exact"` (default) or `"glob"`
    /// (Go's `filepath.Match`). Rings are tried in order, so a glob must not match a tenant
    /// that a later ring lists.
    #[tf(default = "exact", validate = Validator::one_of(TenantMatcher::VALUES))]
    pub tenant_matcher: Input<String>,
    /// How series are placed on the members (`algorithm`): `"ketama"` (consistent hashing:
    /// when a member joins or leaves, only the series it gains or loses move, about
    /// replication_factor/members of them) or `"hashmod"` (hash modulo the member count: a
    /// change of membership moves almost every series, and a router + ingestor flushes its
    /// head on every ring change). New rings default to `"ketama"`. A ring applied by a
    /// provider version without this attribute keeps `"hashmod"` (its plans say so), and
    /// removing the attribute keeps the ring's current algorithm: placement never changes
    /// unless you ask. Changing it moves most series; the plan says how many.
    #[tf(optional_computed, use_state_for_unknown, validate = Validator::one_of(Algorithm::VALUES))]
    pub algorithm: Input<String>,
    /// Availability zone of members, by endpoint (`az`), for a ketama ring: the replicas of a
    /// series are spread evenly over zones. With `endpoints`, every key must be one of them;
    /// with `endpoints_selector`, discovered endpoints without an entry have no zone.
    pub endpoint_zones: Input<BTreeMap<String, String>>,
    /// Labels added to the blocks of this ring's tenants (`external_labels`). Only ingestors
    /// that read this hashrings file apply them, so only a receive with both `router` and
    /// `ingestor`, and only for tenants a hard ring lists exactly.
    pub external_labels: Input<BTreeMap<String, String>>,
    /// Static ring members (`host:port` of the ingestors' gRPC port), e.g. another
    /// `thanos_receive`'s `ingestor_endpoints`: at least `replication_factor` of them. Set
    /// this or `endpoints_selector`, not both.
    pub endpoints: Input<Vec<String>>,
    /// A Kubernetes label selector of the ingestor Services (their EndpointSlices) whose Ready
    /// pods are ring members, discovered at plan time; all conditions must hold.
    #[tf(block)]
    pub endpoints_selector: Input<LabelSelectorModel>,
    /// A Kubernetes label selector of the namespaces searched by `endpoints_selector`; unset
    /// searches only this resource's namespace; all conditions must hold.
    #[tf(block)]
    pub endpoints_namespace_selector: Input<LabelSelectorModel>,
    /// Shuffle sharding (ketama rings): each tenant writes only to a shard of the ring's
    /// members, chosen per tenant, so one tenant's load reaches only its shard.
    #[tf(block)]
    pub shuffle_sharding: Input<ShuffleShardingModel>,
}

/// `shuffle_sharding_config` of a hashring.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct ShuffleShardingModel {
    /// Members each tenant writes to. With zones, Thanos takes `ceil(shard_size / zones)`
    /// members from every zone, so each zone needs that many.
    #[tf(required, validate = Validator::int_at_least(1))]
    pub shard_size: Input<i64>,
    /// Tenant shards a router keeps built (Thanos's default: 100).
    #[tf(validate = Validator::int_at_least(1))]
    pub cache_size: Input<i64>,
    /// Other shard sizes for some tenants; the first that matches a tenant applies.
    #[tf(block)]
    pub overrides: Input<Vec<ShardOverrideModel>>,
    /// Draw each tenant's shard from all members as if they had one zone (`shard_size`
    /// members, however they spread over zones) instead of `ceil(shard_size / zones)` from
    /// every zone; the shard still spreads each series' replicas over the zones it holds.
    /// Default false.
    pub zone_awareness_disabled: Input<bool>,
}

/// A shard size for some tenants.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct ShardOverrideModel {
    /// Members each of these tenants writes to.
    #[tf(required, validate = Validator::int_at_least(1))]
    pub shard_size: Input<i64>,
    /// The tenants (or glob patterns) it applies to.
    #[tf(required)]
    pub tenants: Input<Vec<String>>,
    /// `"exact"` (default) or `"glob"`.
    #[tf(default = "exact", validate = Validator::one_of(TenantMatcher::VALUES))]
    pub tenant_matcher: Input<String>,
}

/// Stores received samples in a local TSDB and, with object storage, ships completed blocks.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct IngestorModel {
    /// How long blocks stay in the local TSDB (`--tsdb.retention`), a Prometheus duration such
    /// as `6h`.
    pub local_tsdb_retention: Input<String>,
    /// What happens to the data claims when the resource is destroyed: `Retain` (default, the
    /// data survives) or `Delete`.
    #[tf(default = DEFAULT_PVC_RETENTION, validate = Validator::one_of(&["Retain", "Delete"]))]
    pub pvc_retention_on_delete: Input<String>,
    /// What happens to the claims of pods removed by scaling down: `Retain` (default) or
    /// `Delete`.
    #[tf(default = DEFAULT_PVC_RETENTION, validate = Validator::one_of(&["Retain", "Delete"]))]
    pub pvc_retention_on_scale_down: Input<String>,
    /// The bucket the ingestors ship completed blocks to, configured here: the provider
    /// renders Thanos' objstore file into a Secret it owns (`thanosreceive-<name>-objstore`),
    /// mounts it and rolls the pods when it changes. Credentials are write-only attributes
    /// (Terraform or OpenTofu 1.11 or later): never stored in the state or shown in a plan; to
    /// rotate them, change them and bump `credentials_wo_version`. Leave them out to use the
    /// cloud's workload identity (see `service_account`). Set this or
    /// `object_storage_config`; with neither, blocks stay in the local TSDB only.
    #[tf(block)]
    pub object_storage: Input<ObjectStorageModel>,
    /// The Secret key holding the Thanos object storage configuration (objstore YAML) used by
    /// the ingestors to ship blocks, for a Secret you manage. Set this or `object_storage`.
    #[tf(block)]
    pub object_storage_config: Input<SecretKeyModel>,
    /// Volume for the data directory of the ingestors' TSDB. Set `empty_dir` or `pvc`; unset
    /// uses an `emptyDir`.
    #[tf(block)]
    pub data_volume: Input<DataVolumeModel>,
}

/// `thanos_receive` as a resource.
pub struct Receive;

impl Kind for Receive {
    type Model = ReceiveModel;
    type Spec = ReceiveSpec;
    const TYPE_NAME: &'static str = TYPE_NAME;
    const OWNER: thanos_render::meta::Kind = thanos_render::meta::Kind::Receive;

    fn identity(model: &ReceiveModel) -> Option<(String, String)> {
        model.common.identity()
    }

    fn lifecycle(model: &ReceiveModel) -> &LifecycleModel {
        &model.common.lifecycle
    }

    fn lifecycle_mut(model: &mut ReceiveModel) -> &mut LifecycleModel {
        &mut model.common.lifecycle
    }

    fn spec_common(spec: &ReceiveSpec) -> &Common {
        &spec.common
    }

    fn validate(m: &ReceiveModel, r: &mut Report) -> Option<ReceiveSpec> {
        validate(m, r)
    }

    const SETTLED: &'static [&'static str] = &["router", "termination_grace_period_seconds"];

    fn settle(
        planned: &mut ReceiveModel,
        config: &ReceiveModel,
        prior: Option<&ReceiveModel>,
    ) -> Vec<Invalid> {
        settle::settle(planned, config, prior)
    }

    fn render(
        spec: &ReceiveSpec,
        context: &RenderContext,
        discovered: &Discovered,
    ) -> Result<Rendered, thanos_render::Error> {
        render::render(spec, context, discovered)
    }

    fn set_computed(m: &mut ReceiveModel, discovered: &Discovered) {
        // Without a known name nothing below can be decided.
        let (Some(name), Some(ns)) = (m.common.name.known(), m.common.namespace.known()) else {
            return;
        };
        let Some(mode) = mode(m) else { return };
        m.remote_write_url = Input::Known(render::remote_write_url(name, ns));
        // A router-only receive has no store and no ingestors: known null / empty, not unknown.
        m.store_endpoint = render::store_endpoint(name, ns, mode).map_or(Input::Null, Input::Known);
        if let Some(replicas) = m.replicas.known() {
            m.ingestor_endpoints =
                Input::Known(render::ingestor_endpoints(name, ns, *replicas, mode));
        }
        // Rings that select members not discovered yet, or whose endpoints come from
        // resources not known yet, stay "known after apply".
        if let Some(rings) = rings::planned(m, &rings::completed(m, discovered)) {
            m.hashrings = Input::Known(rings);
        }
    }

    fn selector_rings(m: &ReceiveModel) -> Vec<(String, RingSelector)> {
        rings::selector_rings(m)
    }

    fn warnings(
        m: &ReceiveModel,
        prior: Option<&ReceiveModel>,
        discovered: &Discovered,
    ) -> Vec<Invalid> {
        let discovered = &rings::completed(m, discovered);
        let mut w = rings::router(m)
            .map(|router| render::discovery_warnings(&router, discovered))
            .unwrap_or_default();
        w.extend(ring_change::warnings(m, prior, discovered));
        w.extend(data_loss::scale_down_warnings(m, prior));
        w
    }

    /// Routers discover exactly these names, so an apply is complete once they are published.
    fn published_endpoints(m: &ReceiveModel) -> Vec<String> {
        m.ingestor_endpoints.known().cloned().unwrap_or_default()
    }

    /// The ingestors' TSDB claims follow `ingestor.pvc_retention_on_delete` (default Retain:
    /// data not yet shipped survives a destroy).
    fn pvc_policy_on_delete(m: &ReceiveModel) -> PvcPolicy {
        m.ingestor
            .known()
            .and_then(|i| i.pvc_retention_on_delete.known())
            .and_then(|p| PvcPolicy::parse(p))
            .unwrap_or(PvcPolicy::Retain)
    }

    fn destroy_warnings(m: &ReceiveModel) -> Vec<tfplugin::framework::Diagnostic> {
        data_loss::destroy_warnings(m)
    }

    fn applied_rings(m: &ReceiveModel) -> Option<Discovered> {
        rings::applied(m)
    }

    fn interim(
        spec: &ReceiveSpec,
        prior: Option<&ReceiveModel>,
        discovered: &Discovered,
    ) -> Option<(ReceiveSpec, String)> {
        let before = i32::try_from(*prior?.replicas.known()?).ok()?;
        let (step, resize) = render::interim(spec, before, discovered)?;
        let what = match resize {
            render::Resize::Up => format!(
                "scale-up {before} -> {}: the new ingestors start, and are Ready, before the hashring lists them",
                spec.replicas
            ),
            render::Resize::Down => format!(
                "scale-down {before} -> {}: every pod loads the hashring without the leaving ingestors before they stop",
                spec.replicas
            ),
        };
        Some((step, what))
    }

    /// Ingestors scaling down (fewer `replicas` than the state, or a scale-down held by the
    /// last apply): routers of other resources may still write to the pods that leave.
    fn leaving(
        m: &ReceiveModel,
        prior: Option<&ReceiveModel>,
        held: Option<i32>,
    ) -> Option<crate::lifecycle::hold::Leaving> {
        let (name, ns, mode) = (
            m.common.name.known()?,
            m.common.namespace.known()?,
            mode(m)?,
        );
        let replicas = *m.replicas.known()?;
        let shrinks = prior
            .and_then(|p| p.replicas.known())
            .is_some_and(|before| *before > replicas);
        if !mode.is_ingestor() || !(shrinks || held.is_some()) {
            return None;
        }
        let keep = i32::try_from(replicas).ok()?;
        let (owner, namespace) = (name.clone(), ns.clone());
        Some(crate::lifecycle::hold::Leaving {
            workload: thanos_cluster::ObjectKey::new(
                "StatefulSet",
                ns,
                render::workload_name(name),
            ),
            keep,
            own_rings: mode.is_router().then(|| {
                thanos_cluster::ObjectKey::new(
                    "ConfigMap",
                    ns,
                    render::hashrings_config_map_name(name),
                )
            }),
            ordinal: Box::new(move |e: &str| render::own_ordinal(&owner, &namespace, e)),
        })
    }

    /// A router without ingestor set to reload in place: its ring's changes are waited for.
    fn in_place_reloads(spec: &ReceiveSpec) -> Vec<crate::lifecycle::reload::InPlace> {
        if !render::reloads_in_place(spec) {
            return Vec::new();
        }
        let (name, ns) = (spec.common.name.as_str(), spec.common.namespace.as_str());
        vec![crate::lifecycle::reload::InPlace {
            workload: thanos_cluster::ObjectKey::new("Deployment", ns, render::workload_name(name)),
            pod_labels: thanos_render::meta::selector_labels(
                thanos_render::meta::Kind::Receive,
                name,
                None,
            ),
            metrics_port: thanos_render::meta::HTTP_PORT,
            config_map: format!("ConfigMap/{}", render::hashrings_config_map_name(name)),
            file: render::HASHRINGS_FILE,
        }]
    }

    fn hold(spec: &mut ReceiveSpec, size: i32) {
        spec.held_replicas = Some(size);
    }

    fn plan_still_holds(
        planned: &ReceiveModel,
        now: &ReceiveModel,
    ) -> Result<(), tfplugin::framework::Diagnostic> {
        rings::unchanged_since_plan(planned, now)
    }
}

/// The running mode, once it is known which blocks are set.
pub fn mode(m: &ReceiveModel) -> Option<Mode> {
    let router = m.router.decided()?.is_some();
    let ingestor = m.ingestor.decided()?.is_some();
    Some(Mode::of(router, ingestor))
}

/// Every ingestor is listed in `ingestor_endpoints` and, through it, in routers'
/// `hashrings.json`, one ConfigMap: more ingestors than its 1 MiB holds cannot be routed to
/// (and a plan would list millions of endpoints; found by the `render_config` fuzz target
/// with `replicas = 2147483647`).
fn ingestors_fit(m: &ReceiveModel, replicas: i64, r: &mut Report) {
    let (Some(name), Some(ns), Some(mode)) =
        (m.common.name.known(), m.common.namespace.known(), mode(m))
    else {
        return;
    };
    let bytes = |n: i64| render::ingestor_endpoints_bytes(name, ns, n);
    if !mode.is_ingestor() || bytes(replicas) <= render::CONFIG_MAP_BYTES {
        return;
    }
    // The most that fit: bytes grow with the count.
    let (mut fits, mut over) = (0i64, replicas);
    while over - fits > 1 {
        let mid = fits + (over - fits) / 2;
        if bytes(mid) <= render::CONFIG_MAP_BYTES {
            fits = mid;
        } else {
            over = mid;
        }
    }
    r.push(
        &Path::root().attr("replicas"),
        "Too many ingestors",
        format!(
            "{replicas} ingestors would not fit in a router's hashrings.json: their endpoints take {} bytes, and one ConfigMap holds at most {} (1 MiB). With this name and namespace at most {fits} ingestors fit; spread more over several thanos_receive resources and hashrings.",
            bytes(replicas),
            render::CONFIG_MAP_BYTES
        ),
    );
}

/// Every rule of a `thanos_receive`.
pub fn validate(m: &ReceiveModel, r: &mut Report) -> Option<ReceiveSpec> {
    let root = Path::root();
    // The name limits of an ingestor apply unless a router alone is certain.
    let ingests = Mode::of(m.router.known().is_some(), m.ingestor.known().is_some());
    let common = shared::common(
        &m.common,
        r,
        shared::Rules {
            kind: thanos_render::meta::Kind::Receive,
            derived: &|name| render::derived_names(name, ingests),
            deny: &[DENY_ALWAYS, render::DENY_RECEIVE, render::DENY_RING],
            mounts: render::MOUNT_PATHS,
        },
    );
    let resources = blocks::resources(&m.resources, &root.attr("resources"), r);
    let replicas = checks::replicas(r, &root.attr("replicas"), &m.replicas);
    if let Checked::Known(n) = replicas {
        ingestors_fit(m, i64::from(n), r);
    }
    let tenant_header = checks::string(r, &root.attr("tenant_header"), &m.tenant_header, |h| {
        validate::http_header_name(h).map_err(|e| ("Invalid tenant_header", e))
    });
    let default_tenant_id = checks::string(
        r,
        &root.attr("default_tenant_id"),
        &m.default_tenant_id,
        |t| {
            if t.is_empty() {
                Err((
                    "Invalid default_tenant_id",
                    "the default tenant must not be empty".to_owned(),
                ))
            } else {
                Ok(())
            }
        },
    );
    let tenant_label_name = checks::string(
        r,
        &root.attr("tenant_label_name"),
        &m.tenant_label_name,
        |l| validate::prometheus_label_name(l).map_err(|e| ("Invalid tenant_label_name", e)),
    );
    let context = rings::RouterContext::of(m);
    let router = checks::block(&m.router, |router| {
        rings::validate_router(router, &context, r)
    });
    let grace = checks::int(
        r,
        &root.attr("termination_grace_period_seconds"),
        &m.termination_grace_period_seconds,
        |n| {
            if n >= 0 {
                Ok(())
            } else {
                Err((
                    "Invalid termination_grace_period_seconds",
                    format!("{n} must be at least 0"),
                ))
            }
        },
    );
    let ingestor = checks::block(&m.ingestor, |i| ingestor(i, &root.attr("ingestor"), r));
    Some(ReceiveSpec {
        common: common.into_value()?,
        replicas: replicas.into_value()?,
        resources: resources.into_value()?,
        tenant_header: tenant_header.into_option()?,
        default_tenant_id: default_tenant_id.into_option()?,
        tenant_label_name: tenant_label_name.into_option()?,
        router: router.into_option()?,
        ingestor: ingestor.into_option()?,
        // Unset only where nothing settled it: a state written before the attribute existed.
        termination_grace_period_seconds: grace.into_option()?,
        // Decided by the plan from the cluster, not by the configuration (Kind::hold).
        held_replicas: None,
    })
}

fn ingestor(i: &IngestorModel, p: &Path, r: &mut Report) -> Checked<Ingestor> {
    let retention = checks::duration(r, &p.attr("local_tsdb_retention"), &i.local_tsdb_retention);
    let object_storage = blocks::bucket(&i.object_storage_config, &i.object_storage, p, r);
    let data_volume = blocks::data_volume(&i.data_volume, &p.attr("data_volume"), r);
    let on_delete = checks::one_of(
        r,
        &p.attr("pvc_retention_on_delete"),
        &i.pvc_retention_on_delete,
        &["Retain", "Delete"],
    )
    .or(|| DEFAULT_PVC_RETENTION.to_owned());
    let on_scale_down = checks::one_of(
        r,
        &p.attr("pvc_retention_on_scale_down"),
        &i.pvc_retention_on_scale_down,
        &["Retain", "Delete"],
    )
    .or(|| DEFAULT_PVC_RETENTION.to_owned());
    Checked::all(|| {
        Some(Ingestor {
            local_tsdb_retention: retention.into_option()?,
            object_storage: object_storage.into_option()?,
            data_volume: data_volume.into_value()?,
            pvc_retention_on_delete: on_delete.into_value()?,
            pvc_retention_on_scale_down: on_scale_down.into_value()?,
        })
    })
}
