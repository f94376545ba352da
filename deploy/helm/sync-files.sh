#!/usr/bin/env bash
# Copies the files the chart reads from outside its folder (Helm can only read
# files inside the chart) into deploy/helm/falconer/files/:
#   deploy/prompts/*.yaml        -> files/prompts/   (default AgentPrompts)
#   policies/kyverno/*.yaml      -> files/kyverno/   (Kyverno policies)
#   policies/rego/*.rego         -> files/rego/      (OPA sidecar policies; *_test.rego left out)
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
sync "$root/policies/kyverno" '*.yaml' "$files/kyverno"
sync "$root/policies/rego" '*.rego' "$files/rego" '*_test.rego'
echo "synced chart files under $files"
