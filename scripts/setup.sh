#!/usr/bin/env bash
# Installs what strata needs on a fresh Debian machine (run as root): the FUSE libraries and
# tools, the headers fuse-native is rebuilt against, the tools the tests and the benchmark
# use; then the npm dependencies (which patch and rebuild fuse-native) and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libfuse2 fuse3 libfuse-dev pkg-config build-essential python3 attr e2fsprogs xfsprogs
          fio fuse-overlayfs git tar util-linux kmod psmisc)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The FUSE and overlay modules may be built in or loadable; either way /dev/fuse must exist.
modprobe fuse 2>/dev/null || true
modprobe overlay 2>/dev/null || true
[ -e /dev/fuse ] || { echo "setup: /dev/fuse is missing: FUSE mounts cannot work here" >&2; exit 1; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
