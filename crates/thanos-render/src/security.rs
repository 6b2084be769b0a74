//! The security contexts of every pod and container: our hardened defaults, and a user's
//! `security_context` merged over them.
//!
//! The defaults are kube-thanos's: the unprivileged `nobody` user of the Thanos image, no
//! privilege escalation, a read-only root filesystem, every capability dropped, the runtime's
//! seccomp profile. A cluster that assigns its own user IDs (OpenShift's `restricted-v2`
//! security context constraint refuses a pod that names one outside the namespace's range)
//! needs to remove the fixed IDs, and some need a field we do not set; so a user's context is
//! merged over ours one top-level field at a time: a field set replaces ours whole, a field set
//! to `null` removes ours, every other field stays ours.
//!
//! The user's JSON must be a Kubernetes core/v1 object in every field: it is deserialized into
//! the k8s-openapi type, serialized back and compared, so a field the type silently drops (a
//! typo, a snake_case name, a wrong nesting level) is reported by its JSON path, as `affinity`
//! is ([`crate::common::parse_affinity`]).

use k8s_openapi::api::core::v1 as core;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::common::first_unknown;

/// The user and group the pods run as by default: `nobody` in the Thanos image; `fsGroup` makes
/// the data volume writable for it.
pub const RUN_AS: i64 = 65534;

/// The security contexts of a resource's pods and containers, resolved (defaults merged).
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityContexts {
    pub pod: core::PodSecurityContext,
    /// Every container of every pod (the Thanos containers and the envoy sidecar).
    pub container: core::SecurityContext,
}

impl Default for SecurityContexts {
    fn default() -> Self {
        SecurityContexts {
            pod: default_pod(),
            container: default_container(),
        }
    }
}

/// Our pod security context.
pub fn default_pod() -> core::PodSecurityContext {
    core::PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(RUN_AS),
        run_as_group: Some(RUN_AS),
        fs_group: Some(RUN_AS),
        seccomp_profile: Some(core::SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Our container security context.
pub fn default_container() -> core::SecurityContext {
    core::SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        capabilities: Some(core::Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A user's pod security context (JSON) merged over [`default_pod`].
pub fn pod(json: &str) -> Result<core::PodSecurityContext, String> {
    merge(json, &default_pod(), "PodSecurityContext")
}

/// A user's container security context (JSON) merged over [`default_container`].
pub fn container(json: &str) -> Result<core::SecurityContext, String> {
    merge(json, &default_container(), "SecurityContext")
}

fn merge<T: Serialize + DeserializeOwned>(json: &str, ours: &T, what: &str) -> Result<T, String> {
    use serde_json::Value;
    let raw: Value =
        serde_json::from_str(json).map_err(|e| format!("the value is not valid JSON: {e}"))?;
    let Value::Object(fields) = &raw else {
        return Err(format!(
            "the value must be a JSON object (a Kubernetes core/v1 {what}), e.g. jsonencode({{ runAsUser = null }})"
        ));
    };
    let alone: T = serde_json::from_value(raw.clone())
        .map_err(|e| format!("the value is not a Kubernetes core/v1 {what}: {e}"))?;
    let back = serde_json::to_value(&alone).expect("k8s-openapi types serialize");
    if let Some(field) = first_unknown(&raw, &back, "") {
        return Err(format!(
            "unknown field {field:?}: the value must be a Kubernetes core/v1 {what} in JSON (camelCase field names, e.g. \"runAsUser\", \"seccompProfile\")"
        ));
    }
    let mut merged = serde_json::to_value(ours).expect("k8s-openapi types serialize");
    let target = merged
        .as_object_mut()
        .expect("a security context is an object");
    for (k, v) in fields {
        if v.is_null() {
            target.remove(k);
        } else {
            target.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(merged)
        .map_err(|e| format!("the merged value is not a Kubernetes core/v1 {what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_replaces_ours_and_null_removes_it() {
        let p = pod(r#"{"runAsUser": null, "runAsGroup": null, "fsGroup": 1000700000}"#).unwrap();
        assert_eq!(p.run_as_user, None);
        assert_eq!(p.run_as_group, None);
        assert_eq!(p.fs_group, Some(1_000_700_000));
        assert_eq!(p.run_as_non_root, Some(true), "untouched fields stay ours");
        assert_eq!(pod("{}").unwrap(), default_pod());
        let c = container(r#"{"capabilities": {"add": ["NET_BIND_SERVICE"]}}"#).unwrap();
        assert_eq!(
            c.capabilities.unwrap().drop,
            None,
            "a field replaces ours whole"
        );
        assert_eq!(c.read_only_root_filesystem, Some(true));
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_named() {
        let e = pod(r#"{"runAsUsr": 1}"#).unwrap_err();
        assert!(e.contains("unknown field \"runAsUsr\""), "{e}");
        let e = container(r#"{"seccompProfile": {"type": "RuntimeDefault", "profile": "x"}}"#)
            .unwrap_err();
        assert!(e.contains("\"seccompProfile.profile\""), "{e}");
        let e = pod(r#"{"run_as_user": 1}"#).unwrap_err();
        assert!(e.contains("camelCase"), "{e}");
        assert!(
            pod(r#"{"runAsUser": "root"}"#)
                .unwrap_err()
                .contains("PodSecurityContext")
        );
        assert!(pod("[]").unwrap_err().contains("JSON object"));
        assert!(pod("{").unwrap_err().contains("not valid JSON"));
    }
}
