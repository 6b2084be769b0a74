# Import an existing ruler by <namespace>/<name>.
terraform import thanos_rule.global monitoring/global
