#!/usr/bin/env bash
# Builds the registry release layout of terraform-provider-thanos into dist/:
#
#   terraform-provider-thanos_<V>_<os>_<arch>.zip   the binary terraform-provider-thanos_v<V> at the zip root
#   terraform-provider-thanos_<V>_manifest.json     the registry manifest: protocol 6.0
#   terraform-provider-thanos_<V>_SHA256SUMS        sha256 of every zip and of the manifest
#   terraform-provider-thanos_<V>_SHA256SUMS.sig    binary detached GPG signature, when GPG_KEY_ID is set
#
# This is what the public registry and HCP Terraform private registries ingest. Only the host
# platform is built (cross-compiling needs toolchains this machine does not have); set TARGETS to
# Rust target triples that are installed to add more, e.g. TARGETS="x86_64-unknown-linux-musl".
#
# Usage: scripts/release.sh            (version from Cargo.toml)
#        GPG_KEY_ID=ABCD1234 scripts/release.sh
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=terraform-provider-thanos
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
DIST=${DIST:-dist}
TARGETS=${TARGETS:-}

goos_goarch() { # rust target triple -> os_arch as the registry names them
  local triple=$1 os arch
  case $triple in
    x86_64-*) arch=amd64 ;; aarch64-*) arch=arm64 ;; *) echo "unsupported target $triple" >&2; exit 1 ;;
  esac
  case $triple in
    *-linux-*) os=linux ;; *-apple-*) os=darwin ;; *-windows-*) os=windows ;; *) echo "unsupported target $triple" >&2; exit 1 ;;
  esac
  echo "${os}_${arch}"
}

rm -rf "$DIST" && mkdir -p "$DIST"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

package() { # binary os_arch
  local bin=$1 platform=$2 exe=""
  [[ $platform == windows_* ]] && exe=.exe
  cp "$bin" "$work/${NAME}_v${VERSION}${exe}"
  (cd "$work" && zip -q -X "$OLDPWD/$DIST/${NAME}_${VERSION}_${platform}.zip" "${NAME}_v${VERSION}${exe}")
  rm "$work/${NAME}_v${VERSION}${exe}"
  echo "release: $DIST/${NAME}_${VERSION}_${platform}.zip"
}

cargo build --release --locked --bin "$NAME"
host_platform="$(go env GOOS 2>/dev/null || uname -s | tr A-Z a-z)_$(go env GOARCH 2>/dev/null || echo amd64)"
package "target/release/$NAME" "$host_platform"
for triple in $TARGETS; do
  cargo build --release --locked --bin "$NAME" --target "$triple"
  package "target/$triple/release/$NAME" "$(goos_goarch "$triple")"
done

# Without this manifest the registry assumes protocol 5 and Terraform would be told so.
printf '{\n  "version": 1,\n  "metadata": {\n    "protocol_versions": ["6.0"]\n  }\n}\n' \
  > "$DIST/${NAME}_${VERSION}_manifest.json"

(cd "$DIST" && sha256sum ./*.zip "${NAME}_${VERSION}_manifest.json" | sed 's#\./##' > "${NAME}_${VERSION}_SHA256SUMS")
echo "release: $DIST/${NAME}_${VERSION}_SHA256SUMS"

if [[ -n ${GPG_KEY_ID:-} ]]; then
  gpg --batch --yes --local-user "$GPG_KEY_ID" --detach-sign \
    --output "$DIST/${NAME}_${VERSION}_SHA256SUMS.sig" "$DIST/${NAME}_${VERSION}_SHA256SUMS"
  echo "release: $DIST/${NAME}_${VERSION}_SHA256SUMS.sig (key $GPG_KEY_ID)"
else
  echo "release: no GPG_KEY_ID set, SHA256SUMS is not signed (registries require a signature to publish)"
fi
