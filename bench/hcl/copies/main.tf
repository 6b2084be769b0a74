# N copies of the quickstart stack, copy i in namespace "<prefix><i>" (bench/run.sh creates
# the namespaces first and copies ../stack next to this file).
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

variable "copies" {
  type = number
}

variable "prefix" {
  type    = string
  default = "bench-q"
}

provider "thanos" {
  config_path = var.kubeconfig
}

variable "wait_for_rollout" {
  type    = bool
  default = true
}

module "quickstart" {
  source           = "./stack"
  count            = var.copies
  namespace        = "${var.prefix}${count.index}"
  wait_for_rollout = var.wait_for_rollout
}
