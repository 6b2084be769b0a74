# Two clusters: the host runs the global querier and a receive that members remote-write to;
# each member runs its own ingestors, exposes their Store API over TLS, and the host queries
# them through the envoy sidecar, verifying the member's certificate with the member CA.
terraform {
  required_providers {
    thanos = {
      source = "paodin/thanos"
    }
  }
}

variable "host_kubeconfig" {
  type        = string
  description = "Kubeconfig of the host cluster."
  default     = "~/.kube/host"
}

variable "member_kubeconfig" {
  type        = string
  description = "Kubeconfig of the member cluster."
  default     = "~/.kube/member"
}

provider "thanos" {
  alias       = "host"
  config_path = var.host_kubeconfig
}

provider "thanos" {
  alias       = "member"
  config_path = var.member_kubeconfig
}

# --- member cluster: local ingestors, Store API exposed over TLS ---------------------------

resource "thanos_receive" "member_ingestor" {
  provider  = thanos.member
  name      = "ingestor"
  namespace = "monitoring"
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
  provider  = thanos.member
  name      = "member"
  namespace = "monitoring"

  stores = [{ address = thanos_receive.member_ingestor.store_endpoint }]

  # The member's Store API for the host, behind TLS terminated by the ingress controller.
  grpc_ingress {
    host        = "store.member.example.com"
    secret_name = "member-store-tls"
  }
}

# --- host cluster: receive for pushed metrics, global querier ------------------------------

resource "thanos_receive" "host_ingestor" {
  provider  = thanos.host
  name      = "ingestor"
  namespace = "monitoring"
  replicas  = 2

  ingestor {
    data_volume {
      pvc {
        size = "20Gi"
      }
    }
  }
}

resource "thanos_receive" "host_router" {
  provider  = thanos.host
  name      = "router"
  namespace = "monitoring"
  replicas  = 2

  router {
    soft_tenant_hashring {
      name      = "members"
      endpoints = thanos_receive.host_ingestor.ingestor_endpoints
    }

    # Members' Prometheus remote-write here: https://remote-write.host.example.com/api/v1/receive
    remote_write_ingress {
      host        = "remote-write.host.example.com"
      secret_name = "remote-write-tls"
    }
  }
}

resource "thanos_query" "global" {
  provider  = thanos.host
  name      = "global"
  namespace = "monitoring"
  replicas  = 2

  stores = [
    { address = thanos_receive.host_ingestor.store_endpoint },
    # Reached through the envoy sidecar: TLS with SNI and SAN checked against this host.
    { address = "store.member.example.com:443", secret_name = "member-ca" },
  ]
}
