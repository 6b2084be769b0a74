# A router whose soft ring is either discovered (endpoints_selector over the EndpointSlices
# of bench/run.sh's 100-pod headless Service) or given as the same 100 static endpoints.
# Planning both and subtracting isolates hashring discovery.
terraform {
  required_providers {
    thanos = {
      source = "paodin/thanos"
    }
  }
}

variable "kubeconfig" {
  type = string
}

variable "namespace" {
  type = string
}

variable "discover" {
  type = bool
}

variable "static_endpoints" {
  type    = list(string)
  default = []
}

provider "thanos" {
  config_path = var.kubeconfig
}

resource "thanos_receive" "router" {
  name      = "router"
  namespace = var.namespace
  replicas  = 1

  router {
    soft_tenant_hashring {
      name      = "bench"
      endpoints = var.discover ? null : var.static_endpoints
      dynamic "endpoints_selector" {
        for_each = var.discover ? [1] : []
        content {
          match_labels = { "app.kubernetes.io/name" = "bench-ring-ingestor" }
        }
      }
    }
  }
}

output "members" {
  value = length(thanos_receive.router.hashrings[0].endpoints)
}
