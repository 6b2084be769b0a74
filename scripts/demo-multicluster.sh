#!/usr/bin/env bash
# `make demo-multicluster`: examples/multi-cluster on two local control planes, from nothing,
# in one command.
#
#   1. builds the provider and installs it into a private filesystem mirror,
#   2. starts two local Kubernetes control planes (scripts/cluster.sh): the host cluster
#      ($DEMO_HOST_CLUSTER, default a) and the member cluster ($DEMO_MEMBER_CLUSTER, default b),
#   3. makes a demo CA: the member's Store API certificate (Secret member-store-tls in the
#      member cluster) and the CA the host trusts it with (Secret member-ca in the host),
#   4. applies examples/multi-cluster with terraform (or tofu when there is no terraform): the
#      member stack in the member cluster, the host stack in the host cluster,
#   5. prints where each object landed and how to tear it all down.
#
# Re-running it is harmless: the second apply finds nothing to change.
# `scripts/demo-multicluster.sh down` destroys both stacks and stops both clusters.
# Cluster names other than a-e need a port base: DEMO_HOST_PORT_BASE, DEMO_MEMBER_PORT_BASE.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NAMES=("${DEMO_HOST_CLUSTER:-a}" "${DEMO_MEMBER_CLUSTER:-b}")
BASES=("${DEMO_HOST_PORT_BASE:-}" "${DEMO_MEMBER_PORT_BASE:-}")
ROLES=(host member)
NAMESPACE=${DEMO_NAMESPACE:-monitoring}
DEMO=$ROOT/.cache/demo-multicluster
WORK=$DEMO/work
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
STORE_HOST=store.member.example.com

say() { printf '\n==> %s\n' "$*"; }
# cluster I ARGS...: scripts/cluster.sh ARGS... for the host (0) or member (1) cluster
cluster() {
  local i=$1; shift
  CLUSTER_PORT_BASE=${BASES[$i]} scripts/cluster.sh "$@" "${NAMES[$i]}"
}
kubeconfig() { echo "$ROOT/.cache/cluster/${NAMES[$1]}/kubeconfig"; }
kc() { local i=$1; shift; "$KUBECTL" --kubeconfig "$(kubeconfig "$i")" "$@"; }

# shellcheck source=lib/provider-mirror.sh
. scripts/lib/provider-mirror.sh
CLI=$(demo_cli)
export TF_CLI_CONFIG_FILE=$DEMO/cli.tfrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
tf() { (cd "$WORK" && "$CLI" "$@"); }

if [ "${1:-}" = down ]; then
  if [ -d "$WORK" ] && cluster 0 status >/dev/null 2>&1 && cluster 1 status >/dev/null 2>&1; then
    say "destroying both stacks"
    tf destroy -auto-approve -input=false
  fi
  for i in 0 1; do
    say "stopping the ${ROLES[$i]} cluster ${NAMES[$i]}"
    cluster "$i" down
  done
  rm -rf "$WORK"
  exit 0
fi

say "building the provider (release)"
mkdir -p "$DEMO"
install_provider_mirror "$DEMO"

say "starting the host cluster ${NAMES[0]} and the member cluster ${NAMES[1]}"
scripts/tools.sh install
cluster 0 up
cluster 1 up
KUBECTL=$(scripts/tools.sh path kubectl)
for i in 0 1; do
  kc "$i" get namespace "$NAMESPACE" >/dev/null 2>&1 || kc "$i" create namespace "$NAMESPACE" >/dev/null
done

say "a demo CA: the member's Store API certificate, and the CA the host trusts it with"
PKI=$DEMO/pki
if [ ! -f "$PKI/store.crt" ]; then
  mkdir -p "$PKI"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
    -subj "/CN=demo member CA" -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$STORE_HOST" \
    -keyout "$PKI/store.key" -out "$PKI/store.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$STORE_HOST" >"$PKI/store.ext"
  openssl x509 -req -in "$PKI/store.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 365 -extfile "$PKI/store.ext" -out "$PKI/store.crt" 2>/dev/null
fi
kc 1 -n "$NAMESPACE" create secret tls member-store-tls --cert="$PKI/store.crt" --key="$PKI/store.key" \
  --dry-run=client -o yaml | kc 1 apply -f - >/dev/null
kc 0 -n "$NAMESPACE" create secret generic member-ca --from-file=ca.crt="$PKI/ca.crt" \
  --dry-run=client -o yaml | kc 0 apply -f - >/dev/null
echo "member cluster: Secret $NAMESPACE/member-store-tls (the Store API's certificate for $STORE_HOST)"
echo "host cluster:   Secret $NAMESPACE/member-ca (the CA that signed it)"

say "applying examples/multi-cluster with $(basename "$CLI")"
mkdir -p "$WORK"
cp -r examples/multi-cluster/. "$WORK/"
cat >"$WORK/terraform.tfvars" <<VARS
host_kubeconfig   = "$(kubeconfig 0)"
member_kubeconfig = "$(kubeconfig 1)"
namespace         = "$NAMESPACE"
member_store_host = "$STORE_HOST"
VARS
# The lock file must match the binary just built (its hash changes with every build).
rm -f "$WORK/.terraform.lock.hcl"
tf init -input=false -upgrade >/dev/null
tf apply -auto-approve -input=false

for i in 1 0; do
  say "the ${ROLES[$i]} cluster ${NAMES[$i]} (kubeconfig $(kubeconfig "$i")), namespace $NAMESPACE"
  tf output -json "${ROLES[$i]}_objects" | tr -d '[]"' | tr ',' '\n' | sed '/^$/d; s/^/  /'
  echo
  kc "$i" -n "$NAMESPACE" get pods -o wide
done

ENV_PREFIX=""
for v in DEMO_HOST_CLUSTER DEMO_MEMBER_CLUSTER DEMO_HOST_PORT_BASE DEMO_MEMBER_PORT_BASE DEMO_NAMESPACE; do
  [ -z "${!v:-}" ] || ENV_PREFIX+="$v=${!v} "
done

say "how the host reaches the member"
echo "The host's querier reads the member's Store API at $(tf output -raw member_store_address),"
echo "with TLS verified by the CA in Secret member-ca, strict: if the member cannot be reached,"
echo "every query on the host says so in a partial-response warning."

cat <<DONE

Both stacks are applied (pods are simulated by kwok: Ready with IPs, no containers really run).
Try:
  KUBECONFIG=$(kubeconfig 0) $KUBECTL -n $NAMESPACE get all      # the host cluster
  KUBECONFIG=$(kubeconfig 1) $KUBECTL -n $NAMESPACE get all      # the member cluster
  (cd $WORK && TF_CLI_CONFIG_FILE=$DEMO/cli.tfrc $(basename "$CLI") plan)

Tear it all down (both stacks, then both clusters) with:
  ${ENV_PREFIX}make demo-multicluster-down
DONE
