#!/bin/sh
# Builds the document root from the baked files and this environment's variables, then serves it.
set -eu

mkdir -p /www
cp -R /srv/www/. /www/
chmod 0755 /www/cgi-bin/*
# /version: the baked version followed by the environment, e.g. "shop 1.0.0 staging".
read -r version </srv/www/version
printf '%s %s\n' "$version" "${APP_ENV:-unknown}" >/www/version
printf '%s\n' "${APP_ENV:-unknown}" >/www/env
echo "web: serving $version for ${APP_ENV:-unknown} on :8080"

# The shell stays PID 1 so that `docker stop` (SIGTERM) ends the container at once: PID 1 ignores
# signals it has no handler for, and httpd installs none, which would make every stop wait 10s.
httpd -f -p 8080 -h /www &
child=$!
trap 'kill "$child" 2>/dev/null; exit 0' TERM INT
wait "$child"
