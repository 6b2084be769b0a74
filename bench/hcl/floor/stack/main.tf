# bench/hcl/stack as terraform_data: each resource's input is the configuration the quickstart
# writes (none of the attributes our resources compute), and the router's ring and the query's
# store reference the ingestor as the real resources do (terraform_data's output is known only
# after apply, so they plan as unknown).
variable "namespace" {
  type = string
}

resource "terraform_data" "ingestor" {
  input = {
    name      = "ingestor"
    namespace = var.namespace
    replicas  = 2
    ingestor = {
      data_volume = { pvc = { size = "5Gi" } }
    }
  }
}

resource "terraform_data" "router" {
  input = {
    name      = "router"
    namespace = var.namespace
    replicas  = 2
    router = {
      soft_tenant_hashring = {
        name = "test"
        endpoints = [
          for i in range(terraform_data.ingestor.output.replicas) :
          "thanosreceive-ingestor-${i}.thanosreceive-ingestor-operated.${var.namespace}.svc:10901"
        ]
      }
    }
  }
}

resource "terraform_data" "sample" {
  input = {
    name      = "sample"
    namespace = var.namespace
    stores = [{
      address = "dnssrvnoa+_grpc._tcp.thanosreceive-${terraform_data.ingestor.output.name}-operated.${var.namespace}.svc.cluster.local"
    }]
  }
}
