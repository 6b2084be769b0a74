#!/usr/bin/env bash
# `make bench`: what a run of the provider costs, on the local control plane. Prints one
# table (median, min and max in ms of BENCH_RUNS runs) and writes it into docs/performance.md.
#
#   BENCH_RUNS=5            runs of every timed terraform command
#   BENCH_SIZES="1 10 50"   copies of the quickstart stack (each in its own namespace)
#   BENCH_CLUSTER=a         the local cluster (scripts/cluster.sh); started here if it is not
#                           up, and then stopped again at the end
#   BENCH_K8S_PROVIDER=     path of a terraform-provider-kubernetes v2.x binary: when set, the
#                           same objects are also applied with its kubernetes_manifest and the
#                           ratio column is filled (see docs/performance.md for why it is not
#                           built from the Go module proxy)
#   BENCH_SKIP_CARGO=1      skip the cargo benches (handshake, render)
#   BENCH_FLOOR_SIZES=50    copies planned offline against the terraform_data floor
#                           (bench/plan_floor.sh; "" skips it)
#   BENCH_FLOOR_ONLY=1      only that (no cluster, no cargo benches), table printed only
#   BENCH_RING_PODS=100     pods of the hashring discovery rows (0 skips them)
#   BENCH_CLI=              the terraform or tofu binary to run (default: terraform from PATH,
#                           else the pinned tofu)
#   BENCH_PROVIDER=         a provider binary to measure instead of building the release one
#                           (e.g. an older build, for a before/after comparison)
#   BENCH_DOC=docs/performance.md  where the table goes ("" = print only)
#
# Timings are reported, never asserted. Everything created (namespaces, objects, terraform
# state) is destroyed at the end, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${BENCH_RUNS:-5}
SIZES=${BENCH_SIZES:-1 10 50}
CLUSTER=${BENCH_CLUSTER:-a}
K8S_PROVIDER=${BENCH_K8S_PROVIDER:-}
DOC=${BENCH_DOC-docs/performance.md}
B=$ROOT/.cache/bench/$CLUSTER
WORK=$B/work
RESULTS=$B/results.tsv
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
KUBECONFIG_PATH=$ROOT/.cache/cluster/$CLUSTER/kubeconfig
UNREACHABLE_KUBECONFIG=$B/unreachable.kubeconfig
RING_NS=bench-ring
RING_PODS=${BENCH_RING_PODS:-100}
STARTED_CLUSTER=""
START_TIME=$(date -u +%FT%TZ)

say() { printf '\n==> %s\n' "$*" >&2; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# record ROW VALUE_MS [NOTE]
record() { printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$RESULTS"; }

CLI=${BENCH_CLI:-$(command -v terraform || true)}
[[ -n $CLI ]] || { scripts/tools.sh install opentofu >/dev/null; CLI=$(scripts/tools.sh path tofu); }
export TF_CLI_CONFIG_FILE=$B/cli.tfrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1 TF_INPUT=0

rm -rf "$WORK"
mkdir -p "$WORK" "$B/logs"
: >"$RESULTS"
: >"$B/requests.tsv"

# --- provider, filesystem mirror, cluster ------------------------------------------------
PROVIDER_BIN=${BENCH_PROVIDER:-}
if [[ -z $PROVIDER_BIN ]]; then
  say "building the provider (release)"
  cargo build --release --locked --bin terraform-provider-thanos
  PROVIDER_BIN=${CARGO_TARGET_DIR:-target}/release/terraform-provider-thanos
fi
MIRROR=$B/mirror
rm -rf "$MIRROR"
dir=$MIRROR/registry.terraform.io/paodin/thanos/$VERSION/linux_amd64
mkdir -p "$dir"
install -m 0755 "$PROVIDER_BIN" "$dir/terraform-provider-thanos_v$VERSION"
# A copy, not a symlink: OpenTofu's filesystem mirror does not follow a symlinked directory
# (`tofu init` then finds no paodin/thanos), so a machine without terraform could not bench.
tofu_dir=$MIRROR/registry.opentofu.org/paodin/thanos/$VERSION/linux_amd64
mkdir -p "$tofu_dir"
ln -f "$dir/terraform-provider-thanos_v$VERSION" "$tofu_dir/terraform-provider-thanos_v$VERSION"
K8S_VERSION=""
if [[ -n $K8S_PROVIDER ]]; then
  # `terraform-provider-kubernetes version` does not exist; the version is in the file name
  # (terraform-provider-kubernetes_v2.38.0) or given as BENCH_K8S_PROVIDER_VERSION.
  K8S_VERSION=${BENCH_K8S_PROVIDER_VERSION:-$(basename "$K8S_PROVIDER" | sed -n 's/.*_v\([0-9][0-9.]*\)$/\1/p')}
  [[ -n $K8S_VERSION ]] || { echo "bench: set BENCH_K8S_PROVIDER_VERSION for $K8S_PROVIDER" >&2; exit 1; }
  for host in registry.terraform.io registry.opentofu.org; do
    dir=$MIRROR/$host/hashicorp/kubernetes/$K8S_VERSION/linux_amd64
    mkdir -p "$dir"
    install -m 0755 "$K8S_PROVIDER" "$dir/terraform-provider-kubernetes_v$K8S_VERSION"
  done
fi
# only the mirror: terraform never reaches for a registry
cat >"$TF_CLI_CONFIG_FILE" <<CFG
provider_installation {
  filesystem_mirror {
    path = "$MIRROR"
  }
}
CFG

# --- offline plan against the terraform_data floor (needs no cluster) -------------------
FLOOR_SIZES=${BENCH_FLOOR_SIZES-50}
if [[ -n $FLOOR_SIZES ]]; then
  bench/plan_floor.sh "$CLI" "$TF_CLI_CONFIG_FILE" "$WORK" "$RESULTS" "$FLOOR_SIZES" "$RUNS"
fi
if [[ -n ${BENCH_FLOOR_ONLY:-} ]]; then
  printf 'date=%s\nload=%s\nparams=BENCH_FLOOR_ONLY=1 BENCH_RUNS=%s BENCH_FLOOR_SIZES="%s"\n' \
    "$START_TIME" "$(cut -d' ' -f1-3 /proc/loadavg)" "$RUNS" "$FLOOR_SIZES" >"$B/facts.txt"
  python3 bench/table.py table "$RESULTS" "$B/facts.txt"
  exit 0
fi

KUBECTL=$(scripts/tools.sh path kubectl 2>/dev/null || true)
if ! scripts/cluster.sh status "$CLUSTER" >/dev/null 2>&1; then
  say "cluster $CLUSTER is not up: starting it (and stopping it at the end)"
  scripts/tools.sh install
  scripts/cluster.sh up "$CLUSTER"
  STARTED_CLUSTER=1
fi
KUBECTL=$(scripts/tools.sh path kubectl)
kc() { "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" "$@"; }
# the same credentials, pointed at a closed loopback port
sed -E 's#server: https://[^ ]+#server: https://127.0.0.1:1#' "$KUBECONFIG_PATH" >"$UNREACHABLE_KUBECONFIG"

cleanup() {
  local rc=$?
  set +e
  say "cleaning up"
  local d extra
  for d in copies manifest; do
    [[ $d == copies ]] && extra=(-var copies=0) || extra=(-var "dir=$WORK/none")
    if grep -q '"type"' "$WORK/$d/terraform.tfstate" 2>/dev/null; then
      (cd "$WORK/$d" && "$CLI" destroy -auto-approve -input=false -no-color \
        -var "kubeconfig=$KUBECONFIG_PATH" "${extra[@]}" >>"$B/logs/cleanup.log" 2>&1)
    fi
  done
  kc delete namespace -l bench.thanos.paodin/owner=bench --wait=true --timeout=180s >/dev/null 2>&1
  [[ -z $STARTED_CLUSTER ]] || scripts/cluster.sh down "$CLUSTER"
  exit "$rc"
}
trap cleanup EXIT

# timed LABEL DIR ARGS...: run terraform in DIR, record its wall time under LABEL; a failing
# command is recorded with note "failed" and its log kept. Returns terraform's status.
timed() {
  local label=$1 d=$2 t0 t1 rc=0 log
  shift 2
  log=$B/logs/$(tr ' /=()' '_____' <<<"$label").log
  t0=$(now_ms)
  (cd "$d" && "$CLI" "$@" -input=false -no-color) >>"$log" 2>&1 || rc=$?
  t1=$(now_ms)
  if ((rc == 0)); then record "$label" $((t1 - t0)); else record "$label" $((t1 - t0)) failed; fi
  return $rc
}

# untimed LABEL DIR ARGS...: a terraform command whose time is no row (logged like `timed`)
untimed() {
  local label=$1 d=$2
  shift 2
  (cd "$d" && "$CLI" "$@" -input=false -no-color) >>"$B/logs/$(tr ' /=()' '_____' <<<"$label").log" 2>&1
}

namespaces() { # namespaces PREFIX COUNT
  local i
  for ((i = 0; i < $2; i++)); do
    kc get namespace "$1$i" >/dev/null 2>&1 || kc create namespace "$1$i" >/dev/null
    kc label namespace "$1$i" bench.thanos.paodin/owner=bench --overwrite >/dev/null
  done
}

# --- where the time goes: API requests and provider memory -------------------------------
# api_requests: the API server's request counters (apiserver_request_total), one line per
# verb and resource ("VERB resource count"), without what the cluster does on its own
# (leases, events, nodes, status subresources). The counters cover every client: the
# controllers' and kwok's writes of the pods our workloads create are in them too, which is
# why the breakdown is kept per verb and resource (our writes are APPLY, controllers' are
# CREATE/UPDATE/PATCH).
api_requests() {
  kc get --raw /metrics | python3 bench/table.py parse-requests
}
REQ_BEFORE=$B/requests-before.txt
requests_mark() { api_requests >"$REQ_BEFORE"; }
# requests_record LABEL: the requests since requests_mark, as a total row and a breakdown
requests_record() {
  api_requests | python3 bench/table.py diff-requests "$REQ_BEFORE" "$1" "$RESULTS" "$B/requests.tsv"
}

# Peak resident memory (VmHWM) and CPU time of the provider processes, and the CPU time of
# terraform itself, while a command runs: sampled by a background loop every 50 ms (the
# high-water mark and the CPU times only grow, so the last sample of a process is at most
# 50 ms short). What is left of the wall time is waiting: on the API server, on controllers.
RSS_FILE=$B/rss.txt
rss_start() {
  : >"$RSS_FILE" # each command on its own: the CPU times are summed over what the file holds
  python3 bench/table.py sample-processes "$RSS_FILE" "$WORK/copies" &
  RSS_PID=$!
}
# rss_stop WHAT: record the provider's highest VmHWM (MiB) and the CPU time (ms) of the
# provider processes and of terraform through WHAT
rss_stop() {
  kill "$RSS_PID" 2>/dev/null || true
  wait "$RSS_PID" 2>/dev/null || true
  local hz out
  hz=$(getconf CLK_TCK)
  out=$(awk -v hz="$hz" '
    { k = $1 " " $2; if ($3 > h[k]) h[k] = $3; if ($4 > c[k]) c[k] = $4; w[k] = $1 }
    END {
      for (k in h) { if (w[k] == "p" && h[k] > m) m = h[k]; cpu[w[k]] += c[k] }
      printf "%.1f %d %d\n", m / 1024, cpu["p"] * 1000 / hz, cpu["t"] * 1000 / hz
    }' "$RSS_FILE")
  read -r mib pcpu tcpu <<<"$out"
  record "provider peak resident memory (VmHWM) through $1 [MiB]" "$mib"
  record "provider CPU time (all its processes) through $1" "$pcpu"
  record "terraform CPU time through $1" "$tcpu"
}

# --- cargo benches: launch to handshake, memory, render --------------------------------
if [[ -z ${BENCH_SKIP_CARGO:-} ]]; then
  say "cargo bench --bench handshake"
  cargo bench --locked --bench handshake 2>&1 | tee "$B/logs/handshake.log" >&2
  python3 bench/table.py parse-handshake "$B/logs/handshake.log" >>"$RESULTS"
  say "cargo bench --bench render (criterion)"
  cargo bench --locked --bench render -- --warm-up-time 1 --measurement-time 3 2>&1 |
    tee "$B/logs/render.log" >&2
  python3 bench/table.py parse-criterion "$B/logs/render.log" >>"$RESULTS"
fi

# --- N copies of the quickstart: plan and apply, reachable and unreachable --------------
mkdir -p "$WORK/copies"
cp bench/hcl/copies/main.tf "$WORK/copies/main.tf"
cp -r bench/hcl/stack "$WORK/copies/stack"
(cd "$WORK/copies" && "$CLI" init -input=false -no-color >"$B/logs/init-copies.log")
max=0
for n in $SIZES; do ((n > max)) && max=$n; done
say "creating $max namespaces"
namespaces bench-q "$max"

for n in $SIZES; do
  V=(-var "kubeconfig=$KUBECONFIG_PATH" -var "copies=$n")
  U=(-var "kubeconfig=$UNREACHABLE_KUBECONFIG" -var "copies=$n")
  c="$n copies"; ((n == 1)) && c="1 copy"
  for ((r = 1; r <= RUNS; r++)); do
    say "size $n, run $r/$RUNS"
    ((r == 1)) && rss_start
    timed "plan, $c (empty state)" "$WORK/copies" plan -lock=false "${V[@]}"
    ((r == 1)) && rss_stop "plan, $c (empty state)"
    timed "plan, $c, unreachable" "$WORK/copies" plan -lock=false "${U[@]}" || true
    # fails by design: how long until terraform says the cluster cannot be reached
    timed "apply, $c, unreachable (fails)" "$WORK/copies" apply -auto-approve "${U[@]}" || true
    if ((r == 1)); then
      requests_mark
      rss_start
    fi
    timed "apply, $c" "$WORK/copies" apply -auto-approve "${V[@]}"
    if ((r == 1)); then
      rss_stop "apply, $c"
      requests_record "apply, $c"
      requests_mark
      rss_start
    fi
    timed "plan, $c (applied, no changes)" "$WORK/copies" plan -lock=false "${V[@]}"
    if ((r == 1)); then
      rss_stop "plan, $c (applied, no changes)"
      requests_record "plan, $c (applied, no changes)"
    fi
    timed "plan, $c (applied), unreachable" "$WORK/copies" plan -lock=false "${U[@]}" || true
    if ((r == 1)); then
      # the objects we applied, as plain manifests: for kubernetes_manifest and kubectl
      python3 bench/table.py export-manifests "$KUBECTL" "$KUBECONFIG_PATH" bench-q bench-k "$n" "$WORK/manifests-$n"
    fi
    if ((r == 1)); then
      requests_mark
      rss_start
    fi
    timed "destroy, $c" "$WORK/copies" destroy -auto-approve "${V[@]}"
    if ((r == 1)); then
      rss_stop "destroy, $c"
      requests_record "destroy, $c"
    fi
    # The write path alone, on the kubectl floor's own terms: the same apply without the
    # rollout waits (nor the ingestors' wait for their endpoints), which the contract's
    # default (wait_for_rollout = true) adds and `kubectl apply` never does.
    timed "apply, $c, wait_for_rollout = false" "$WORK/copies" apply -auto-approve "${V[@]}" -var wait_for_rollout=false
    untimed "destroy, $c, after wait_for_rollout = false" "$WORK/copies" destroy -auto-approve "${V[@]}"
  done
done

# --- reference: the same objects with kubectl apply --server-side ------------------------
# Not a Terraform workflow; the floor of what creating these objects costs on this cluster.
namespaces bench-k "$max"
for n in $SIZES; do
  c="$n copies"; ((n == 1)) && c="1 copy"
  for ((r = 1; r <= RUNS; r++)); do
    ((r == 1)) && requests_mark
    t0=$(now_ms)
    kc apply --server-side --field-manager=bench -f "$WORK/manifests-$n" >>"$B/logs/kubectl-apply.log" 2>&1
    record "reference: kubectl apply --server-side, $c (same objects)" $(($(now_ms) - t0))
    ((r == 1)) && requests_record "reference: kubectl apply --server-side, $c"
    # the destroy floor: kubectl deletes in the background (the garbage collector removes
    # pods afterwards) and --wait waits for the objects themselves; our destroy deletes in the
    # foreground (pods first), so this floor is the lower of the two
    ((r == 1)) && requests_mark
    t0=$(now_ms)
    kc delete -f "$WORK/manifests-$n" --wait=true >>"$B/logs/kubectl-apply.log" 2>&1
    record "reference: kubectl delete --wait, $c (same objects)" $(($(now_ms) - t0))
    ((r == 1)) && requests_record "reference: kubectl delete --wait, $c"
    # and with the cascade our destroy uses (the workloads' pods gone before them)
    kc apply --server-side --field-manager=bench -f "$WORK/manifests-$n" >>"$B/logs/kubectl-apply.log" 2>&1
    t0=$(now_ms)
    kc delete -f "$WORK/manifests-$n" --wait=true --cascade=foreground >>"$B/logs/kubectl-apply.log" 2>&1
    record "reference: kubectl delete --wait --cascade=foreground, $c (same objects)" $(($(now_ms) - t0))
  done
done

# --- the same objects with kubernetes_manifest ----------------------------------------
if [[ -n $K8S_PROVIDER ]]; then
  mkdir -p "$WORK/manifest"
  cp bench/hcl/manifest/main.tf "$WORK/manifest/main.tf"
  (cd "$WORK/manifest" && "$CLI" init -input=false -no-color >"$B/logs/init-manifest.log")
  for n in $SIZES; do
    c="$n copies"; ((n == 1)) && c="1 copy"
    V=(-var "kubeconfig=$KUBECONFIG_PATH" -var "dir=$WORK/manifests-$n")
    U=(-var "kubeconfig=$UNREACHABLE_KUBECONFIG" -var "dir=$WORK/manifests-$n")
    for ((r = 1; r <= RUNS; r++)); do
      say "kubernetes_manifest, size $n, run $r/$RUNS"
      timed "k8s: plan, $c (empty state)" "$WORK/manifest" plan -lock=false "${V[@]}" || true
      timed "k8s: plan, $c, unreachable" "$WORK/manifest" plan -lock=false "${U[@]}" || true
      timed "k8s: apply, $c, unreachable (fails)" "$WORK/manifest" apply -auto-approve "${U[@]}" || true
      timed "k8s: apply, $c" "$WORK/manifest" apply -auto-approve "${V[@]}" || true
      timed "k8s: plan, $c (applied, no changes)" "$WORK/manifest" plan -lock=false "${V[@]}" || true
      timed "k8s: plan, $c (applied), unreachable" "$WORK/manifest" plan -lock=false "${U[@]}" || true
      timed "k8s: destroy, $c" "$WORK/manifest" destroy -auto-approve "${V[@]}" || true
    done
  done
fi

# --- hashring discovery of RING_PODS ingestor pods ---------------------------------------
if ((RING_PODS > 0)); then
  say "hashring discovery: $RING_PODS ready pods behind a headless Service"
  namespaces "$RING_NS" 1
  RNS=${RING_NS}0
  kc -n "$RNS" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata:
  name: bench-ring-ingestor
  labels: {app.kubernetes.io/name: bench-ring-ingestor}
spec:
  clusterIP: None
  selector: {app.kubernetes.io/name: bench-ring-ingestor}
  ports: [{name: grpc, port: 10901}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: bench-ring-ingestor
spec:
  serviceName: bench-ring-ingestor
  replicas: $RING_PODS
  podManagementPolicy: Parallel
  selector: {matchLabels: {app.kubernetes.io/name: bench-ring-ingestor}}
  template:
    metadata: {labels: {app.kubernetes.io/name: bench-ring-ingestor}}
    spec:
      containers:
        - name: receive
          image: quay.io/thanos/thanos:v0.42.5
          ports: [{name: grpc, containerPort: 10901}]
YAML
  ready=0
  for ((i = 0; i < 240; i++)); do
    ready=$(kc -n "$RNS" get endpointslices -l kubernetes.io/service-name=bench-ring-ingestor -o json |
      jq '[.items[].endpoints // [] | .[] | select(.conditions.ready)] | length')
    ((ready >= RING_PODS)) && break
    sleep 1
  done
  echo "ready endpoints: $ready" >&2
  mkdir -p "$WORK/ring"
  cp bench/hcl/ring/main.tf "$WORK/ring/main.tf"
  (cd "$WORK/ring" && "$CLI" init -input=false -no-color >"$B/logs/init-ring.log")
  static=$(python3 -c "import json,sys; print(json.dumps(['bench-ring-ingestor-%d.bench-ring-ingestor.$RNS.svc:10901' % i for i in range(int(sys.argv[1]))]))" "$RING_PODS")
  RV=(-var "kubeconfig=$KUBECONFIG_PATH" -var "namespace=$RNS")
  for ((r = 1; r <= RUNS; r++)); do
    timed "ring: plan, $RING_PODS static endpoints" "$WORK/ring" plan -lock=false "${RV[@]}" -var discover=false -var "static_endpoints=$static"
    timed "ring: plan, $RING_PODS discovered endpoints" "$WORK/ring" plan -lock=false "${RV[@]}" -var discover=true
  done
  grep -h 'members' "$B/logs/ring:_plan,_${RING_PODS}_discovered_endpoints.log" | tail -1 >&2 || true
fi

# --- the table --------------------------------------------------------------------------
facts=$B/facts.txt
{
  echo "date=$START_TIME .. $(date -u +%FT%TZ)"
  echo "cpu=$(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "memory=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "load=$(cut -d' ' -f1-3 /proc/loadavg) (at the end)"
  echo "provider=terraform-provider-thanos $VERSION ($(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src crates || echo ', dirty tree'))"
  echo "cli=$("$CLI" version | head -1)"
  echo "kubernetes=$("$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" version -o json | jq -r .serverVersion.gitVersion) (scripts/cluster.sh, kwok nodes)"
  echo "kubernetes_provider=${K8S_VERSION:-not run (BENCH_K8S_PROVIDER unset)}"
  echo "params=BENCH_RUNS=$RUNS BENCH_SIZES=\"$SIZES\" BENCH_CLUSTER=$CLUSTER"
} >"$facts"
python3 bench/table.py table "$RESULTS" "$facts" ${DOC:+--doc "$DOC"} --requests "$B/requests.tsv"
