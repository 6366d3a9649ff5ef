#!/usr/bin/env bash
# Brings a fresh machine to the point where hall-edge builds, runs and tests:
# Debian packages (when missing), npm dependencies, and the TypeScript build.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v socat >/dev/null || need+=(socat)
command -v mosquitto >/dev/null || need+=(mosquitto)
command -v mosquitto_sub >/dev/null || need+=(mosquitto-clients)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
command -v openssl >/dev/null || need+=(openssl)
command -v gpiomon >/dev/null || need+=(gpiod)
# The independent BX-5K vector checker (firmware-protocols/tools/check_led_bx5k_vectors.py).
command -v python3 >/dev/null || need+=(python3)
# PostgreSQL 15 for the central collector's tests (a throwaway cluster made with initdb/pg_ctl).
[ -x /usr/lib/postgresql/15/bin/initdb ] || command -v initdb >/dev/null || need+=(postgresql)
if [ "${HALL_EDGE_SKIP_BROWSER:-0}" != 1 ]; then
  command -v chromium >/dev/null || need+=(chromium)
  # A CJK font, so the dashboard's Chinese labels render in browser tests and screenshots.
  [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  # The tests start their own Mosquitto on a free port; Debian's package would otherwise start
  # a system broker on 1883, the port the demo hall's embedded broker uses.
  if [[ " ${need[*]} " == *" mosquitto "* ]] && command -v systemctl >/dev/null && systemctl is-active --quiet mosquitto 2>/dev/null; then
    echo "setup: stopping and disabling the mosquitto service this setup just installed (it would hold port 1883)"
    $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || true
  fi
fi

# Install when package.json or package-lock.json changed since the last install.
# `npm install` rather than `npm ci`: npm 11 refuses `npm ci` on a lock file that lists
# optional platform packages (rollup's) without entries, which it writes itself; `npm install`
# installs the same locked versions.
stamp=node_modules/.hall-edge-installed
if [ ! -f "$stamp" ] || ! cat package.json package-lock.json | cmp -s - "$stamp"; then
  echo "setup: npm install"
  npm install --no-audit --no-fund --loglevel=error
  cat package.json package-lock.json > "$stamp"
fi

echo "setup: building"
npx tsc -p tsconfig.json
