//! The fields every resource has ([`CommonModel`], flattened into each resource) and the
//! validation that turns them into the one [`Common`] spec part all resources share. The
//! blocks resources reuse are in [`super::blocks`].
//!
//! A field is declared once, here: its doc comment is its Terraform description, its type
//! and `#[tf]` options its schema, and the same struct is what a configuration decodes into.

use std::collections::BTreeMap;

use tfplugin::framework::{Input, Model, Validator};
use thanos_render::common::{self, Common, Placement, Toleration, TopologySpreadConstraint};
use thanos_render::validate::{self, Path, Report};

use super::checks::{self, Checked};
use super::pod::{self, PodModel};
use crate::lifecycle::settings::LifecycleModel;

/// Image pull policies Kubernetes accepts.
pub const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const LOG_LEVELS: &[&str] = &["debug", "info", "warn", "error"];
const LOG_FORMATS: &[&str] = &["logfmt", "json"];

/// The fields every resource has: identity, image and logging, labels, placement, and what its
/// lifecycle reads (how it is applied, its computed identity and objects).
#[derive(Model, Debug, Clone, PartialEq)]
pub struct CommonModel {
    /// Name of this resource. Every Kubernetes object it owns is named after it (for example
    /// `thanosquery-<name>`, `thanosreceive-<name>-operated`; see `objects`). Changing it
    /// replaces the resource.
    #[tf(required, requires_replace, validate = checks::name_validator())]
    pub name: Input<String>,
    /// Kubernetes namespace of every object this resource owns. Defaults to `default`.
    /// Changing it replaces the resource.
    #[tf(
        default = common::DEFAULT_NAMESPACE,
        requires_replace,
        validate = checks::dns_label_validator()
    )]
    pub namespace: Input<String>,
    /// Thanos container image. Defaults to the provider's `default_thanos_image`.
    pub image: Input<String>,
    /// Image pull policy of the Thanos containers: `Always`, `IfNotPresent` or `Never`. Unset
    /// uses the cluster's default.
    #[tf(validate = Validator::one_of(PULL_POLICIES))]
    pub image_pull_policy: Input<String>,
    /// Thanos log level (`--log.level`): `debug`, `info`, `warn` or `error`. Unset uses
    /// Thanos's default (`info`).
    #[tf(validate = Validator::one_of(LOG_LEVELS))]
    pub log_level: Input<String>,
    /// Thanos log format (`--log.format`): `logfmt` or `json`. Unset uses Thanos's default
    /// (`logfmt`).
    #[tf(validate = Validator::one_of(LOG_FORMATS))]
    pub log_format: Input<String>,
    /// Labels added to the metadata of every owned object and pod. Never used in selectors, so
    /// changing them never forces a replacement.
    pub labels: Input<BTreeMap<String, String>>,
    /// Annotations added to the metadata of every owned object.
    pub annotations: Input<BTreeMap<String, String>>,
    /// Node labels every pod of this resource must match (`nodeSelector`).
    pub node_selector: Input<BTreeMap<String, String>>,
    /// Pod affinity as a JSON-encoded Kubernetes `Affinity` object, e.g.
    /// `jsonencode({ podAntiAffinity = { ... } })`. Unknown fields are rejected at plan time.
    pub affinity: Input<String>,
    /// A toleration of node taints, as in a Kubernetes pod spec.
    #[tf(block)]
    pub tolerations: Input<Vec<TolerationModel>>,
    /// Spreads the pods of each workload across a topology domain. The label selector is
    /// always the workload's own pod selector.
    #[tf(block)]
    pub topology_spread_constraints: Input<Vec<SpreadModel>>,
    #[tf(flatten)]
    pub pod: PodModel,
    /// Extra Thanos command-line flags, appended after the rendered ones. A flag that the
    /// provider also renders (same `--name`) replaces the rendered one; flags the provider
    /// must control (listen addresses, data and config paths) are rejected at plan time.
    pub extra_args: Input<Vec<String>>,
    #[tf(flatten)]
    pub lifecycle: LifecycleModel,
}

/// A toleration of node taints, as in a Kubernetes pod spec.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct TolerationModel {
    /// Taint key to tolerate; empty with operator `Exists` tolerates every taint.
    pub key: Input<String>,
    /// `Equal` (default) or `Exists`.
    #[tf(validate = Validator::one_of(&["Exists", "Equal"]))]
    pub operator: Input<String>,
    /// Taint value to match with operator `Equal`.
    pub value: Input<String>,
    /// Taint effect to tolerate: `NoSchedule`, `PreferNoSchedule` or `NoExecute`; empty
    /// tolerates all.
    #[tf(validate = Validator::one_of(&["NoSchedule", "PreferNoSchedule", "NoExecute"]))]
    pub effect: Input<String>,
    /// For `NoExecute`: how long the pod stays bound after the taint appears.
    pub toleration_seconds: Input<i64>,
}

/// Spreads the pods of each workload across a topology domain.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct SpreadModel {
    /// Largest allowed difference in pod count between two domains.
    #[tf(required, validate = Validator::int_at_least(1))]
    pub max_skew: Input<i64>,
    /// Node label that defines a domain, e.g. `topology.kubernetes.io/zone`.
    #[tf(required)]
    pub topology_key: Input<String>,
    /// `DoNotSchedule` (default) or `ScheduleAnyway`.
    #[tf(
        default = "DoNotSchedule",
        validate = Validator::one_of(&["DoNotSchedule", "ScheduleAnyway"])
    )]
    pub when_unsatisfiable: Input<String>,
    /// Minimum number of eligible domains (with `DoNotSchedule`).
    #[tf(validate = Validator::int_at_least(1))]
    pub min_domains: Input<i64>,
}

impl CommonModel {
    /// `name` and `namespace`, once both are known.
    pub fn identity(&self) -> Option<(String, String)> {
        Some((self.name.known()?.clone(), self.namespace.known()?.clone()))
    }
}

// ---------------------------------------------------------------------------------------------
// Validation: model → spec part. Each function reports every problem it finds and returns the
// part only when it is fully known and valid.

/// What differs between resources in the shared fields' rules.
pub struct Rules<'a> {
    /// Whose objects (the default name of a created ServiceAccount).
    pub kind: thanos_render::meta::Kind,
    /// The names Kubernetes derives from the resource's name, with their limits.
    pub derived: &'a dyn Fn(&str) -> Vec<thanos_render::meta::DerivedName>,
    /// The flags `extra_args` may not set.
    pub deny: &'a [&'a [thanos_render::args::Denied]],
    /// The paths the resource mounts into its Thanos containers (no extra volume may touch
    /// them).
    pub mounts: &'a [&'a str],
}

/// The shared fields, checked against the resource's `rules`.
pub fn common(m: &CommonModel, r: &mut Report, rules: Rules<'_>) -> Checked<Common> {
    let root = Path::root();
    let before = r.0.len();
    let name = checks::string(r, &root.attr("name"), &m.name, |n| {
        validate::dns_label(n).map_err(|e| ("Invalid name", e))
    });
    let name = name.required(r, &root.attr("name"));
    if let Checked::Known(n) = &name {
        thanos_render::meta::check_derived_names(r, &(rules.derived)(n));
    }
    if let Some(hint) = m.name.known().and_then(|n| checks::pulumi_naming_hint(n)) {
        for finding in &mut r.0[before..] {
            finding.detail.push(' ');
            finding.detail.push_str(&hint);
        }
    }
    let namespace = checks::string(r, &root.attr("namespace"), &m.namespace, |n| {
        validate::dns_label(n).map_err(|e| ("Invalid namespace", e))
    })
    .or(|| common::DEFAULT_NAMESPACE.to_owned());
    let image = checks::image(r, &root.attr("image"), &m.image);
    let image_pull_policy = checks::one_of(
        r,
        &root.attr("image_pull_policy"),
        &m.image_pull_policy,
        PULL_POLICIES,
    );
    let log_level = checks::one_of(r, &root.attr("log_level"), &m.log_level, LOG_LEVELS);
    let log_format = checks::one_of(r, &root.attr("log_format"), &m.log_format, LOG_FORMATS);
    let labels = checks::labels(r, &root.attr("labels"), &m.labels, true);
    let annotations = checks::annotations(r, &root.attr("annotations"), &m.annotations);
    let placement = placement(m, r);
    let pod = pod::pod(
        &m.pod,
        r,
        rules.kind,
        m.name.known().map(String::as_str),
        rules.mounts,
    );
    let service_monitor = pod::service_monitor(&m.pod, r);
    let extra_args = checks::extra_args(r, &root.attr("extra_args"), &m.extra_args, rules.deny);
    Checked::all(|| {
        Some(Common {
            name: name.into_value()?,
            namespace: namespace.into_value()?,
            image: image.into_option()?,
            image_pull_policy: image_pull_policy.into_option()?,
            log_level: log_level.into_option()?,
            log_format: log_format.into_option()?,
            labels: labels.into_value()?,
            annotations: annotations.into_value()?,
            placement: placement.into_value()?,
            pod: pod.into_value()?,
            service_monitor: service_monitor.into_value()?,
            extra_args: extra_args.into_value()?,
        })
    })
}

fn placement(m: &CommonModel, r: &mut Report) -> Checked<Placement> {
    let root = Path::root();
    let node_selector = checks::labels(r, &root.attr("node_selector"), &m.node_selector, false);
    let affinity = checks::parsed(r, &root.attr("affinity"), &m.affinity, |a| {
        common::parse_affinity(a).map_err(|e| ("Invalid affinity", e))
    });
    let tolerations = checks::list(r, &root.attr("tolerations"), &m.tolerations, toleration);
    let spread = checks::list(
        r,
        &root.attr("topology_spread_constraints"),
        &m.topology_spread_constraints,
        spread,
    );
    Checked::all(|| {
        Some(Placement {
            node_selector: node_selector.into_value()?,
            tolerations: tolerations.into_value()?,
            affinity: affinity.into_option()?,
            topology_spread_constraints: spread.into_value()?,
        })
    })
}

fn toleration(t: &TolerationModel, p: &Path, r: &mut Report) -> Checked<Toleration> {
    let operator = checks::one_of(r, &p.attr("operator"), &t.operator, &["Exists", "Equal"]);
    let effect = checks::one_of(
        r,
        &p.attr("effect"),
        &t.effect,
        &["NoSchedule", "PreferNoSchedule", "NoExecute"],
    );
    let key = checks::string(r, &p.attr("key"), &t.key, |k| {
        if k.is_empty() {
            return Ok(());
        }
        validate::qualified_name(k).map_err(|e| ("Invalid toleration key", e))
    });
    if t.operator.known().map(String::as_str) == Some("Exists")
        && t.value.known().is_some_and(|v| !v.is_empty())
    {
        r.push(
            &p.attr("value"),
            "Invalid toleration",
            "value must be empty when operator is \"Exists\"",
        );
    }
    if t.key.known().map(String::as_str) == Some("")
        && t.operator.known().map(String::as_str) == Some("Equal")
    {
        r.push(
            &p.attr("operator"),
            "Invalid toleration",
            "an empty key matches every taint and requires operator \"Exists\"",
        );
    }
    if t.toleration_seconds.known().is_some() && t.effect.known().is_some_and(|e| e != "NoExecute")
    {
        r.push(
            &p.attr("toleration_seconds"),
            "Invalid toleration",
            "toleration_seconds only applies to effect \"NoExecute\"",
        );
    }
    let value = checks::plain(&t.value);
    let seconds = checks::plain(&t.toleration_seconds);
    Checked::all(|| {
        Some(Toleration {
            key: key.into_option()?,
            operator: operator.into_option()?,
            value: value.into_option()?,
            effect: effect.into_option()?,
            toleration_seconds: seconds.into_option()?,
        })
    })
}

fn spread(c: &SpreadModel, p: &Path, r: &mut Report) -> Checked<TopologySpreadConstraint> {
    let max_skew = checks::int(r, &p.attr("max_skew"), &c.max_skew, |s| {
        (1..=i64::from(i32::MAX))
            .contains(&s)
            .then_some(())
            .ok_or(("Invalid max_skew", format!("{s} must be at least 1")))
    });
    let topology_key = checks::string(r, &p.attr("topology_key"), &c.topology_key, |k| {
        validate::qualified_name(k).map_err(|e| ("Invalid topology_key", e))
    });
    let when = checks::one_of(
        r,
        &p.attr("when_unsatisfiable"),
        &c.when_unsatisfiable,
        &["DoNotSchedule", "ScheduleAnyway"],
    );
    let min_domains = checks::int(r, &p.attr("min_domains"), &c.min_domains, |m| {
        if !(1..=i64::from(i32::MAX)).contains(&m) {
            return Err(("Invalid min_domains", format!("{m} must be at least 1")));
        }
        Ok(())
    });
    if c.min_domains.known().is_some()
        && c.when_unsatisfiable.known().map(String::as_str) == Some("ScheduleAnyway")
    {
        r.push(
            &p.attr("min_domains"),
            "Invalid min_domains",
            "min_domains only applies when when_unsatisfiable is \"DoNotSchedule\"",
        );
    }
    let max_skew = max_skew.required(r, &p.attr("max_skew"));
    let topology_key = topology_key.required(r, &p.attr("topology_key"));
    Checked::all(|| {
        Some(TopologySpreadConstraint {
            max_skew: i32::try_from(max_skew.into_value()?).ok()?,
            topology_key: topology_key.into_value()?,
            when_unsatisfiable: when
                .into_option()?
                .unwrap_or_else(|| "DoNotSchedule".into()),
            min_domains: min_domains
                .into_option()?
                .map(|m| i32::try_from(m).ok())
                .unwrap_or_default(),
        })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::resources::receive::Receive;
    use crate::testing::{Absent, findings};

    #[test]
    fn a_name_pulumi_made_from_a_logical_name_says_how_to_fix_it() {
        let f = findings::<Receive>(&json!({"name": "autoNamed-f606e96"}), Absent::Unknown);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].detail.contains("logical name \"autoNamed\""),
            "{}",
            f[0].detail
        );
        assert!(f[0].detail.contains("set `name`"), "{}", f[0].detail);
        // Too long once the suffix is added: the same hint.
        let long = format!("{}-0a1b2c3", "a".repeat(35));
        let f = findings::<Receive>(&json!({"name": long}), Absent::Unknown);
        assert!(f[0].detail.contains("auto-naming"), "{f:?}");
        // A name a user wrote gets no Pulumi hint.
        let f = findings::<Receive>(&json!({"name": "Router"}), Absent::Unknown);
        assert!(!f[0].detail.contains("Pulumi"), "{f:?}");
    }
}
