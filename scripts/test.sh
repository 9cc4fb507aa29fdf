#!/usr/bin/env bash
# The test command (npm test): installs what is missing, starts the engine, builds, runs unit and
# end-to-end tests. The end-to-end suite needs a real engine; BERTH_SKIP_E2E=1 is the only way to skip it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || ! npm ls --depth=0 >/dev/null 2>&1; then
  npm ci --no-audit --no-fund
fi
npm run build

if [ "${BERTH_SKIP_E2E:-}" = "1" ]; then
  echo "BERTH_SKIP_E2E=1: running unit tests only; the end-to-end suite is skipped" >&2
  exec npx vitest run test/unit
fi
bash scripts/engine.sh
bash scripts/edge-image.sh
bash scripts/prepare-contexts.sh test/fixtures examples >/dev/null
exec npx vitest run
