#!/usr/bin/env bash
# Installs the real `opa` CLI (built from the Go module proxy) into
# ~/.cache/falconer/bin, unless the pinned version is already there.
# Prints the binary's path on stdout (last line) so callers can capture it:
#   OPA_BIN="$(bash scripts/opa.sh | tail -n1)"
set -euo pipefail

OPA_VERSION="${OPA_VERSION:-v1.22.3}"
BIN_DIR="${FALCONER_BIN_DIR:-${FALCONER_CACHE:-$HOME/.cache/falconer}/bin}"
OPA="$BIN_DIR/opa"

installed_version() {
  # `opa version` prints "Version: 1.22.3" as its first line.
  "$OPA" version 2>/dev/null | awk -F': ' '/^Version:/ { print "v" $2; exit }'
}

if [[ -x "$OPA" && "$(installed_version)" == "$OPA_VERSION" ]]; then
  echo "opa $OPA_VERSION already installed" >&2
  echo "$OPA"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "scripts/opa.sh: 'go' is not on PATH; it is needed to build opa $OPA_VERSION" >&2
  exit 1
fi

mkdir -p "$BIN_DIR"
echo "building opa $OPA_VERSION with go install (this takes a few minutes the first time)" >&2
# OPA's go.mod pins its module path to the major version it ships under.
GOBIN="$BIN_DIR" GOFLAGS="${GOFLAGS:-} -trimpath" \
  go install "github.com/open-policy-agent/opa@$OPA_VERSION" >&2

got="$(installed_version)"
if [[ "$got" != "$OPA_VERSION" ]]; then
  echo "scripts/opa.sh: built opa reports version '$got', expected $OPA_VERSION" >&2
  exit 1
fi
echo "opa $OPA_VERSION installed" >&2
echo "$OPA"
