#!/usr/bin/env bash
# `make demo`: the quickstart on a local control plane, from nothing, in one command.
#
#   1. builds the provider and installs it into a private filesystem mirror (.cache/demo/mirror),
#   2. starts the local Kubernetes control plane (scripts/cluster.sh, cluster $DEMO_CLUSTER),
#   3. applies examples/quickstart with terraform (or tofu when there is no terraform),
#   4. prints what was created: objects, the hashring, Ready pods, and how to tear it down.
#
# Re-running it is harmless: the second apply finds nothing to change.
# `scripts/demo.sh down` destroys the stack and stops the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CLUSTER=${DEMO_CLUSTER:-a}
NAMESPACE=${DEMO_NAMESPACE:-thanos-demo}
DEMO=$ROOT/.cache/demo
WORK=$DEMO/work
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

say() { printf '\n==> %s\n' "$*"; }

# shellcheck source=lib/provider-mirror.sh
. scripts/lib/provider-mirror.sh
CLI=$(demo_cli)
KUBECTL=$(scripts/tools.sh path kubectl 2>/dev/null || true)
KUBECONFIG_PATH=$ROOT/.cache/cluster/$CLUSTER/kubeconfig
export TF_CLI_CONFIG_FILE=$DEMO/cli.tfrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

tf() { (cd "$WORK" && "$CLI" "$@"); }

if [ "${1:-}" = down ]; then
  if [ -d "$WORK" ] && scripts/cluster.sh status "$CLUSTER" >/dev/null 2>&1; then
    say "destroying the demo stack"
    tf destroy -auto-approve -input=false -var "kubeconfig=$KUBECONFIG_PATH" -var "namespace=$NAMESPACE"
  fi
  say "stopping cluster $CLUSTER"
  scripts/cluster.sh down "$CLUSTER"
  rm -rf "$WORK"
  exit 0
fi

say "building the provider (release)"
install_provider_mirror "$DEMO"

say "starting the local control plane (cluster $CLUSTER)"
scripts/tools.sh install
scripts/cluster.sh up "$CLUSTER"
KUBECTL=$(scripts/tools.sh path kubectl)
"$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" get namespace "$NAMESPACE" >/dev/null 2>&1 \
  || "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" create namespace "$NAMESPACE" >/dev/null

say "applying examples/quickstart with $(basename "$CLI")"
mkdir -p "$WORK"
cp examples/quickstart/main.tf "$WORK/main.tf"
# The lock file must match the binary just built (its hash changes with every build).
rm -f "$WORK/.terraform.lock.hcl"
tf init -input=false -upgrade >/dev/null
tf apply -auto-approve -input=false -var "kubeconfig=$KUBECONFIG_PATH" -var "namespace=$NAMESPACE"

say "what was created in namespace $NAMESPACE"
"$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" -n "$NAMESPACE" get \
  deployments,statefulsets,services,configmaps,poddisruptionbudgets,persistentvolumeclaims \
  -l app.kubernetes.io/managed-by=terraform-provider-thanos
say "pods (simulated by kwok: Ready with IPs, no containers really run)"
"$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" -n "$NAMESPACE" get pods -o wide
say "the router's hashring, as planned and written to hashrings.json"
tf output -json hashrings
say "outputs"
tf output remote_write_url
tf output query_url

cat <<DONE

The quickstart stack is applied. Try:
  KUBECONFIG=$KUBECONFIG_PATH $KUBECTL -n $NAMESPACE get all
  (cd $WORK && TF_CLI_CONFIG_FILE=$DEMO/cli.tfrc $(basename "$CLI") plan -var kubeconfig=$KUBECONFIG_PATH -var namespace=$NAMESPACE)

Tear it down with:
  $( [ "$CLUSTER" = a ] || printf 'DEMO_CLUSTER=%s ' "$CLUSTER")make demo-down
DONE
