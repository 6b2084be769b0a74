# Alerting across clusters: one Thanos Ruler evaluates rules on the global querier, which sees
# the metrics of every cluster, and sends the alerts to the host's Alertmanager. Teams keep
# writing PrometheusRule objects (prometheus-operator's format) in their namespaces; the ones
# labelled for federation are evaluated globally too. `terraform plan` lists them in
# thanos_rule.global.prometheus_rules, and shows which ones a change adds, removes or edits.
terraform {
  required_providers {
    thanos = {
      source = "paodin/thanos"
    }
  }
}

variable "host_kubeconfig" {
  type        = string
  description = "Kubeconfig of the host cluster, which runs the global querier and the ruler."
  default     = "~/.kube/host"
}

provider "thanos" {
  config_path = var.host_kubeconfig
}

resource "thanos_receive" "ingestor" {
  name      = "ingestor"
  namespace = "monitoring"
  replicas  = 2

  ingestor {
    data_volume {
      pvc {
        size = "20Gi"
      }
    }
  }
}

resource "thanos_query" "global" {
  name      = "global"
  namespace = "monitoring"
  replicas  = 2

  stores = [
    { address = thanos_receive.ingestor.store_endpoint },
    # A member cluster's Store API, behind TLS.
    { address = "store.member.example.com:443", secret_name = "member-ca" },
    # The ruler's recorded series. This is thanos_rule.global.store_endpoint, written out: the
    # ruler queries through this querier (its query_endpoints), so a reference here would be a
    # cycle.
    { address = "dnssrv+_grpc._tcp.thanosrule-global-operated.monitoring.svc" },
  ]

  # Both ruler replicas record every series: deduplicate them like receive and Prometheus
  # replicas.
  replica_labels = ["prometheus_replica", "receive_replica", "thanos_ruler_replica"]
}

resource "thanos_rule" "global" {
  name      = "global"
  namespace = "monitoring"
  replicas  = 2

  query_endpoints = [thanos_query.global.http_url]
  alertmanagers = [
    # Every replica of the host's Alertmanager (its headless Service's SRV records).
    { url = "dnssrv+http://_web._tcp.alertmanager-operated.monitoring.svc" },
  ]
  alert_query_url     = "https://thanos.host.example.com"
  external_labels     = { ruler = "global" }
  evaluation_interval = "30s"

  # Rules that only make sense on the global view.
  rule_groups = {
    global = <<-EOT
      groups:
        - name: global
          rules:
            - record: cluster:up:ratio
              expr: avg by (cluster) (up)
            - alert: ClusterNotReporting
              expr: count by (cluster) (up offset 1h) unless count by (cluster) (up)
              for: 10m
              labels:
                severity: page
              annotations:
                summary: "Cluster {{ $labels.cluster }} stopped sending metrics"
    EOT
  }

  # Federate PrometheusRule objects labelled thanos.paodin.io/federate=true, in any namespace.
  prometheus_rule_selector {
    match_labels = { "thanos.paodin.io/federate" = "true" }
  }
  prometheus_rule_namespace_selector {}

  data_volume {
    pvc {
      size = "10Gi"
    }
  }

  # Ship the recorded series to long-term storage.
  object_storage_config {
    name = "thanos-objstore"
    key  = "objstore.yaml"
  }
}
