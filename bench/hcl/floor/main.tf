# The floor of an offline plan: N copies of ./stack, three terraform_data resources shaped like
# the quickstart's three resources (the same configuration values, the same references
# between them). Terraform core alone plans them: no provider is launched. bench/plan_floor.sh
# plans this next to bench/hcl/copies and reports the ratios.
variable "copies" {
  type = number
}

variable "prefix" {
  type    = string
  default = "bench-q"
}

module "quickstart" {
  source    = "./stack"
  count     = var.copies
  namespace = "${var.prefix}${count.index}"
}
