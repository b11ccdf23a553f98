#!/usr/bin/env bash
# Refresh the locks from pyproject.toml's ranges: every package, direct and transitive, pinned
# with hashes for Python 3.11+ on any platform. Run it, run the suite, commit both files.
set -euo pipefail
cd "$(dirname "$0")/.."
uv="uv"
if ! command -v uv >/dev/null 2>&1; then
  tools=$(mktemp -d)
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/python" -m pip install -q uv
  uv="$tools/venv/bin/uv"
fi
common=(--universal --python-version 3.11 --generate-hashes --quiet --no-header --upgrade)
"$uv" pip compile pyproject.toml "${common[@]}" -o requirements/app.txt
"$uv" pip compile pyproject.toml --extra test "${common[@]}" -o requirements/test.txt
