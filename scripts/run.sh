#!/usr/bin/env bash
# The main job: install everything, start the embedded PostGIS, load the Jiangmen sample,
# generate its road network, and serve the API and maps on http://127.0.0.1:8000/.
# Extra arguments go to 'yizhan serve' (e.g. --host 0.0.0.0 --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/yizhan serve "$@"
