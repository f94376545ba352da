#!/usr/bin/env bash
# Builds policies/bundle.tar.gz: the Rego in policies/rego compiled to Wasm by
# the real opa CLI (entrypoint falconer/remediation/decision), with the
# sha256 of the sources as the bundle's revision.
#
#   scripts/build-policy-bundle.sh           build (and commit the result)
#   scripts/build-policy-bundle.sh --check   fail when the committed bundle is
#                                            stale relative to the sources
#
# The source digest: sha256 over lines "<sha256 of file>  <path>" of every
# *.rego (tests excluded) and *.json under policies/rego, sorted by path
# (LC_ALL=C). src/policy/bundle.ts computes the same digest.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="${FALCONER_POLICY_SRC:-policies/rego}"
cd "$ROOT"
BUNDLE="${FALCONER_POLICY_BUNDLE:-$ROOT/policies/bundle.tar.gz}"
ENTRYPOINT="falconer/remediation/decision"

source_digest() {
  (
    cd "$SRC"
    find . -type f \( -name '*.rego' -o -name '*.json' \) ! -name '*_test.rego' | sed 's|^\./||' | LC_ALL=C sort |
      while IFS= read -r f; do printf '%s  %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$f"; done
  ) | sha256sum | cut -d' ' -f1
}

revision="sources-sha256:$(source_digest)"

if [[ "${1:-}" == "--check" ]]; then
  if [[ ! -f "$BUNDLE" ]]; then
    echo "policy bundle check: $BUNDLE is missing; run scripts/build-policy-bundle.sh" >&2
    exit 1
  fi
  manifest="$(tar -xzOf "$BUNDLE" /.manifest 2>/dev/null || tar -xzOf "$BUNDLE" .manifest)"
  committed="$(printf '%s' "$manifest" | sed -n 's/.*"revision":"\([^"]*\)".*/\1/p')"
  if [[ "$committed" != "$revision" ]]; then
    echo "policy bundle check: STALE. The bundle's revision is '$committed' but the sources in policies/rego give '$revision'." >&2
    echo "Run scripts/build-policy-bundle.sh and commit policies/bundle.tar.gz." >&2
    exit 1
  fi
  echo "policy bundle check: up to date ($revision)"
  exit 0
fi

OPA="${OPA_BIN:-$(bash "$ROOT/scripts/opa.sh" | tail -n1)}"
"$OPA" check --strict "$SRC"
"$OPA" test "$SRC"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$OPA" build -t wasm -e "$ENTRYPOINT" --ignore '*_test.rego' --revision "$revision" "$SRC" -o "$tmp/bundle.tar.gz"
mv "$tmp/bundle.tar.gz" "$BUNDLE"
echo "built $BUNDLE ($revision)"
