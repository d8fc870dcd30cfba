#!/usr/bin/env bash
# The whole test suite: install everything, then lint, type-check and run pytest against a
# real PostGIS (the embedded cluster, or YIZHAN_DATABASE_URL when set).
# Extra arguments go to pytest (e.g. -k health -x).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --with-browser
export PYTHONHASHSEED=0
echo "== ruff" && .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy" && .venv/bin/mypy
echo "== import contracts (the floors, pyproject.toml)" && .venv/bin/lint-imports --no-cache
echo "== pytest"
exec .venv/bin/pytest "$@"
