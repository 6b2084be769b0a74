//! The one error type of this crate. Every message is written for a Terraform user: which
//! object, what happened, and what to do about it.

use std::fmt;
use std::time::Duration;

/// `Kind namespace/name` of one Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(
        kind: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The key of a rendered object.
    pub fn of(object: &thanos_render::Object) -> Self {
        Self::new(object.kind(), object.namespace(), object.name())
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// Everything that can go wrong talking to the cluster.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nothing at all is configured: we never guess a cluster (no `~/.kube/config`, no
    /// `KUBECONFIG`, no in-cluster credentials).
    #[error(
        "no Kubernetes cluster is configured for the thanos provider. Set config_path (or \
         config_paths) to a kubeconfig file, optionally with config_context, or set host with \
         token, client_certificate/client_key or exec, in the provider \"thanos\" block or through \
         the environment variables KUBE_CONFIG_PATH, KUBE_CONFIG_PATHS, KUBE_CTX, KUBE_HOST, \
         KUBE_TOKEN. The provider never falls back to ~/.kube/config, KUBECONFIG or in-cluster \
         credentials on its own. Planning works without a cluster; apply, refresh and destroy need \
         one."
    )]
    NotConfigured,

    /// The connection settings are present but unusable (unreadable kubeconfig, unknown
    /// context, bad URL or PEM, ...).
    #[error("invalid Kubernetes connection settings: {message}")]
    Config { message: String },

    /// The object exists but does not carry this resource's ownership labels.
    #[error(
        "{kind} {namespace}/{name} already exists and is not managed by this resource \
         (it lacks the labels app.kubernetes.io/managed-by=terraform-provider-thanos and \
         app.kubernetes.io/part-of={part_of}{current}). Refusing to overwrite it. Set \
         adopt_existing = true to adopt it (this resource then owns and may change or delete it), \
         or delete or rename the existing object."
    )]
    NotOurs {
        kind: String,
        namespace: String,
        name: String,
        /// The part-of value this resource expected.
        part_of: String,
        /// `; it is labelled part-of=<x>` when another resource owns it, else empty.
        current: String,
    },

    /// Server-side apply conflict: another field manager owns fields we set.
    #[error(
        "{object}: another field manager owns fields this provider wants to set: {message}. \
         Use force_conflicts = true to take ownership of these fields, or remove the other \
         manager's changes."
    )]
    Conflict { object: ObjectKey, message: String },

    /// 403: the credentials may not do this.
    #[error(
        "{object}: forbidden: {message}. Grant the provider's credentials (the user or service \
         account of the configured kubeconfig/token) the missing RBAC permission."
    )]
    Forbidden { object: ObjectKey, message: String },

    /// 422: the API server rejected the object.
    #[error("{object}: rejected by the Kubernetes API server as invalid: {}", .causes.join("; "))]
    Invalid {
        object: ObjectKey,
        causes: Vec<String>,
    },

    /// The API server could not be reached (connection refused, TLS, DNS, timeout).
    #[error(
        "cannot reach the Kubernetes API server at {host}: {}. Check the provider's \
         host/config_path settings (and cluster_ca_certificate/insecure for TLS errors) and that \
         the cluster is running. (Planning works offline; apply, refresh and destroy need the \
         cluster.)",
        chain(.source)
    )]
    Unreachable {
        host: String,
        #[source]
        source: kube::Error,
    },

    /// The object's namespace does not exist.
    #[error(
        "{object}: namespace {namespace:?} does not exist. Create it first (for example with a \
         kubernetes_namespace resource that this resource depends on); the thanos provider does \
         not create namespaces."
    )]
    NamespaceNotFound {
        object: ObjectKey,
        namespace: String,
    },

    /// 403 from the NamespaceLifecycle admission plugin: the namespace is being deleted, and
    /// nothing new may be created in it until it is gone. No permission fixes that.
    #[error(
        "{object}: namespace {namespace:?} is being deleted, and Kubernetes refuses new objects \
         in a namespace until its deletion finishes. Wait until the namespace is gone, create it \
         again and apply again (when the namespace is managed in the same configuration, its \
         re-creation must come before this resource), or set namespace to another one."
    )]
    NamespaceTerminating {
        object: ObjectKey,
        namespace: String,
    },

    /// 401: the API server does not accept the credentials.
    #[error(
        "{object}: the Kubernetes API server rejected the provider's credentials (401 \
         Unauthorized: {message}). Check token, client_certificate/client_key, exec or the \
         kubeconfig user (config_context_auth_info); a token may have expired."
    )]
    Unauthorized { object: ObjectKey, message: String },

    /// 429: the API server throttles this client (API Priority and Fairness, or its in-flight
    /// limits), still after every retry.
    #[error(
        "{object}: the Kubernetes API server is throttling the provider's requests (429 Too \
         Many Requests: {message}) and still was after retrying with backoff. Apply again, \
         lower the CLI's -parallelism, or ask the cluster's operators for a larger share of \
         the API server (API Priority and Fairness)."
    )]
    Throttled { object: ObjectKey, message: String },

    /// Any other API error.
    #[error("{object}: Kubernetes API error {code} {reason}: {message}")]
    Api {
        object: ObjectKey,
        code: u16,
        reason: String,
        message: String,
    },

    /// A rollout cannot finish: a pod is stuck for a reason that waiting will not fix.
    #[error(
        "rollout of {workload} failed: pod {pod}: {reason}: {message}. Fix the cause (image, \
         configuration, node placement or resources) and apply again."
    )]
    RolloutFailed {
        workload: ObjectKey,
        /// Empty when the failure is on the workload itself (ProgressDeadlineExceeded).
        pod: String,
        reason: String,
        message: String,
    },

    /// A wait ran out of time; `missing` says what was still not there.
    #[error(
        "timed out after {}s waiting for {what}: {missing}. Raise the timeout in the resource's \
         timeouts block, or set wait_for_rollout = false to skip waiting.",
        .waited.as_secs()
    )]
    Timeout {
        what: String,
        waited: Duration,
        missing: String,
    },

    /// The operation was cancelled (Terraform's StopProvider / Ctrl-C).
    #[error("cancelled: {what} was interrupted (Ctrl-C, or the client stopped the provider)")]
    Cancelled { what: String },

    /// A response we could not interpret (a bug or an unexpected server).
    #[error("{object}: unexpected response from the Kubernetes API server: {message}")]
    Unexpected { object: ObjectKey, message: String },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// [`Error::Unreachable`] as a refused connection to `host` gives it (for fakes of the
    /// cluster, which have no client to fail).
    pub fn connection_refused(host: &str) -> Self {
        Error::Unreachable {
            host: host.to_owned(),
            source: kube::Error::Service("tcp connect error: Connection refused".into()),
        }
    }

    /// Maps a kube client error for `object` into a typed error. `host` is the API server URL
    /// (for [`Error::Unreachable`]).
    pub fn from_kube(err: kube::Error, object: &ObjectKey, host: &str) -> Error {
        match err {
            kube::Error::Api(status) => from_status(*status, object),
            kube::Error::HyperError(_) | kube::Error::Service(_) => Error::Unreachable {
                host: host.to_owned(),
                source: err,
            },
            #[allow(unreachable_patterns)]
            other if is_transport(&other) => Error::Unreachable {
                host: host.to_owned(),
                source: other,
            },
            other => Error::Unexpected {
                object: object.clone(),
                message: other.to_string(),
            },
        }
    }

    /// Whether retrying the same request may succeed (429, 5xx, connection trouble).
    pub fn is_transient(&self) -> bool {
        match self {
            // A certificate problem does not go away by retrying.
            Error::Unreachable { source, .. } => !chain(source).contains("certificate"),
            Error::Throttled { .. } => true,
            Error::Api { code, .. } => *code >= 500,
            _ => false,
        }
    }

    /// Whether this is a 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api { code: 404, .. })
    }
}

/// An error and its sources, `: `-separated, without repeats (hyper and rustls nest the real
/// reason, e.g. "invalid peer certificate: UnknownIssuer", several levels down).
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ")
}

fn is_transport(err: &kube::Error) -> bool {
    let text = err.to_string().to_ascii_lowercase();
    ["connect", "timed out", "timeout", "tls", "dns"]
        .iter()
        .any(|w| text.contains(w))
}

/// Maps an API `Status` (a non-2xx answer) to a typed error.
pub fn from_status(status: kube::core::Status, object: &ObjectKey) -> Error {
    let causes: Vec<String> = status
        .details
        .as_ref()
        .map(|d| {
            d.causes
                .iter()
                .map(|c| match (c.field.is_empty(), c.message.is_empty()) {
                    (false, false) => format!("{}: {}", c.field, c.message),
                    (true, false) => c.message.clone(),
                    (false, true) => format!("{}: {}", c.field, c.reason),
                    (true, true) => c.reason.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    match status.code {
        409 => Error::Conflict {
            object: object.clone(),
            message: conflict_message(&status),
        },
        401 => Error::Unauthorized {
            object: object.clone(),
            message: status.message,
        },
        429 => Error::Throttled {
            object: object.clone(),
            message: status.message,
        },
        403 if namespace_terminating(&status) => Error::NamespaceTerminating {
            object: object.clone(),
            namespace: object.namespace.clone(),
        },
        403 => Error::Forbidden {
            object: object.clone(),
            message: status.message,
        },
        422 => Error::Invalid {
            object: object.clone(),
            causes: if causes.is_empty() {
                vec![status.message]
            } else {
                causes
            },
        },
        code => Error::Api {
            object: object.clone(),
            code,
            reason: status.reason,
            message: status.message,
        },
    }
}

/// Whether a 403 is the NamespaceLifecycle admission plugin refusing new content in a
/// namespace being deleted (`plugin/pkg/admission/namespace/lifecycle` of k8s.io/apiserver):
/// its cause `NamespaceTerminating`, or (servers that send no causes) its message.
fn namespace_terminating(status: &kube::core::Status) -> bool {
    let cause = status
        .details
        .iter()
        .flat_map(|d| d.causes.iter())
        .any(|c| c.reason == "NamespaceTerminating");
    cause || status.message.contains("because it is being terminated")
}

/// The conflict text: Kubernetes names the other manager in each cause (`conflict with "kubectl"
/// using apps/v1`) and the field in `field`; we list them as `.spec.replicas (owned by
/// "kubectl")`.
fn conflict_message(status: &kube::core::Status) -> String {
    let causes: Vec<String> = status
        .details
        .iter()
        .flat_map(|d| d.causes.iter())
        .filter(|c| !c.field.is_empty() || !c.message.is_empty())
        .map(|c| {
            let owner = c
                .message
                .strip_prefix("conflict with ")
                .map(|rest| rest.split(" using ").next().unwrap_or(rest).to_owned())
                .unwrap_or_else(|| c.message.clone());
            if c.field.is_empty() {
                owner
            } else {
                format!("{} (owned by {owner})", c.field)
            }
        })
        .collect();
    if causes.is_empty() {
        status.message.clone()
    } else {
        causes.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn key() -> ObjectKey {
        ObjectKey::new("Deployment", "mon", "thanosquery-q")
    }

    fn status(code: u16, message: &str, causes: &[(&str, &str, &str)]) -> Status {
        let causes: Vec<serde_json::Value> = causes
            .iter()
            .map(|(reason, message, field)| {
                serde_json::json!({"reason": reason, "message": message, "field": field})
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "status": "Failure",
            "code": code,
            "message": message,
            "reason": "Whatever",
            "details": {"causes": causes},
        }))
        .unwrap()
    }

    #[test]
    fn conflict_names_manager_and_field() {
        let s = status(
            409,
            "Apply failed with 1 conflict: conflict with \"other\" using apps/v1: .spec.replicas",
            &[(
                "FieldManagerConflict",
                "conflict with \"other\" using apps/v1",
                ".spec.replicas",
            )],
        );
        let e = from_status(s, &key());
        let Error::Conflict { message, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(message, ".spec.replicas (owned by \"other\")");
        let text = e.to_string();
        assert!(text.contains("Deployment mon/thanosquery-q"), "{text}");
        assert!(text.contains("force_conflicts = true"), "{text}");
    }

    #[test]
    fn conflict_without_causes_keeps_the_message() {
        let e = from_status(status(409, "the object has been modified", &[]), &key());
        assert!(e.to_string().contains("the object has been modified"));
    }

    #[test]
    fn invalid_lists_causes() {
        let e = from_status(
            status(
                422,
                "StatefulSet.apps \"x\" is invalid",
                &[(
                    "FieldValueForbidden",
                    "Forbidden: updates to statefulset spec for fields other than ...",
                    "spec",
                )],
            ),
            &key(),
        );
        let Error::Invalid { causes, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(causes.len(), 1);
        assert!(causes[0].starts_with("spec: Forbidden"));
    }

    #[test]
    fn forbidden_and_other_codes() {
        let e = from_status(status(403, "user cannot patch", &[]), &key());
        assert!(matches!(e, Error::Forbidden { .. }));
        assert!(e.to_string().contains("RBAC"));
        let e = from_status(status(503, "unavailable", &[]), &key());
        assert!(e.is_transient());
        let e = from_status(status(429, "slow down", &[]), &key());
        assert!(e.is_transient());
        assert!(matches!(e, Error::Throttled { .. }), "{e:?}");
        assert!(e.to_string().contains("-parallelism"), "{e}");
        let e = from_status(status(404, "not found", &[]), &key());
        assert!(e.is_not_found() && !e.is_transient());
    }

    /// The API server's answer to a create in a namespace being deleted is a 403, but the
    /// advice is to wait or move, never RBAC.
    #[test]
    fn a_terminating_namespace_is_not_an_rbac_problem() {
        let key = ObjectKey::new("ConfigMap", "mon", "thanosquery-q-terraform");
        let text = "configmaps \"thanosquery-q-terraform\" is forbidden: unable to create new content in namespace mon because it is being terminated";
        let with_cause = status(
            403,
            text,
            &[(
                "NamespaceTerminating",
                "namespace mon is being terminated",
                "metadata.namespace",
            )],
        );
        for s in [with_cause, status(403, text, &[])] {
            let e = from_status(s, &key);
            assert!(matches!(e, Error::NamespaceTerminating { .. }), "{e:?}");
            let message = e.to_string();
            assert!(
                message.contains("namespace \"mon\" is being deleted"),
                "{message}"
            );
            assert!(
                message.contains("Wait until the namespace is gone"),
                "{message}"
            );
            assert!(!message.contains("RBAC"), "{message}");
            assert!(!e.is_transient());
        }
    }

    #[test]
    fn messages_say_what_to_do() {
        let e = Error::NotOurs {
            kind: "Service".into(),
            namespace: "mon".into(),
            name: "thanosquery-q".into(),
            part_of: "thanos-query-q".into(),
            current: String::new(),
        };
        assert!(e.to_string().contains("adopt_existing = true"));
        assert!(Error::NotConfigured.to_string().contains("config_path"));
        assert!(
            Error::NotConfigured
                .to_string()
                .contains("KUBE_CONFIG_PATH")
        );
    }
}
