#!/usr/bin/env bash
# Acceptance test of the local control plane (scripts/cluster.sh) and the pinned tools
# (scripts/tools.sh): brings up cluster a (or reuses it), checks that it behaves like a real
# cluster (Ready nodes, Deployments, StatefulSets with EndpointSlice hostnames, field-manager
# conflicts, immutable fields, bound volume claims, a Pending oversized claim, volume
# recycling, garbage collection, RBAC), brings up cluster b beside it, then takes both down
# and checks no process or listening port is left. It takes down a cluster a that was
# already running too: on a shared machine, use TEST_CLUSTER_A/B to pick other names.
# Prints `ok - NAME` / `not ok - NAME: reason` per check and ends with `N passed, M failed`.
#
# Environment: TEST_TIMEOUT (seconds per wait, default 120), KEEP_CLUSTERS=1 (leave the
# clusters up on failure, for debugging), TEST_CLUSTER_A / TEST_CLUSTER_B (names of the two
# clusters, default a and b; e.g. c and d to run beside someone else's a and b).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER=$ROOT/scripts/cluster.sh
TOOLS=$ROOT/scripts/tools.sh
TIMEOUT=${TEST_TIMEOUT:-120}
# shellcheck disable=SC1091
. "$ROOT/tools/versions.env"

PASSED=0 FAILED=0 REASON=""
ok() { echo "ok - $1"; PASSED=$((PASSED + 1)); }
not_ok() { echo "not ok - $1: $2"; FAILED=$((FAILED + 1)); }
# check NAME FUNCTION [ARGS...]: run one check; FUNCTION sets REASON when it fails
check() {
  local name=$1; shift
  REASON=""
  if "$@"; then ok "$name"; else not_ok "$name" "${REASON:-failed}"; fi
}
diag() { sed 's/^/# /' >&2; }

finish() {
  local rc=$?
  if [[ ${KEEP_CLUSTERS:-} != 1 ]]; then
    "$CLUSTER" down "$B" >/dev/null 2>&1 || true
    "$CLUSTER" down "$A" >/dev/null 2>&1 || true
  fi
  echo "$PASSED passed, $FAILED failed"
  if ((FAILED > 0 || rc != 0)); then exit 1; fi
}
trap finish EXIT

echo "# building or reusing the pinned tools"
t0=$SECONDS
"$TOOLS" install 2>&1 | grep -v '^go: downloading' | diag
echo "# tools ready in $((SECONDS - t0))s"
KUBECTL=$("$TOOLS" path kubectl)
A=${TEST_CLUSTER_A:-a} B=${TEST_CLUSTER_B:-b}
KA=$("$CLUSTER" kubeconfig "$A") KB=$("$CLUSTER" kubeconfig "$B")
ka() { "$KUBECTL" --kubeconfig "$KA" "$@"; }
kb() { "$KUBECTL" --kubeconfig "$KB" "$@"; }
NS=acceptance-cluster-$$

# poll TIMEOUT CMD...: until CMD succeeds or TIMEOUT seconds pass
poll() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

# --- the tools ----------------------------------------------------------------------------

version_is() { # version_is BINARY EXPECTED-SUBSTRING ARGS...
  local bin=$1 want=$2 out; shift 2
  out=$("$("$TOOLS" path "$bin")" "$@" 2>&1) || { REASON="$bin $* failed: $out"; return 1; }
  [[ $out == *"$want"* ]] || { REASON="expected '$want' in: $(head -5 <<<"$out")"; return 1; }
}
check "tofu version is $OPENTOFU_VERSION" version_is tofu "OpenTofu $OPENTOFU_VERSION" version
check "thanos --version is $THANOS_VERSION" version_is thanos "thanos, version ${THANOS_VERSION#v}" --version
check "kubectl is $KUBERNETES_VERSION" version_is kubectl "Client Version: $KUBERNETES_VERSION" version --client
check "kube-apiserver is $KUBERNETES_VERSION" version_is kube-apiserver "Kubernetes $KUBERNETES_VERSION" --version
check "etcd is $ETCD_VERSION" version_is etcd "etcd Version: ${ETCD_VERSION#v}" --version
check "kwok is $KWOK_VERSION" version_is kwok "$KWOK_VERSION" --version

# --- cluster a ----------------------------------------------------------------------------

up() { # up NAME
  local out t=$SECONDS
  out=$("$CLUSTER" up "$1" 2>&1) || { REASON="cluster.sh up $1 failed: $(tail -5 <<<"$out" | tr '\n' ' ')"; return 1; }
  echo "# cluster $1 up in $((SECONDS - t))s"
}
check "cluster $A comes up" up "$A"
if ((FAILED > 0)) && ! ka get --raw /readyz >/dev/null 2>&1; then
  echo "# cluster $A did not come up; logs in $ROOT/.cache/cluster/$A/logs"
  tail -n 20 "$ROOT/.cache/cluster/$A"/logs/*.log 2>/dev/null | diag || true
  exit 1
fi

second_up_is_noop() {
  local out t=$SECONDS
  out=$("$CLUSTER" up "$A" 2>&1) || { REASON="second up failed: $out"; return 1; }
  [[ $out == *"already up"* ]] || { REASON="second up did not notice the running cluster: $out"; return 1; }
  ((SECONDS - t < 30)) || { REASON="second up took $((SECONDS - t))s"; return 1; }
}
check "a second up reuses the running cluster" second_up_is_noop

nodes_ready() {
  local out
  out=$(ka get nodes --no-headers 2>&1) || { REASON="kubectl get nodes: $out"; return 1; }
  echo "$out" | diag
  grep -qE '^[^ ]+ +Ready ' <<<"$out" || { REASON="no Ready node in: $out"; return 1; }
}
check "kubectl get nodes shows a Ready node" nodes_ready

ka create namespace "$NS" >/dev/null

# --- a Deployment -------------------------------------------------------------------------

ready_pods_with_ips() { # ready_pods_with_ips SELECTOR COUNT
  local n
  n=$(ka -n "$NS" get pods -l "$1" -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status} {.status.podIP}{"\n"}{end}' |
    grep -cE '^True [0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$')
  ((n == $2))
}
describe() { # describe KIND... : print objects and events of the test namespace
  ka -n "$NS" get "$@" -o wide 2>&1 | diag || true
  ka -n "$NS" describe "$@" 2>&1 | tail -n 40 | diag || true
  ka -n "$NS" get events --sort-by=.lastTimestamp 2>&1 | tail -n 20 | diag || true
}

deployment() {
  ka -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "registry.invalid/web:1", ports: [{containerPort: 8080}]}]
EOF
  poll "$TIMEOUT" ready_pods_with_ips app=web 2 || { REASON="no 2 Ready pods with IPs in ${TIMEOUT}s"; describe deployment,replicaset,pods -l app=web; return 1; }
  ka -n "$NS" get pods -l app=web -o wide --no-headers | diag
}
check "a 2-replica Deployment gets 2 Ready pods with IPs" deployment

# --- a StatefulSet behind a headless Service ----------------------------------------------

slice_hostnames() { # the hostnames of ready endpoints of Service $1, sorted
  ka -n "$NS" get endpointslices -l "kubernetes.io/service-name=$1" \
    -o jsonpath='{range .items[*].endpoints[*]}{.hostname} {.conditions.ready} {.addresses[0]}{"\n"}{end}' |
    awk '$2 == "true" && $3 != "" {print $1}' | sort | tr '\n' ' '
}
slice_has() { [[ $(slice_hostnames "$1") == "$2" ]]; }

statefulset_endpoints() {
  ka -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata: {name: peers}
spec:
  clusterIP: None
  selector: {app: peers}
  ports: [{name: grpc, port: 10901}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: peers}
spec:
  serviceName: peers
  replicas: 2
  selector: {matchLabels: {app: peers}}
  template:
    metadata: {labels: {app: peers}}
    spec:
      containers: [{name: peer, image: "registry.invalid/peer:1", ports: [{name: grpc, containerPort: 10901}]}]
EOF
  poll "$TIMEOUT" slice_has peers "peers-0 peers-1 " ||
    { REASON="EndpointSlice of peers has hostnames '$(slice_hostnames peers)', want 'peers-0 peers-1'"; describe statefulset,pods,endpointslices -l app=peers; return 1; }
  ka -n "$NS" get endpointslices -l kubernetes.io/service-name=peers \
    -o jsonpath='{range .items[*].endpoints[*]}{.hostname} {.addresses[0]} ready={.conditions.ready}{"\n"}{end}' | diag
}
check "a 2-replica StatefulSet behind a headless Service gets an EndpointSlice with the pods' hostnames" statefulset_endpoints

# --- what only a real API server does ------------------------------------------------------

ssa_conflict() {
  local cm out
  cm='{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"owned"},"data":{"k":"%s"}}'
  # shellcheck disable=SC2059
  printf "$cm" one | ka -n "$NS" apply --server-side --field-manager=first -f - >/dev/null ||
    { REASON="server-side apply failed"; return 1; }
  # shellcheck disable=SC2059
  out=$(printf "$cm" two | ka -n "$NS" apply --server-side --field-manager=second -f - 2>&1) &&
    { REASON="a second field manager took the field without a conflict"; return 1; }
  [[ $out == *conflict* ]] || { REASON="expected a field-manager conflict, got: $out"; return 1; }
}
check "server-side apply reports field-manager conflicts" ssa_conflict

immutable_field() {
  local out
  out=$(ka -n "$NS" patch statefulset peers --type=merge -p '{"spec":{"selector":{"matchLabels":{"app":"other"}}}}' 2>&1) &&
    { REASON="the StatefulSet selector changed"; return 1; }
  [[ $out == *"Forbidden"* || $out == *immutable* ]] || { REASON="expected an immutable-field error, got: $out"; return 1; }
}
check "changing an immutable field is refused" immutable_field

# --- volumes --------------------------------------------------------------------------------

claims_bound() { # claims_bound SELECTOR COUNT
  local n
  n=$(ka -n "$NS" get pvc -l "$1" -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -c '^Bound$')
  ((n == $2))
}

volume_statefulset() {
  ka -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: store}
spec:
  serviceName: store
  replicas: 2
  selector: {matchLabels: {app: store}}
  template:
    metadata: {labels: {app: store}}
    spec:
      containers:
      - name: store
        image: "registry.invalid/store:1"
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data, labels: {app: store}}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 5Gi}}
EOF
  poll "$TIMEOUT" claims_bound app=store 2 || { REASON="the 2 claims of 5Gi are not Bound"; describe statefulset,pvc,pods -l app=store; return 1; }
  poll "$TIMEOUT" ready_pods_with_ips app=store 2 || { REASON="the pods with volumes are not Ready"; describe statefulset,pvc,pods -l app=store; return 1; }
  ka -n "$NS" get pvc -l app=store --no-headers | diag
  local sc
  sc=$(ka -n "$NS" get pvc data-store-0 -o jsonpath='{.spec.storageClassName}')
  [[ $sc == standard ]] || { REASON="claim got storage class '$sc', want the default 'standard'"; return 1; }
}
check "a StatefulSet with a 5Gi volume claim template gets Bound claims and Ready pods" volume_statefulset

claim_events() {
  ka -n "$NS" get events --field-selector "involvedObject.kind=PersistentVolumeClaim,involvedObject.name=$1" \
    -o jsonpath='{range .items[*]}{.type} {.reason}: {.message}{"\n"}{end}'
}
claim_has_event() { [[ -n $(claim_events "$1") ]]; }
oversized_claim() {
  ka -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: too-big}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Ti}}
EOF
  poll "$TIMEOUT" claim_has_event too-big ||
    { REASON="no event for the oversized claim in ${TIMEOUT}s"; describe pvc too-big; return 1; }
  sleep 2
  local phase
  phase=$(ka -n "$NS" get pvc too-big -o jsonpath='{.status.phase}')
  [[ $phase == Pending ]] || { REASON="oversized claim is '$phase', want Pending"; return 1; }
  claim_events too-big | diag
  claim_events too-big | grep -qE '^Warning (ProvisioningFailed|FailedBinding): ' ||
    { REASON="no Warning event ProvisioningFailed/FailedBinding: $(claim_events too-big)"; return 1; }
}
check "a claim larger than any volume stays Pending with an event" oversized_claim

pv_phase_is() { [[ $(ka get pv "$1" -o jsonpath='{.status.phase}') == "$2" ]]; }
recycling() {
  local pvs pv
  pvs=$(ka -n "$NS" get pvc -l app=store -o jsonpath='{.items[*].spec.volumeName}')
  [[ -n $pvs ]] || { REASON="no volumes bound to the store claims"; return 1; }
  ka -n "$NS" delete statefulset store --wait=false >/dev/null
  ka -n "$NS" delete pvc -l app=store --wait=false >/dev/null
  for pv in $pvs; do
    poll "$TIMEOUT" pv_phase_is "$pv" Available ||
      { REASON="volume $pv is $(ka get pv "$pv" -o jsonpath='{.status.phase}'), not back to Available"; ka describe pv "$pv" 2>&1 | tail -20 | diag; return 1; }
  done
  echo "recycled: $pvs" | diag
}
check "a released volume is recycled back into the pool" recycling

# --- garbage collection and RBAC ------------------------------------------------------------

none_left() { [[ -z $(ka -n "$NS" get replicasets,pods -l app=web -o name 2>/dev/null) ]]; }
garbage_collection() {
  ka -n "$NS" get replicasets -l app=web -o name | grep -q . || { REASON="the Deployment has no ReplicaSet to collect"; return 1; }
  ka -n "$NS" delete deployment web --wait=false >/dev/null
  poll "$TIMEOUT" none_left || { REASON="ReplicaSets or pods of the deleted Deployment remain"; describe replicasets,pods -l app=web; return 1; }
}
check "deleting an owner garbage-collects its dependents" garbage_collection

rbac() {
  local out
  out=$(ka auth can-i list secrets --as="system:serviceaccount:$NS:default" -n "$NS" 2>&1) || true
  [[ $out == no ]] || { REASON="the default ServiceAccount may list secrets ('$out'): RBAC is not enforced"; return 1; }
  out=$(ka auth can-i '*' '*' 2>&1) || true
  [[ $out == yes ]] || { REASON="the admin kubeconfig is not cluster-admin ('$out')"; return 1; }
}
check "RBAC is enforced and the admin kubeconfig is system:masters" rbac

loopback_only() {
  local pid pids="" listen bad
  for f in "$ROOT/.cache/cluster/$A"/run/*.pid; do pids+="$(cat "$f") "; done
  listen=$(ss -Hltnp 2>/dev/null | grep -E "pid=($(tr ' ' '|' <<<"${pids% }")),") || true
  [[ -n $listen ]] || { REASON="found no listening sockets of the cluster's processes"; return 1; }
  bad=$(awk '{print $4}' <<<"$listen" | grep -vE '^127\.0\.0\.1:' || true)
  [[ -z $bad ]] || { REASON="listening beyond loopback: $bad"; return 1; }
}
check "cluster $A listens on 127.0.0.1 only" loopback_only

# --- cluster b beside a -----------------------------------------------------------------------

both_answer() {
  local na nb sa sb
  na=$(ka get nodes --no-headers 2>&1 | grep -c ' Ready ') || true
  nb=$(kb get nodes --no-headers 2>&1 | grep -c ' Ready ') || true
  ((na > 0 && nb > 0)) || { REASON="Ready nodes: a=$na b=$nb"; return 1; }
  sa=$(ka config view --minify -o jsonpath='{.clusters[0].cluster.server}')
  sb=$(kb config view --minify -o jsonpath='{.clusters[0].cluster.server}')
  [[ $sa != "$sb" ]] || { REASON="both kubeconfigs point at $sa"; return 1; }
  ka get namespace "$NS" >/dev/null 2>&1 || { REASON="cluster $A lost its namespace"; return 1; }
  ! kb get namespace "$NS" >/dev/null 2>&1 || { REASON="cluster $B shares cluster $A's objects"; return 1; }
  echo "$A: $sa, $B: $sb" | diag
}
check "cluster $B comes up beside $A" up "$B"
check "both clusters answer, independently" both_answer

# --- down -------------------------------------------------------------------------------------

down_clean() { # down_clean NAME PORT...
  local name=$1 f pid pids="" p left="" busy=""; shift
  for f in "$ROOT/.cache/cluster/$name"/run/*.pid; do [[ -f $f ]] && pids+="$(cat "$f") "; done
  [[ -n $pids ]] || { REASON="no pid files for cluster $name"; return 1; }
  "$CLUSTER" down "$name" >/dev/null 2>&1 || { REASON="cluster.sh down $name failed"; return 1; }
  for pid in $pids; do kill -0 "$pid" 2>/dev/null && left+=" $pid"; done
  for p in "$@"; do [[ -n $(ss -Hltn "sport = :$p") ]] && busy+=" $p"; done
  [[ -z $left && -z $busy ]] || { REASON="processes left:${left:- none}; ports still listening:${busy:- none}"; return 1; }
}
a_answers() { ka get --raw /readyz >/dev/null 2>&1 || { REASON="cluster $A stopped answering"; return 1; }; }
# shellcheck disable=SC2046 # word splitting of the port list is intended
check "cluster-down $B leaves no process or listening port of $B" down_clean "$B" $("$CLUSTER" ports "$B")
check "cluster $A still answers after $B is down" a_answers
# shellcheck disable=SC2046
check "cluster-down $A leaves no process or listening port" down_clean "$A" $("$CLUSTER" ports "$A")
