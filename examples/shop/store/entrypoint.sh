#!/bin/sh
# A stand-in for a database: its state lives in the named volume at /data and survives redeploys.
# With an argument it runs that one command instead (the migrate service uses this).
set -eu
mkdir -p /data
if [ $# -gt 0 ]; then
  exec "$@"
fi

echo "boot $(date -u +%Y-%m-%dT%H:%M:%SZ) ${APP_ENV:-unknown}" >>/data/boots.log
echo "store: $(wc -l </data/boots.log) boot(s) recorded in /data/boots.log"

# Stay PID 1 with a handler so that `docker stop` does not wait 10s (see web/entrypoint.sh).
httpd -f -p 8080 -h /data &
child=$!
trap 'kill "$child" 2>/dev/null; exit 0' TERM INT
wait "$child"
