#!/bin/sh
# Everything replyroute needs to build and test on Debian 12, fresh.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
	build-essential meson ninja-build pkg-config \
	libnl-3-dev libnl-route-3-dev libnftables-dev libsystemd-dev \
	iproute2 nftables iputils-ping socat procps kmod coreutils \
	valgrind python3 jq bc \
	conntrack iptables libcap2-bin \
	systemd-container debootstrap ca-certificates
