terraform {
  required_providers {
    thanos = {
      source = "paodin/thanos"
    }
  }
}

# Connects like the hashicorp/kubernetes provider; nothing is read from ~/.kube/config unless
# you name it. Planning works without a reachable cluster.
provider "thanos" {
  config_path    = "~/.kube/config"
  config_context = "monitoring"

  # Optional: pin the images of every resource that does not name its own.
  # default_thanos_image = "quay.io/thanos/thanos:v0.42.5"
}
