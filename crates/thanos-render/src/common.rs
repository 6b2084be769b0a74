//! Spec parts shared by the three resources, the provider-level defaults, and the helpers that
//! turn them into Kubernetes fields (placement, resources, data volumes, ingresses, selectors).
//!
//! Field names mirror the Terraform schema 1:1. `None` means "unset" (render applies the
//! default) or "unknown at plan time" (validation skips it).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde::Deserialize;

use crate::Error;
use crate::validate::{self, Path, Report};

/// The provider's `default_thanos_image`: a current Thanos release (the seed's v0.22.0 has a
/// compactor deadlock, fixed upstream in v0.23.2). Must equal `THANOS_VERSION` in tools/versions.env.
pub const DEFAULT_THANOS_IMAGE: &str = "quay.io/thanos/thanos:v0.42.5";

/// Provider-level defaults passed to every render function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderContext {
    pub thanos_image: String,
    pub envoy_image: String,
}

impl Default for RenderContext {
    fn default() -> Self {
        RenderContext {
            thanos_image: DEFAULT_THANOS_IMAGE.to_owned(),
            envoy_image: crate::envoy::DEFAULT_ENVOY_IMAGE.to_owned(),
        }
    }
}

/// `tolerations` list block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Toleration {
    pub key: Option<String>,
    pub operator: Option<String>,
    pub value: Option<String>,
    pub effect: Option<String>,
    pub toleration_seconds: Option<i64>,
}

/// `topology_spread_constraints` list block. The label selector is always the component's own
/// selector labels.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopologySpreadConstraint {
    pub max_skew: Option<i64>,
    pub topology_key: Option<String>,
    /// Default `DoNotSchedule`.
    pub when_unsatisfiable: Option<String>,
    pub min_domains: Option<i64>,
}

/// `resources` block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Resources {
    pub requests: Option<BTreeMap<String, String>>,
    pub limits: Option<BTreeMap<String, String>>,
}

/// `data_volume` block: exactly one of `empty_dir` or `pvc`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataVolume {
    pub empty_dir: Option<EmptyDir>,
    pub pvc: Option<Pvc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmptyDir {
    /// `""` (node disk) or `Memory`.
    pub medium: Option<String>,
    pub size_limit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Pvc {
    pub storage_class: Option<String>,
    /// Required.
    pub size: Option<String>,
    /// Default `[ReadWriteOnce]`.
    pub access_modes: Option<Vec<String>>,
}

/// `http_ingress`, `grpc_ingress`, `remote_write_ingress` blocks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngressSpec {
    /// Required.
    pub host: Option<String>,
    /// Default `/`.
    pub path: Option<String>,
    /// TLS Secret; when set the Ingress terminates TLS for `host` with it.
    pub secret_name: Option<String>,
    pub class_name: Option<String>,
    pub annotations: Option<BTreeMap<String, String>>,
}

/// A Kubernetes label selector (`endpoints_selector`, `endpoints_namespace_selector`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabelSelector {
    pub match_labels: Option<BTreeMap<String, String>>,
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    pub key: Option<String>,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub operator: Option<String>,
    pub values: Option<Vec<String>>,
}

/// `object_storage_config` block: a key of a Secret holding a Thanos objstore YAML.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretKeyRef {
    pub name: Option<String>,
    pub key: Option<String>,
}

/// The attributes every resource has, borrowed from a spec so the shared code is written once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CommonRef<'a> {
    pub name: &'a Option<String>,
    pub namespace: &'a Option<String>,
    pub image: &'a Option<String>,
    pub image_pull_policy: &'a Option<String>,
    pub log_level: &'a Option<String>,
    pub log_format: &'a Option<String>,
    pub labels: &'a Option<BTreeMap<String, String>>,
    pub annotations: &'a Option<BTreeMap<String, String>>,
    pub node_selector: &'a Option<BTreeMap<String, String>>,
    pub tolerations: &'a Option<Vec<Toleration>>,
    pub affinity: &'a Option<String>,
    pub topology_spread_constraints: &'a Option<Vec<TopologySpreadConstraint>>,
}

pub(crate) const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const LOG_LEVELS: &[&str] = &["debug", "info", "warn", "error"];
const LOG_FORMATS: &[&str] = &["logfmt", "json"];

pub(crate) fn required<'a, T>(v: &'a Option<T>, path: &Path) -> Result<&'a T, Error> {
    v.as_ref().ok_or_else(|| Error::Missing {
        path: validate::display_path(&path.0),
    })
}

pub(crate) fn namespace_of(ns: &Option<String>) -> &str {
    ns.as_deref().unwrap_or("default")
}

impl CommonRef<'_> {
    /// Validates the shared attributes (not the derived-name lengths: each resource knows its
    /// own names).
    pub(crate) fn validate(&self, r: &mut Report) {
        let root = Path::root();
        if let Some(n) = self.name
            && let Err(e) = validate::dns_label(n)
        {
            r.push(&root.attr("name"), "Invalid name", e);
        }
        if let Some(ns) = self.namespace
            && let Err(e) = validate::dns_label(ns)
        {
            r.push(&root.attr("namespace"), "Invalid namespace", e);
        }
        if let Some(i) = self.image
            && (i.is_empty() || i.chars().any(char::is_whitespace))
        {
            r.push(
                &root.attr("image"),
                "Invalid image",
                format!("{i:?} must be a non-empty image reference without spaces"),
            );
        }
        check_enum(
            r,
            &root.attr("image_pull_policy"),
            self.image_pull_policy,
            PULL_POLICIES,
        );
        check_enum(r, &root.attr("log_level"), self.log_level, LOG_LEVELS);
        check_enum(r, &root.attr("log_format"), self.log_format, LOG_FORMATS);
        validate_labels(r, &root.attr("labels"), self.labels, true);
        validate_annotations(r, &root.attr("annotations"), self.annotations);
        validate_labels(r, &root.attr("node_selector"), self.node_selector, false);
        validate_tolerations(r, &root.attr("tolerations"), self.tolerations);
        if let Some(a) = self.affinity
            && let Err(e) = parse_affinity(a)
        {
            r.push(&root.attr("affinity"), "Invalid affinity", e);
        }
        validate_spread(
            r,
            &root.attr("topology_spread_constraints"),
            self.topology_spread_constraints,
        );
    }
}

pub(crate) fn check_enum(r: &mut Report, path: &Path, v: &Option<String>, allowed: &[&str]) {
    if let Some(v) = v
        && let Err(e) = validate::one_of(v, allowed)
    {
        r.push(path, "Invalid value", e);
    }
}

pub(crate) fn validate_labels(
    r: &mut Report,
    path: &Path,
    m: &Option<BTreeMap<String, String>>,
    reject_reserved: bool,
) {
    let Some(m) = m else { return };
    for (k, v) in m {
        let p = path.key(k);
        if let Err(e) = validate::qualified_name(k) {
            r.push(&p, "Invalid label key", e);
        }
        if let Err(e) = validate::label_value(v) {
            r.push(&p, "Invalid label value", e);
        }
        if reject_reserved && crate::meta::RESERVED_LABELS.contains(&k.as_str()) {
            r.push(
                &p,
                "Reserved label",
                format!(
                    "{k:?} is set by the provider: it identifies the objects this resource owns (or selects its pods) and cannot be overridden"
                ),
            );
        }
    }
}

pub(crate) fn validate_annotations(
    r: &mut Report,
    path: &Path,
    m: &Option<BTreeMap<String, String>>,
) {
    let Some(m) = m else { return };
    for k in m.keys() {
        if let Err(e) = validate::qualified_name(k) {
            r.push(&path.key(k), "Invalid annotation key", e);
        }
    }
}

fn validate_tolerations(r: &mut Report, path: &Path, ts: &Option<Vec<Toleration>>) {
    let Some(ts) = ts else { return };
    for (i, t) in ts.iter().enumerate() {
        let p = path.index(i);
        check_enum(r, &p.attr("operator"), &t.operator, &["Exists", "Equal"]);
        check_enum(
            r,
            &p.attr("effect"),
            &t.effect,
            &["NoSchedule", "PreferNoSchedule", "NoExecute"],
        );
        if let Some(k) = &t.key
            && !k.is_empty()
            && let Err(e) = validate::qualified_name(k)
        {
            r.push(&p.attr("key"), "Invalid toleration key", e);
        }
        if t.operator.as_deref() == Some("Exists")
            && t.value.as_deref().is_some_and(|v| !v.is_empty())
        {
            r.push(
                &p.attr("value"),
                "Invalid toleration",
                "value must be empty when operator is \"Exists\"",
            );
        }
        if t.key.as_deref() == Some("") && t.operator.as_deref() == Some("Equal") {
            r.push(
                &p.attr("operator"),
                "Invalid toleration",
                "an empty key matches every taint and requires operator \"Exists\"",
            );
        }
        if t.toleration_seconds.is_some() && t.effect.as_deref().is_some_and(|e| e != "NoExecute") {
            r.push(
                &p.attr("toleration_seconds"),
                "Invalid toleration",
                "toleration_seconds only applies to effect \"NoExecute\"",
            );
        }
    }
}

fn validate_spread(r: &mut Report, path: &Path, cs: &Option<Vec<TopologySpreadConstraint>>) {
    let Some(cs) = cs else { return };
    for (i, c) in cs.iter().enumerate() {
        let p = path.index(i);
        if let Some(s) = c.max_skew
            && !(1..=i64::from(i32::MAX)).contains(&s)
        {
            r.push(
                &p.attr("max_skew"),
                "Invalid max_skew",
                format!("{s} must be at least 1"),
            );
        }
        if let Some(k) = &c.topology_key
            && let Err(e) = validate::qualified_name(k)
        {
            r.push(&p.attr("topology_key"), "Invalid topology_key", e);
        }
        check_enum(
            r,
            &p.attr("when_unsatisfiable"),
            &c.when_unsatisfiable,
            &["DoNotSchedule", "ScheduleAnyway"],
        );
        if let Some(m) = c.min_domains {
            if !(1..=i64::from(i32::MAX)).contains(&m) {
                r.push(
                    &p.attr("min_domains"),
                    "Invalid min_domains",
                    format!("{m} must be at least 1"),
                );
            }
            if c.when_unsatisfiable.as_deref() == Some("ScheduleAnyway") {
                r.push(
                    &p.attr("min_domains"),
                    "Invalid min_domains",
                    "min_domains only applies when when_unsatisfiable is \"DoNotSchedule\"",
                );
            }
        }
    }
}

/// Parses the `affinity` JSON into a core/v1 Affinity, rejecting unknown fields: the JSON is
/// deserialized, serialized back and compared, so any field k8s-openapi silently dropped (a
/// typo, a wrong nesting level) is reported by its JSON path.
pub fn parse_affinity(s: &str) -> Result<core::Affinity, String> {
    let raw: serde_json::Value =
        serde_json::from_str(s).map_err(|e| format!("affinity is not valid JSON: {e}"))?;
    if !raw.is_object() {
        return Err("affinity must be a JSON object (a Kubernetes core/v1 Affinity)".into());
    }
    let parsed: core::Affinity = serde_json::from_value(raw.clone())
        .map_err(|e| format!("affinity is not a Kubernetes core/v1 Affinity: {e}"))?;
    let back = serde_json::to_value(&parsed).expect("Affinity serializes");
    if let Some(field) = first_unknown(&raw, &back, "") {
        return Err(format!(
            "affinity has an unknown field {field:?}: it must be a Kubernetes core/v1 Affinity in JSON (camelCase field names, e.g. {{\"podAntiAffinity\": {{...}}}})"
        ));
    }
    Ok(parsed)
}

fn first_unknown(raw: &serde_json::Value, back: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value;
    match (raw, back) {
        (Value::Object(a), Value::Object(b)) => a.iter().find_map(|(k, v)| {
            let here = format!("{at}.{k}");
            match b.get(k) {
                None if v.is_null() => None,
                None => Some(here.trim_start_matches('.').to_owned()),
                Some(bv) => first_unknown(v, bv, &here),
            }
        }),
        (Value::Array(a), Value::Array(b)) => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_unknown(x, y, &format!("{at}[{i}]"))),
        _ => None,
    }
}

pub(crate) fn validate_resources(r: &mut Report, path: &Path, res: &Option<Resources>) {
    let Some(res) = res else { return };
    for (attr, m) in [("requests", &res.requests), ("limits", &res.limits)] {
        let Some(m) = m else { continue };
        for (k, v) in m {
            let p = path.attr(attr).key(k);
            if let Err(e) = validate::qualified_name(k) {
                r.push(&p, "Invalid resource name", e);
            }
            if let Err(e) = validate::quantity(v) {
                r.push(&p, "Invalid quantity", e);
            }
        }
    }
}

pub(crate) fn validate_data_volume(r: &mut Report, path: &Path, dv: &Option<DataVolume>) {
    let Some(dv) = dv else { return };
    if dv.empty_dir.is_some() && dv.pvc.is_some() {
        r.push(
            path,
            "Conflicting data_volume",
            "set either empty_dir or pvc, not both",
        );
    }
    if let Some(e) = &dv.empty_dir {
        check_enum(
            r,
            &path.attr("empty_dir").attr("medium"),
            &e.medium,
            &["", "Memory"],
        );
        if let Some(s) = &e.size_limit
            && let Err(err) = validate::quantity(s)
        {
            r.push(
                &path.attr("empty_dir").attr("size_limit"),
                "Invalid size_limit",
                err,
            );
        }
    }
    if let Some(p) = &dv.pvc {
        let pp = path.attr("pvc");
        if let Some(s) = &p.size
            && let Err(err) = validate::quantity(s)
        {
            r.push(&pp.attr("size"), "Invalid size", err);
        }
        if let Some(sc) = &p.storage_class
            && !sc.is_empty()
            && let Err(err) = validate::dns_subdomain(sc)
        {
            r.push(&pp.attr("storage_class"), "Invalid storage_class", err);
        }
        if let Some(ms) = &p.access_modes {
            if ms.is_empty() {
                r.push(
                    &pp.attr("access_modes"),
                    "Invalid access_modes",
                    "set at least one access mode",
                );
            }
            for (i, m) in ms.iter().enumerate() {
                if let Err(e) = validate::one_of(
                    m,
                    &[
                        "ReadWriteOnce",
                        "ReadOnlyMany",
                        "ReadWriteMany",
                        "ReadWriteOncePod",
                    ],
                ) {
                    r.push(&pp.attr("access_modes").index(i), "Invalid access mode", e);
                }
            }
        }
    }
}

pub(crate) fn validate_ingress(r: &mut Report, path: &Path, ing: &Option<IngressSpec>) {
    let Some(ing) = ing else { return };
    if let Some(h) = &ing.host {
        let bare = h.strip_prefix("*.").unwrap_or(h);
        if validate::dns_subdomain(bare).is_err() || bare.parse::<std::net::IpAddr>().is_ok() {
            r.push(
                &path.attr("host"),
                "Invalid host",
                format!("{h:?} must be a DNS name (a leading \"*.\" wildcard is allowed), not an IP address"),
            );
        }
    }
    if let Some(p) = &ing.path
        && !p.starts_with('/')
    {
        r.push(
            &path.attr("path"),
            "Invalid path",
            format!("{p:?} must start with \"/\""),
        );
    }
    if let Some(s) = &ing.secret_name
        && let Err(e) = validate::dns_subdomain(s)
    {
        r.push(&path.attr("secret_name"), "Invalid secret_name", e);
    }
    if let Some(c) = &ing.class_name
        && let Err(e) = validate::dns_subdomain(c)
    {
        r.push(&path.attr("class_name"), "Invalid class_name", e);
    }
    validate_annotations(r, &path.attr("annotations"), &ing.annotations);
}

pub(crate) fn validate_secret_key_ref(r: &mut Report, path: &Path, s: &Option<SecretKeyRef>) {
    let Some(s) = s else { return };
    if let Some(n) = &s.name
        && let Err(e) = validate::dns_subdomain(n)
    {
        r.push(&path.attr("name"), "Invalid Secret name", e);
    }
    if let Some(k) = &s.key
        && let Err(e) = validate::config_key(k)
    {
        r.push(&path.attr("key"), "Invalid Secret key", e);
    }
}

pub(crate) fn validate_label_selector(r: &mut Report, path: &Path, s: &Option<LabelSelector>) {
    let Some(s) = s else { return };
    validate_labels(r, &path.attr("match_labels"), &s.match_labels, false);
    let Some(es) = &s.match_expressions else {
        return;
    };
    for (i, e) in es.iter().enumerate() {
        let p = path.attr("match_expressions").index(i);
        if let Some(k) = &e.key
            && let Err(err) = validate::qualified_name(k)
        {
            r.push(&p.attr("key"), "Invalid key", err);
        }
        check_enum(
            r,
            &p.attr("operator"),
            &e.operator,
            &["In", "NotIn", "Exists", "DoesNotExist"],
        );
        match (e.operator.as_deref(), &e.values) {
            (Some("In" | "NotIn"), Some(v)) if v.is_empty() => r.push(
                &p.attr("values"),
                "Invalid values",
                "operators In and NotIn need at least one value",
            ),
            (Some("Exists" | "DoesNotExist"), Some(v)) if !v.is_empty() => r.push(
                &p.attr("values"),
                "Invalid values",
                "operators Exists and DoesNotExist take no values",
            ),
            _ => {}
        }
        if let Some(vs) = &e.values {
            for (j, v) in vs.iter().enumerate() {
                if let Err(err) = validate::label_value(v) {
                    r.push(&p.attr("values").index(j), "Invalid value", err);
                }
            }
        }
    }
}

pub(crate) fn validate_replicas(r: &mut Report, path: &Path, v: Option<i64>) {
    if let Some(n) = v
        && !(0..=i64::from(i32::MAX)).contains(&n)
    {
        r.push(
            path,
            "Invalid replicas",
            format!(
                "{n} must be between 0 and {} (0 scales the workload to zero)",
                i32::MAX
            ),
        );
    }
}

pub(crate) fn validate_duration(r: &mut Report, path: &Path, v: &Option<String>) {
    if let Some(d) = v
        && let Err(e) = validate::prometheus_duration(d)
    {
        r.push(path, "Invalid duration", e);
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering helpers.

pub(crate) fn quantity_map(
    m: &Option<BTreeMap<String, String>>,
) -> Option<BTreeMap<String, Quantity>> {
    m.as_ref().filter(|m| !m.is_empty()).map(|m| {
        m.iter()
            .map(|(k, v)| (k.clone(), Quantity(v.clone())))
            .collect()
    })
}

pub(crate) fn resource_requirements(res: &Option<Resources>) -> Option<core::ResourceRequirements> {
    let res = res.as_ref()?;
    let requests = quantity_map(&res.requests);
    let limits = quantity_map(&res.limits);
    if requests.is_none() && limits.is_none() {
        return None;
    }
    Some(core::ResourceRequirements {
        requests,
        limits,
        ..Default::default()
    })
}

/// Placement honoured on every workload: node selector, tolerations, affinity and topology
/// spread constraints (whose selector is always the component's own selector labels).
pub(crate) fn apply_placement(
    c: &CommonRef<'_>,
    selector: &BTreeMap<String, String>,
    pod: &mut core::PodSpec,
) -> Result<(), Error> {
    pod.node_selector = c.node_selector.clone().filter(|m| !m.is_empty());
    pod.tolerations = c.tolerations.as_ref().filter(|t| !t.is_empty()).map(|ts| {
        ts.iter()
            .map(|t| core::Toleration {
                key: t.key.clone().filter(|k| !k.is_empty()),
                operator: t.operator.clone(),
                value: t.value.clone().filter(|v| !v.is_empty()),
                effect: t.effect.clone(),
                toleration_seconds: t.toleration_seconds,
            })
            .collect()
    });
    pod.affinity = match c.affinity {
        Some(a) => Some(parse_affinity(a).map_err(|e| {
            Error::Invalid(vec![validate::Invalid {
                path: vec![validate::PathSegment::Attr("affinity".into())],
                summary: "Invalid affinity".into(),
                detail: e,
            }])
        })?),
        None => None,
    };
    if let Some(cs) = c
        .topology_spread_constraints
        .as_ref()
        .filter(|c| !c.is_empty())
    {
        let mut out = Vec::with_capacity(cs.len());
        for (i, t) in cs.iter().enumerate() {
            let p = Path::root().attr("topology_spread_constraints").index(i);
            out.push(core::TopologySpreadConstraint {
                max_skew: i32::try_from(t.max_skew.unwrap_or(1)).unwrap_or(1),
                topology_key: required(&t.topology_key, &p.attr("topology_key"))?.clone(),
                when_unsatisfiable: t
                    .when_unsatisfiable
                    .clone()
                    .unwrap_or_else(|| "DoNotSchedule".into()),
                min_domains: t.min_domains.and_then(|m| i32::try_from(m).ok()),
                label_selector: Some(meta::LabelSelector {
                    match_labels: Some(selector.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        pod.topology_spread_constraints = Some(out);
    }
    Ok(())
}

/// The data volume of a StatefulSet: an emptyDir pod volume or a volume claim template.
/// Claim templates are immutable, so they carry only the fixed ownership and selector labels
/// (never the user's `labels` or `annotations`, whose change would force a StatefulSet
/// replacement).
pub(crate) enum DataVolumeSource {
    EmptyDir(Box<core::Volume>),
    Claim(Box<core::PersistentVolumeClaim>),
}

pub(crate) fn data_volume_source(
    volume_name: &str,
    dv: &Option<DataVolume>,
    claim_labels: &BTreeMap<String, String>,
    path: &Path,
) -> Result<DataVolumeSource, Error> {
    let empty = |e: Option<&EmptyDir>| {
        DataVolumeSource::EmptyDir(Box::new(core::Volume {
            name: volume_name.to_owned(),
            empty_dir: Some(core::EmptyDirVolumeSource {
                medium: e.and_then(|e| e.medium.clone()).filter(|m| !m.is_empty()),
                size_limit: e.and_then(|e| e.size_limit.clone()).map(Quantity),
            }),
            ..Default::default()
        }))
    };
    let Some(dv) = dv else { return Ok(empty(None)) };
    match (&dv.empty_dir, &dv.pvc) {
        (Some(e), _) => Ok(empty(Some(e))),
        (None, Some(p)) => {
            let size = required(&p.size, &path.attr("pvc").attr("size"))?;
            Ok(DataVolumeSource::Claim(Box::new(
                core::PersistentVolumeClaim {
                    metadata: meta::ObjectMeta {
                        name: Some(volume_name.to_owned()),
                        labels: Some(claim_labels.clone()),
                        ..Default::default()
                    },
                    spec: Some(core::PersistentVolumeClaimSpec {
                        access_modes: Some(
                            p.access_modes
                                .clone()
                                .unwrap_or_else(|| vec!["ReadWriteOnce".into()]),
                        ),
                        storage_class_name: p.storage_class.clone(),
                        resources: Some(core::VolumeResourceRequirements {
                            requests: Some(BTreeMap::from([(
                                "storage".to_owned(),
                                Quantity(size.clone()),
                            )])),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )))
        }
        (None, None) => Ok(empty(None)),
    }
}

/// An Ingress routing `host` + `path` to `service:port`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_ingress(
    name: &str,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    object_annotations: &Option<BTreeMap<String, String>>,
    default_annotations: &[(&str, &str)],
    spec: &IngressSpec,
    service: &str,
    port: i32,
    path: &Path,
) -> Result<net::Ingress, Error> {
    let host = required(&spec.host, &path.attr("host"))?.clone();
    // Ingress annotations: ours (defaults for the backend protocol), then the resource-wide
    // annotations, then the ingress block's own, each overriding the previous.
    let mut annotations: BTreeMap<String, String> = default_annotations
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    annotations.extend(object_annotations.clone().unwrap_or_default());
    annotations.extend(spec.annotations.clone().unwrap_or_default());
    Ok(net::Ingress {
        metadata: meta::ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels.clone()),
            annotations: Some(annotations).filter(|a| !a.is_empty()),
            ..Default::default()
        },
        spec: Some(net::IngressSpec {
            ingress_class_name: spec.class_name.clone(),
            rules: Some(vec![net::IngressRule {
                host: Some(host.clone()),
                http: Some(net::HTTPIngressRuleValue {
                    paths: vec![net::HTTPIngressPath {
                        path: Some(spec.path.clone().unwrap_or_else(|| "/".into())),
                        path_type: "Prefix".into(),
                        backend: net::IngressBackend {
                            service: Some(net::IngressServiceBackend {
                                name: service.to_owned(),
                                port: Some(net::ServiceBackendPort {
                                    number: Some(port),
                                    ..Default::default()
                                }),
                            }),
                            ..Default::default()
                        },
                    }],
                }),
            }]),
            tls: spec.secret_name.as_ref().map(|s| {
                vec![net::IngressTLS {
                    hosts: Some(vec![host.clone()]),
                    secret_name: Some(s.clone()),
                }]
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
}
