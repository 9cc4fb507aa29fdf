#!/usr/bin/env bash
# A second Docker host on this machine, for the tests of remote engines and Swarm (../shared/ENGINE.md):
# its own network namespace (10.231.0.2, reached from here through a veth pair at 10.231.0.1), its own
# dockerd, an sshd whose sessions reach that dockerd (key-only root login), a one-node swarm, and a registry
# on that host's own 127.0.0.1:5000. Everything is started by pid and stopped by pid; nothing of the first
# engine is touched.
#
#   scripts/second-host.sh up     start what is missing (as root; installs openssh-server, docker-registry)
#   scripts/second-host.sh down   stop what `up` started, remove the namespace, the key and the ssh config entry
#   scripts/second-host.sh status exit 0 when all of it runs, 1 when none of it does, 2 when part of it does
#   scripts/second-host.sh env    print the variables tests read (BERTH_HOST_B, BERTH_HOST_B_SOCKET, ...)
#
# Its sshd's sessions get DOCKER_HOST (its dockerd) and BERTH_EDGE_DIR (its edge's directory, apart from this
# machine's: the namespace shares this machine's file system).
set -euo pipefail

NS=berthb
ADDR=10.231.0.2
PEER=10.231.0.1
VETH=berthb0
VETH_NS=berthb1
DIR=/var/lib/berth-host-b
RUN=/run/berth-host-b
SOCK=/run/docker-b.sock
DOCKERD_PID=/run/docker-b.pid
SSHD_PID=$RUN/sshd.pid
REGISTRY_PID=$RUN/registry.pid
KEY=/root/.ssh/berth_host_b
SSH_CONFIG=/root/.ssh/config
MARK_BEGIN='# berth second host (scripts/second-host.sh): begin'
MARK_END='# berth second host (scripts/second-host.sh): end'

log() { printf '[second-host] %s\n' "$*" >&2; }
die() { printf '[second-host] error: %s\n' "$*" >&2; exit 1; }
in_ns() { nsenter --net=/var/run/netns/$NS "$@"; }

pid_alive() {
  local file=$1 pid state
  [ -f "$file" ] || return 1
  pid=$(cat "$file" 2>/dev/null || true)
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  state=$(awk '/^State:/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ "$state" != "Z" ]
}

install_missing() {
  local missing=()
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  # No service of these packages may start on this machine's own network: policy-rc.d refuses them (no systemd here anyway).
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

namespace_up() {
  if [ ! -e /var/run/netns/$NS ]; then
    log "network namespace $NS ($ADDR)"
    ip netns add $NS
  fi
  if ! ip link show $VETH >/dev/null 2>&1; then
    ip link add $VETH type veth peer name $VETH_NS
    ip link set $VETH_NS netns $NS
    ip addr add $PEER/30 dev $VETH
    ip link set $VETH up
    in_ns ip addr add $ADDR/30 dev $VETH_NS
    in_ns ip link set $VETH_NS up
    in_ns ip link set lo up
    in_ns ip route add default via $PEER 2>/dev/null || true
  fi
}

dockerd_up() {
  pid_alive $DOCKERD_PID && DOCKER_HOST=unix://$SOCK docker info >/dev/null 2>&1 && return 0
  rm -f $DOCKERD_PID
  log "dockerd of the second host (unix://$SOCK)"
  mkdir -p /var/lib/docker-b /run/docker-b $RUN
  # nsenter --net, not ip netns exec: the latter remounts /sys and dockerd fails on the cgroup devices.
  setsid nohup nsenter --net=/var/run/netns/$NS dockerd --data-root /var/lib/docker-b --exec-root /run/docker-b \
    --pidfile $DOCKERD_PID -H unix://$SOCK --bip 172.29.250.1/24 --default-address-pool base=172.29.0.0/17,size=24 \
    >>/var/log/berth-dockerd-b.log 2>&1 </dev/null &
  local i
  for i in $(seq 1 60); do
    DOCKER_HOST=unix://$SOCK docker info >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  tail -n 5 /var/log/berth-dockerd-b.log >&2 || true
  die "the second host's dockerd did not answer"
}

sshd_up() {
  pid_alive $SSHD_PID && return 0
  mkdir -p $DIR $RUN /root/.ssh /run/sshd
  chmod 700 /root/.ssh $DIR
  [ -f $DIR/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f $DIR/ssh_host_ed25519_key
  [ -f $KEY ] || ssh-keygen -q -t ed25519 -N '' -C berth-second-host -f $KEY
  install -m 600 $KEY.pub $DIR/authorized_keys
  cat >$DIR/sshd_config <<EOF
ListenAddress $ADDR
HostKey $DIR/ssh_host_ed25519_key
PidFile $SSHD_PID
AuthorizedKeysFile $DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
MaxStartups 100
MaxSessions 100
AllowStreamLocalForwarding yes
AllowTcpForwarding yes
SetEnv DOCKER_HOST=unix://$SOCK BERTH_EDGE_DIR=$DIR/edge
Subsystem sftp internal-sftp
EOF
  log "sshd of the second host (root@$ADDR, key $KEY)"
  in_ns /usr/sbin/sshd -f $DIR/sshd_config
  local i
  for i in $(seq 1 20); do pid_alive $SSHD_PID && break; sleep 0.25; done
  pid_alive $SSHD_PID || die "sshd of the second host did not start"
  ssh_config_entry
}

# The operator's ssh config names the key and where the host key is kept; the entry is removed by `down`.
ssh_config_entry() {
  grep -qF "$MARK_BEGIN" $SSH_CONFIG 2>/dev/null && return 0
  touch $SSH_CONFIG && chmod 600 $SSH_CONFIG
  cat >>$SSH_CONFIG <<EOF
$MARK_BEGIN
Host $ADDR
  IdentityFile $KEY
  UserKnownHostsFile $DIR/known_hosts
  StrictHostKeyChecking accept-new
$MARK_END
EOF
}

swarm_up() {
  local state
  state=$(DOCKER_HOST=unix://$SOCK docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || true)
  [ "$state" = active ] && return 0
  log "one-node swarm on the second host"
  DOCKER_HOST=unix://$SOCK docker swarm init --advertise-addr $ADDR >/dev/null
}

registry_up() {
  pid_alive $REGISTRY_PID && return 0
  mkdir -p $DIR/registry $RUN
  cat >$DIR/registry.yml <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $DIR/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
EOF
  log "registry on the second host's 127.0.0.1:5000"
  setsid nohup nsenter --net=/var/run/netns/$NS docker-registry serve $DIR/registry.yml >>/var/log/berth-registry-b.log 2>&1 </dev/null &
  echo $! >$REGISTRY_PID
  local i
  for i in $(seq 1 40); do
    in_ns bash -c 'exec 3<>/dev/tcp/127.0.0.1/5000' 2>/dev/null && return 0
    sleep 0.25
  done
  die "the second host's registry did not start (see /var/log/berth-registry-b.log)"
}

stop_pid() {
  local file=$1 what=$2 pid i
  pid_alive "$file" || { rm -f "$file"; return 0; }
  pid=$(cat "$file")
  log "stopping $what (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do [ -d "/proc/$pid" ] || break; sleep 0.25; done
  rm -f "$file"
}

down() {
  stop_pid $REGISTRY_PID registry
  stop_pid $SSHD_PID sshd
  stop_pid $DOCKERD_PID dockerd
  ip link del $VETH 2>/dev/null || true
  [ -e /var/run/netns/$NS ] && ip netns del $NS
  if [ -f $SSH_CONFIG ] && grep -qF "$MARK_BEGIN" $SSH_CONFIG; then
    sed -i "\|^$MARK_BEGIN\$|,\|^$MARK_END\$|d" $SSH_CONFIG
  fi
  rm -f $DIR/known_hosts $KEY $KEY.pub
}

case "${1:-}" in
  up)
    [ "$(id -u)" -eq 0 ] || die "the second host needs root (network namespace, dockerd, sshd)"
    install_missing
    namespace_up
    dockerd_up
    sshd_up
    swarm_up
    registry_up
    ;;
  down) down ;;
  status)
    parts=0 up=0
    for check in "[ -e /var/run/netns/$NS ]" "pid_alive $DOCKERD_PID" "pid_alive $SSHD_PID" "pid_alive $REGISTRY_PID"; do
      parts=$((parts + 1))
      if eval "$check"; then up=$((up + 1)); fi
    done
    if [ $up -eq $parts ] && DOCKER_HOST=unix://$SOCK docker info >/dev/null 2>&1; then echo "second host: up"; exit 0; fi
    if [ $up -eq 0 ]; then echo "second host: down"; exit 1; fi
    echo "second host: partly up ($up of $parts parts)"; exit 2
    ;;
  env)
    printf 'BERTH_HOST_B=ssh://root@%s\nBERTH_HOST_B_ADDR=%s\nBERTH_HOST_B_SOCKET=unix://%s\nBERTH_HOST_B_SSHD_PID=%s\n' $ADDR $ADDR $SOCK $SSHD_PID
    ;;
  *) die "usage: $0 up|down|status|env" ;;
esac
