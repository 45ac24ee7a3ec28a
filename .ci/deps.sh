#!/bin/sh
# Everything replyroute needs to build and test on Debian 12, fresh.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
	build-essential meson ninja-build pkg-config \
	libnl-3-dev libnl-route-3-dev libnftables-dev libsystemd-dev libjansson-dev \
	iproute2 nftables iptables iputils-ping socat procps kmod coreutils \
	valgrind python3 python3-prometheus-client jq bc \
	systemd-container debootstrap ca-certificates \
	debhelper dpkg-dev lintian scdoc \
	dnsmasq-base isc-dhcp-client radvd dhcpcd-base \
	conntrack libcap2-bin
