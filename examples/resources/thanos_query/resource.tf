# A querier over an in-cluster receive and a store in another cluster reached with TLS
# through the envoy sidecar (the CA comes from the Secret "member-ca", key "ca.crt").
resource "thanos_query" "global" {
  name      = "global"
  namespace = "monitoring"
  replicas  = 2

  stores = [
    { address = "dnssrv+_grpc._tcp.thanosreceive-ingestor-operated.monitoring.svc" },
    { address = "store.member-1.example.com:443", secret_name = "member-ca" },
  ]

  http_ingress {
    host        = "query.example.com"
    secret_name = "query-tls"
  }
}
