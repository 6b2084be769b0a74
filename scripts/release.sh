#!/usr/bin/env bash
# Builds the registry release layout of terraform-provider-thanos into dist/:
#
#   terraform-provider-thanos_<V>_<os>_<arch>.zip   the binary terraform-provider-thanos_v<V> at the zip root
#   terraform-provider-thanos_<V>_manifest.json     the registry manifest: protocol 6.0
#   terraform-provider-thanos_<V>_SHA256SUMS        sha256 of every zip and of the manifest
#   terraform-provider-thanos_<V>_SHA256SUMS.sig    binary detached GPG signature, when GPG_KEY_ID is set
#
# This is what the public registry and HCP Terraform private registries ingest
# (docs/guides/publishing.md). The zips and SHA256SUMS are reproducible: the same binaries give
# byte-identical zips whatever the clock, time zone, umask or file times, because every zipped
# file gets the mode 0755 and the time SOURCE_DATE_EPOCH (default: the last commit's time).
# Only the signature differs between two runs (GPG records when it signed).
#
# Platforms: the host's, plus every cross target listed below whose Rust standard library is
# installed (`rustup target add`) and whose C cross compiler is on PATH (aws-lc, the TLS
# library, is C). `scripts/release.sh platforms` says which can be built here and why not.
# TARGETS="triple ..." builds exactly those cross targets instead, and fails when one cannot.
#
# Usage: scripts/release.sh                      (version from Cargo.toml)
#        GPG_KEY_ID=ABCD1234 scripts/release.sh  (signs SHA256SUMS; GNUPGHOME is honoured)
#        scripts/release.sh platforms
#        RELEASE_TARGET_DIR=dir scripts/release.sh (where cargo builds; paths without spaces)
#        RELEASE_BINARY=path scripts/release.sh  (packages a binary built elsewhere as the host
#                                                 platform's and builds nothing: the acceptance
#                                                 tests run inside `cargo test`, which holds the
#                                                 build directory's lock)
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
NAME=terraform-provider-thanos
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
DIST=${DIST:-dist}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 315532800)}

# Cross targets the release knows how to build: triple, registry platform, C compiler.
# The host (x86_64-unknown-linux-gnu on this project's machines) is always built.
CROSS=(
  "aarch64-unknown-linux-gnu linux_arm64 aarch64-linux-gnu-gcc"
  "x86_64-pc-windows-gnu windows_amd64 x86_64-w64-mingw32-gcc"
)
# Cross targets whose toolchain may be present but whose build is known to fail, and why:
# skipped unless named in TARGETS (which is how to try again once the reason is gone).
declare -A BLOCKED=()
# Platforms that cannot be built on Linux at all, and why (printed by `platforms`).
NEVER=(
  "darwin_amd64 darwin_arm64: linking needs Apple's macOS SDK (the TLS stack uses Security.framework), which no package registry may redistribute"
)

host_platform() {
  local os arch
  os=$(uname -s | tr '[:upper:]' '[:lower:]')
  case $(uname -m) in x86_64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
  echo "${os}_${arch}"
}

installed_targets() { rustup target list --installed 2>/dev/null || rustc -vV | sed -n 's/^host: //p'; }

# Why a cross target cannot be built here; nothing when it can.
cannot_build() { # triple cc
  if [[ -n ${BLOCKED[$1]:-} && " ${TARGETS-} " != *" $1 "* ]]; then
    echo "${BLOCKED[$1]}"
  elif ! installed_targets | grep -qx "$1"; then
    echo "Rust standard library for $1 not installed (rustup target add $1)"
  elif ! command -v "$2" >/dev/null; then
    echo "no C cross compiler $2 on PATH"
  fi
}

if [[ ${1:-} == platforms ]]; then
  echo "$(host_platform): host"
  for entry in "${CROSS[@]}"; do
    read -r triple platform cc <<<"$entry"
    why=$(cannot_build "$triple" "$cc")
    echo "$platform: ${why:-buildable ($triple)}"
  done
  printf '%s\n' "${NEVER[@]}"
  exit 0
fi

rm -rf "$DIST" && mkdir -p "$DIST"
DIST=$(cd "$DIST" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

package() { # binary os_arch
  local bin=$1 platform=$2 exe=""
  [[ $platform == windows_* ]] && exe=.exe
  local file="$work/${NAME}_v${VERSION}${exe}"
  cp "$bin" "$file"
  chmod 0755 "$file"
  touch -d "@$SOURCE_DATE_EPOCH" "$file"
  # zip writes DOS times in local time: UTC makes them the same everywhere. -X leaves out
  # the uid/gid and extended-time fields.
  (cd "$work" && TZ=UTC zip -q -X "$DIST/${NAME}_${VERSION}_${platform}.zip" "$(basename "$file")")
  rm "$file"
  echo "release: $DIST/${NAME}_${VERSION}_${platform}.zip"
}

if [[ -n ${RELEASE_BINARY:-} ]]; then
  package "$RELEASE_BINARY" "$(host_platform)"
else
  # Release builds get a target directory of their own (RELEASE_TARGET_DIR, default
  # <target>/dist-build): their flags differ from `make build`'s, and sharing one directory
  # would rebuild everything whenever one follows the other.
  target_root=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
  target_dir=${RELEASE_TARGET_DIR:-$target_root/dist-build}
  export CARGO_TARGET_DIR=$target_dir
  # Paths that would otherwise land in the binaries (panic locations, C assertion messages)
  # and differ between machines and checkouts: Cargo's home, this checkout, the build
  # directory (generated code is included from it). The last matching prefix wins.
  cargo_home=${CARGO_HOME:-$HOME/.cargo}
  for map in "$cargo_home=/cargo" "$PWD=/src" "$target_dir=/build"; do
    RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }--remap-path-prefix=$map"
    CFLAGS="${CFLAGS:+$CFLAGS }-ffile-prefix-map=$map"
  done
  export RUSTFLAGS CFLAGS
  # The cc crate rebuilds C code whenever SOURCE_DATE_EPOCH changes (GCC reads it for
  # __DATE__, which nothing here uses): the timestamp is for the zips only, so a new commit
  # does not mean a five-minute rebuild.
  env -u SOURCE_DATE_EPOCH cargo build --release --locked --bin "$NAME"
  package "$target_dir/release/$NAME" "$(host_platform)"

  explicit=${TARGETS+set}
  for entry in "${CROSS[@]}"; do
    read -r triple platform cc <<<"$entry"
    if [[ -n $explicit ]]; then
      [[ " $TARGETS " == *" $triple "* ]] || continue
    fi
    why=$(cannot_build "$triple" "$cc")
    if [[ -n $why ]]; then
      [[ -n $explicit ]] && { echo "release: cannot build $triple: $why" >&2; exit 1; }
      echo "release: skipping $platform: $why"
      continue
    fi
    linker_var="CARGO_TARGET_$(echo "$triple" | tr '[:lower:]-' '[:upper:]_')_LINKER"
    env -u SOURCE_DATE_EPOCH "$linker_var=$cc" cargo build --release --locked --bin "$NAME" --target "$triple"
    exe=""; [[ $platform == windows_* ]] && exe=.exe
    package "$target_dir/$triple/release/$NAME$exe" "$platform"
  done
fi

# Without this manifest the registry assumes protocol 5 and Terraform would be told so.
printf '{\n  "version": 1,\n  "metadata": {\n    "protocol_versions": ["6.0"]\n  }\n}\n' \
  >"$DIST/${NAME}_${VERSION}_manifest.json"
touch -d "@$SOURCE_DATE_EPOCH" "$DIST/${NAME}_${VERSION}_manifest.json"

(cd "$DIST" && sha256sum ./*.zip "${NAME}_${VERSION}_manifest.json" | sed 's#\./##' >"${NAME}_${VERSION}_SHA256SUMS")
echo "release: $DIST/${NAME}_${VERSION}_SHA256SUMS"

if [[ -n ${GPG_KEY_ID:-} ]]; then
  gpg --batch --yes --local-user "$GPG_KEY_ID" --detach-sign \
    --output "$DIST/${NAME}_${VERSION}_SHA256SUMS.sig" "$DIST/${NAME}_${VERSION}_SHA256SUMS"
  echo "release: $DIST/${NAME}_${VERSION}_SHA256SUMS.sig (key $GPG_KEY_ID)"
else
  echo "release: no GPG_KEY_ID set, SHA256SUMS is not signed (registries require a signature to publish)"
fi
