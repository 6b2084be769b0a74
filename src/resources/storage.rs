//! `thanos_storage`: a Thanos Store Gateway serving blocks from object storage, and the
//! compactor (always a single pod) that compacts, downsamples and applies retention.

use tfplugin::framework::{Input, Model, Validator};
use thanos_cluster::PvcPolicy;
use thanos_render::args::DENY_ALWAYS;
use thanos_render::common::Common;
use thanos_render::receive::Discovered;
use thanos_render::storage::{self as render, Compact, Gateway, Retention, StorageSpec};
use thanos_render::validate::{self, Invalid, Path, Report, TimeOrDuration};
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
    /// such as `-2w`. Not later than `max_time`: Thanos refuses an empty window.
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
    /// `30d`. While the compactor downsamples, at least `40h` (or `0d`): Thanos refuses less.
    pub raw: Input<String>,
    /// Retention of 5-minute downsampled data (`--retention.resolution-5m`). While the
    /// compactor downsamples, at least `10d` (or `0d`): Thanos refuses less.
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

    fn warnings(
        m: &StorageModel,
        _prior: Option<&StorageModel>,
        _discovered: &Discovered,
    ) -> Vec<Invalid> {
        closing_window(m).into_iter().collect()
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
        checks::parsed(r, &p.attr(attr), v, |t| {
            validate::parse_thanos_time_or_duration(t)
                .map(|at| (t.to_owned(), at))
                .map_err(|e| ("Invalid time", e))
        })
    };
    let min_time = time("min_time", &g.min_time, r);
    let max_time = time("max_time", &g.max_time, r);
    // An unset side is Thanos's default (`cmd/thanos/store.go`): only an absolute time at the
    // very end of year 9999 can pass it, but then the gateway would not start either.
    let side = |t: &Checked<Time>, default: &str| match t {
        Checked::Known(t) => Some(t.clone()),
        Checked::Unset => Some((
            default.to_owned(),
            validate::parse_thanos_time_or_duration(default).ok()?,
        )),
        Checked::Missing => None,
    };
    if let (Some(min), Some(max)) = (
        side(&min_time, DEFAULT_MIN_TIME),
        side(&max_time, DEFAULT_MAX_TIME),
    ) && let Some(detail) = empty_window(&min, &max, now_ms())
    {
        let at = if matches!(min_time, Checked::Known(_)) {
            "min_time"
        } else {
            "max_time"
        };
        r.push(&p.attr(at), "Empty time window", detail);
    }
    Checked::all(|| {
        Some(Gateway {
            replicas: replicas.into_value()?,
            resources: resources.into_value()?,
            data_volume: data_volume.into_value()?,
            min_time: min_time.map(|(t, _)| t).into_option()?,
            max_time: max_time.map(|(t, _)| t).into_option()?,
        })
    })
}

/// A time as written and as read.
type Time = (String, TimeOrDuration);

/// What the store gateway serves from when `min_time` is unset (`--min-time`'s default).
const DEFAULT_MIN_TIME: &str = "0000-01-01T00:00:00Z";
/// What it serves up to when `max_time` is unset (`--max-time`'s default).
const DEFAULT_MAX_TIME: &str = "9999-12-31T23:59:59Z";

/// Why a gateway's window is empty at `now_ms`, if it is: Thanos refuses to start a store
/// gateway whose `--min-time` is later than its `--max-time` (`cmd/thanos/store.go`), comparing
/// them when the process starts. Relative times move with the clock, so two relative times (or
/// two absolute ones) compare the same at any moment; a relative and an absolute one are
/// compared now.
fn empty_window(min: &Time, max: &Time, now_ms: i64) -> Option<String> {
    let (from, to) = (min.1.at(now_ms), max.1.at(now_ms));
    if from <= to {
        return None;
    }
    let mixed = matches!(
        (min.1, max.1),
        (TimeOrDuration::At(_), TimeOrDuration::FromNow(_))
            | (TimeOrDuration::FromNow(_), TimeOrDuration::At(_))
    );
    let when = if mixed {
        format!(
            " (now, {:?} is {} and {:?} is {})",
            min.0,
            validate::format_rfc3339(from),
            max.0,
            validate::format_rfc3339(to)
        )
    } else {
        String::new()
    };
    Some(format!(
        "min_time {:?} is later than max_time {:?}{when}: the gateway would serve no blocks, and Thanos refuses to start with such a window. min_time is where the window starts (blocks newer than it are served) and max_time where it ends, e.g. min_time = \"-2w\" and max_time = \"-1w\" serve the week before last.",
        min.0, max.0
    ))
}

/// When a window that is open now closes for good: a relative `min_time` moves forward with
/// the clock while an absolute `max_time` stays. From then on a gateway pod that starts (a
/// restart, a reschedule) refuses to run.
fn window_closes(min: &Time, max: &Time, now_ms: i64) -> Option<i64> {
    match (min.1, max.1) {
        (TimeOrDuration::FromNow(d), TimeOrDuration::At(t)) if now_ms.saturating_add(d) <= t => {
            Some(t.saturating_sub(d))
        }
        _ => None,
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A warning when the gateway's window will close (see [`window_closes`]).
fn closing_window(m: &StorageModel) -> Option<Invalid> {
    let Input::Known(g) = &m.gateway else {
        return None;
    };
    let (Input::Known(min), Input::Known(max)) = (&g.min_time, &g.max_time) else {
        return None;
    };
    let min = (
        min.clone(),
        validate::parse_thanos_time_or_duration(min).ok()?,
    );
    let max = (
        max.clone(),
        validate::parse_thanos_time_or_duration(max).ok()?,
    );
    let closes = window_closes(&min, &max, now_ms())?;
    let mut report = Report::default();
    report.push(
        &Path::root().attr("gateway").attr("min_time"),
        "Time window closes",
        format!(
            "min_time {:?} moves forward with the clock and passes max_time {:?} at {}: from then on the gateway serves nothing and its pods refuse to start (Thanos checks the window when it starts). Make max_time relative too, or move it later before then.",
            min.0,
            max.0,
            validate::format_rfc3339(closes)
        ),
    );
    report.0.pop()
}

fn compact(c: &CompactModel, p: &Path, r: &mut Report) -> Checked<Compact> {
    let resources = blocks::resources(&c.resources, &p.attr("resources"), r);
    let data_volume = blocks::data_volume(&c.data_volume, &p.attr("data_volume"), r);
    let rp = p.attr("retention");
    let downsampling_disable = checks::plain(&c.downsampling_disable).or(|| false);
    let retention = checks::block(&c.retention, |ret| {
        let raw = checks::duration(r, &rp.attr("raw"), &ret.raw);
        let five = checks::duration(r, &rp.attr("five_minutes"), &ret.five_minutes);
        let hour = checks::duration(r, &rp.attr("one_hour"), &ret.one_hour);
        if let Checked::Known(false) = downsampling_disable {
            downsampled_retention(r, &rp.attr("raw"), &raw, RAW_FLOOR);
            downsampled_retention(r, &rp.attr("five_minutes"), &five, FIVE_MINUTES_FLOOR);
        }
        Checked::all(|| {
            Some(Retention {
                raw: raw.into_option()?,
                five_minutes: five.into_option()?,
                one_hour: hour.into_option()?,
            })
        })
    })
    .or(Retention::default);
    Checked::all(|| {
        Some(Compact {
            resources: resources.into_value()?,
            downsampling_disable: downsampling_disable.into_value()?,
            retention: retention.into_value()?,
            data_volume: data_volume.into_value()?,
        })
    })
}

/// The shortest raw retention Thanos's compactor accepts while it downsamples: 40 hours, the
/// block range after which 5-minute downsampling happens (`ResLevel1DownsampleRange` in
/// `pkg/compact/downsample/downsample.go`, checked in `cmd/thanos/compact.go`).
const RAW_FLOOR: (&str, u64) = ("40h", 40 * 3600);
/// The shortest 5-minute retention it accepts: 10 days, after which 1-hour downsampling
/// happens (`ResLevel2DownsampleRange`).
const FIVE_MINUTES_FLOOR: (&str, u64) = ("10d", 10 * 86_400);

/// A retention shorter than `floor` (but not `0d`, forever) while downsampling is on: the
/// compactor refuses to start with it, because blocks would be deleted before they are
/// downsampled.
fn downsampled_retention(r: &mut Report, path: &Path, v: &Checked<String>, floor: (&str, u64)) {
    let Checked::Known(text) = v else {
        return;
    };
    let Ok(d) = validate::parse_prometheus_duration(text) else {
        return;
    };
    if !d.is_zero() && d.as_secs() < floor.1 {
        r.push(
            path,
            "Retention too short for downsampling",
            format!(
                "{text:?} is shorter than {} and the compactor downsamples (downsampling_disable is false): Thanos refuses to start with it, as blocks would be deleted before they are downsampled. Keep at least {:?}, use \"0d\" to keep them forever, or set downsampling_disable = true.",
                floor.0, floor.0
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(s: &str) -> Time {
        (
            s.to_owned(),
            validate::parse_thanos_time_or_duration(s).unwrap(),
        )
    }

    const NOW: i64 = 1_780_000_000_000; // 2026-05-28T20:26:40Z

    #[test]
    fn mixed_windows_are_judged_now_and_name_the_moments() {
        let empty = empty_window(&time("2026-06-01T00:00:00Z"), &time("-1h"), NOW).unwrap();
        assert!(empty.contains("\"-1h\" is 2026-05-28T19:26:40Z"), "{empty}");
        assert_eq!(
            empty_window(&time("2026-05-01T00:00:00Z"), &time("-1h"), NOW),
            None
        );
    }

    #[test]
    fn a_relative_start_passes_an_absolute_end() {
        let (min, max) = (time("-1w"), time("2026-06-01T00:00:00Z"));
        assert_eq!(empty_window(&min, &max, NOW), None);
        let closes = window_closes(&min, &max, NOW).unwrap();
        assert_eq!(validate::format_rfc3339(closes), "2026-06-08T00:00:00Z");
        // Already closed is an error, not a warning; windows of one form never close.
        assert_eq!(
            window_closes(&time("-1w"), &time("2026-05-01T00:00:00Z"), NOW),
            None
        );
        assert_eq!(window_closes(&time("-2w"), &time("-1w"), NOW), None);
        assert_eq!(
            window_closes(&time("2026-05-01T00:00:00Z"), &time("-1h"), NOW),
            None
        );
    }
}
