#!/usr/bin/env bash
# `make test`: everything CI runs after lint. Starts the two local control planes the cluster
# and acceptance tests need (or reuses running ones), runs every cargo test with their
# kubeconfigs in THANOS_TEST_KUBECONFIG and THANOS_TEST_KUBECONFIG_B (the second cluster: the
# member cluster of the multi-cluster acceptance test), then the control-plane test on two
# clusters of its own. A cluster this script started is stopped again, also on failure; one
# that was already running is left alone.
#
# Environment: TEST_CLUSTER (default a) and TEST_CLUSTER_2 (default b) name the two clusters;
# TEST_CLUSTER_PORT_BASE and TEST_CLUSTER_2_PORT_BASE give their port bases when the names are
# not a-e (see scripts/cluster.sh); TEST_CLUSTER_3 (default e) is the one acceptance/spare.rs
# starts and stops itself.
set -euo pipefail
cd "$(dirname "$0")/.."
clusters=("${TEST_CLUSTER:-a}" "${TEST_CLUSTER_2:-b}")
bases=("${TEST_CLUSTER_PORT_BASE:-}" "${TEST_CLUSTER_2_PORT_BASE:-}")

# cluster I ARGS...: scripts/cluster.sh ARGS... for cluster I (0 or 1), with its port base
cluster() {
  local i=$1; shift
  CLUSTER_PORT_BASE=${bases[$i]} scripts/cluster.sh "$@" "${clusters[$i]}"
}

started=()
cleanup() {
  local i
  for i in "${started[@]}"; do cluster "$i" down >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# Both come up side by side (scripts/tools.sh serialises any tool build they share).
pids=()
for i in 0 1; do
  if ! cluster "$i" status >/dev/null 2>&1; then
    started+=("$i")
    cluster "$i" up &
    pids+=($!)
  fi
done
for pid in "${pids[@]}"; do wait "$pid"; done

export THANOS_TEST_KUBECONFIG="$PWD/.cache/cluster/${clusters[0]}/kubeconfig"
export THANOS_TEST_KUBECONFIG_B="$PWD/.cache/cluster/${clusters[1]}/kubeconfig"
# A third name, for the acceptance test that starts and stops a cluster of its own (an API
# server restart and a throttled load test would disturb the shared ones): TEST_CLUSTER_3
# (default e) and TEST_CLUSTER_3_PORT_BASE.
export THANOS_TEST_SPARE_CLUSTER=${TEST_CLUSTER_3:-e}
export THANOS_TEST_SPARE_CLUSTER_PORT_BASE=${TEST_CLUSTER_3_PORT_BASE:-}
if [ "${TEST_ONLY:-}" = acceptance ]; then
  cargo test --locked --test acceptance
  exit
fi
INSTA_UPDATE=no cargo test --workspace --locked
# Done with them: the control-plane test below runs two more.
cleanup
started=()

# The control-plane test starts and stops its own two clusters; give it names that are not
# the ones above, so it never stops a cluster someone is using.
TEST_CLUSTER_A=${TEST_CLUSTER_A:-c} TEST_CLUSTER_B=${TEST_CLUSTER_B:-d} acceptance/cluster/test.sh
