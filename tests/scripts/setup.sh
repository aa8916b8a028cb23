#!/usr/bin/env bash
# setup.sh - install what streamprobe needs to build and test (Debian 12, root).
# Installs only the missing packages; safe to run again.
set -euo pipefail
packages=(build-essential cmake pkg-config python3 libpcap-dev libcmocka-dev libndpi-dev
	libfixbuf-dev libfixbuf-tools nfdump tshark tcpreplay iproute2
	clang libclang-rt-14-dev dpkg-dev man-db groff-base mandoc systemd
	pmacct python3-ipfix python3-yaml postgresql-15 postgresql-client-15
	fastnetmon libdragonbox-dev)
# `setup.sh bench` adds the peers that tests/bench/ times the probe against.
[ "${1:-}" = bench ] && packages+=(softflowd libndpi-bin linux-perf time)
# libclang-rt-14-dev: libFuzzer and the sanitizer runtimes for clang 14
# (only recommended by clang; tests/fuzz/run.sh).  dpkg-dev: the .deb's
# dependencies (dpkg-shlibdeps); man-db, groff-base,
# mandoc: the manual pages rendered and linted; systemd: systemd-analyze verify
# on the unit.  pmacct (nfacctd), python3-ipfix, python3-yaml and PostgreSQL:
# the collector tests with the shipped decoder files; fastnetmon: the wire
# test's FastNetMon check; libdragonbox-dev: shortest float text
# (src/util/fmt_shortest.cc, header-only C++: g++ from build-essential).
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: missing packages ${missing[*]}; run as root (or sudo) to install them" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
