# Sourced by the demo scripts: builds the provider (release) and installs it into a private
# filesystem mirror under $1, with a CLI configuration ($1/cli.tfrc) that installs
# paodin/thanos from there and nothing from the network. Exports TF_CLI_CONFIG_FILE.
# Needs ROOT (the repository) and VERSION (the provider version).
install_provider_mirror() {
  local dir=$1 host target
  cargo build --release --locked --bin terraform-provider-thanos
  for host in registry.terraform.io registry.opentofu.org; do
    target=$dir/mirror/$host/paodin/thanos/$VERSION/linux_amd64
    mkdir -p "$target"
    install -m 0755 "${CARGO_TARGET_DIR:-$ROOT/target}/release/terraform-provider-thanos" \
      "$target/terraform-provider-thanos_v$VERSION"
  done
  cat >"$dir/cli.tfrc" <<CFG
provider_installation {
  filesystem_mirror {
    path    = "$dir/mirror"
    include = ["registry.terraform.io/paodin/thanos", "registry.opentofu.org/paodin/thanos"]
  }
}
CFG
  export TF_CLI_CONFIG_FILE=$dir/cli.tfrc
}

# The CLI the demos drive: terraform, or tofu (built by scripts/tools.sh) when there is no
# terraform or DEMO_USE_TOFU is set.
demo_cli() {
  if command -v terraform >/dev/null 2>&1 && [ -z "${DEMO_USE_TOFU:-}" ]; then
    command -v terraform
  else
    "$ROOT/scripts/tools.sh" install opentofu >/dev/null
    "$ROOT/scripts/tools.sh" path tofu
  fi
}
