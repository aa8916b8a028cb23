#!/usr/bin/env bash
# bench_tcp_perf.sh [PROBE [PLUGIN]] - the tcp_perf plugin's cost per packet.
#
# Runs the probe on the benchmark capture without a plugin, with
# packet_with_666_size.so (the plugin path itself: packet view, flow view,
# one call; the plugin adds a compare) and with tcp_perf.so, interleaved
# (A B C A B C ...: all see the same machine state, which on a shared
# machine drifts), RUNS rounds (default 5), and reports the medians and the
# differences per packet, in ns: of the metering loop (the probe's
# "metering: S s" line; plugins run there) and of the wall time.  No DPI (--n-dissections 0) and CSV to /dev/null,
# so that the plugin's share is not lost in nDPI's; long timeouts, as
# bench_probe.sh.  Not a CTest test (timings): README "tcp_perf" quotes it.
#
# Capture: $PCAP, else /tmp/bench/bench.pcap (15 M packets), else
# /tmp/bench1m/bench.pcap, else built by ../shared/bench/make_bench_pcap.sh
# into /tmp/bench.  Either holds the shared captures' TCP at snaplen 128:
# every TCP header is there, so every TCP packet goes through the analysis.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
probe=${1:-$here/../../build/streamprobe}
plugin=${2:-$here/../../build/plugins/tcp_perf.so}
shared=${SHARED:-$here/../../../shared}
runs=${RUNS:-5}
[ -x "$probe" ] || { echo "bench: no probe at $probe (build first)" >&2; exit 2; }
[ -f "$plugin" ] || { echo "bench: no plugin at $plugin (build first)" >&2; exit 2; }
pcap=${PCAP:-}
if [ -z "$pcap" ]; then
	for p in /tmp/bench/bench.pcap /tmp/bench1m/bench.pcap; do
		[ -f "$p" ] && { pcap=$p; break; }
	done
fi
if [ -z "$pcap" ]; then
	[ -d "$shared/bench" ] || { echo "bench: $shared/bench not found" >&2; exit 2; }
	OUT=/tmp/bench bash "$shared/bench/make_bench_pcap.sh" >/dev/null
	pcap=/tmp/bench/bench.pcap
fi
cat "$pcap" >/dev/null	# warm the page cache
packets=$(capinfos -M -T -r -c "$pcap" | tail -1 | cut -f2)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One run: "metering_s wall_s" on stdout.
run() {
	local err=$tmp/err
	/usr/bin/time -f '%e' -o "$tmp/time" "$probe" -r "$pcap" \
		--idle-timeout 7200 --active-timeout 86400 --n-dissections 0 \
		--csv /dev/null --no-progress "$@" 2>"$err" || {
		cat "$err" >&2
		exit 1
	}
	printf '%s %s\n' \
		"$(sed -n 's/.*metering: \([0-9.]*\) s,.*/\1/p' "$err")" \
		"$(cat "$tmp/time")"
}

seed=${SEED_PLUGIN:-$(dirname "$plugin")/packet_with_666_size.so}
: >"$tmp/base"
: >"$tmp/seed"
: >"$tmp/plug"
for i in $(seq "$runs"); do
	run >>"$tmp/base"
	[ -f "$seed" ] && run --plugin "$seed" >>"$tmp/seed"
	run --plugin "$plugin" >>"$tmp/plug"
	echo "round $i: none $(tail -1 "$tmp/base"), packet_with_666_size" \
	    "$(tail -1 "$tmp/seed"), tcp_perf $(tail -1 "$tmp/plug")" \
	    "(metering s, wall s)" >&2
done

median() {	# column $2 of file $1
	sort -g -k"$2,$2" "$1" | awk -v c="$2" '{v[NR] = $c}
	    END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
mb=$(median "$tmp/base" 1)
mp=$(median "$tmp/plug" 1)
wb=$(median "$tmp/base" 2)
wp=$(median "$tmp/plug" 2)
echo "capture: $pcap, $packets packets, $runs interleaved rounds, medians"
awk -v n="$packets" -v mb="$mb" -v mp="$mp" -v wb="$wb" -v wp="$wp" 'BEGIN {
	printf "metering s: none %.3f, tcp_perf %.3f: %+.1f ns per packet\n",
	    mb, mp, (mp - mb) * 1e9 / n
	printf "wall s:     none %.3f, tcp_perf %.3f: %+.1f ns per packet\n",
	    wb, wp, (wp - wb) * 1e9 / n
}'
if [ -s "$tmp/seed" ]; then
	ms=$(median "$tmp/seed" 1)
	awk -v n="$packets" -v mb="$mb" -v ms="$ms" -v mp="$mp" 'BEGIN {
	printf "metering s: packet_with_666_size %.3f: the plugin path %+.1f ns" \
	    " per packet, tcp_perf beyond it %+.1f ns\n", ms,
	    (ms - mb) * 1e9 / n, (mp - ms) * 1e9 / n
	}'
fi
