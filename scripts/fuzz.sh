#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ (cargo-fuzz, libFuzzer) for FUZZ_SECONDS each and prints the
# executions each made. A crash stops that target (its input is saved under
# fuzz/artifacts/<target>/), the others still run, and the script fails at the end.
#
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_TARGETS   the targets to run, space separated (default: all of fuzz/Cargo.toml)
#   FUZZ_TARGET_DIR  where cargo builds them (default: $CARGO_TARGET_DIR/fuzz, else target/fuzz)
#   FUZZ_NO_TRACE_COMPARES=1  build without libFuzzer's comparison tracing: about 1.4x the
#                  executions per second on the targets that plan (the hooks on every compare,
#                  BTreeMap lookups included, cost more than they find there); coverage still
#                  guides (use a separate FUZZ_TARGET_DIR: it is another build)
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). No sanitizer:
# the code under test has no unsafe, and libFuzzer's coverage is what finds the inputs.
# The corpus grows in fuzz/corpus/<target>/ (not committed); fuzz/seeds/<target>/ seeds it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-$(sed -n '/^\[\[bin\]\]/,/^path/s/^name = "\(.*\)"/\1/p' fuzz/Cargo.toml)}
target_dir=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/fuzz}

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz: needs a nightly toolchain and cargo-fuzz: rustup toolchain install nightly && cargo install cargo-fuzz --locked" >&2
  exit 1
fi

# cargo fuzz <command> <options> [<target> [<corpus>...] [-- <libFuzzer options>]]
build_flags=(--sanitizer none --target-dir "$target_dir")
[[ ${FUZZ_NO_TRACE_COMPARES:-} == 1 ]] && build_flags+=(--no-trace-compares)
fuzz() {
  local command=$1
  shift
  (cd fuzz && cargo +nightly fuzz "$command" "${build_flags[@]}" "$@")
}

# One build for every target first, so the time per target is spent fuzzing.
fuzz build

failed=()
summary=()
for t in $targets; do
  mkdir -p "fuzz/corpus/$t"
  seeds=()
  [[ -d fuzz/seeds/$t ]] && seeds=("seeds/$t")
  log=$(mktemp)
  echo "== $t: ${seconds}s"
  if fuzz run "$t" "corpus/$t" "${seeds[@]}" -- \
      -max_total_time="$seconds" -print_final_stats=1 -timeout=20 -rss_limit_mb=4096 \
      -max_len=8192 >"$log" 2>&1; then
    status=ok
  else
    status=CRASH
    failed+=("$t")
    grep -E "panicked|ERROR|SUMMARY|Test unit written" "$log" | head -20 >&2 || true
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  summary+=("$(printf '%-16s %-5s %12s execs %8s/s  cov %s' "$t" "$status" "${execs:-?}" "${rate:-?}" "${cov:-?}")")
  rm -f "$log"
done

echo
echo "target           status      executions     rate  coverage"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz: crashed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
