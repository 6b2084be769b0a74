# The single-cluster quickstart: two ingestors, two routers whose hashring is the ingestors'
# endpoints (visible in the plan), and a querier over the ingestors.
terraform {
  required_providers {
    thanos = {
      source = "paodin/thanos"
    }
  }
}

variable "kubeconfig" {
  description = "Path to the kubeconfig of the cluster to deploy to."
  type        = string
  default     = "~/.kube/config"
}

variable "namespace" {
  description = "Namespace for every object."
  type        = string
  default     = "default"
}

provider "thanos" {
  config_path = var.kubeconfig
}

resource "thanos_receive" "ingestor" {
  name      = "ingestor"
  namespace = var.namespace
  replicas  = 2

  ingestor {
    data_volume {
      pvc {
        size = "5Gi"
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
      name      = "test"
      endpoints = thanos_receive.ingestor.ingestor_endpoints
    }
  }
}

resource "thanos_query" "sample" {
  name      = "sample"
  namespace = var.namespace

  stores = [
    { address = thanos_receive.ingestor.store_endpoint },
  ]
}

output "remote_write_url" {
  description = "Point Prometheus remote_write here."
  value       = thanos_receive.router.remote_write_url
}

output "hashrings" {
  description = "The router's hashrings as written to hashrings.json."
  value       = thanos_receive.router.hashrings
}

output "query_url" {
  description = "The querier's HTTP API inside the cluster."
  value       = thanos_query.sample.http_url
}
