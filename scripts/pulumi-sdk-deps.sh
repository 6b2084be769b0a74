#!/usr/bin/env bash
# Installs what the Pulumi SDK checks of the acceptance tests need, pinned in
# acceptance/pulumi-sdk-check/: the npm packages that type-check the generated TypeScript SDK
# (package-lock.json, `npm ci`) and a Python venv that installs and imports the generated
# Python SDK (requirements.txt). Each lands in the tool cache under a directory named after the
# hash of its pin file, so a changed pin installs anew and an unchanged one costs nothing.
# Prints the path asked for:
#
#   scripts/pulumi-sdk-deps.sh node     the node_modules directory (typescript, @pulumi/pulumi, ...)
#   scripts/pulumi-sdk-deps.sh python   the venv's python executable
#
# Needs npm (node) or python3 with venv and pip; packages come from the npm registry and PyPI.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PINS=$ROOT/acceptance/pulumi-sdk-check
CACHE=${THANOS_TF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-thanos}/pulumi-sdk-deps

log() { printf 'pulumi-sdk-deps: %s\n' "$*" >&2; }
die() { printf 'pulumi-sdk-deps: error: %s\n' "$*" >&2; exit 1; }

# install KIND PINFILE: runs install_KIND into $CACHE/KIND-<hash of PINFILE> once, under a lock
# (two test runs at once install once), and leaves DIR set to that directory.
install() {
  local kind=$1 hash tmp lock
  hash=$(cat "${@:2}" | sha256sum | cut -c1-16)
  DIR=$CACHE/$kind-$hash
  [[ -f $DIR/.stamp ]] && return 0
  mkdir -p "$CACHE"
  exec {lock}>"$CACHE/.lock-$kind"
  flock "$lock"
  if [[ ! -f $DIR/.stamp ]]; then
    tmp=$DIR.tmp.$$
    rm -rf "$tmp"; mkdir -p "$tmp"
    log "installing the $kind packages pinned in ${PINS#"$ROOT"/} into $DIR"
    "install_$kind" "$tmp" || { rm -rf "$tmp"; die "installing the $kind packages failed"; }
    date -u +%FT%TZ >"$tmp/.stamp"
    rm -rf "$DIR"; mv "$tmp" "$DIR"
  fi
  exec {lock}>&-
}

install_node() {
  command -v npm >/dev/null || die "npm is needed (Node.js)"
  cp "$PINS/package.json" "$PINS/package-lock.json" "$1/"
  # --ignore-scripts: nothing here needs an install script, and none should run
  (cd "$1" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
}

install_python() {
  command -v python3 >/dev/null || die "python3 is needed"
  python3 -m venv "$1/venv" >&2
  # the venv is moved after the install: its scripts' #! lines would point at the old path,
  # so only `python -m ...` is used through it
  "$1/venv/bin/python" -m pip install --quiet --no-deps -r "$PINS/requirements.txt" >&2
}

case ${1:-} in
  node) install node "$PINS/package-lock.json"; printf '%s/node_modules\n' "$DIR" ;;
  python) install python "$PINS/requirements.txt"; printf '%s/venv/bin/python\n' "$DIR" ;;
  *) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
