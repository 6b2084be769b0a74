# A querier over an in-cluster receive and a store in another cluster reached with TLS: Thanos
# verifies the store's certificate with the CA in the Secret "member-ca" (key "ca.crt") and
# presents the client certificate of the Secret "global-query-client" (mutual TLS). The member
# is strict: while it cannot be reached every query says so in a partial-response warning. A
# query frontend in front of the querier serves the Ingress (and http_url) and caches results.
resource "thanos_query" "global" {
  name      = "global"
  namespace = "monitoring"
  replicas  = 2

  stores = [
    { address = "dnssrv+_grpc._tcp.thanosreceive-ingestor-operated.monitoring.svc" },
    {
      address            = "store.member-1.example.com:443"
      secret_name        = "member-ca"
      client_secret_name = "global-query-client"
      strict             = true
    },
  ]

  frontend {
    split_interval = "12h"
  }

  http_ingress {
    host        = "query.example.com"
    secret_name = "query-tls"
  }
}
