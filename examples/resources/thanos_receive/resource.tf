# Ingestors: a StatefulSet with one 20Gi volume per pod, shipping blocks to object storage.
resource "thanos_receive" "ingestor" {
  name      = "ingestor"
  namespace = "monitoring"
  replicas  = 3

  ingestor {
    local_tsdb_retention = "6h"

    object_storage_config {
      name = "thanos-objstore"
      key  = "objstore.yaml"
    }

    data_volume {
      pvc {
        size = "20Gi"
      }
    }
  }
}

# Routers: spread remote-write traffic over the ingestors with two copies of each series.
resource "thanos_receive" "router" {
  name      = "router"
  namespace = "monitoring"
  replicas  = 2

  router {
    replication_factor = 2

    soft_tenant_hashring {
      name      = "default"
      endpoints = thanos_receive.ingestor.ingestor_endpoints
    }

    remote_write_ingress {
      host        = "remote-write.example.com"
      secret_name = "remote-write-tls"
    }
  }
}
