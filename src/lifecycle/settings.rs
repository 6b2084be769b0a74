//! What every resource declares about its own lifecycle: how it is applied (waits, conflicts,
//! adoption, timeouts) and its computed identity and objects. Flattened into each resource's
//! shared fields; the lifecycle reads only this part of a model.

use std::collections::BTreeMap;
use std::time::Duration;

use tfplugin::framework::{Input, Model, Validator};

/// How a resource is applied, and what it is.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct LifecycleModel {
    /// Wait until every workload has rolled out and its pods are Ready. Defaults to `true`. A
    /// rollout that cannot finish fails early with the Kubernetes reason (e.g.
    /// `ImagePullBackOff`).
    #[tf(default = true)]
    pub wait_for_rollout: Input<bool>,
    /// Take over fields another field manager (e.g. `kubectl`) owns on our objects instead of
    /// failing with a conflict. Defaults to `false`.
    #[tf(default = false)]
    pub force_conflicts: Input<bool>,
    /// Adopt objects that already exist with our names but were not created by this provider,
    /// instead of failing. Defaults to `false`.
    #[tf(default = false)]
    pub adopt_existing: Input<bool>,
    #[tf(block)]
    pub timeouts: Input<TimeoutsModel>,
    /// `<namespace>/<name>`, also the import ID.
    #[tf(computed, use_state_for_unknown)]
    pub id: Input<String>,
    /// Every Kubernetes object this resource owns, in its namespace: `<kind>/<name>` (e.g.
    /// `StatefulSet/thanosreceive-ingestor`) to a short hash of its rendered content, or, after
    /// a refresh found it changed in the cluster, `changed in the cluster: <fields>`. A create
    /// shows one line per object; an update shows the objects whose hash changes (and a
    /// warning names their changed fields).
    #[tf(computed)]
    pub objects: Input<Objects>,
}

/// How long create, update and delete may wait for the cluster.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct TimeoutsModel {
    /// Timeout of a create, e.g. `10m`. Defaults to `10m`.
    #[tf(validate = go_duration_validator())]
    pub create: Input<String>,
    /// Timeout of an update. Defaults to `10m`.
    #[tf(validate = go_duration_validator())]
    pub update: Input<String>,
    /// Timeout of a delete. Defaults to `5m`.
    #[tf(validate = go_duration_validator())]
    pub delete: Input<String>,
}

/// `objects`: `<kind>/<name>` to a short content hash or a drift mark (see
/// [`super::objects`]). A map, not a list of objects, so a plan prints one line per object.
pub type Objects = BTreeMap<String, String>;

impl LifecycleModel {
    /// The `timeouts` block's value for an action (`create`, `update`, `delete`), else
    /// `fallback`.
    pub fn timeout(&self, action: &str, fallback: Duration) -> Duration {
        let t = self.timeouts.known();
        let value = t.and_then(|t| match action {
            "create" => t.create.known(),
            "update" => t.update.known(),
            _ => t.delete.known(),
        });
        value.and_then(|v| parse_go_duration(v)).unwrap_or(fallback)
    }
}

/// Durations in Go's syntax (`30s`, `10m`, `1h30m`), as Terraform's own `timeouts` use them.
pub fn go_duration_validator() -> Validator {
    Validator::new("must be a duration such as `30s`, `10m` or `1h30m`", |v| {
        let s = v.as_str()?;
        parse_go_duration(s).is_none().then(|| {
            format!("{s:?} is not a duration: write a number followed by a unit (`ms`, `s`, `m`, `h`), e.g. `10m` or `1h30m`.")
        })
    })
}

/// Parses a Go duration (`10m`, `1h30m`, `1.5h`, `500ms`); `None` when it is not one.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, seconds) = [
            ("ms", 1e-3),
            ("us", 1e-6),
            ("ns", 1e-9),
            ("h", 3600.0),
            ("m", 60.0),
            ("s", 1.0),
        ]
        .into_iter()
        .find(|(u, _)| rest.starts_with(u))?;
        rest = &rest[unit.len()..];
        total += number * seconds;
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse() {
        assert_eq!(parse_go_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        for ok in ["10m", "1h30m", "30s", "1.5h", "500ms"] {
            assert!(parse_go_duration(ok).is_some(), "{ok}");
        }
        for bad in ["", "10", "m", "10 m", "1d", "-5m"] {
            assert!(parse_go_duration(bad).is_none(), "{bad}");
        }
    }
}
