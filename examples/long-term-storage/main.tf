# Long-term storage: ingestors ship blocks to a bucket; a store gateway serves them and the
# compactor downsamples and applies retention; the querier sees recent and old data.
terraform {
  required_providers {
    thanos = {
      source = "paodin/thanos"
    }
  }
}

variable "kubeconfig" {
  type        = string
  description = "Path to the kubeconfig of the cluster."
  default     = "~/.kube/config"
}

provider "thanos" {
  config_path = var.kubeconfig
}

locals {
  namespace = "monitoring"
  # A Secret holding a Thanos objstore configuration, e.g. created with kubernetes_secret.
  objstore = {
    name = "thanos-objstore"
    key  = "objstore.yaml"
  }
}

resource "thanos_receive" "ingestor" {
  name      = "ingestor"
  namespace = local.namespace
  replicas  = 2

  ingestor {
    local_tsdb_retention = "2h"
    object_storage_config {
      name = local.objstore.name
      key  = local.objstore.key
    }
    data_volume {
      pvc {
        size = "10Gi"
      }
    }
  }
}

resource "thanos_storage" "lts" {
  name      = "lts"
  namespace = local.namespace

  object_storage_config {
    name = local.objstore.name
    key  = local.objstore.key
  }

  gateway {
    replicas = 2
  }

  compact {
    retention {
      raw          = "30d"
      five_minutes = "180d"
      one_hour     = "2y"
    }
  }
}

resource "thanos_query" "all" {
  name      = "all"
  namespace = local.namespace

  stores = [
    { address = thanos_receive.ingestor.store_endpoint },
    { address = thanos_storage.lts.store_endpoint },
  ]
}
