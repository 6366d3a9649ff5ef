#!/usr/bin/env bash
# Runs the demo hall (embedded broker, simulated devices) after setting the machine up.
# Usage: ./scripts/demo.sh [hall-edge demo options]
set -euo pipefail
cd "$(dirname "$0")/.."
HALL_EDGE_SKIP_BROWSER=1 ./scripts/setup.sh   # the demo needs no browser
exec node dist/src/cli/main.js demo "$@"
