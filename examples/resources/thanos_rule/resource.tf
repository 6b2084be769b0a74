# A ruler evaluating on the global query: inline rules, plus the PrometheusRule objects of
# every namespace that are labelled for federation.
resource "thanos_rule" "global" {
  name      = "global"
  namespace = "monitoring"
  replicas  = 2

  query_endpoints = ["http://thanosquery-global-operated.monitoring.svc:10902"]
  alertmanagers = [
    { url = "dnssrv+http://_web._tcp.alertmanager-operated.monitoring.svc" },
  ]
  external_labels     = { ruler = "global" }
  evaluation_interval = "30s"

  rule_groups = {
    clusters = <<-EOT
      groups:
        - name: clusters
          rules:
            - alert: ClusterNotReporting
              expr: count by (cluster) (up offset 1h) unless count by (cluster) (up)
              for: 10m
              labels:
                severity: page
              annotations:
                summary: "Cluster {{ $labels.cluster }} stopped sending metrics"
    EOT
  }

  prometheus_rule_selector {
    match_labels = { "thanos.paodin.io/federate" = "true" }
  }
  prometheus_rule_namespace_selector {}

  data_volume {
    pvc {
      size = "10Gi"
    }
  }
}
