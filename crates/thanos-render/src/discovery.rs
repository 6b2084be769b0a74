//! The pure half of hashring discovery: the cluster layer lists Namespaces and EndpointSlices,
//! these functions decide what matches and which endpoint strings come out.
//!
//! The endpoint string is canonical: `<hostname>.<service>.<namespace>.svc:<port>` for a
//! StatefulSet pod behind a headless Service (exactly what [`crate::receive::ingestor_endpoints`]
//! derives and what an ingestor passes as `--receive.local-endpoint`, so a router + ingestor pod
//! recognises itself in the ring), else `<ip>:<port>` with IPv6 bracketed.

use std::collections::BTreeMap;

use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::common::LabelSelector;

/// The label the EndpointSlice controller puts on every slice: the owning Service's name.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// The port whose endpoints join a hashring.
pub const GRPC_PORT_NAME: &str = "grpc";

/// Kubernetes label-selector semantics: every `match_labels` entry and every expression must
/// hold. An empty selector matches everything.
pub fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = selector
        .match_labels
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v));
    let exprs_ok = selector.match_expressions.iter().all(|e| {
        let value = labels.get(&e.key);
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| e.values.contains(v)),
            "NotIn" => value.is_none_or(|v| !e.values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            // Unknown operators never match (validation rejects them earlier).
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

/// The canonical endpoint string of a StatefulSet pod.
pub fn pod_endpoint(hostname: &str, service: &str, namespace: &str, port: i32) -> String {
    format!("{hostname}.{service}.{namespace}.svc:{port}")
}

/// Endpoint strings of the ready endpoints of `slices` on their port named `grpc`: sorted and
/// de-duplicated. Endpoints whose `ready` condition is false are left out (unknown counts as
/// ready, as Kubernetes documents); a slice without a `grpc` port contributes nothing (other
/// slices still count).
pub fn endpoints_from_slices(slices: &[EndpointSlice]) -> Vec<String> {
    let mut out = Vec::new();
    for slice in slices {
        let Some(port) = slice
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(GRPC_PORT_NAME))
            .and_then(|p| p.port)
        else {
            continue;
        };
        let namespace = slice.metadata.namespace.as_deref().unwrap_or_default();
        let service = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(SERVICE_NAME_LABEL))
            .map(String::as_str);
        for ep in &slice.endpoints {
            let ready = ep.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
            if !ready {
                continue;
            }
            match (ep.hostname.as_deref(), service) {
                (Some(h), Some(svc)) if !h.is_empty() && !namespace.is_empty() => {
                    out.push(pod_endpoint(h, svc, namespace, port));
                }
                _ => {
                    for ip in &ep.addresses {
                        if ip.contains(':') {
                            out.push(format!("[{ip}]:{port}"));
                        } else {
                            out.push(format!("{ip}:{port}"));
                        }
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
