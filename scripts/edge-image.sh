#!/usr/bin/env bash
# Builds berth's edge proxy image (default tag berth-edge:local) FROM scratch out of Debian's caddy binary,
# its ldd libraries and the dynamic loader, so tests and registry-less hosts never pull an image
# (see ../shared/ENGINE.md). Installs the caddy package only when /usr/bin/caddy is missing, and skips the
# build when the tagged image already holds this very binary (label berth.edge.caddy-sha256).
# Usage: scripts/edge-image.sh [TAG]
set -euo pipefail

tag=${1:-berth-edge:local}
caddy=/usr/bin/caddy

log() { printf '[edge-image] %s\n' "$*" >&2; }
die() { printf '[edge-image] error: %s\n' "$*" >&2; exit 1; }

listening() { ss -ltnH 2>/dev/null | awk '{print $4}' | grep -Eq "(^|:)$1\$"; }

install_caddy() {
  [ "$(id -u)" -eq 0 ] || die "$caddy is missing and installing it needs root. Run this script as root, or run: apt-get install -y caddy"
  local busy_before=()
  for port in 80 2019; do listening "$port" && busy_before+=("$port"); done
  log "installing caddy (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy >/dev/null
  # The package enables a systemd service; without systemd it never starts, but make sure no host caddy
  # took :80 or :2019 (the edge container owns listen ports, and its admin API has its own port).
  for port in 80 2019; do
    if listening "$port" && [[ " ${busy_before[*]} " != *" $port "* ]]; then
      die "something started listening on :$port after installing caddy (a host caddy service?); stop it: systemctl disable --now caddy"
    fi
  done
}

[ -x "$caddy" ] || install_caddy
"$caddy" version >/dev/null 2>&1 || die "$caddy does not run"
docker info >/dev/null 2>&1 || die "no Docker engine answers; run: bash scripts/engine.sh"

sha=$(sha256sum "$caddy" | cut -d' ' -f1)
current=$(docker image inspect --format '{{ index .Config.Labels "berth.edge.caddy-sha256" }}' "$tag" 2>/dev/null || true)
if [ "$current" = "$sha" ]; then
  log "$tag is up to date (caddy $("$caddy" version | cut -d' ' -f1))"
  exit 0
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
root=$ctx/rootfs
mkdir -p "$root/usr/bin" "$root/tmp" "$root/data"
chmod 1777 "$root/tmp"
cp "$caddy" "$root/usr/bin/caddy"
# Every absolute path ldd prints: the libraries (after "=>") and the loader (first field of its own line).
while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done < <(ldd "$caddy" | grep -oE '/[^ ]+' | sort -u)
[ -n "$(find "$root" -name 'ld-linux*' -print -quit)" ] || die "ldd listed no dynamic loader for $caddy"

cat >"$ctx/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
LABEL berth.edge.caddy-sha256="$sha"
ENV PATH=/usr/bin XDG_CONFIG_HOME=/data/config XDG_DATA_HOME=/data/data
CMD ["caddy", "run", "--resume"]
EOF

log "building $tag from $caddy ($("$caddy" version | cut -d' ' -f1))"
# The legacy builder warns about its own deprecation on stderr: show its output only when it fails.
out=$(docker build --quiet --tag "$tag" "$ctx" 2>&1) || { printf '%s\n' "$out" >&2; die "docker build of $tag failed"; }
log "built $tag"
