//! The pod fields every resource has ([`PodModel`], flattened into [`super::shared::CommonModel`]):
//! the ServiceAccount, image pull secrets, pod annotations, priority class, security contexts,
//! extra volumes, and the ServiceMonitors of its Services; and their validation into
//! [`thanos_render::pod::PodSettings`] and [`thanos_render::monitor::MonitorSettings`].

use std::collections::BTreeMap;

use tfplugin::framework::{Input, Model};
use thanos_render::meta::Kind;
use thanos_render::monitor::MonitorSettings;
use thanos_render::pod::{self, ExtraVolume, PodSettings, ServiceAccount, VolumeSource};
use thanos_render::security::{self, SecurityContexts};
use thanos_render::validate::{self, Path, Report};

use super::blocks::EmptyDirModel;
use super::checks::{self, Checked};

/// The pod fields every resource has.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct PodModel {
    /// The ServiceAccount every pod of this resource runs as: an existing one (`name`), or one
    /// this resource creates and owns (`create = true`). Without the block the pods run as the
    /// namespace's `default` ServiceAccount.
    ///
    /// This is how a bucket is reached with the cloud's workload identity instead of keys
    /// (`object_storage` without credentials): on EKS, a ServiceAccount annotated with
    /// `eks.amazonaws.com/role-arn` (IRSA) or named by an EKS Pod Identity association; on GKE,
    /// one annotated with `iam.gke.io/gcp-service-account`; on AKS, one annotated with
    /// `azure.workload.identity/client-id` (and the pod label
    /// `azure.workload.identity/use = "true"` in `labels`).
    #[tf(block)]
    pub service_account: Input<ServiceAccountModel>,
    /// Secrets (in the resource's namespace, of type `kubernetes.io/dockerconfigjson`) the
    /// kubelet uses to pull the images of every pod, for a private registry.
    pub image_pull_secrets: Input<Vec<String>>,
    /// Annotations added to every pod template (sidecar injection opt-out, scraping hints, a
    /// restart trigger such as `kubectl.kubernetes.io/restartedAt`). A change rolls the pods.
    /// `thanos.paodin.io/config-hash` is the provider's own.
    pub pod_annotations: Input<BTreeMap<String, String>>,
    /// PriorityClass of every pod of this resource.
    pub priority_class_name: Input<String>,
    /// Changes to the hardened security contexts of the pods and their containers.
    #[tf(block)]
    pub security_context: Input<SecurityContextModel>,
    /// A Secret, ConfigMap or emptyDir mounted into the Thanos container of every pod: the
    /// files a flag in `extra_args` reads (`--http.config`, `--tracing.config-file`,
    /// `--grpc-server-tls-cert`). A path at, above or below one the provider mounts is refused.
    /// A change of the object's content does not roll the pods (Kubernetes updates mounted
    /// files in place); change `pod_annotations` to restart them.
    #[tf(block)]
    pub extra_volumes: Input<Vec<ExtraVolumeModel>>,
    /// ServiceMonitors (prometheus-operator, `monitoring.coreos.com/v1`) for the metrics of
    /// every component: one per Service of this resource, scraping its `http` port's `/metrics`.
    /// Needs prometheus-operator's CustomResourceDefinitions in the cluster: a plan that can
    /// reach the cluster warns when they are missing, and the apply stops before writing
    /// anything. Removing the block deletes the ServiceMonitors.
    #[tf(block)]
    pub service_monitor: Input<ServiceMonitorModel>,
}

/// The ServiceAccount every pod of this resource runs as.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct ServiceAccountModel {
    /// Name of the ServiceAccount. Required to use an existing one; with `create = true`
    /// defaults to the resource's name stem (`thanosquery-<name>`, `thanosreceive-<name>`,
    /// `thanosstorage-<name>`, `thanosrule-<name>`).
    pub name: Input<String>,
    /// Create the ServiceAccount and own it: it is deleted with the resource, and turning
    /// `create` off deletes it. Defaults to `false` (use an existing one).
    #[tf(default = false)]
    pub create: Input<bool>,
    /// Annotations of the created ServiceAccount (with `create = true`), e.g.
    /// `eks.amazonaws.com/role-arn` or `iam.gke.io/gcp-service-account`.
    pub annotations: Input<BTreeMap<String, String>>,
    /// Mount the Kubernetes API token into the pods (`automountServiceAccountToken`). Defaults
    /// to `false`: Thanos never calls the Kubernetes API. The workload identity of EKS (IRSA
    /// and Pod Identity) and AKS works without it (their webhooks mount tokens of their own),
    /// and so does GKE's (the node's metadata server identifies the pod). Turn it on when an
    /// identity federation reads the pod's default token file
    /// (`/var/run/secrets/kubernetes.io/serviceaccount/token`), as a Google or Azure workload
    /// identity federation configured by hand on a self-managed cluster may, or when a sidecar
    /// your platform injects calls the Kubernetes API.
    #[tf(default = false)]
    pub automount_token: Input<bool>,
}

/// Changes to the hardened security contexts. Each is a JSON-encoded Kubernetes object merged
/// over ours one top-level field at a time: a field set replaces ours whole, a field set to
/// `null` removes ours, every other field stays ours. Unknown fields are rejected at plan time.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct SecurityContextModel {
    /// The pods' `PodSecurityContext`, over ours (`runAsNonRoot = true`, `runAsUser`,
    /// `runAsGroup` and `fsGroup` 65534, `seccompProfile` `RuntimeDefault`). On a cluster that
    /// assigns its own user IDs (OpenShift), remove the fixed ones:
    /// `jsonencode({ runAsUser = null, runAsGroup = null, fsGroup = null })`.
    pub pod: Input<String>,
    /// Every container's `SecurityContext`, over ours (`allowPrivilegeEscalation = false`,
    /// `readOnlyRootFilesystem = true`, `runAsNonRoot = true`, every capability dropped).
    pub container: Input<String>,
}

/// A volume mounted into the Thanos container of every pod. Set exactly one of `secret`,
/// `config_map` and `empty_dir`.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct ExtraVolumeModel {
    /// Name of the volume, unique among `extra_volumes` (the pod volume is `extra-<name>`).
    #[tf(required)]
    pub name: Input<String>,
    /// Absolute path of the mount in the Thanos container. Secrets and ConfigMaps are mounted
    /// read-only.
    #[tf(required)]
    pub mount_path: Input<String>,
    /// The keys of a Secret in the resource's namespace, as files.
    #[tf(block)]
    pub secret: Input<KeysVolumeModel>,
    /// The keys of a ConfigMap in the resource's namespace, as files.
    #[tf(block)]
    pub config_map: Input<KeysVolumeModel>,
    /// An empty directory that lives as long as the pod.
    #[tf(block)]
    pub empty_dir: Input<EmptyDirModel>,
}

/// A Secret or ConfigMap whose keys become files.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct KeysVolumeModel {
    /// Name of the object, in the resource's namespace.
    #[tf(required)]
    pub name: Input<String>,
    /// Which keys become which files (key → relative path); unset mounts every key as a
    /// file of its name.
    pub items: Input<BTreeMap<String, String>>,
}

/// ServiceMonitors for every Service of this resource.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct ServiceMonitorModel {
    /// Render the ServiceMonitors. Defaults to `true`; `false` removes them as removing the
    /// block does.
    #[tf(default = true)]
    pub enabled: Input<bool>,
    /// Scrape interval (a Prometheus duration, e.g. `30s`). Unset uses the Prometheus's own.
    pub interval: Input<String>,
    /// Labels of the ServiceMonitor objects, e.g. what a Prometheus's
    /// `serviceMonitorSelector` matches (`release = "kube-prometheus-stack"`).
    pub labels: Input<BTreeMap<String, String>>,
}

// ---------------------------------------------------------------------------------------------
// Validation.

/// The pod fields, checked. `kind` and `name` give the default name of a created
/// ServiceAccount; `mounts` are the paths the resource mounts itself.
pub fn pod(
    m: &PodModel,
    r: &mut Report,
    kind: Kind,
    name: Option<&str>,
    mounts: &[&str],
) -> Checked<PodSettings> {
    let root = Path::root();
    let (service_account, automount) = service_account(
        &m.service_account,
        &root.attr("service_account"),
        r,
        kind,
        name,
    );
    let pull = checks::unique_strings(
        r,
        &root.attr("image_pull_secrets"),
        &m.image_pull_secrets,
        "image pull secret",
        |n| validate::dns_subdomain(n).map_err(|e| ("Invalid Secret name", e)),
    );
    let annotations = checks::map(
        r,
        &root.attr("pod_annotations"),
        &m.pod_annotations,
        |k, _| {
            let mut problems = Vec::new();
            if let Err(e) = validate::qualified_name(k) {
                problems.push(("Invalid annotation key", e));
            }
            if pod::RESERVED_POD_ANNOTATIONS.contains(&k) {
                problems.push((
                    "Reserved annotation",
                    format!(
                        "{k:?} is set by the provider: it rolls the pods when what they mount changes"
                    ),
                ));
            }
            problems
        },
    );
    let priority = checks::string(
        r,
        &root.attr("priority_class_name"),
        &m.priority_class_name,
        |n| validate::dns_subdomain(n).map_err(|e| ("Invalid priority_class_name", e)),
    );
    let security = security_context(&m.security_context, &root.attr("security_context"), r);
    let volumes = extra_volumes(&m.extra_volumes, &root.attr("extra_volumes"), r, mounts);
    Checked::all(|| {
        Some(PodSettings {
            service_account: service_account.into_option()?,
            automount_token: automount.into_value()?,
            image_pull_secrets: pull.into_option()?.unwrap_or_default(),
            annotations: annotations.into_value()?,
            priority_class_name: priority.into_option()?,
            security: security.into_value()?,
            extra_volumes: volumes.into_value()?,
        })
    })
}

fn service_account(
    v: &Input<ServiceAccountModel>,
    p: &Path,
    r: &mut Report,
    kind: Kind,
    resource: Option<&str>,
) -> (Checked<ServiceAccount>, Checked<bool>) {
    let Input::Known(m) = v else {
        let missing = matches!(v, Input::Unknown);
        return if missing {
            (Checked::Missing, Checked::Missing)
        } else {
            (Checked::Unset, Checked::Known(false))
        };
    };
    let create = checks::plain(&m.create).or(|| false);
    let automount = checks::plain(&m.automount_token).or(|| false);
    let name = checks::string(r, &p.attr("name"), &m.name, |n| {
        validate::dns_subdomain(n).map_err(|e| ("Invalid ServiceAccount name", e))
    });
    if let (Checked::Known(false), Checked::Unset) = (&create, &name) {
        r.push(
            &p.attr("name"),
            "Missing ServiceAccount name",
            "name the existing ServiceAccount the pods run as, or set create = true to create one",
        );
    }
    let annotations = checks::annotations(r, &p.attr("annotations"), &m.annotations);
    if create == Checked::Known(false) && m.annotations.known().is_some_and(|a| !a.is_empty()) {
        r.push(
            &p.attr("annotations"),
            "Annotations of a ServiceAccount this resource does not create",
            "annotations apply to the ServiceAccount this resource creates (create = true); annotate an existing ServiceAccount where it is managed",
        );
    }
    let account = Checked::all(|| {
        let create = create.clone().into_value()?;
        let name = match name.into_option()? {
            Some(n) => n,
            None if create => pod::default_service_account_name(kind, resource?),
            None => return None,
        };
        Some(ServiceAccount {
            name,
            create,
            annotations: annotations.into_value()?,
        })
    });
    (account, automount)
}

fn security_context(
    v: &Input<SecurityContextModel>,
    p: &Path,
    r: &mut Report,
) -> Checked<SecurityContexts> {
    checks::block(v, |m| {
        let pod = checks::parsed(r, &p.attr("pod"), &m.pod, |j| {
            security::pod(j).map_err(|e| ("Invalid pod security context", e))
        })
        .or(security::default_pod);
        let container = checks::parsed(r, &p.attr("container"), &m.container, |j| {
            security::container(j).map_err(|e| ("Invalid container security context", e))
        })
        .or(security::default_container);
        Checked::all(|| {
            Some(SecurityContexts {
                pod: pod.into_value()?,
                container: container.into_value()?,
            })
        })
    })
    .or(SecurityContexts::default)
}

fn extra_volumes(
    v: &Input<Vec<ExtraVolumeModel>>,
    p: &Path,
    r: &mut Report,
    mounts: &[&str],
) -> Checked<Vec<ExtraVolume>> {
    // Names and paths of the volumes before each, to refuse duplicates and nesting.
    let mut seen: Vec<(String, String)> = Vec::new();
    checks::list(r, p, v, |m, p, r| {
        let name = checks::string(r, &p.attr("name"), &m.name, |n| {
            // The pod volume is `extra-<name>`: a DNS label of at most 63 characters.
            validate::dns_label(&pod::volume_name(n)).map_err(|e| {
                (
                    "Invalid volume name",
                    format!(
                        "{e} (the pod volume is named \"{}<name>\")",
                        pod::VOLUME_PREFIX
                    ),
                )
            })?;
            match seen.iter().any(|(s, _)| s == n) {
                true => Err((
                    "Duplicate volume name",
                    format!("{n:?} is the name of another extra volume"),
                )),
                false => Ok(()),
            }
        });
        let path = checks::string(r, &p.attr("mount_path"), &m.mount_path, |path| {
            pod::check_mount_path(path).map_err(|e| ("Invalid mount_path", e))?;
            if let Some(ours) = pod::mount_conflict(path, mounts) {
                return Err((
                    "Mount path collides with the provider's",
                    format!(
                        "{path:?} is at, above or below {ours:?}, which the provider mounts itself; choose a path outside it, e.g. \"/etc/thanos-extra/{}\"",
                        path.rsplit('/').next().unwrap_or("config")
                    ),
                ));
            }
            if let Some((other, _)) = seen.iter().find(|(_, o)| pod::nested(path, o)) {
                return Err((
                    "Mount path collides with another extra volume",
                    format!(
                        "{path:?} is at, above or below the mount path of extra volume {other:?}"
                    ),
                ));
            }
            Ok(())
        });
        if let (Some(n), Some(path)) = (m.name.known(), m.mount_path.known()) {
            seen.push((n.clone(), path.clone()));
        }
        // A source not known yet (a dynamic block) may be set or not: only what is certain
        // is an error.
        let sources = [
            (m.secret.is_null(), matches!(m.secret, Input::Unknown)),
            (
                m.config_map.is_null(),
                matches!(m.config_map, Input::Unknown),
            ),
            (m.empty_dir.is_null(), matches!(m.empty_dir, Input::Unknown)),
        ];
        let set = sources
            .iter()
            .filter(|(null, unknown)| !null && !unknown)
            .count();
        let maybe = sources.iter().filter(|(_, unknown)| *unknown).count();
        if set > 1 || set + maybe == 0 {
            r.push(
                p,
                "Invalid extra volume",
                "set exactly one of secret, config_map and empty_dir",
            );
        }
        let secret = checks::block(&m.secret, |k| keys(k, &p.attr("secret"), r, "Secret"));
        let config_map = checks::block(&m.config_map, |k| {
            keys(k, &p.attr("config_map"), r, "ConfigMap")
        });
        let empty_dir = super::blocks::empty_dir(&m.empty_dir, &p.attr("empty_dir"), r);
        Checked::all(|| {
            let source = match (
                secret.into_option()?,
                config_map.into_option()?,
                empty_dir.into_option()?,
            ) {
                (Some((name, items)), None, None) => VolumeSource::Secret { name, items },
                (None, Some((name, items)), None) => VolumeSource::ConfigMap { name, items },
                (None, None, Some((medium, size_limit))) => {
                    VolumeSource::EmptyDir { medium, size_limit }
                }
                _ => return None,
            };
            Some(ExtraVolume {
                name: name.into_value()?,
                mount_path: path.into_value()?,
                source,
            })
        })
    })
}

type Keys = (String, BTreeMap<String, String>);

fn keys(m: &KeysVolumeModel, p: &Path, r: &mut Report, what: &'static str) -> Checked<Keys> {
    let name = checks::string(r, &p.attr("name"), &m.name, |n| {
        validate::dns_subdomain(n).map_err(|e| ("Invalid name", format!("{what} name: {e}")))
    })
    .required(r, &p.attr("name"));
    let items = checks::map(r, &p.attr("items"), &m.items, |k, path| {
        let mut problems = Vec::new();
        if let Err(e) = validate::config_key(k) {
            problems.push(("Invalid key", e));
        }
        let relative = !path.is_empty()
            && !path.starts_with('/')
            && path.split('/').all(|c| !c.is_empty() && c != "..");
        if !relative {
            problems.push((
                "Invalid item path",
                format!("{path:?} must be a relative file path inside the mount, without \"..\""),
            ));
        }
        problems
    });
    Checked::all(|| Some((name.into_value()?, items.into_value()?)))
}

/// The `service_monitor` block, checked: `None` when it is absent or disabled.
pub fn service_monitor(m: &PodModel, r: &mut Report) -> Checked<Option<MonitorSettings>> {
    let p = Path::root().attr("service_monitor");
    checks::block(&m.service_monitor, |s| {
        let enabled = checks::plain(&s.enabled).or(|| true);
        let interval = checks::duration(r, &p.attr("interval"), &s.interval);
        let labels = checks::labels(r, &p.attr("labels"), &s.labels, true);
        Checked::all(|| {
            let settings = MonitorSettings {
                interval: interval.into_option()?,
                labels: labels.into_value()?,
            };
            Some(enabled.into_value()?.then_some(settings))
        })
    })
    .or(|| None)
}
