#!/usr/bin/env bash
# bench_live.sh [PROBE] - live capture: the packet rate at which the probe's
# kernel drops start, with --threads 1 and N.
#
# Not part of CI.  Builds its own network, as tests/scripts/live_netns.sh
# does: two network namespaces joined by a veth pair (MTU 9000, IPv6 off).
# tcpreplay plays ../shared/bench's base capture (44 k full-payload packets
# of 33 real captures, make_bench_pcap.sh) into veth-a in namespace A,
# --unique-ip so that every loop makes new flows, at rising rates for
# SECONDS each; the probe captures on veth-b in namespace B (nDPI and the
# statistics, default timeouts, CSV to /dev/null, libpcap's default buffer
# unless BUFFER_SIZE is set), is stopped with SIGTERM after the replay and
# reports what the kernel gave it and dropped (pcap_stats).  One TSV row a
# run:
#   threads rate_asked sent_pps received kernel_dropped dropped_pct flows
# and, per thread count, the first rate with drops above 0.1 %.  tcpreplay
# itself tops out on a small machine: sent_pps says what it achieved (the
# "topspeed" row is as fast as it can send).
#
# Environment: THREADS (default "1 <number of CPUs>"), RATES (packets/s,
# default "25000 50000 100000 200000 400000 topspeed"), SECONDS_EACH (5),
# BUFFER_SIZE (bytes, --buffer-size).  Needs root, ip, tcpreplay.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
probe=$(readlink -f "${1:-$here/../../build/streamprobe}")
shared=${SHARED:-$here/../../../shared}
threads=${THREADS:-1 $(nproc)}
rates=${RATES:-25000 50000 100000 200000 400000 topspeed}
secs=${SECONDS_EACH:-5}

die() { echo "bench_live: $*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, live capture)"
for tool in ip tcpreplay capinfos; do
	command -v "$tool" >/dev/null || die "$tool not installed (bash tests/scripts/setup.sh)"
done
[ -x "$probe" ] || die "no probe at $probe (build first)"
OUT=/tmp/bench bash "$shared/bench/make_bench_pcap.sh" >/dev/null ||
	die "cannot build the benchmark captures"
pcap=/tmp/bench/base.pcap
npkts=$(capinfos -M -T -r -c "$pcap" | tail -1 | cut -f2)

tmp=$(mktemp -d /tmp/bench_live.XXXXXX)
nsA=blA$$ nsB=blB$$
cleanup() {
	local p
	for p in $(ip netns pids "$nsA" 2>/dev/null) $(ip netns pids "$nsB" 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del "$nsA" 2>/dev/null
	ip netns del "$nsB" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

ip netns add "$nsA" && ip netns add "$nsB" || die "cannot create network namespaces"
for ns in "$nsA" "$nsB"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	    net.ipv6.conf.default.disable_ipv6=1
done
ip link add veth-a netns "$nsA" mtu 9000 type veth peer name veth-b \
    netns "$nsB" mtu 9000 &&
	ip -n "$nsA" link set veth-a up && ip -n "$nsB" link set veth-b up ||
	die "cannot set up the veth pair"
sleep 1	# carrier

bufopt=()
[ -n "${BUFFER_SIZE:-}" ] && bufopt=(--buffer-size "$BUFFER_SIZE")
printf 'threads\trate_asked\tsent_pps\treceived\tkernel_dropped\tdropped_pct\tflows\n'
for t in $threads; do
	first=
	for rate in $rates; do
		if [ "$rate" = topspeed ]; then
			speed=(--topspeed) loops=$(( 400000 * secs / npkts + 1 ))
		else
			speed=(--pps="$rate") loops=$(( rate * secs / npkts + 1 ))
		fi
		ip netns exec "$nsB" "$probe" -i veth-b --threads "$t" \
		    --statistics --csv /dev/null --stats-interval 1 \
		    --no-progress "${bufopt[@]}" 2>"$tmp/probe.err" &
		pid=$!
		for _ in $(seq 100); do	# in its capture loop
			grep -q 'status:' "$tmp/probe.err" && break
			sleep 0.1
		done
		ip netns exec "$nsA" tcpreplay -i veth-a "${speed[@]}" \
		    --loop="$loops" --unique-ip "$pcap" >"$tmp/replay.out" 2>&1
		sleep 1
		kill -TERM "$pid"; wait "$pid"
		sent=$(sed -n 's/.*Rated: .* \([0-9.]*\) pps.*/\1/p' "$tmp/replay.out" | head -1)
		read -r rec drop < <(sed -n \
		    's/.*capture: \([0-9]*\) received, \([0-9]*\) dropped by kernel.*/\1 \2/p' \
		    "$tmp/probe.err")
		flows=$(sed -n 's/.*flows: \([0-9]*\) exported.*/\1/p' "$tmp/probe.err")
		pct=$(awk -v r="${rec:-0}" -v d="${drop:-0}" \
		    'BEGIN {printf "%.2f", (r + d > 0 ? 100 * d / (r + d) : 0)}')
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$rate" "${sent:-?}" \
		    "${rec:-?}" "${drop:-?}" "$pct" "${flows:-?}"
		[ -z "$first" ] && awk -v p="$pct" 'BEGIN {exit !(p > 0.1)}' &&
			first="$rate (sent ${sent:-?} pps)"
	done
	echo "threads $t: kernel drops above 0.1 % start at: ${first:-none up to the top speed of tcpreplay}"
done
