# Import an existing receive by <namespace>/<name>.
terraform import thanos_receive.router monitoring/router
