#!/usr/bin/env bash
# The images the container test needs and no registry can give here, made from Debian's own
# packages and kept in the test's dockerd data root (a fixed directory), so a second run reuses
# them: local/debian:bookworm (debootstrap minbase, its tarball cached beside), a Node 24 base
# for deploy/Dockerfile (local/node:24-bookworm-slim), and stand-ins for compose's third-party
# images (PostgreSQL, NATS, Prometheus, and an OTLP sink in Jaeger's place).
#
# Usage (DOCKER_HOST set by run.sh): base-images.sh CACHE_DIR REPO_ROOT
set -euo pipefail
cache="$1"
root="$2"
here="$(cd "$(dirname "$0")" && pwd)"
has_image() { docker image inspect "$1" >/dev/null 2>&1; }

if ! has_image local/debian:bookworm; then
  tarball="$cache/debian-bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    echo "base: debootstrap --variant=minbase bookworm (about a minute, once per machine)"
    rm -rf "$cache/rootfs"
    debootstrap --variant=minbase bookworm "$cache/rootfs" "${MAYFLY_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$cache/debootstrap.log" 2>&1 \
      || { tail -20 "$cache/debootstrap.log"; echo "base: debootstrap failed (log: $cache/debootstrap.log)"; exit 1; }
    # What an image never needs: downloaded packages, package lists (stand-ins update their own),
    # documentation and translations.
    rm -rf "$cache/rootfs/var/cache/apt/archives/"*.deb "$cache/rootfs/var/lib/apt/lists/"* \
      "$cache/rootfs/usr/share/doc/"* "$cache/rootfs/usr/share/man/"* "$cache/rootfs/usr/share/locale/"*
    tar -C "$cache/rootfs" -cf "$tarball.partial" . && mv "$tarball.partial" "$tarball"
    rm -rf "$cache/rootfs"
  fi
  docker import "$tarball" local/debian:bookworm >/dev/null
fi

if ! has_image local/node:24-bookworm-slim; then
  node_bin="$(node -p 'process.execPath')"
  "$node_bin" --version | grep -q '^v24\.' || { echo "base: $node_bin is not Node 24 (run from the repository with node_modules/.bin first in PATH)"; exit 1; }
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  [ -f "$npm_dir/package.json" ] || { echo "base: cannot find npm's package directory (from $(command -v npm))"; exit 1; }
  context="$(mktemp -d)"
  cp "$node_bin" "$context/node"
  cp -r "$npm_dir" "$context/npm"
  cp "$here/standins/node-base.Dockerfile" "$context/Dockerfile"
  docker build -q -t local/node:24-bookworm-slim "$context" >/dev/null
  rm -rf "$context"
fi

for standin in postgres nats prometheus otlp-sink; do
  if ! has_image "local/$standin-standin"; then
    echo "base: building local/$standin-standin"
    docker build -q -t "local/$standin-standin" -f "$here/standins/$standin.Dockerfile" "$here/standins" >/dev/null
  fi
done
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^local/' | sed 's/^/base: /'
