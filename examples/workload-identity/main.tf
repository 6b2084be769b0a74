# Long-term storage without keys: the pods run as a ServiceAccount that the cloud trusts, so
# neither the configuration, the state nor the cluster's Secrets hold a credential. Here EKS
# with IRSA; the same works on GKE (annotate the ServiceAccount with
# iam.gke.io/gcp-service-account and use a gcs block) and on AKS (annotate it with
# azure.workload.identity/client-id, add the pod label azure.workload.identity/use = "true" in
# labels, and use an azure block).
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
  # A ServiceAccount annotated with eks.amazonaws.com/role-arn: the IAM role that may read and
  # write the bucket (e.g. created with the kubernetes provider's kubernetes_service_account_v1).
  service_account = "thanos"
}

resource "thanos_receive" "ingestor" {
  name                 = "ingestor"
  namespace            = local.namespace
  replicas             = 2
  service_account_name = local.service_account

  ingestor {
    local_tsdb_retention = "2h"
    # No keys: Thanos takes the role from the pod's web identity token.
    object_storage {
      prefix = "cluster-a"
      s3 {
        bucket   = "thanos-metrics"
        endpoint = "s3.eu-west-1.amazonaws.com"
        region   = "eu-west-1"
      }
    }
    data_volume {
      pvc {
        size = "10Gi"
      }
    }
  }
}

resource "thanos_storage" "lts" {
  name                 = "lts"
  namespace            = local.namespace
  service_account_name = local.service_account

  object_storage {
    prefix = "cluster-a"
    s3 {
      bucket   = "thanos-metrics"
      endpoint = "s3.eu-west-1.amazonaws.com"
      region   = "eu-west-1"
    }
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
