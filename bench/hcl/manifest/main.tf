# The objects our provider applied (exported by bench/table.py export-manifests, one JSON
# file per object, namespaces renamed), applied with the official Kubernetes provider's
# kubernetes_manifest: the same objects, the alternative most Terraform users would pick.
terraform {
  required_providers {
    kubernetes = {
      source = "hashicorp/kubernetes"
    }
  }
}

variable "kubeconfig" {
  type = string
}

variable "dir" {
  type = string
}

provider "kubernetes" {
  config_path = var.kubeconfig
}

resource "kubernetes_manifest" "object" {
  for_each = fileset(var.dir, "*.json")
  manifest = jsondecode(file("${var.dir}/${each.value}"))
}
