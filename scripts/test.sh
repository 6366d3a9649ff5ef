#!/usr/bin/env bash
# Runs every test (unit, integration through real PTYs/brokers/browsers, system tests of the
# daemon process) after setting the machine up. Usage: ./scripts/test.sh [vitest args]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
mkdir -p .tmp
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-results.json "$@" || status=$?
# One plain closing line for CI: "N passed, N failed".
node -e '
const r = JSON.parse(require("fs").readFileSync(".tmp/vitest-results.json", "utf8"));
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit $status
