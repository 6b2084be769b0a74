# The member cluster: its ingestors keep its metrics; a querier over them is the cluster's
# Store API, exposed through a gRPC Ingress whose TLS certificate (Secret `member-store-tls`)
# names `store_host`.
terraform {
  required_providers {
    thanos = {
      source = "paodin/thanos"
    }
  }
}

variable "namespace" {
  type = string
}

variable "store_host" {
  type = string
}

resource "thanos_receive" "ingestor" {
  name      = "ingestor"
  namespace = var.namespace
  replicas  = 2

  ingestor {
    data_volume {
      pvc {
        size = "10Gi"
      }
    }
  }
}

resource "thanos_query" "member" {
  name      = "member"
  namespace = var.namespace

  stores = [{ address = thanos_receive.ingestor.store_endpoint }]

  # TLS terminated by the ingress controller, gRPC to the querier behind it.
  grpc_ingress {
    host        = var.store_host
    secret_name = "member-store-tls"
  }
}

output "store_address" {
  description = "The member's Store API as the host reaches it: the gRPC Ingress, port 443."
  value       = "${thanos_query.member.grpc_ingress.host}:443"
}

output "objects" {
  description = "Every object of this stack, as `Kind namespace/name`."
  value = [
    for key in sort(keys(merge(thanos_receive.ingestor.objects, thanos_query.member.objects))) :
    "${split("/", key)[0]} ${var.namespace}/${split("/", key)[1]}"
  ]
}
