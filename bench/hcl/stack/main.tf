# One copy of examples/quickstart (two ingestors with 5Gi claims, two routers whose ring is
# the ingestors' endpoints, one querier), as a module so bench/run.sh can stamp out N copies.
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

# false only for the bench's "wait_for_rollout = false" rows: the write path alone
variable "wait_for_rollout" {
  type    = bool
  default = true
}

resource "thanos_receive" "ingestor" {
  name             = "ingestor"
  namespace        = var.namespace
  replicas         = 2
  wait_for_rollout = var.wait_for_rollout

  ingestor {
    data_volume {
      pvc {
        size = "5Gi"
      }
    }
  }
}

resource "thanos_receive" "router" {
  name             = "router"
  namespace        = var.namespace
  replicas         = 2
  wait_for_rollout = var.wait_for_rollout

  router {
    soft_tenant_hashring {
      name      = "test"
      endpoints = thanos_receive.ingestor.ingestor_endpoints
    }
  }
}

resource "thanos_query" "sample" {
  name             = "sample"
  namespace        = var.namespace
  wait_for_rollout = var.wait_for_rollout

  stores = [
    { address = thanos_receive.ingestor.store_endpoint },
  ]
}
