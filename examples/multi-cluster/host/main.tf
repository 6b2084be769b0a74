# The host cluster: a receive for its own metrics and the global querier over it and every
# member cluster's Store API, reached with TLS and strict (a member that cannot be reached is
# a warning on every query, never a silent gap).
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

variable "member_stores" {
  type        = list(string)
  description = "The members' Store APIs (host:port)."
}

variable "member_ca_secret" {
  type        = string
  description = "Secret (key ca.crt) with the CA that signed the members' certificates."
}

variable "tls_mode" {
  type = string
}

resource "thanos_receive" "ingestor" {
  name      = "ingestor"
  namespace = var.namespace
  replicas  = 2

  ingestor {
    data_volume {
      pvc {
        size = "20Gi"
      }
    }
  }
}

resource "thanos_receive" "router" {
  name      = "router"
  namespace = var.namespace
  replicas  = 2

  router {
    soft_tenant_hashring {
      name      = "default"
      endpoints = thanos_receive.ingestor.ingestor_endpoints
    }
  }
}

resource "thanos_query" "global" {
  name      = "global"
  namespace = var.namespace
  replicas  = 2
  tls_mode  = var.tls_mode

  stores = concat(
    [{ address = thanos_receive.ingestor.store_endpoint, secret_name = null, strict = null }],
    [for s in var.member_stores : { address = s, secret_name = var.member_ca_secret, strict = true }],
  )
}

output "query_url" {
  value = thanos_query.global.http_url
}

output "objects" {
  description = "Every object of this stack, as `Kind namespace/name`."
  value = [
    for key in sort(keys(merge(thanos_receive.ingestor.objects, thanos_receive.router.objects, thanos_query.global.objects))) :
    "${split("/", key)[0]} ${var.namespace}/${split("/", key)[1]}"
  ]
}
