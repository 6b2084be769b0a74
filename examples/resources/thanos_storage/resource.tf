# A store gateway serving an S3 bucket, and the compactor with per-resolution retention. The
# bucket is configured here: the provider renders Thanos' objstore file into a Secret it owns.
# The keys are write-only (Terraform and OpenTofu 1.11 or later): they are sent at plan and
# apply and never stored in the state or shown in a plan. To rotate them, change them and bump
# credentials_wo_version; the Secret is rewritten and the pods restart with the new keys.
variable "s3_access_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "s3_secret_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "thanos_storage" "lts" {
  name      = "lts"
  namespace = "monitoring"

  object_storage {
    s3 {
      bucket                 = "thanos-metrics"
      endpoint               = "s3.eu-west-1.amazonaws.com"
      region                 = "eu-west-1"
      access_key_wo          = var.s3_access_key
      secret_key_wo          = var.s3_secret_key
      credentials_wo_version = 1
    }
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
