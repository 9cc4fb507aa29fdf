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
  rm -rf "$XDG_CACHE_HOME"
  exit $rc
}
# berth's caches (compiled code, validated deploy.yml, engine identities, Compose's version) of the berth processes
# this run starts go to a directory of the run's own, removed at its end: the suite leaves nothing behind in the
# home directory of whoever runs it.
export XDG_CACHE_HOME
XDG_CACHE_HOME=$(mktemp -d /tmp/berth-test-cache.XXXXXX)
trap finish EXIT

BERTH_ENGINE_STARTED=$engine_started bash scripts/engine.sh
# Tests that restart the engine (crash, bluegreen) run engine.sh again: when this run started the engine, the
# one they start is this run's to stop, so its pid replaces the first. An engine that was already running is
# someone else's: what replaces it is left running too.
if [ -s "$engine_started" ]; then export BERTH_ENGINE_STARTED=$engine_started; fi
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
# Two vitest processes side by side (test/e2e/projects.ts): this host's files, and the files of the second
# host's engine, each one file at a time. The second starts once the first has taken the inventory of the
# engines (globalSetup.ts) into BERTH_INVENTORY_FILE. Then the files that need this engine alone, then the
# leftovers check against that inventory.
export BERTH_INVENTORY_FILE
BERTH_INVENTORY_FILE=$(mktemp -u /tmp/berth-inventory.XXXXXX.json)
side_log=$(mktemp)
npx vitest run --project this-host &
this_host=$!
for _ in $(seq 1 240); do [ -s "$BERTH_INVENTORY_FILE" ] || ! kill -0 $this_host 2>/dev/null && break; sleep 0.5; done
if [ ! -s "$BERTH_INVENTORY_FILE" ]; then
  echo "[test] the this-host run took no inventory of the engines ($BERTH_INVENTORY_FILE)" >&2
  wait $this_host || true
  exit 1
fi
npx vitest run --project second-host >"$side_log" 2>&1 &
second_host=$!
set +e
wait $this_host
this_rc=$?
wait $second_host
second_rc=$?
set -e
echo "[test] the second host's files (run beside this host's):"
cat "$side_log"
rm -f "$side_log"
if [ $this_rc -ne 0 ] || [ $second_rc -ne 0 ]; then
  echo "[test] failed: this-host exit $this_rc, second-host exit $second_rc" >&2
  exit 1
fi
npx vitest run --project engine-alone
npx vitest run --project leftovers
rm -f "$BERTH_INVENTORY_FILE"
