# Two clusters, one configuration: a member cluster keeps its metrics in its own receive and
# exposes its Store API over TLS; the host cluster's global querier reads it from there, next
# to the host's own receive. Each stack is a module applied with its own provider alias; the
# member's outputs (where its Store API is reached) are the host's inputs.
#
# Before applying, the host cluster needs the Secret `member-ca` in `var.namespace`: the CA
# that signed the member's Store API certificate, under the key `ca.crt`. The plan checks it
# (and says what is wrong) when it can reach the host cluster.
terraform {
  required_providers {
    thanos = {
      source = "paodin/thanos"
    }
  }
}

variable "host_kubeconfig" {
  type        = string
  description = "Kubeconfig of the host cluster (the global querier)."
  default     = "~/.kube/host"
}

variable "member_kubeconfig" {
  type        = string
  description = "Kubeconfig of the member cluster (its receive and Store API)."
  default     = "~/.kube/member"
}

variable "namespace" {
  type        = string
  description = "Namespace of every object, in both clusters."
  default     = "monitoring"
}

variable "member_store_host" {
  type        = string
  description = "DNS name the host reaches the member's Store API at: the host of the member's gRPC Ingress and a subject alternative name of its certificate."
  default     = "store.member.example.com"
}

variable "tls_mode" {
  type        = string
  description = "How the host's querier speaks TLS to the member: \"native\" (Thanos itself) or \"envoy\" (a sidecar)."
  default     = "native"
}

provider "thanos" {
  alias       = "host"
  config_path = var.host_kubeconfig
}

provider "thanos" {
  alias       = "member"
  config_path = var.member_kubeconfig
}

module "member" {
  source    = "./member"
  providers = { thanos = thanos.member }

  namespace  = var.namespace
  store_host = var.member_store_host
}

module "host" {
  source    = "./host"
  providers = { thanos = thanos.host }

  namespace        = var.namespace
  member_stores    = [module.member.store_address]
  member_ca_secret = "member-ca"
  tls_mode         = var.tls_mode
}

output "member_store_address" {
  description = "Where the host's querier reaches the member's Store API."
  value       = module.member.store_address
}

output "host_query_url" {
  description = "The global querier's HTTP API inside the host cluster."
  value       = module.host.query_url
}

output "member_objects" {
  description = "What was created in the member cluster."
  value       = module.member.objects
}

output "host_objects" {
  description = "What was created in the host cluster."
  value       = module.host.objects
}
