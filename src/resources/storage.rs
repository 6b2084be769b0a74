//! `thanos_storage`: a Thanos Store Gateway serving blocks from object storage, and the
//! compactor (always a single pod) that compacts, downsamples and applies retention.

use tfplugin::framework::{Input, Model, Validator};
use thanos_cluster::PvcPolicy;
use thanos_render::args::DENY_ALWAYS;
use thanos_render::common::Common;
use thanos_render::receive::Discovered;
use thanos_render::storage::{self as render, Compact, Gateway, Retention, StorageSpec};
use thanos_render::validate::{self, Path, Report};
use thanos_render::{RenderContext, Rendered};

use super::blocks::{self, DataVolumeModel, ObjectStorageModel, ResourcesModel, SecretKeyModel};
use super::checks::{self, Checked};
use super::shared::{self, CommonModel};
use crate::lifecycle::Kind;
use crate::lifecycle::settings::LifecycleModel;

pub const TYPE_NAME: &str = "thanos_storage";

/// Long-term storage for Thanos: a Store Gateway (`gateway`) that serves the blocks in an
/// object store to queriers, and a compactor (`compact`) that compacts, downsamples and deletes
/// blocks past their retention. The compactor must be the only one writing to the bucket, so
/// it always runs as exactly one pod.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct StorageModel {
    #[tf(flatten)]
    pub common: CommonModel,
    /// Store API address of the gateway (`host:port`), for `thanos_query.stores`; null without
    /// a `gateway` block.
    #[tf(computed)]
    pub store_endpoint: Input<String>,
    /// The bucket of the gateway and the compactor, configured here: the provider renders
    /// Thanos' objstore file into a Secret it owns (`thanosstorage-<name>-objstore`), mounts it
    /// and rolls the pods when it changes. Credentials are write-only attributes (Terraform or
    /// OpenTofu 1.11 or later): never stored in the state or shown in a plan; to rotate them,
    /// change them and bump `credentials_wo_version`. Leave them out to use the cloud's
    /// workload identity (see `service_account`). Set this or `object_storage_config`.
    #[tf(block)]
    pub object_storage: Input<ObjectStorageModel>,
    /// The Secret key holding the Thanos object storage configuration (objstore YAML) used by
    /// the gateway and the compactor, for a Secret you manage. Set this or `object_storage`.
    #[tf(block)]
    pub object_storage_config: Input<SecretKeyModel>,
    #[tf(block)]
    pub gateway: Input<GatewayModel>,
    #[tf(block)]
    pub compact: Input<CompactModel>,
}

/// A Thanos Store Gateway StatefulSet serving the bucket's blocks over the Store API.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct GatewayModel {
    /// Number of gateway pods. Defaults to `1`.
    #[tf(default = thanos_render::common::DEFAULT_REPLICAS, validate = Validator::int_at_least(0))]
    pub replicas: Input<i64>,
    /// Serve only blocks newer than this (`--min-time`): RFC 3339 time or a relative duration
    /// such as `-2w`.
    pub min_time: Input<String>,
    /// Serve only blocks older than this (`--max-time`): RFC 3339 time or a relative duration
    /// such as `-2h`.
    pub max_time: Input<String>,
    /// Compute resources of the gateway container.
    #[tf(block)]
    pub resources: Input<ResourcesModel>,
    /// Volume for the data directory of the gateway's index cache. Set `empty_dir` or `pvc`;
    /// unset uses an `emptyDir`.
    #[tf(block)]
    pub data_volume: Input<DataVolumeModel>,
}

/// The Thanos compactor, always exactly one pod.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct CompactModel {
    /// Disable downsampling (`--downsampling.disable`). Defaults to `false`.
    pub downsampling_disable: Input<bool>,
    #[tf(block)]
    pub retention: Input<RetentionModel>,
    /// Compute resources of the compactor container.
    #[tf(block)]
    pub resources: Input<ResourcesModel>,
    /// Volume for the data directory of the compactor's working directory. Set `empty_dir` or
    /// `pvc`; unset uses an `emptyDir`.
    #[tf(block)]
    pub data_volume: Input<DataVolumeModel>,
}

/// How long blocks are kept per resolution; `0d` keeps them forever.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct RetentionModel {
    /// Retention of raw data (`--retention.resolution-raw`), a Prometheus duration such as
    /// `30d`.
    pub raw: Input<String>,
    /// Retention of 5-minute downsampled data (`--retention.resolution-5m`).
    pub five_minutes: Input<String>,
    /// Retention of 1-hour downsampled data (`--retention.resolution-1h`).
    pub one_hour: Input<String>,
}

/// `thanos_storage` as a resource.
pub struct Storage;

impl Kind for Storage {
    type Model = StorageModel;
    type Spec = StorageSpec;
    const TYPE_NAME: &'static str = TYPE_NAME;
    const OWNER: thanos_render::meta::Kind = thanos_render::meta::Kind::Storage;

    fn identity(model: &StorageModel) -> Option<(String, String)> {
        model.common.identity()
    }

    fn lifecycle(model: &StorageModel) -> &LifecycleModel {
        &model.common.lifecycle
    }

    fn lifecycle_mut(model: &mut StorageModel) -> &mut LifecycleModel {
        &mut model.common.lifecycle
    }

    fn spec_common(spec: &StorageSpec) -> &Common {
        &spec.common
    }

    fn validate(m: &StorageModel, r: &mut Report) -> Option<StorageSpec> {
        validate(m, r)
    }

    fn render(
        spec: &StorageSpec,
        context: &RenderContext,
        _discovered: &Discovered,
    ) -> Result<Rendered, thanos_render::Error> {
        Ok(render::render(spec, context))
    }

    fn set_computed(m: &mut StorageModel, _discovered: &Discovered) {
        let (Some(name), Some(ns)) = (m.common.name.known(), m.common.namespace.known()) else {
            return;
        };
        // Without a gateway there is no store endpoint: a known null.
        if let Some(gateway) = m.gateway.decided() {
            m.store_endpoint = render::store_endpoint(name, ns, gateway.is_some())
                .map_or(Input::Null, Input::Known);
        }
    }

    /// The gateway's and compactor's volumes are caches of the bucket (which keeps the data):
    /// they go with the resource.
    fn pvc_policy_on_delete(_m: &StorageModel) -> PvcPolicy {
        PvcPolicy::Delete
    }
}

/// Every rule of a `thanos_storage`.
pub fn validate(m: &StorageModel, r: &mut Report) -> Option<StorageSpec> {
    let root = Path::root();
    let common = shared::common(
        &m.common,
        r,
        shared::Rules {
            kind: thanos_render::meta::Kind::Storage,
            derived: &render::derived_names,
            deny: &[DENY_ALWAYS, render::DENY_STORAGE],
            mounts: render::MOUNT_PATHS,
        },
    );
    let object_storage = match blocks::bucket(&m.object_storage_config, &m.object_storage, &root, r)
    {
        Checked::Unset => {
            r.push(
                &root.attr("object_storage_config"),
                "Missing object storage",
                "set object_storage (the bucket configured here) or object_storage_config (a Secret holding the objstore file): the gateway and the compactor read the bucket",
            );
            Checked::Missing
        }
        other => other,
    };
    if m.gateway.is_null() && m.compact.is_null() {
        r.push(
            &root,
            "Nothing to deploy",
            "set a gateway block (serves the bucket's blocks to thanos_query), a compact block (compacts, downsamples and applies retention), or both",
        );
    }
    let gateway = checks::block(&m.gateway, |g| gateway(g, &root.attr("gateway"), r));
    let compact = checks::block(&m.compact, |c| compact(c, &root.attr("compact"), r));
    Some(StorageSpec {
        common: common.into_value()?,
        object_storage: object_storage.into_value()?,
        gateway: gateway.into_option()?,
        compact: compact.into_option()?,
    })
}

fn gateway(g: &GatewayModel, p: &Path, r: &mut Report) -> Checked<Gateway> {
    let replicas = checks::replicas(r, &p.attr("replicas"), &g.replicas);
    let resources = blocks::resources(&g.resources, &p.attr("resources"), r);
    let data_volume = blocks::data_volume(&g.data_volume, &p.attr("data_volume"), r);
    let time = |attr: &str, v: &Input<String>, r: &mut Report| {
        checks::string(r, &p.attr(attr), v, |t| {
            validate::thanos_time_or_duration(t).map_err(|e| ("Invalid time", e))
        })
    };
    let min_time = time("min_time", &g.min_time, r);
    let max_time = time("max_time", &g.max_time, r);
    Checked::all(|| {
        Some(Gateway {
            replicas: replicas.into_value()?,
            resources: resources.into_value()?,
            data_volume: data_volume.into_value()?,
            min_time: min_time.into_option()?,
            max_time: max_time.into_option()?,
        })
    })
}

fn compact(c: &CompactModel, p: &Path, r: &mut Report) -> Checked<Compact> {
    let resources = blocks::resources(&c.resources, &p.attr("resources"), r);
    let data_volume = blocks::data_volume(&c.data_volume, &p.attr("data_volume"), r);
    let rp = p.attr("retention");
    let retention = checks::block(&c.retention, |ret| {
        let raw = checks::duration(r, &rp.attr("raw"), &ret.raw);
        let five = checks::duration(r, &rp.attr("five_minutes"), &ret.five_minutes);
        let hour = checks::duration(r, &rp.attr("one_hour"), &ret.one_hour);
        Checked::all(|| {
            Some(Retention {
                raw: raw.into_option()?,
                five_minutes: five.into_option()?,
                one_hour: hour.into_option()?,
            })
        })
    })
    .or(Retention::default);
    let downsampling_disable = checks::plain(&c.downsampling_disable).or(|| false);
    Checked::all(|| {
        Some(Compact {
            resources: resources.into_value()?,
            downsampling_disable: downsampling_disable.into_value()?,
            retention: retention.into_value()?,
            data_volume: data_volume.into_value()?,
        })
    })
}
