# A store gateway serving the bucket, and the compactor with per-resolution retention.
resource "thanos_storage" "lts" {
  name      = "lts"
  namespace = "monitoring"

  object_storage_config {
    name = "thanos-objstore"
    key  = "objstore.yaml"
  }

  gateway {
    replicas = 2
    data_volume {
      pvc {
        size = "10Gi"
      }
    }
  }

  compact {
    retention {
      raw          = "30d"
      five_minutes = "90d"
      one_hour     = "1y"
    }
    data_volume {
      pvc {
        size = "50Gi"
      }
    }
  }
}
