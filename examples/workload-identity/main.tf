# Thanos on a cloud cluster, as a platform team runs it: long-term storage reached without keys
# (the pods run as ServiceAccounts the cloud trusts, so neither the configuration, the state
# nor the cluster's Secrets hold a credential), images from a private registry, a query
# frontend for the dashboards, and ServiceMonitors for the cluster's Prometheus.
#
# Here EKS with IRSA: each resource creates its ServiceAccount annotated with the IAM role that
# may read and write the bucket; the role's trust policy names both ServiceAccounts
# (system:serviceaccount:monitoring:thanos-ingestor and ...:thanos-storage). The same works
# on GKE (annotate with iam.gke.io/gcp-service-account and use a gcs block) and on AKS
# (annotate with azure.workload.identity/client-id, add the pod label
# azure.workload.identity/use = "true" in labels, and use an azure block). None of the three
# needs automount_token: their webhooks and metadata servers give the pods tokens of their own.
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

variable "bucket_role_arn" {
  type        = string
  description = "The IAM role that may read and write the bucket (IRSA)."
  default     = "arn:aws:iam::123456789012:role/thanos-metrics"
}

provider "thanos" {
  config_path = var.kubeconfig
}

locals {
  namespace = "monitoring"
  # The Thanos image mirrored into the private registry, and the Secret (type
  # kubernetes.io/dockerconfigjson, in the namespace) its kubelets pull with.
  image              = "registry.example.com/mirror/thanos:v0.42.5"
  image_pull_secrets = ["registry-credentials"]
  # What the cluster's Prometheus (kube-prometheus-stack) selects ServiceMonitors by.
  monitor_labels = { release = "kube-prometheus-stack" }
  bucket = {
    bucket   = "thanos-metrics"
    endpoint = "s3.eu-west-1.amazonaws.com"
    region   = "eu-west-1"
  }
}

resource "thanos_receive" "ingestor" {
  name               = "ingestor"
  namespace          = local.namespace
  replicas           = 2
  image              = local.image
  image_pull_secrets = local.image_pull_secrets

  service_account {
    name        = "thanos-ingestor"
    create      = true
    annotations = { "eks.amazonaws.com/role-arn" = var.bucket_role_arn }
  }

  ingestor {
    local_tsdb_retention = "2h"
    # No keys: Thanos takes the role from the pod's web identity token.
    object_storage {
      prefix = "cluster-a"
      s3 {
        bucket   = local.bucket.bucket
        endpoint = local.bucket.endpoint
        region   = local.bucket.region
      }
    }
    data_volume {
      pvc {
        size = "10Gi"
      }
    }
  }

  service_monitor {
    labels = local.monitor_labels
  }
}

resource "thanos_storage" "lts" {
  name               = "lts"
  namespace          = local.namespace
  image              = local.image
  image_pull_secrets = local.image_pull_secrets

  service_account {
    name        = "thanos-storage"
    create      = true
    annotations = { "eks.amazonaws.com/role-arn" = var.bucket_role_arn }
  }

  object_storage {
    prefix = "cluster-a"
    s3 {
      bucket   = local.bucket.bucket
      endpoint = local.bucket.endpoint
      region   = local.bucket.region
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

  service_monitor {
    labels = local.monitor_labels
  }
}

resource "thanos_query" "all" {
  name               = "all"
  namespace          = local.namespace
  replicas           = 2
  image              = local.image
  image_pull_secrets = local.image_pull_secrets

  stores = [
    { address = thanos_receive.ingestor.store_endpoint },
    { address = thanos_storage.lts.store_endpoint },
  ]

  # Dashboards read http_url or the Ingress: both are the frontend's, which splits long
  # ranges by day and answers repeated queries from its cache.
  frontend {
    replicas = 2
    results_cache {
      in_memory_max_size = "512MB"
    }
    resources {
      requests = { cpu = "100m", memory = "256Mi" }
      limits   = { memory = "1Gi" }
    }
  }

  http_ingress {
    host        = "thanos.example.com"
    secret_name = "thanos-tls"
  }

  service_monitor {
    labels = local.monitor_labels
  }
}

output "grafana_data_source_url" {
  description = "The query frontend's URL inside the cluster, for a Grafana data source."
  value       = thanos_query.all.http_url
}
