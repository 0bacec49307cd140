#!/bin/sh
# Installs the Debian packages lwss needs when they are missing.
# Usage: scripts/install-deps.sh [--check]
#   --check  only report what is missing (exit 1 if anything is)
set -eu

PKGS="build-essential pkg-config iputils-ping liblwip-dev libmbedtls-dev libpcap-dev check \
libp11-kit-dev p11-kit iproute2 openssl dnsmasq-base opensc tcpdump mosquitto mosquitto-clients clang \
libclang-rt-14-dev valgrind gnuplot-nox tshark"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

if [ "${1:-}" = "--check" ]; then
    echo "lwss: missing Debian packages:$missing" >&2
    exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "lwss: these Debian packages are missing:$missing" >&2
    echo "lwss: install them as root:  apt-get install -y$missing" >&2
    exit 1
fi

echo "lwss: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends $missing >/dev/null; then
    apt-get update -qq
    apt-get install -y --no-install-recommends $missing >/dev/null
fi
# The rig starts its own mosquitto inside a namespace (rig.sh --mqtt); the
# package's host-wide broker is not wanted.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now mosquitto.service >/dev/null 2>&1 || true
fi
