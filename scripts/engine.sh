#!/usr/bin/env bash
# Makes sure a Docker engine with Compose v2 answers on this host, installing only what is missing.
# Used by the test command and by the example. See ../shared/ENGINE.md for why each step exists.
set -euo pipefail

log() { printf '[engine] %s\n' "$*" >&2; }
die() { printf '[engine] error: %s\n' "$*" >&2; exit 1; }

as_root() {
  [ "$(id -u)" -eq 0 ] || die "$1 is missing and installing it needs root. Run this script as root, or install it yourself: $2"
}

apt_updated=0
apt_update() {
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
}

compose_v2() {
  local v
  v=$(docker compose version --short 2>/dev/null) || return 1
  case "$v" in v2.*|2.*) return 0 ;; *) return 1 ;; esac
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
  # The edge's end-to-end test tries its admin API as an unprivileged user with curl (setpriv is util-linux).
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
  [ ${#missing[@]} -eq 0 ] && return 0
  as_root "${missing[*]}" "apt-get install -y ${missing[*]}"
  apt_update
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Debian 12 packages only Compose v1; Debian 13 packages v2 as one static Go binary. Take just that binary
# from a low-pinned trixie source so nothing else of trixie is installed.
install_compose() {
  compose_v2 && return 0
  as_root "Docker Compose v2" "install the docker-compose v2 CLI plugin into /usr/local/lib/docker/cli-plugins"
  local src=/etc/apt/sources.list.d/berth-trixie.sources
  if [ ! -f "$src" ]; then
    [ -f /etc/apt/sources.list.d/debian.sources ] || die "no /etc/apt/sources.list.d/debian.sources to derive a trixie source from"
    # The first stanza is the main archive; keep it and change only the suites.
    awk 'BEGIN{RS="";ORS="\n\n"} NR==1{print}' /etc/apt/sources.list.d/debian.sources \
      | sed -E 's/^Suites:.*/Suites: trixie/' >"$src"
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' >/etc/apt/preferences.d/berth-trixie
    apt_updated=0
  fi
  apt_update
  local tmp
  tmp=$(mktemp -d)
  # apt downloads as the _apt user when it can write the folder; otherwise it warns and falls back to root.
  chown _apt "$tmp" 2>/dev/null || true
  log "installing Compose v2 (docker-compose from trixie)"
  (cd "$tmp" && apt-get download -qq docker-compose/trixie >/dev/null)
  dpkg -x "$tmp"/docker-compose_*.deb "$tmp/x"
  mkdir -p /usr/local/lib/docker/cli-plugins
  install -m 0755 "$tmp/x/usr/libexec/docker/cli-plugins/docker-compose" /usr/local/lib/docker/cli-plugins/docker-compose
  rm -rf "$tmp"
  compose_v2 || die "Compose v2 was installed but 'docker compose version' does not answer v2"
}

pid_alive() {
  local pid=$1 state
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  state=$(awk '/^State:/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ "$state" != "Z" ]
}

start_dockerd() {
  docker info >/dev/null 2>&1 && return 0
  if [ -n "${DOCKER_HOST:-}" ]; then
    die "DOCKER_HOST=$DOCKER_HOST does not answer; start that engine or unset DOCKER_HOST"
  fi
  [ "$(id -u)" -eq 0 ] || die "no Docker engine answers and starting dockerd needs root"
  local pidfile=/var/run/docker.pid logfile=/var/log/berth-dockerd.log attempt
  for attempt in 1 2 3; do
    if [ -f "$pidfile" ]; then
      local old
      old=$(cat "$pidfile" 2>/dev/null || true)
      if pid_alive "$old"; then
        log "dockerd (pid $old) is running but not answering yet; waiting"
      else
        log "removing stale $pidfile"
        rm -f "$pidfile"
      fi
    fi
    if [ ! -f "$pidfile" ]; then
      log "starting dockerd (log: $logfile)"
      setsid nohup dockerd >>"$logfile" 2>&1 </dev/null &
    fi
    local i
    for i in $(seq 1 60); do
      if docker info >/dev/null 2>&1; then
        log "engine answers: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
        # The test command stops, at its end, the dockerd it started (by this pid), and nothing else.
        if [ -n "${BERTH_ENGINE_STARTED:-}" ]; then cat "$pidfile" >"$BERTH_ENGINE_STARTED"; fi
        return 0
      fi
      sleep 0.5
      # dockerd gave up (for example "timeout waiting for containerd" right after a hard kill)
      if [ -f "$pidfile" ] && ! pid_alive "$(cat "$pidfile" 2>/dev/null || true)"; then break; fi
      if [ ! -f "$pidfile" ] && [ "$i" -gt 10 ] && ! pgrep -x dockerd >/dev/null 2>&1; then break; fi
    done
    log "dockerd did not answer (attempt $attempt); last log lines:"
    tail -n 5 "$logfile" >&2 || true
    sleep 3
  done
  die "the Docker engine could not be started; see $logfile"
}

install_packages
start_dockerd
install_compose
log "ready: $(docker compose version)"
