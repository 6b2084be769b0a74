#!/usr/bin/env bash
# A local Kubernetes control plane on loopback, for the acceptance tests, the hashring
# discovery tests and `make demo`: etcd, kube-apiserver (RBAC + Node authorizers),
# kube-controller-manager, kube-scheduler and kwok simulating the kubelets of fake nodes,
# so pods become Running and Ready with IPs. No container runtime is involved.
#
#   scripts/cluster.sh up [NAME]          start cluster NAME (default: a) and wait until it is usable
#   scripts/cluster.sh down [NAME]        stop exactly the processes `up` started; wait until their ports are free
#   scripts/cluster.sh restart-apiserver [NAME]  kill -9 kube-apiserver, start it again alike (crash tests)
#   scripts/cluster.sh status [NAME]      components, pids, ports and health (exit 1 unless all healthy)
#   scripts/cluster.sh env [NAME]         print `export KUBECONFIG=... PATH=...`: eval "$(scripts/cluster.sh env)"
#   scripts/cluster.sh kubeconfig [NAME]  print the path of the admin kubeconfig
#   scripts/cluster.sh ports [NAME]       print the cluster's ports (all on 127.0.0.1)
#
# NAME is a, b, c, d or e (fixed port bases 16000, 26000, 17000, 27000, 18000, so several
# clusters run side by side), or anything [a-z0-9-] with CLUSTER_PORT_BASE set (its `up` records
# it, so later commands on that name need it no more). Ports of
# cluster a: kube-apiserver 16443, etcd 16379 (peer 16380), kube-controller-manager 16257,
# kube-scheduler 16259, kwok 16247; other clusters keep the last three digits. All listen
# on 127.0.0.1 only.
#
# State: <repo>/.cache/cluster/NAME/ holds pki/ (CA, serving and client certificates, the
# service-account key; kept across down/up so kubeconfigs stay valid), kubeconfig (admin,
# O=system:masters), logs/ (one file per component, kept after down for post-mortems,
# cleared by the next up), run/ (pid files) and etcd/ (data; removed by down, so every up
# starts from an empty cluster).
#
# What up creates: CLUSTER_NODES fake nodes kwok-0..kwok-N-1 (default 2; 32 cpu, 256Gi, 1000 pods
# each), a default StorageClass `standard` (no provisioner, Immediate binding) and a pool
# of hostPath PersistentVolumes (CLUSTER_PV_POOL, default "150x10Gi 150x100Gi 20x1Ti") with the
# Recycle policy: a released volume is scrubbed by kube-controller-manager's recycler pod
# (completed by kwok) and returns to the pool. A claim larger than 1Ti stays Pending. It also
# installs the prometheus-operator CustomResourceDefinitions (pinned in tools/versions.env) of
# the objects other tools' users write, CLUSTER_CRDS (default "prometheusrules servicemonitors
# podmonitors probes"; "all" adds the operator's own workload kinds, which take the API server
# seconds each to install), so resources that read or write them are tested against the real
# schemas; no operator runs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=$ROOT/scripts/tools.sh
CMD=${1:-}
NAME=${2:-${CLUSTER:-}}
NAME=${NAME:-a}
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
WAIT_TIMEOUT=${CLUSTER_WAIT_TIMEOUT:-180}

log() { printf 'cluster %s: %s\n' "$NAME" "$*" >&2; }
die() { printf 'cluster %s: error: %s\n' "$NAME" "$*" >&2; exit 1; }

[[ $NAME =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "bad cluster name '$NAME' (use [a-z0-9-])"
case $NAME in
  a) BASE=16000 ;; b) BASE=26000 ;; c) BASE=17000 ;; d) BASE=27000 ;; e) BASE=18000 ;;
  *) BASE=${CLUSTER_PORT_BASE:-} ;;
esac
BASE=${CLUSTER_PORT_BASE:-$BASE}
STATE=$ROOT/.cache/cluster/$NAME
# `up` records the base, so `status`, `down` and `env` of a cluster named otherwise find it.
if [[ -z $BASE && -f $STATE/port-base ]]; then
  BASE=$(<"$STATE/port-base")
fi
[[ $BASE =~ ^[0-9]+000$ ]] && ((BASE >= 2000 && BASE <= 31000)) ||
  die "cluster '$NAME' needs CLUSTER_PORT_BASE, a multiple of 1000 between 2000 and 31000 (a=16000, b=26000, c=17000, d=27000, e=18000 are taken by default)"

PORT_ETCD=$((BASE + 379)) PORT_ETCD_PEER=$((BASE + 380)) PORT_API=$((BASE + 443))
PORT_KCM=$((BASE + 257)) PORT_SCHED=$((BASE + 259)) PORT_KWOK=$((BASE + 247))
declare -A PORTS=([etcd]="$PORT_ETCD $PORT_ETCD_PEER" [kube-apiserver]=$PORT_API
  [kube-controller-manager]=$PORT_KCM [kube-scheduler]=$PORT_SCHED [kwok]=$PORT_KWOK)
# distinct (never routed) ranges per cluster, so multi-cluster tests can tell them apart
NET=$(((BASE / 1000) % 50))
SERVICE_CIDR=10.$((100 + NET)).0.0/16 POD_CIDR=10.$((200 + NET)).0.0/16
SERVICE_IP=10.$((100 + NET)).0.1

PKI=$STATE/pki LOGS=$STATE/logs RUN=$STATE/run ETCD_DATA=$STATE/etcd
KUBECONFIG_PATH=$STATE/kubeconfig
CONTEXT=thanos-tf-$NAME
NODES=${CLUSTER_NODES:-2}
PV_POOL=${CLUSTER_PV_POOL:-150x10Gi 150x100Gi 20x1Ti}
CRDS=${CLUSTER_CRDS:-prometheusrules servicemonitors podmonitors probes}

# --- processes ------------------------------------------------------------------------

pid_of() { cat "$RUN/$1.pid" 2>/dev/null || true; }

# ours PID: is PID alive and one of this cluster's processes (its command line names our
# state dir)? Guards against killing a reused pid or a process of another cluster.
ours() {
  local pid=$1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$STATE/"
}

alive() { ours "$(pid_of "$1")"; }

port_busy() {
  if command -v ss >/dev/null; then
    [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | sed -E 's/.*users:\(\((.*)\)\).*/\1/' | head -1; }

# start COMPONENT CMD...: run detached in its own session (so `down` can signal its whole
# process group), output to logs/COMPONENT.log, pid to run/COMPONENT.pid
start() {
  local comp=$1; shift
  setsid "$@" >>"$LOGS/$comp.log" 2>&1 </dev/null &
  echo $! >"$RUN/$comp.pid"
}

stop_component() {
  local comp=$1 pid i
  pid=$(pid_of "$comp")
  if ours "$pid"; then
    # the component leads its own process group (setsid): signal the group, children included
    if [[ $(ps -o pgid= -p "$pid" | tr -d ' ') == "$pid" ]]; then kill -TERM -- "-$pid" 2>/dev/null || true
    else kill -TERM "$pid" 2>/dev/null || true; fi
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$comp (pid $pid) ignored SIGTERM for 10s, sending SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    log "stopped $comp (pid $pid)"
  fi
  rm -f "$RUN/$comp.pid"
}

# wait_until WHAT COMPONENT CMD...: poll CMD until it succeeds; fail early if COMPONENT died
wait_until() {
  local what=$1 comp=$2 deadline=$((SECONDS + WAIT_TIMEOUT)); shift 2
  until "$@" >/dev/null 2>&1; do
    # kill -0, not `alive`: a component started a moment ago may still be the forked shell
    # that has not exec'd it yet, whose command line does not name our state dir
    if [[ -n $comp ]] && ! kill -0 "$(pid_of "$comp")" 2>/dev/null; then
      tail -n 30 "$LOGS/$comp.log" >&2 || true
      die "$comp exited while waiting for $what (log: $LOGS/$comp.log)"
    fi
    ((SECONDS < deadline)) || die "timed out after ${WAIT_TIMEOUT}s waiting for $what"
    sleep 0.5
  done
}

# --- certificates and kubeconfigs ------------------------------------------------------

# cert CA NAME CN O EXTKEYUSAGE [SUBJECT-ALT-NAMES]: key + certificate signed by CA
cert() {
  local ca=$1 n=$2 cn=$3 o=$4 eku=$5 san=${6:-}
  {
    printf '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=%s\n' "$cn"
    [[ -z $o ]] || printf 'O=%s\n' "$o"
    printf '[ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n'
    printf 'extendedKeyUsage=%s\n' "$eku"
    [[ -z $san ]] || printf 'subjectAltName=%s\n' "$san"
  } >"$PKI/$n.cnf"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$n.key" 2>/dev/null
  openssl req -new -key "$PKI/$n.key" -config "$PKI/$n.cnf" -out "$PKI/$n.csr"
  openssl x509 -req -in "$PKI/$n.csr" -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" -CAcreateserial \
    -CAserial "$PKI/$ca.srl" -days 3650 -extfile "$PKI/$n.cnf" -extensions ext -out "$PKI/$n.crt" 2>/dev/null
  rm -f "$PKI/$n.csr"
}

# ca NAME CN: a self-signed certificate authority
ca() {
  printf '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=%s\n[ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n' \
    "$2" >"$PKI/$1.cnf"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$1.key" 2>/dev/null
  openssl req -x509 -new -key "$PKI/$1.key" -config "$PKI/$1.cnf" -extensions ext -days 3650 -out "$PKI/$1.crt"
}

PKI_LAYOUT=2 # bump when gen_pki adds or changes files, so existing state dirs regenerate

gen_pki() {
  [[ $(cat "$PKI/.complete" 2>/dev/null) == "$PKI_LAYOUT" ]] && return 0
  rm -rf "$PKI"; mkdir -p "$PKI"; chmod 700 "$PKI"
  ca ca "$CONTEXT-ca"
  cert ca kube-apiserver kube-apiserver "" serverAuth \
    "IP:127.0.0.1,DNS:localhost,IP:$SERVICE_IP,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  cert ca admin kubernetes-admin system:masters clientAuth
  cert ca kube-controller-manager system:kube-controller-manager "" clientAuth
  cert ca kube-scheduler system:kube-scheduler "" clientAuth
  cert ca kwok kwok-controller "" clientAuth # bound to cluster-admin by up
  # the aggregation layer's front proxy, as kubeadm sets it up: the apiserver proves itself
  # to extension API servers with it, and components read its CA from kube-system
  ca front-proxy-ca "$CONTEXT-front-proxy-ca"
  cert front-proxy-ca front-proxy-client front-proxy-client "" clientAuth
  # service-account token signing key (RSA: RS256 is what every client library verifies)
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
  chmod 600 "$PKI"/*.key
  echo "$PKI_LAYOUT" >"$PKI/.complete"
}

# kubeconfig FILE USER CERTNAME: a kubeconfig for 127.0.0.1:PORT_API with embedded credentials
kubeconfig() {
  local file=$1 user=$2 c=$3
  cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $CONTEXT
  cluster:
    server: https://127.0.0.1:$PORT_API
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 <"$PKI/$c.crt")
    client-key-data: $(base64 -w0 <"$PKI/$c.key")
contexts:
- name: $CONTEXT
  context:
    cluster: $CONTEXT
    user: $user
current-context: $CONTEXT
EOF
  chmod 600 "$file.tmp"; mv "$file.tmp" "$file"
}

# --- cluster objects ---------------------------------------------------------------------

kc() { "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

nodes_yaml() {
  local i
  for ((i = 0; i < NODES; i++)); do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-$i
    kubernetes.io/os: linux
    node.kubernetes.io/instance-type: kwok
    topology.kubernetes.io/region: local
    topology.kubernetes.io/zone: zone-$i
    type: kwok
spec:
  podCIDR: 10.$((200 + NET)).$i.0/24
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "1000", ephemeral-storage: 1Ti}
  capacity: {cpu: "32", memory: 256Gi, pods: "1000", ephemeral-storage: 1Ti}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: $KUBERNETES_VERSION
    kubeProxyVersion: $KUBERNETES_VERSION
    containerRuntimeVersion: kwok://$KWOK_VERSION
    osImage: kwok
EOF
  done
}

storage_yaml() {
  local tier count size i n
  cat <<EOF
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
EOF
  for tier in $PV_POOL; do
    count=${tier%%x*} size=${tier#*x}
    [[ $count =~ ^[0-9]+$ && $size =~ ^[0-9]+[KMGTP]i$ ]] || die "bad CLUSTER_PV_POOL entry '$tier' (want COUNTxSIZE, e.g. 100x10Gi)"
    for ((i = 0; i < count; i++)); do
      n=$(printf 'pv-%s-%03d' "${size,,}" "$i")
      cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $n
  labels:
    thanos-tf.local/pool: "$size"
spec:
  capacity: {storage: $size}
  accessModes: [ReadWriteOnce, ReadOnlyMany, ReadWriteMany]
  persistentVolumeReclaimPolicy: Recycle
  storageClassName: standard
  volumeMode: Filesystem
  hostPath: {path: /var/lib/thanos-tf-cluster/$NAME/$n}
EOF
    done
  done
}

# --- commands ------------------------------------------------------------------------

healthy() {
  local c
  for c in "${COMPONENTS[@]}"; do alive "$c" || return 1; done
  curl -fsS --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$PORT_API/readyz" >/dev/null 2>&1
}

cmd_up() {
  local c p start=$SECONDS any=""
  . "$ROOT/tools/versions.env"
  for c in "${COMPONENTS[@]}"; do alive "$c" && any=1; done
  if [[ -n $any ]]; then
    if healthy; then
      log "already up (kubeconfig: $KUBECONFIG_PATH)"
      return 0
    fi
    log "partly running or unhealthy: restarting it"
    cmd_down
  fi
  for c in "${COMPONENTS[@]}"; do
    for p in ${PORTS[$c]}; do
      port_busy "$p" && die "port $p (for $c) is already in use by: $(port_owner "$p"). Is another cluster or program using the ports of cluster '$NAME'? Try: scripts/cluster.sh status $NAME"
    done
  done
  command -v openssl >/dev/null || die "openssl is needed"
  command -v curl >/dev/null || die "curl is needed"
  "$TOOLS" install etcd kubernetes kwok prometheus-operator-crds
  local etcd apiserver kcm sched kwok
  etcd=$("$TOOLS" path etcd) apiserver=$("$TOOLS" path kube-apiserver) kcm=$("$TOOLS" path kube-controller-manager)
  sched=$("$TOOLS" path kube-scheduler) kwok=$("$TOOLS" path kwok) KUBECTL=$("$TOOLS" path kubectl)
  local crd_dir crd crds=()
  crd_dir=$("$TOOLS" path prometheus-operator-crds)
  if [[ $CRDS == all ]]; then crds=(-f "$crd_dir"); else
    for crd in $CRDS; do
      [[ -f $crd_dir/monitoring.coreos.com_$crd.yaml ]] || die "no prometheus-operator CRD '$crd' (CLUSTER_CRDS; see $crd_dir)"
      crds+=(-f "$crd_dir/monitoring.coreos.com_$crd.yaml")
    done
  fi

  mkdir -p "$STATE" "$LOGS" "$RUN"
  echo "$BASE" >"$STATE/port-base"
  rm -rf "$ETCD_DATA" "${LOGS:?}"/* "${RUN:?}"/*
  mkdir -p "$RUN/kwok-home" "$RUN/kube-apiserver" "$RUN/kube-controller-manager" "$RUN/kube-scheduler"
  gen_pki
  kubeconfig "$KUBECONFIG_PATH" "admin@$CONTEXT" admin
  kubeconfig "$RUN/kube-controller-manager.kubeconfig" system:kube-controller-manager kube-controller-manager
  kubeconfig "$RUN/kube-scheduler.kubeconfig" system:kube-scheduler kube-scheduler
  kubeconfig "$RUN/kwok.kubeconfig" kwok-controller kwok
  log "starting on 127.0.0.1 (apiserver :$PORT_API, etcd :$PORT_ETCD, state $STATE)"

  # etcd: a throwaway single-member store; fsync off (a test cluster's data is disposable)
  start etcd "$etcd" --name="$CONTEXT" --data-dir="$ETCD_DATA" \
    --listen-client-urls="http://127.0.0.1:$PORT_ETCD" --advertise-client-urls="http://127.0.0.1:$PORT_ETCD" \
    --listen-peer-urls="http://127.0.0.1:$PORT_ETCD_PEER" --initial-advertise-peer-urls="http://127.0.0.1:$PORT_ETCD_PEER" \
    --initial-cluster="$CONTEXT=http://127.0.0.1:$PORT_ETCD_PEER" --initial-cluster-state=new \
    --initial-cluster-token="$CONTEXT" --unsafe-no-fsync --log-level=warn
  wait_until "etcd health" etcd curl -fsS --max-time 2 "http://127.0.0.1:$PORT_ETCD/health"

  # kube-apiserver. advertise-address: a loopback address has no place in the `kubernetes`
  # Service's EndpointSlice (validation refuses it), so that reconciler is off.
  start kube-apiserver "$apiserver" --etcd-servers="http://127.0.0.1:$PORT_ETCD" \
    --bind-address=127.0.0.1 --secure-port="$PORT_API" --advertise-address=127.0.0.1 \
    --endpoint-reconciler-type=none --cert-dir="$RUN/kube-apiserver" \
    --tls-cert-file="$PKI/kube-apiserver.crt" --tls-private-key-file="$PKI/kube-apiserver.key" \
    --client-ca-file="$PKI/ca.crt" --authorization-mode=Node,RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --allow-privileged=true --profiling=false \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key"
  wait_until "kube-apiserver /readyz" kube-apiserver curl -fsS --max-time 2 --cacert "$PKI/ca.crt" \
    --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://127.0.0.1:$PORT_API/readyz"

  kc create clusterrolebinding kwok-controller --clusterrole=cluster-admin --user=kwok-controller >/dev/null
  nodes_yaml | kc create -f - >/dev/null
  storage_yaml | kc create -f - >/dev/null 2>"$LOGS/storage.log" ||
    { cat "$LOGS/storage.log" >&2; die "creating the StorageClass and PersistentVolumes failed"; }
  # server-side: the larger CRDs exceed the size limit of client-side apply's annotation
  kc apply --server-side "${crds[@]}" >/dev/null 2>"$LOGS/crds.log" ||
    { cat "$LOGS/crds.log" >&2; die "installing the prometheus-operator CRDs failed"; }

  # kube-controller-manager: every default controller (GC, deployment, statefulset,
  # endpointslice, PV binder and recycler, service-account token, ...), each under its own
  # service account, as in a kubeadm cluster
  start kube-controller-manager "$kcm" --kubeconfig="$RUN/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig="$RUN/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig="$RUN/kube-controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$PORT_KCM" --cert-dir="$RUN/kube-controller-manager" \
    --leader-elect=false --use-service-account-credentials=true --cluster-name="$CONTEXT" \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --kube-api-qps=100 --kube-api-burst=200 --profiling=false
  start kube-scheduler "$sched" --kubeconfig="$RUN/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig="$RUN/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig="$RUN/kube-scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$PORT_SCHED" --cert-dir="$RUN/kube-scheduler" \
    --leader-elect=false --kube-api-qps=100 --kube-api-burst=200 --profiling=false
  # kwok: HOME is private so no ~/.kwok/kwok.yaml of the machine's user leaks in; node IP
  # 127.0.0.1 so anything that ever dials a "kubelet" stays on this machine
  start kwok env HOME="$RUN/kwok-home" "$kwok" --kubeconfig="$RUN/kwok.kubeconfig" \
    --config="$ROOT/scripts/lib/kwok-stages.yaml" \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr="$POD_CIDR" --node-ip=127.0.0.1 --node-lease-duration-seconds=40 \
    --server-address="127.0.0.1:$PORT_KWOK"

  wait_until "kube-controller-manager /healthz" kube-controller-manager curl -fsSk --max-time 2 "https://127.0.0.1:$PORT_KCM/healthz"
  wait_until "kube-scheduler /healthz" kube-scheduler curl -fsSk --max-time 2 "https://127.0.0.1:$PORT_SCHED/healthz"
  wait_until "kwok /healthz" kwok curl -fsS --max-time 2 "http://127.0.0.1:$PORT_KWOK/healthz"
  wait_until "the default ServiceAccount" kube-controller-manager kc get serviceaccount default -n default
  wait_until "$NODES Ready node(s)" kwok nodes_ready
  wait_until "the prometheus-operator CRDs" kube-apiserver \
    kc wait --for condition=established --timeout=5s "${crds[@]}"
  log "up in $((SECONDS - start))s: export KUBECONFIG=$KUBECONFIG_PATH"
}

nodes_ready() {
  local n
  n=$(kc get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')
  ((n >= NODES))
}

cmd_down() {
  local i c p busy
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop_component "${COMPONENTS[$i]}"; done
  for ((i = 0; i < 300; i++)); do
    busy=""
    for c in "${COMPONENTS[@]}"; do for p in ${PORTS[$c]}; do port_busy "$p" && busy+=" $p"; done; done
    [[ -z $busy ]] && break
    sleep 0.1
  done
  rm -rf "$ETCD_DATA"
  [[ -z $busy ]] || die "ports still in use after stopping:$busy ($(for p in $busy; do port_owner "$p"; done))"
  log "down (logs kept in $LOGS)"
}

# restart-apiserver: kills this cluster's kube-apiserver (SIGKILL: a crash, no graceful drain)
# and starts it again with the command line it ran; etcd and everything else keep running.
cmd_restart_apiserver() {
  local pid i args=()
  pid=$(pid_of kube-apiserver)
  ours "$pid" || die "kube-apiserver is not running (scripts/cluster.sh up $NAME)"
  mapfile -d '' args <"/proc/$pid/cmdline"
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
  for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || port_busy "$PORT_API" || break; sleep 0.1; done
  port_busy "$PORT_API" && die "port $PORT_API still in use after killing kube-apiserver"
  log "killed kube-apiserver (pid $pid)"
  start kube-apiserver "${args[@]}"
  wait_until "kube-apiserver /readyz" kube-apiserver curl -fsS --max-time 2 --cacert "$PKI/ca.crt" \
    --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://127.0.0.1:$PORT_API/readyz"
  log "kube-apiserver restarted"
}

cmd_status() {
  local c p pid state ok=0
  for c in "${COMPONENTS[@]}"; do
    pid=$(pid_of "$c")
    if ours "$pid"; then state="running pid $pid"; else state=stopped; pid=""; ok=1; fi
    printf '%-24s %-18s 127.0.0.1:%s\n' "$c" "$state" "${PORTS[$c]// /,}"
  done
  if ((ok == 0)) && healthy; then
    echo "healthy; KUBECONFIG=$KUBECONFIG_PATH"
  else
    echo "not healthy"
    return 1
  fi
}

cmd_env() {
  local k
  k=$("$TOOLS" path kubectl 2>/dev/null) || k=""
  printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_PATH"
  [[ -z $k ]] || printf 'export PATH=%q:"$PATH"\n' "$(dirname "$k")"
}

case $CMD in
  up) cmd_up ;;
  down) cmd_down ;;
  restart-apiserver) cmd_restart_apiserver ;;
  status) cmd_status ;;
  env) cmd_env ;;
  kubeconfig) echo "$KUBECONFIG_PATH" ;;
  ports) echo "$PORT_ETCD $PORT_ETCD_PEER $PORT_API $PORT_KCM $PORT_SCHED $PORT_KWOK" ;;
  *) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
