//! What every pod of every workload gets from the fields all resources share ([`PodSettings`]):
//! its ServiceAccount (one the user names, or one the resource owns), image pull secrets,
//! annotations, priority class, security contexts and the user's extra volumes, applied by
//! [`apply`] to each pod template the workloads build; and the mount paths the provider keeps
//! for itself, which an extra volume may not touch ([`mount_conflict`]).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::meta::CONFIG_HASH;
use crate::security::SecurityContexts;

/// The pod fields of a resource, validated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodSettings {
    /// `None`: the namespace's `default` ServiceAccount.
    pub service_account: Option<ServiceAccount>,
    /// `automountServiceAccountToken`: off unless asked (Thanos never calls the Kubernetes API).
    pub automount_token: bool,
    pub image_pull_secrets: Vec<String>,
    /// Added to every pod template; ours ([`CONFIG_HASH`]) cannot be set.
    pub annotations: BTreeMap<String, String>,
    pub priority_class_name: Option<String>,
    pub security: SecurityContexts,
    pub extra_volumes: Vec<ExtraVolume>,
}

/// The ServiceAccount the pods run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub name: String,
    /// The resource owns it: rendered, pruned and deleted with the rest.
    pub create: bool,
    /// Of a created ServiceAccount (workload identity: `eks.amazonaws.com/role-arn`, ...).
    pub annotations: BTreeMap<String, String>,
}

/// The name of the ServiceAccount a resource creates when the user names none: the name stem
/// of its objects (`thanosquery-<name>`, ...).
pub fn default_service_account_name(kind: crate::meta::Kind, name: &str) -> String {
    format!("{}-{name}", kind.component())
}

/// A user's volume, mounted into the Thanos container of every pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraVolume {
    /// Unique among the resource's extra volumes; the pod volume is [`volume_name`] of it.
    pub name: String,
    pub mount_path: String,
    pub source: VolumeSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeSource {
    /// `items`: key → file name; empty projects every key.
    Secret {
        name: String,
        items: BTreeMap<String, String>,
    },
    ConfigMap {
        name: String,
        items: BTreeMap<String, String>,
    },
    EmptyDir {
        medium: Option<String>,
        size_limit: Option<String>,
    },
}

/// Every pod volume of an extra volume is named with this prefix, which none of ours has, so
/// a user's name never collides with a volume the provider renders.
pub const VOLUME_PREFIX: &str = "extra-";

/// The pod volume of the extra volume `name`.
pub fn volume_name(name: &str) -> String {
    format!("{VOLUME_PREFIX}{name}")
}

/// Paths Kubernetes mounts into every container itself (the API token, when automounted).
pub const SYSTEM_MOUNT_PATHS: &[&str] = &["/var/run/secrets/kubernetes.io/serviceaccount"];

/// Checks the form of a mount path: absolute, normalised, not the root.
pub fn check_mount_path(path: &str) -> Result<(), String> {
    let ok = path.starts_with('/')
        && path.len() > 1
        && !path.ends_with('/')
        && path
            .split('/')
            .skip(1)
            .all(|c| !c.is_empty() && c != "." && c != "..")
        && !path.contains(':')
        && !path.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{path:?} must be an absolute path without \".\", \"..\", empty components, a trailing \"/\" or \":\", and not \"/\" itself, e.g. \"/etc/thanos-http\""
        ))
    }
}

/// Whether `a` is `b` or a directory above or below it (a mount at either would hide the other
/// or need a mount point inside a read-only volume).
pub fn nested(a: &str, b: &str) -> bool {
    let under =
        |x: &str, y: &str| x.len() > y.len() && x.starts_with(y) && x.as_bytes()[y.len()] == b'/';
    a == b || under(a, b) || under(b, a)
}

/// The first of `ours` (or [`SYSTEM_MOUNT_PATHS`]) that a user's mount at `path` would collide
/// with.
pub fn mount_conflict<'a>(path: &str, ours: &[&'a str]) -> Option<&'a str> {
    ours.iter()
        .chain(SYSTEM_MOUNT_PATHS)
        .find(|o| nested(path, o))
        .copied()
}

/// Applies `settings` to a pod template whose first container is the Thanos container.
pub(crate) fn apply(settings: &PodSettings, template: &mut core::PodTemplateSpec) {
    if !settings.annotations.is_empty() {
        let meta = template.metadata.get_or_insert_with(Default::default);
        let mut annotations = settings.annotations.clone();
        // Ours last: validation refuses the key, and the rollout relies on it.
        annotations.extend(meta.annotations.take().unwrap_or_default());
        meta.annotations = Some(annotations);
    }
    let spec = template.spec.get_or_insert_with(Default::default);
    spec.service_account_name = settings.service_account.as_ref().map(|s| s.name.clone());
    spec.automount_service_account_token = Some(settings.automount_token);
    spec.image_pull_secrets = (!settings.image_pull_secrets.is_empty()).then(|| {
        settings
            .image_pull_secrets
            .iter()
            .map(|n| core::LocalObjectReference { name: n.clone() })
            .collect()
    });
    spec.priority_class_name = settings.priority_class_name.clone();
    spec.security_context = Some(settings.security.pod.clone());
    for c in &mut spec.containers {
        c.security_context = Some(settings.security.container.clone());
    }
    if settings.extra_volumes.is_empty() {
        return;
    }
    let volumes = spec.volumes.get_or_insert_with(Vec::new);
    volumes.extend(settings.extra_volumes.iter().map(volume));
    if let Some(thanos) = spec.containers.first_mut() {
        let mounts = thanos.volume_mounts.get_or_insert_with(Vec::new);
        mounts.extend(settings.extra_volumes.iter().map(|v| core::VolumeMount {
            name: volume_name(&v.name),
            mount_path: v.mount_path.clone(),
            read_only: (!matches!(v.source, VolumeSource::EmptyDir { .. })).then_some(true),
            ..Default::default()
        }));
    }
}

fn items(items: &BTreeMap<String, String>) -> Option<Vec<core::KeyToPath>> {
    (!items.is_empty()).then(|| {
        items
            .iter()
            .map(|(key, path)| core::KeyToPath {
                key: key.clone(),
                path: path.clone(),
                ..Default::default()
            })
            .collect()
    })
}

fn volume(v: &ExtraVolume) -> core::Volume {
    let mut out = core::Volume {
        name: volume_name(&v.name),
        ..Default::default()
    };
    match &v.source {
        VolumeSource::Secret { name, items: i } => {
            out.secret = Some(core::SecretVolumeSource {
                secret_name: Some(name.clone()),
                items: items(i),
                ..Default::default()
            });
        }
        VolumeSource::ConfigMap { name, items: i } => {
            out.config_map = Some(core::ConfigMapVolumeSource {
                name: name.clone(),
                items: items(i),
                ..Default::default()
            });
        }
        VolumeSource::EmptyDir { medium, size_limit } => {
            out.empty_dir = Some(core::EmptyDirVolumeSource {
                medium: medium.clone().filter(|m| !m.is_empty()),
                size_limit: size_limit.clone().map(Quantity),
            });
        }
    }
    out
}

/// The annotation key validation must refuse in `pod_annotations`.
pub const RESERVED_POD_ANNOTATIONS: &[&str] = &[CONFIG_HASH];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_by_path_component() {
        assert!(nested("/etc/thanos", "/etc/thanos"));
        assert!(nested("/etc/thanos/http", "/etc/thanos"));
        assert!(nested("/etc", "/etc/thanos"));
        assert!(!nested("/etc/thanos-http", "/etc/thanos"));
        assert!(!nested("/thanosx", "/thanos"));
        assert_eq!(
            mount_conflict("/var/run/secrets/kubernetes.io", &[]),
            Some("/var/run/secrets/kubernetes.io/serviceaccount")
        );
        assert_eq!(mount_conflict("/etc/thanos-http", &["/etc/thanos"]), None);
    }

    #[test]
    fn mount_path_forms() {
        for good in ["/etc/thanos-http", "/a", "/var/lib/x.y"] {
            assert_eq!(check_mount_path(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "/",
            "etc/x",
            "/etc/",
            "/etc//x",
            "/etc/../x",
            "/./x",
            "/c:/x",
        ] {
            assert!(check_mount_path(bad).is_err(), "{bad}");
        }
    }
}
