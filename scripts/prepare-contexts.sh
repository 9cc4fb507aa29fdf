#!/usr/bin/env bash
# Puts the static busybox into every docker build context under the given directories whose Dockerfile
# does `COPY busybox`. The binary is not committed (see .gitignore); the images are FROM scratch, so it
# must be the static build from busybox-static — a dynamic one would fail inside the image.
# Usage: scripts/prepare-contexts.sh DIR...   (BUSYBOX=/path/to/busybox to use another binary)
set -euo pipefail

die() { printf '[prepare-contexts] error: %s\n' "$*" >&2; exit 1; }
log() { printf '[prepare-contexts] %s\n' "$*" >&2; }

[ $# -gt 0 ] || die "usage: $0 DIR... (directories to search for build contexts)"

src=${BUSYBOX:-/bin/busybox}
[ -x "$src" ] || die "$src is missing; install it with: apt-get install -y busybox-static"
"$src" --help >/dev/null 2>&1 || die "$src does not run"
# ldd exits non-zero for a static binary and says so; any library listed means a dynamic build.
if command -v ldd >/dev/null 2>&1; then
  linkage=$(ldd "$src" 2>&1 || true)
  if [[ $linkage != *'not a dynamic executable'* ]]; then
    die "$src is dynamically linked and would not run in a FROM scratch image; install busybox-static (apt-get install -y busybox-static) or set BUSYBOX to a static busybox"
  fi
fi

found=0
for dir in "$@"; do
  [ -d "$dir" ] || die "$dir is not a directory"
  while IFS= read -r -d '' dockerfile; do
    grep -Eq '^[[:space:]]*COPY[[:space:]]+busybox[[:space:]]' "$dockerfile" || continue
    ctx=$(dirname "$dockerfile")
    found=$((found + 1))
    if cmp -s "$src" "$ctx/busybox"; then
      continue
    fi
    install -m 0755 "$src" "$ctx/busybox"
    log "copied $src to $ctx/busybox"
  done < <(find "$dir" -name node_modules -prune -o -type f -name Dockerfile -print0)
done
[ "$found" -gt 0 ] || die "no Dockerfile with 'COPY busybox' under: $*"
log "$found build context(s) ready"
