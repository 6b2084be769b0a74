# Import an existing storage stack by <namespace>/<name>.
terraform import thanos_storage.lts monitoring/lts
