#!/usr/bin/env bash
# Install everything yizhan needs on a fresh Debian machine with only Python:
# system packages (PostgreSQL + PostGIS + pgRouting, Chromium for map tests), uv, the locked
# Python environment in .venv. Safe to run again: each step is skipped when already done.
# Usage: scripts/bootstrap.sh [--with-browser]
set -euo pipefail
cd "$(dirname "$0")/.."

PG_MAJOR="${YIZHAN_PG_MAJOR:-15}"
want_browser=0
[ "${1:-}" = "--with-browser" ] && want_browser=1

log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }

# --- system packages -------------------------------------------------------------------------
pkgs=()
[ -x "/usr/lib/postgresql/$PG_MAJOR/bin/initdb" ] || pkgs+=(postgresql "postgresql-$PG_MAJOR")
[ -f "/usr/share/postgresql/$PG_MAJOR/extension/postgis.control" ] || pkgs+=("postgresql-$PG_MAJOR-postgis-3")
[ -f "/usr/share/postgresql/$PG_MAJOR/extension/pgrouting.control" ] || pkgs+=("postgresql-$PG_MAJOR-pgrouting")
command -v npm >/dev/null || pkgs+=(npm)
# .pbf road extracts (yizhan region create / network import) are read through osmium
command -v osmium >/dev/null || pkgs+=(osmium-tool)
# a CJK font: planners' charts (matplotlib) and screenshots need Chinese glyphs
fc-list 2>/dev/null | grep -qi 'wqy\|cjk' || pkgs+=(fonts-wqy-zenhei fontconfig)
if [ "$want_browser" = 1 ]; then
  command -v chromium >/dev/null || pkgs+=(chromium)
  fc-list 2>/dev/null | grep -qi "color emoji" || pkgs+=(fonts-noto-color-emoji)
  # the reverse-proxy test: nginx terminating TLS (deploy/nginx-yizhan.conf), a self-signed cert
  command -v nginx >/dev/null || pkgs+=(nginx-light)
  command -v openssl >/dev/null || pkgs+=(openssl)
fi
# install_packages WHAT PACKAGE... : as root, with sudo, or say what to run
install_packages() {
  local what="$1"
  shift
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing $what: $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "$@" >/dev/null
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    log "installing $what with sudo: $*"
    sudo env DEBIAN_FRONTEND=noninteractive sh -c "apt-get update && apt-get install -y $*" >/dev/null
  else
    log "missing $what. Run as root:  apt-get update && apt-get install -y $*"
    exit 1
  fi
}
if [ "${#pkgs[@]}" -gt 0 ]; then
  install_packages "system packages" --no-install-recommends "${pkgs[@]}"
fi
# QGIS, an independent client of the basemap's vector tiles (a test draws them), with what
# Debian recommends for it (about 110 MB)
if [ "$want_browser" = 1 ] && ! [ -f /usr/lib/python3/dist-packages/qgis/core/__init__.py ]; then
  install_packages "QGIS for the tile tests" python3-qgis
fi

# --- uv and the Python environment ----------------------------------------------------------
export UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1
if ! command -v uv >/dev/null; then
  log "installing uv from PyPI"
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi
log "syncing the locked Python environment (.venv)"
uv sync --frozen --quiet
# the project's own modules as bytecode too (UV_COMPILE_BYTECODE covers the dependencies):
# where PYTHONDONTWRITEBYTECODE is set, every process would otherwise compile them again
# (~0.4 s of each start: the server, its workers, every yizhan command)
.venv/bin/python -m compileall -q -j 0 geo api cli maps pages >/dev/null
log "installing the map assets (Leaflet from the npm registry, pinned)"
.venv/bin/python -m maps.assets install >/dev/null
