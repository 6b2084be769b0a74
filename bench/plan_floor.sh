#!/usr/bin/env bash
# The offline plan against its floor: `terraform plan` of N quickstart copies with our provider
# (bench/hcl/copies, the cluster unreachable, as a plan in CI without credentials would run)
# next to the same plan of N copies of the same shape as `terraform_data` (bench/hcl/floor:
# Terraform core alone, no provider launched). Per run: wall time, CPU time of the whole
# process tree (terraform and the provider processes it launches and reaps; GNU time), and
# the plan's text in bytes per resource. Rows go to RESULTS (tab-separated, bench/table.py);
# the ratios ours / floor of the medians are rows of their own.
#
#   bench/plan_floor.sh CLI MIRROR_TFRC WORK RESULTS "SIZES" RUNS
#
# bench/run.sh calls it with its mirror (TF_CLI_CONFIG_FILE); alone, build the release
# provider and run bench/run.sh once, or use BENCH_FLOOR_ONLY=1 bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CLI=$1 TFRC=$2 WORK=$3 RESULTS=$4 SIZES=$5 RUNS=$6
export TF_CLI_CONFIG_FILE=$TFRC TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1 TF_INPUT=0
UNREACHABLE=$WORK/floor-unreachable.kubeconfig
cat >"$UNREACHABLE" <<'YAML'
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
YAML

mkdir -p "$WORK/floor-ours" "$WORK/floor-data"
cp bench/hcl/copies/main.tf "$WORK/floor-ours/main.tf"
rm -rf "$WORK/floor-ours/stack" "$WORK/floor-data/stack"
cp -r bench/hcl/stack "$WORK/floor-ours/stack"
cp bench/hcl/floor/main.tf "$WORK/floor-data/main.tf"
cp -r bench/hcl/floor/stack "$WORK/floor-data/stack"
for d in floor-ours floor-data; do
  (cd "$WORK/$d" && "$CLI" init -input=false -no-color >"$WORK/$d/init.log")
done

# measure LABEL DIR RESOURCES ARGS...: one plan; rows for wall and CPU ms and bytes/resource
measure() {
  local label=$1 dir=$2 resources=$3 out times wall user sys bytes
  shift 3
  out=$WORK/$(tr ' /=(),' '______' <<<"$label").out
  times=$out.time
  (cd "$dir" && /usr/bin/time -f '%e %U %S' -o "$times" \
    "$CLI" plan -lock=false -refresh=false -input=false -no-color "$@" >"$out" 2>&1)
  read -r wall user sys <"$times"
  bytes=$(wc -c <"$out")
  printf '%s\t%s\t\n' "$label, wall [ms]" "$(python3 -c "print(round($wall*1000))")" >>"$RESULTS"
  printf '%s\t%s\t\n' "$label, CPU user+sys [ms]" "$(python3 -c "print(round(($user+$sys)*1000))")" >>"$RESULTS"
  printf '%s\t%s\t\n' "$label, plan text [bytes per resource]" $((bytes / resources)) >>"$RESULTS"
}

for n in $SIZES; do
  c="$n copies"; ((n == 1)) && c="1 copy"
  for ((r = 1; r <= RUNS; r++)); do
    echo "==> offline plan against the terraform_data floor, $c, run $r/$RUNS" >&2
    measure "offline plan, $c: ours" "$WORK/floor-ours" $((3 * n)) \
      -var "kubeconfig=$UNREACHABLE" -var "copies=$n"
    measure "offline plan, $c: terraform_data floor" "$WORK/floor-data" $((3 * n)) \
      -var "copies=$n"
  done
  python3 - "$RESULTS" "offline plan, $c" <<'PY'
import statistics, sys
results, prefix = sys.argv[1], sys.argv[2]
rows = {}
for line in open(results):
    label, value, *_ = line.rstrip("\n").split("\t") + [""]
    if label.startswith(prefix + ": ") and not value.startswith("summary:"):
        rows.setdefault(label, []).append(float(value))
with open(results, "a") as out:
    for what in ("wall [ms]", "CPU user+sys [ms]", "plan text [bytes per resource]"):
        ours = rows.get(f"{prefix}: ours, {what}")
        floor = rows.get(f"{prefix}: terraform_data floor, {what}")
        if ours and floor:
            r = statistics.median(ours) / statistics.median(floor)
            out.write(f"{prefix}: ours / floor, {what.split(' [')[0]} [ratio of medians]\tsummary:{r:.2f}:{r:.2f}:{r:.2f}:-\t\n")
PY
done
