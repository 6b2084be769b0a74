#!/usr/bin/env bash
# Regenerate vectors.json with the pinned Thanos's own receive hashring code (see README.md).
#
#   ./regen.sh          rewrite vectors.json from go.mod / go.sum as committed
#   ./regen.sh --tidy   also rewrite go.mod's requirements and go.sum first (after a Thanos bump)
#
# Thanos v0.42.5 declares a newer Go patch release (go 1.26.10) than the local toolchain and
# toolchain downloads are off, so the module cannot be required as is. As scripts/tools.sh
# does for the thanos binary, this fetches the exact release through the Go module proxy,
# checks it against the pinned h1: hash below, copies it to .src/thanos (ignored by git) with
# its go line lowered to the local Go, and go.mod replaces the release with that copy.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
GO=${GO:-go}

MODULE=github.com/thanos-io/thanos
VERSION=v0.42.5
# The h1: hash of the release's module zip (as in go.sum); also in tools/go/thanos/go.mod.
SUM=h1:92xtD5YT0cgeCFJmZdWsZLRkVh4cDWfSDb9AAiY4BN4=

die() { printf 'placement_vectors: error: %s\n' "$*" >&2; exit 1; }

# The vectors must come from the Thanos the provider deploys.
pinned=$(sed -n 's/^THANOS_VERSION=//p' ../../../../tools/versions.env)
[[ $pinned == "$VERSION" ]] || die "tools/versions.env pins Thanos $pinned, this script $VERSION: update VERSION, SUM and go.mod, run ./regen.sh --tidy"

localgo=$("$GO" env GOVERSION | sed -E 's/^go//; s/[^0-9.].*$//')
want="$MODULE $VERSION $SUM $localgo"
if [[ $(cat .src/thanos/.source 2>/dev/null || true) != "$want" ]]; then
  # the download is what we want; the go command then complains about the go line, ignore that
  (cd / && GOFLAGS=-mod=mod "$GO" mod download "$MODULE@$VERSION" >/dev/null 2>&1) || true
  cache=$("$GO" env GOMODCACHE)
  src=$cache/$MODULE@$VERSION
  ziphash=$(cat "$cache/cache/download/$MODULE/@v/$VERSION.ziphash" 2>/dev/null || true)
  [[ -d $src && $ziphash == "$SUM" ]] || die "could not fetch $MODULE@$VERSION (hash '$ziphash', want $SUM)"
  rm -rf .src/thanos
  mkdir -p .src
  cp -r "$src" .src/thanos
  chmod -R u+w .src/thanos
  sed -i -E "s/^go [0-9.]+[[:space:]]*$/go $localgo/; /^toolchain /d" .src/thanos/go.mod
  printf '%s\n' "$want" >.src/thanos/.source
fi

if [[ ${1:-} == --tidy ]]; then
  GOFLAGS=-mod=mod "$GO" mod tidy
fi
"$GO" run -mod=readonly . >vectors.json.tmp
mv vectors.json.tmp vectors.json
printf 'placement_vectors: wrote %s (%s series, %s rings)\n' vectors.json \
  "$(sed -n '/^"series"/,/^]/p' vectors.json | grep -c '^{')" \
  "$(sed -n '/^"rings"/,/^]/p' vectors.json | grep -c '^{')" >&2
# The seeding table of Go's math/rand, which shuffle sharding's shard choice depends on.
"$GO" run -mod=readonly . go-rand-table >../../src/placement/gorand_cooked.rs.tmp
mv ../../src/placement/gorand_cooked.rs.tmp ../../src/placement/gorand_cooked.rs
printf 'placement_vectors: wrote %s\n' src/placement/gorand_cooked.rs >&2
