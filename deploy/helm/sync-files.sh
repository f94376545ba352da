#!/usr/bin/env bash
# Copies the files the chart reads from outside its folder (Helm can only read
# files inside the chart) into deploy/helm/falconer/files/:
#   deploy/prompts/*.yaml        -> files/prompts/   (default AgentPrompts)
#   policies/kyverno/*.yaml      -> files/kyverno/   (Kyverno policy objects only)
#   policies/rego/**             -> files/rego/      (OPA sidecar: *.rego and data.json; *_test.rego left out)
# test/deploy/sync.test.ts fails when a copy is missing or stale.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
files="$root/deploy/helm/falconer/files"

sync() { # source-dir pattern dest-dir [exclude-pattern]
  local src=$1 pattern=$2 dest=$3 exclude=${4:-}
  mkdir -p "$dest"
  # Remove stale copies first, so a deleted source disappears from the chart too.
  find "$dest" -maxdepth 1 -type f -name "$pattern" -delete
  [[ -d "$src" ]] || return 0
  local f
  for f in "$src"/$pattern; do
    [[ -e "$f" ]] || continue
    [[ -n "$exclude" && "$(basename "$f")" == $exclude ]] && continue
    cp "$f" "$dest/"
  done
}

sync "$root/deploy/prompts" '*.yaml' "$files/prompts"

# Kyverno: only policy objects (kyverno-test.yaml and samples/ are for the Kyverno CLI, not the cluster).
mkdir -p "$files/kyverno"
find "$files/kyverno" -maxdepth 1 -type f -name '*.yaml' -delete
for f in "$root"/policies/kyverno/*.yaml; do
  [[ -e "$f" ]] || continue
  grep -qE '^apiVersion: (kyverno\.io|policies\.kyverno\.io)/' "$f" && cp "$f" "$files/kyverno/"
done

# Rego for the OPA sidecar: the policy tree (.rego and data.json), without tests.
rm -rf "$files/rego"
mkdir -p "$files/rego"
touch "$files/rego/.gitkeep"
if [[ -d "$root/policies/rego" ]]; then
  (cd "$root/policies/rego" && find . -type f \( -name '*.rego' -o -name 'data.json' \) ! -name '*_test.rego' -print0 |
    while IFS= read -r -d '' f; do mkdir -p "$files/rego/$(dirname "$f")" && cp "$f" "$files/rego/$f"; done)
fi
echo "synced chart files under $files"
