#!/usr/bin/env bash
# The whole test suite: install everything, then lint, type-check and run pytest against a
# real PostGIS (the embedded cluster, or YIZHAN_DATABASE_URL when set).
# Extra arguments go to pytest (e.g. -k health -x; -n 0 runs it in one process).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --with-browser
export PYTHONHASHSEED=0
# the sample's road graph, arrays and basemap (built once, ~40 s on a new checkout, then kept in
# .yizhan/cache) are prepared on the second core while the linters run on the first
mkdir -p .yizhan
.venv/bin/yizhan network prepare > .yizhan/prepare.log 2>&1 &
prepared=$!
echo "== ruff" && .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy" && .venv/bin/mypy
echo "== import contracts (the floors, pyproject.toml)" && .venv/bin/lint-imports --no-cache
if ! wait "$prepared"; then
  echo "== the sample network could not be prepared (the tests that need it will say why):"
  tail -5 .yizhan/prepare.log
fi
# one pytest worker per core (YIZHAN_TEST_WORKERS to choose), each test file whole on one of
# them, longest first (tests/conftest.py): a file's module fixtures (its app, database copy, Dask
# cluster) are built once
echo "== pytest"
exec .venv/bin/pytest -n "${YIZHAN_TEST_WORKERS:-auto}" --dist loadfile --no-loadscope-reorder "$@"
