#!/usr/bin/env bash
# Installs the Debian 12 packages trnsim needs to build and test, only those missing.
# Idempotent. As root it runs apt-get; otherwise it prints the exact command to run.
set -euo pipefail

pkgs=(cmake make gcc libc6-dev pkg-config libcjson-dev libopenblas-dev clang-format python3)

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "trnsim needs these Debian packages: ${missing[*]}" >&2
    echo "run:  sudo apt-get update && sudo $cmd" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$cmd
