#!/usr/bin/env bash
# Creates (once) the Python venv with the pinned scikit-learn used by the
# Isolation Forest benchmark and its comparison test, and prints the path of
# its python. Idempotent: reuses the venv when its installed pins match.
# Location: ${XDG_CACHE_HOME:-~/.cache}/falconer/venv-bench (shared by clones),
# overridable with FALCONER_BENCH_VENV.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="$here/requirements-sklearn.txt"
venv="${FALCONER_BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/falconer/venv-bench}"
python_bin="${PYTHON:-python3}"
stamp="$venv/.falconer-requirements"

if [[ -x "$venv/bin/python" && -f "$stamp" ]] && cmp -s "$requirements" "$stamp"; then
  echo "$venv/bin/python"
  exit 0
fi

mkdir -p "$(dirname "$venv")"
echo "ensure-venv: creating $venv with $("$python_bin" --version 2>&1)" >&2
"$python_bin" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: -r "$requirements" >&2
"$venv/bin/python" -c 'import sklearn, numpy' >&2
cp "$requirements" "$stamp"
echo "$venv/bin/python"
