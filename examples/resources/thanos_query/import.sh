# Import an existing query stack by <namespace>/<name>.
terraform import thanos_query.global monitoring/global
