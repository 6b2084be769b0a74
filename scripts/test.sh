#!/usr/bin/env bash
# `make test`: everything CI runs after lint. Starts the local control plane the cluster and
# acceptance tests need (or reuses a running one), runs every cargo test with its kubeconfig in
# THANOS_TEST_KUBECONFIG, then the control-plane test on two clusters of its own. A cluster this
# script started is stopped again, also on failure; one that was already running is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
cluster=${TEST_CLUSTER:-a}

started=0
if ! scripts/cluster.sh status "$cluster" >/dev/null 2>&1; then
  scripts/cluster.sh up "$cluster"
  started=1
fi
cleanup() { if [ "$started" = 1 ]; then scripts/cluster.sh down "$cluster" >/dev/null 2>&1 || true; fi; }
trap cleanup EXIT

export THANOS_TEST_KUBECONFIG="$PWD/.cache/cluster/$cluster/kubeconfig"
if [ "${TEST_ONLY:-}" = acceptance ]; then
  cargo test --locked --test acceptance
  exit
fi
INSTA_UPDATE=no cargo test --workspace --locked

# The control-plane test starts and stops its own two clusters; give it names that are not
# the one above, so it never stops a cluster someone is using.
TEST_CLUSTER_A=${TEST_CLUSTER_A:-c} TEST_CLUSTER_B=${TEST_CLUSTER_B:-d} acceptance/cluster/test.sh
