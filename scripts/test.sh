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

# What this run starts it stops at its end, by pid: the engine (when none answered), the second host (when
# none of it ran). What was already running is left as it was.
engine_started=$(mktemp)
second_host_started=0
finish() {
  local rc=$?
  if [ "$second_host_started" = 1 ]; then bash scripts/second-host.sh down || true; fi
  if [ -s "$engine_started" ]; then
    local pid
    pid=$(cat "$engine_started")
    echo "[test] stopping the dockerd this run started (pid $pid)" >&2
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do [ -d "/proc/$pid" ] || break; sleep 0.5; done
  fi
  rm -f "$engine_started"
  exit $rc
}
trap finish EXIT

BERTH_ENGINE_STARTED=$engine_started bash scripts/engine.sh
bash scripts/edge-image.sh
bash scripts/prepare-contexts.sh test/fixtures examples >/dev/null
# The remote-engine tests' second host (SPEC §10): a network namespace with its own dockerd and sshd.
set +e
bash scripts/second-host.sh status >/dev/null
host_state=$?
set -e
if [ $host_state -ne 0 ]; then
  bash scripts/second-host.sh up
  if [ $host_state -eq 1 ]; then second_host_started=1; fi
fi
npx vitest run
