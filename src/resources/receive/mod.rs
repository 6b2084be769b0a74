//! `thanos_receive`: Thanos Receive as a router (Deployment + hashring ConfigMap), an ingestor
//! (StatefulSet with TSDB volumes) or both in one StatefulSet, with its Service and optional
//! remote-write Ingress. What only receive has lives beside it: its hashrings in [`rings`], what
//! changes do to its ingestors' data in [`data_loss`].

pub mod data_loss;
pub mod rings;

use tfplugin::framework::{Input, Model, Validator};
use tfvalue::Value;
use thanos_cluster::PvcPolicy;
use thanos_render::args::DENY_ALWAYS;
use thanos_render::common::Common;
use thanos_render::receive::{
    self as render, DEFAULT_PVC_RETENTION, Discovered, Ingestor, Mode, ReceiveSpec, RingSelector,
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
    /// Number of receive pods. Defaults to `1`.
    #[tf(default = thanos_render::common::DEFAULT_REPLICAS, validate = Validator::int_at_least(0))]
    pub replicas: Input<i64>,
    /// HTTP header carrying the tenant ID (`--receive.tenant-header`). Unset uses Thanos's
    /// default `THANOS-TENANT`.
    pub tenant_header: Input<String>,
    /// Tenant of requests without the tenant header (`--receive.default-tenant-id`).
    pub default_tenant_id: Input<String>,
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
    pub hashrings_refresh_interval: Input<String>,
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
    #[tf(default = Value::List(Vec::new()))]
    pub tenants: Input<Vec<String>>,
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
    /// cloud's workload identity (see `service_account_name`). Set this or
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
        if let Some(rings) = rings::planned(m, discovered) {
            m.hashrings = Input::Known(rings);
        }
    }

    fn selector_rings(m: &ReceiveModel) -> Vec<(String, RingSelector)> {
        rings::selector_rings(m)
    }

    fn warnings(m: &ReceiveModel, discovered: &Discovered) -> Vec<Invalid> {
        rings::router(m)
            .map(|router| render::discovery_warnings(&router, discovered))
            .unwrap_or_default()
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
        |name| render::derived_names(name, ingests),
        &[DENY_ALWAYS, render::DENY_RECEIVE, render::DENY_RING],
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
    let router = checks::block(&m.router, |router| rings::validate_router(router, r));
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
