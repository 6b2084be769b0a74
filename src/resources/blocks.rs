//! The blocks resources reuse (compute resources, data volumes, ingresses, Secret keys, label
//! selectors, object storage), each declared once, and the validation that turns each into its
//! spec part.
//! Where a block sits in a resource, the field's doc comment says what it is for there.

use std::collections::BTreeMap;

use tfplugin::framework::{Input, Model, Validator};
use tfvalue::Value;
use thanos_render::common::{
    self, DataVolume, Ingress, LabelSelector, LabelSelectorRequirement, Resources, SecretKeyRef,
};
use thanos_render::objstore::Bucket;
use thanos_render::validate::{self, Path, Report};

use super::checks::{self, Checked};
pub use super::objstore::ObjectStorageModel;

/// Compute resources of a container.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct ResourcesModel {
    /// Resource requests, e.g. `{ cpu = "100m", memory = "256Mi" }`.
    pub requests: Input<BTreeMap<String, String>>,
    /// Resource limits, e.g. `{ memory = "1Gi" }`.
    pub limits: Input<BTreeMap<String, String>>,
}

/// An Ingress exposing one of the resource's ports. Removing the block deletes the Ingress.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct IngressModel {
    /// Host name the Ingress serves.
    #[tf(required, validate = Validator::not_empty())]
    pub host: Input<String>,
    /// Path prefix routed to the service. Defaults to `/`.
    #[tf(default = common::DEFAULT_INGRESS_PATH)]
    pub path: Input<String>,
    /// TLS Secret for `host`; unset serves plain HTTP.
    pub secret_name: Input<String>,
    /// `ingressClassName`; unset uses the cluster's default class.
    pub class_name: Input<String>,
    /// Annotations of the Ingress, e.g. for the ingress controller.
    pub annotations: Input<BTreeMap<String, String>>,
}

/// Volume for a data directory. Set `empty_dir` or `pvc`; unset uses an `emptyDir`.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct DataVolumeModel {
    #[tf(block)]
    pub empty_dir: Input<EmptyDirModel>,
    #[tf(block)]
    pub pvc: Input<PvcModel>,
}

/// An `emptyDir` volume: data is lost when the pod moves.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct EmptyDirModel {
    /// `Memory` for tmpfs; unset uses node storage.
    #[tf(validate = Validator::one_of(&["", "Memory"]))]
    pub medium: Input<String>,
    /// Size limit, e.g. `10Gi`.
    pub size_limit: Input<String>,
}

/// A PersistentVolumeClaim per pod (StatefulSet volume claim template).
#[derive(Model, Debug, Clone, PartialEq)]
pub struct PvcModel {
    /// StorageClass of the claims; unset uses the cluster's default class.
    pub storage_class: Input<String>,
    /// Requested size, e.g. `5Gi`. Kubernetes cannot change it in place: a change is planned
    /// as a replacement of the StatefulSet (claims are kept).
    #[tf(required)]
    pub size: Input<String>,
    /// Access modes of the claims. Defaults to `["ReadWriteOnce"]`.
    #[tf(default = Value::list(common::DEFAULT_ACCESS_MODES.iter().copied()))]
    pub access_modes: Input<Vec<String>>,
}

/// The Secret key holding the Thanos object storage configuration (objstore YAML).
#[derive(Model, Debug, Clone, PartialEq)]
pub struct SecretKeyModel {
    /// Name of the Secret, in the resource's namespace.
    #[tf(required, validate = checks::dns_label_validator())]
    pub name: Input<String>,
    /// Key in the Secret, e.g. `objstore.yaml`.
    #[tf(required, validate = Validator::not_empty())]
    pub key: Input<String>,
}

/// A Kubernetes label selector; all conditions must hold.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct LabelSelectorModel {
    /// Labels that must all be present with these values.
    pub match_labels: Input<BTreeMap<String, String>>,
    /// A set-based requirement.
    #[tf(block)]
    pub match_expressions: Input<Vec<RequirementModel>>,
}

/// A set-based requirement.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct RequirementModel {
    /// Label key.
    #[tf(required)]
    pub key: Input<String>,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    #[tf(
        required,
        validate = Validator::one_of(&["In", "NotIn", "Exists", "DoesNotExist"])
    )]
    pub operator: Input<String>,
    /// Values for `In` and `NotIn`; must be empty for `Exists` and `DoesNotExist`.
    pub values: Input<Vec<String>>,
}

// ---------------------------------------------------------------------------------------------
// Validation: block → spec part.

/// A `resources` block (unset: no requests or limits).
pub fn resources(m: &Input<ResourcesModel>, p: &Path, r: &mut Report) -> Checked<Resources> {
    checks::block(m, |res| {
        let requests = quantities(r, &p.attr("requests"), &res.requests);
        let limits = quantities(r, &p.attr("limits"), &res.limits);
        Checked::all(|| {
            Some(Resources {
                requests: requests.into_value()?,
                limits: limits.into_value()?,
            })
        })
    })
    .or(Resources::default)
}

fn quantities(
    r: &mut Report,
    p: &Path,
    m: &Input<BTreeMap<String, String>>,
) -> Checked<BTreeMap<String, String>> {
    checks::map(r, p, m, |k, v| {
        let mut problems = Vec::new();
        if let Err(e) = validate::container_resource_name(k) {
            problems.push(("Invalid resource name", e));
        }
        if let Err(e) = validate::quantity(v) {
            problems.push(("Invalid quantity", e));
        }
        problems
    })
}

/// An `empty_dir` block: its `medium` and `size_limit`.
pub fn empty_dir(
    m: &Input<EmptyDirModel>,
    p: &Path,
    r: &mut Report,
) -> Checked<(Option<String>, Option<String>)> {
    checks::block(m, |e| {
        let medium = checks::one_of(r, &p.attr("medium"), &e.medium, &["", "Memory"]);
        let size_limit = checks::string(r, &p.attr("size_limit"), &e.size_limit, |s| {
            validate::quantity(s).map_err(|err| ("Invalid size_limit", err))
        });
        Checked::all(|| Some((medium.into_option()?, size_limit.into_option()?)))
    })
}

/// A `data_volume` block (unset: an emptyDir).
pub fn data_volume(m: &Input<DataVolumeModel>, p: &Path, r: &mut Report) -> Checked<DataVolume> {
    checks::block(m, |dv| {
        if dv.empty_dir.known().is_some() && dv.pvc.known().is_some() {
            r.push(
                p,
                "Conflicting data_volume",
                "set either empty_dir or pvc, not both",
            );
        }
        let empty_dir = empty_dir(&dv.empty_dir, &p.attr("empty_dir"), r)
            .map(|(medium, size_limit)| DataVolume::EmptyDir { medium, size_limit });
        let pp = p.attr("pvc");
        let pvc = checks::block(&dv.pvc, |c| {
            let size = checks::string(r, &pp.attr("size"), &c.size, |s| {
                validate::quantity(s).map_err(|err| ("Invalid size", err))
            })
            .required(r, &pp.attr("size"));
            let storage_class =
                checks::string(r, &pp.attr("storage_class"), &c.storage_class, |sc| {
                    if sc.is_empty() {
                        return Ok(());
                    }
                    validate::dns_subdomain(sc).map_err(|err| ("Invalid storage_class", err))
                });
            let access_modes = checks::known_list(&c.access_modes);
            if let Some(ms) = c.access_modes.known() {
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
            Checked::all(|| {
                Some(DataVolume::Pvc(common::Pvc {
                    storage_class: storage_class.into_option()?,
                    size: size.into_value()?,
                    access_modes: access_modes.into_option()?.unwrap_or_else(|| {
                        common::DEFAULT_ACCESS_MODES
                            .iter()
                            .map(|s| (*s).to_owned())
                            .collect()
                    }),
                }))
            })
        });
        Checked::all(|| {
            // empty_dir wins when both are set (an error above in any case).
            Some(match (empty_dir.into_option()?, pvc.into_option()?) {
                (Some(e), _) => e,
                (None, Some(p)) => p,
                (None, None) => DataVolume::default(),
            })
        })
    })
    .or(DataVolume::default)
}

/// An ingress block.
pub fn ingress(m: &Input<IngressModel>, p: &Path, r: &mut Report) -> Checked<Ingress> {
    checks::block(m, |ing| {
        let host = checks::string(r, &p.attr("host"), &ing.host, |h| {
            let bare = h.strip_prefix("*.").unwrap_or(h);
            if validate::dns_subdomain(bare).is_err() || bare.parse::<std::net::IpAddr>().is_ok()
            {
                return Err((
                    "Invalid host",
                    format!(
                        "{h:?} must be a DNS name (a leading \"*.\" wildcard is allowed), not an IP address"
                    ),
                ));
            }
            Ok(())
        })
        .required(r, &p.attr("host"));
        let path = checks::string(r, &p.attr("path"), &ing.path, |s| {
            if s.starts_with('/') {
                Ok(())
            } else {
                Err(("Invalid path", format!("{s:?} must start with \"/\"")))
            }
        })
        .or(|| common::DEFAULT_INGRESS_PATH.to_owned());
        let secret_name = checks::string(r, &p.attr("secret_name"), &ing.secret_name, |s| {
            validate::dns_subdomain(s).map_err(|e| ("Invalid secret_name", e))
        });
        let class_name = checks::string(r, &p.attr("class_name"), &ing.class_name, |c| {
            validate::dns_subdomain(c).map_err(|e| ("Invalid class_name", e))
        });
        let annotations = checks::annotations(r, &p.attr("annotations"), &ing.annotations);
        Checked::all(|| {
            Some(Ingress {
                host: host.into_value()?,
                path: path.into_value()?,
                secret_name: secret_name.into_option()?,
                class_name: class_name.into_option()?,
                annotations: annotations.into_value()?,
            })
        })
    })
}

/// An `object_storage_config` block.
pub fn secret_key(m: &Input<SecretKeyModel>, p: &Path, r: &mut Report) -> Checked<SecretKeyRef> {
    checks::block(m, |s| {
        let name = checks::string(r, &p.attr("name"), &s.name, |n| {
            validate::dns_subdomain(n).map_err(|e| ("Invalid Secret name", e))
        })
        .required(r, &p.attr("name"));
        let key = checks::string(r, &p.attr("key"), &s.key, |k| {
            validate::config_key(k).map_err(|e| ("Invalid Secret key", e))
        })
        .required(r, &p.attr("key"));
        Checked::all(|| {
            Some(SecretKeyRef {
                name: name.into_value()?,
                key: key.into_value()?,
            })
        })
    })
}

/// The bucket of a resource that ships or reads blocks: `object_storage` (configured in
/// Terraform, rendered into a Secret the resource owns) or `object_storage_config` (a key of a
/// Secret the user manages), never both; `Unset` when neither is set. `p` is the block that
/// holds both fields.
pub fn bucket(
    config: &Input<SecretKeyModel>,
    storage: &Input<ObjectStorageModel>,
    p: &Path,
    r: &mut Report,
) -> Checked<Bucket> {
    let reference = secret_key(config, &p.attr("object_storage_config"), r);
    let owned = super::objstore::object_storage(storage, &p.attr("object_storage"), r);
    if config.known().is_some() && storage.known().is_some() {
        r.push(
            &p.attr("object_storage"),
            "Conflicting object storage",
            "set either object_storage (the bucket configured here) or object_storage_config (a Secret holding the objstore file), not both",
        );
        return Checked::Missing;
    }
    match (reference, owned) {
        (Checked::Known(s), _) => Checked::Known(Bucket::Secret(s)),
        (_, Checked::Known(o)) => Checked::Known(Bucket::Owned(o)),
        (Checked::Unset, Checked::Unset) => Checked::Unset,
        _ => Checked::Missing,
    }
}

/// A label selector block.
pub fn label_selector(
    m: &Input<LabelSelectorModel>,
    p: &Path,
    r: &mut Report,
) -> Checked<LabelSelector> {
    checks::block(m, |s| {
        let match_labels = checks::labels(r, &p.attr("match_labels"), &s.match_labels, false);
        let exprs = checks::list(
            r,
            &p.attr("match_expressions"),
            &s.match_expressions,
            requirement,
        );
        Checked::all(|| {
            Some(LabelSelector {
                match_labels: match_labels.into_value()?,
                match_expressions: exprs.into_value()?,
            })
        })
    })
}

fn requirement(
    e: &RequirementModel,
    p: &Path,
    r: &mut Report,
) -> Checked<LabelSelectorRequirement> {
    let key = checks::string(r, &p.attr("key"), &e.key, |k| {
        validate::qualified_name(k).map_err(|err| ("Invalid key", err))
    })
    .required(r, &p.attr("key"));
    let operator = checks::one_of(
        r,
        &p.attr("operator"),
        &e.operator,
        &["In", "NotIn", "Exists", "DoesNotExist"],
    )
    .required(r, &p.attr("operator"));
    match (e.operator.known().map(String::as_str), e.values.known()) {
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
    if let Some(vs) = e.values.known() {
        for (j, v) in vs.iter().enumerate() {
            if let Err(err) = validate::label_value(v) {
                r.push(&p.attr("values").index(j), "Invalid value", err);
            }
        }
    }
    let values = checks::known_list(&e.values);
    Checked::all(|| {
        Some(LabelSelectorRequirement {
            key: key.into_value()?,
            operator: operator.into_value()?,
            values: values.into_option()?.unwrap_or_default(),
        })
    })
}
