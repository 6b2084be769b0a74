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
/// A label on an ingestor Service (copied by the EndpointSlice controller onto its slices,
/// `setEndpointSliceLabels` in k8s.io/endpointslice `utils.go`) whose value is a pod ordinal:
/// pods at or above it are not published to rings. The provider sets it while it holds back a
/// scale-down because a ring of another resource still lists the leaving pods: they keep
/// running and serving that ring, while every ring that discovers members by label stops
/// listing them, so the hold ends.
pub const PUBLISHED_BELOW_LABEL: &str = "thanos.paodin.io/published-below";
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

/// The ordinal of a StatefulSet pod's hostname (`<statefulset>-<ordinal>`).
fn pod_ordinal(hostname: &str) -> Option<u64> {
    let (_, ordinal) = hostname.rsplit_once('-')?;
    if ordinal.is_empty() || !ordinal.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    ordinal.parse().ok()
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
        let labels = slice.metadata.labels.as_ref();
        let service = labels
            .and_then(|l| l.get(SERVICE_NAME_LABEL))
            .map(String::as_str);
        let published_below: Option<u64> = labels
            .and_then(|l| l.get(PUBLISHED_BELOW_LABEL))
            .and_then(|v| v.parse().ok());
        for ep in &slice.endpoints {
            let ready = ep.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
            if !ready {
                continue;
            }
            if let (Some(below), Some(ordinal)) = (
                published_below,
                ep.hostname.as_deref().and_then(pod_ordinal),
            ) && ordinal >= below
            {
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

#[cfg(test)]
mod tests {
    use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    fn slice(labels: &[(&str, &str)], hosts: &[(&str, bool)]) -> EndpointSlice {
        let mut all: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        all.insert(SERVICE_NAME_LABEL.into(), "svc".into());
        EndpointSlice {
            metadata: ObjectMeta {
                namespace: Some("ns".into()),
                labels: Some(all),
                ..Default::default()
            },
            address_type: "IPv4".into(),
            ports: Some(vec![EndpointPort {
                name: Some(GRPC_PORT_NAME.into()),
                port: Some(10901),
                ..Default::default()
            }]),
            endpoints: hosts
                .iter()
                .map(|(h, ready)| Endpoint {
                    addresses: vec!["10.0.0.1".into()],
                    hostname: Some(h.to_string()),
                    conditions: Some(EndpointConditions {
                        ready: Some(*ready),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .collect(),
        }
    }

    #[test]
    fn ready_pods_are_published() {
        let s = slice(&[], &[("ing-0", true), ("ing-1", false), ("ing-2", true)]);
        assert_eq!(
            endpoints_from_slices(&[s]),
            vec!["ing-0.svc.ns.svc:10901", "ing-2.svc.ns.svc:10901"]
        );
    }

    #[test]
    fn pods_at_or_above_the_published_below_ordinal_are_left_out() {
        let hosts = [
            ("ing-0", true),
            ("ing-1", true),
            ("ing-2", true),
            ("ing-10", true),
        ];
        let held = slice(&[(PUBLISHED_BELOW_LABEL, "2")], &hosts);
        assert_eq!(
            endpoints_from_slices(&[held]),
            vec!["ing-0.svc.ns.svc:10901", "ing-1.svc.ns.svc:10901"]
        );
        // A value that is not an ordinal publishes everything, as without the label.
        let odd = slice(&[(PUBLISHED_BELOW_LABEL, "two")], &hosts);
        assert_eq!(endpoints_from_slices(&[odd]).len(), 4);
    }
}
