#!/usr/bin/env bash
# `make release-check`: is the release reproducible from source? Builds it twice, the second
# time in a fresh, empty Cargo target directory, and compares the two SHA256SUMS. Only the
# host platform unless TARGETS says otherwise (each platform is a full release build: about
# 15 minutes each on two cores), so this is not part of `make test`; the acceptance tests check
# the packaging's reproducibility on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
export TARGETS=${TARGETS-}
# One timestamp for both builds, even if a commit lands in between.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 315532800)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
DIST=$work/first scripts/release.sh
RELEASE_TARGET_DIR=$work/build DIST=$work/second scripts/release.sh
if diff "$work"/first/*_SHA256SUMS "$work"/second/*_SHA256SUMS; then
  echo "release-check: two builds gave identical SHA256SUMS:"
  cat "$work"/first/*_SHA256SUMS
else
  echo "release-check: the two builds differ (above)" >&2
  exit 1
fi
