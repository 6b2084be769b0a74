//! ServiceMonitors (prometheus-operator's `monitoring.coreos.com/v1`): one per Service a
//! resource renders, scraping the `http` port's `/metrics` (every Thanos component serves its
//! metrics there), so a Prometheus run by prometheus-operator finds every component.
//!
//! A ServiceMonitor selects Services by their labels, in its own namespace (no
//! `namespaceSelector`): the Service's fixed selector labels (component, instance and, for
//! storage, subcomponent) and its ownership label, none of which a user can set, so it selects
//! exactly its own Service. The field names are those of the CRD of prometheus-operator
//! v0.85.0 (`example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde::Serialize;

use crate::meta::{COMPONENT, INSTANCE, PART_OF, SUBCOMPONENT};

pub const API_VERSION: &str = "monitoring.coreos.com/v1";
pub const KIND: &str = "ServiceMonitor";
/// The Service port every ServiceMonitor scrapes.
pub const PORT: &str = "http";
pub const PATH: &str = "/metrics";

/// The `service_monitor` block, validated and enabled.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonitorSettings {
    /// Prometheus duration; `None`: the Prometheus's own scrape interval.
    pub interval: Option<String>,
    /// Labels of the ServiceMonitor objects (what a Prometheus's `serviceMonitorSelector`
    /// matches), besides ours.
    pub labels: BTreeMap<String, String>,
}

/// A rendered ServiceMonitor.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceMonitor {
    pub metadata: meta::ObjectMeta,
    pub spec: ServiceMonitorSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMonitorSpec {
    pub selector: meta::LabelSelector,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    pub port: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
}

impl Serialize for ServiceMonitor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<'a> {
            api_version: &'static str,
            kind: &'static str,
            metadata: &'a meta::ObjectMeta,
            spec: &'a ServiceMonitorSpec,
        }
        Wire {
            api_version: API_VERSION,
            kind: KIND,
            metadata: &self.metadata,
            spec: &self.spec,
        }
        .serialize(s)
    }
}

/// The ServiceMonitor of `service` (named as the Service without its `-operated` suffix), or
/// `None` when it has no `http` port.
pub(crate) fn for_service(
    service: &core::Service,
    settings: &MonitorSettings,
    annotations: &BTreeMap<String, String>,
) -> Option<ServiceMonitor> {
    let has_http = service
        .spec
        .as_ref()?
        .ports
        .iter()
        .flatten()
        .any(|p| p.name.as_deref() == Some(PORT));
    if !has_http {
        return None;
    }
    let name = service.metadata.name.as_deref()?;
    let name = name.strip_suffix("-operated").unwrap_or(name).to_owned();
    let service_labels = service.metadata.labels.clone().unwrap_or_default();
    let selector: BTreeMap<String, String> = service_labels
        .iter()
        .filter(|(k, _)| [COMPONENT, INSTANCE, SUBCOMPONENT, PART_OF].contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // The Service's labels (ownership included), then the user's ServiceMonitor labels;
    // validation keeps those off our reserved keys.
    let mut labels = service_labels;
    labels.extend(settings.labels.clone());
    Some(ServiceMonitor {
        metadata: meta::ObjectMeta {
            name: Some(name),
            namespace: service.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: Some(annotations.clone()).filter(|a| !a.is_empty()),
            ..Default::default()
        },
        spec: ServiceMonitorSpec {
            selector: meta::LabelSelector {
                match_labels: Some(selector),
                ..Default::default()
            },
            endpoints: vec![Endpoint {
                port: PORT.to_owned(),
                path: PATH.to_owned(),
                interval: settings.interval.clone(),
            }],
        },
    })
}
