#!/usr/bin/env bash
# bench_probe.sh [PROBE] - streamprobe's speed and memory on the benchmark capture.
#
# Builds ../shared's 15 M-packet benchmark capture if needed
# (../shared/bench/make_bench_pcap.sh, /tmp/bench), then times the probe with
# the same long timeouts bench_peers.sh gives the peers (idle 7200 s,
# active 86400 s: no flow is split, ~1 M flows are cached at the end), with
# CSV to /dev/null, warm cache, best of RUNS runs, in three configurations:
#   no-dpi      --n-dissections 0                 target >= 5 M packets/s
#   no-dpi+stats --n-dissections 0 --statistics
#   dpi         default (nDPI, 20 packets a flow)  target >= 1.5 M packets/s
#   ipfix       --n-dissections 0 --statistics --template nfstream, IPFIX to a
#               file only: the export thread's flows/s per CPU second (user +
#               system: records built, encoded by libfixbuf and written to
#               the file), best of RUNS, target 1 M; also shown: the rate of
#               user time alone (building and encoding, without the kernel's
#               copy into the page cache, which varies 5x run to run on VMs)
# Reports wall time, packets/s end to end, the metering loop's packets/s,
# peak RSS and bytes per cached flow (record, links, index and DPI state
# slot; DPI strings are reported by the probe separately), and checks
# <= 256 B per flow, 512 with --statistics.
# CONFIGS="ipfix" runs only the named configurations.
# PEERS=1 also runs ../shared/bench/bench_peers.sh for pcap_count and softflowd.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
probe=${1:-$here/../../build/streamprobe}
shared=${SHARED:-$here/../../../shared}
runs=${RUNS:-3}
[ -x "$probe" ] || { echo "bench: no probe at $probe (build first)" >&2; exit 2; }
[ -d "$shared/bench" ] || { echo "bench: $shared/bench not found" >&2; exit 2; }
OUT=${BENCH_DIR:-/tmp/bench} bash "$shared/bench/make_bench_pcap.sh" >/dev/null
pcap=${BENCH_DIR:-/tmp/bench}/bench.pcap
cat "$pcap" >/dev/null	# warm the page cache, as bench_peers.sh does
packets=$(capinfos -M -T -r -c "$pcap" | tail -1 | cut -f2)
status=0

printf 'config\twall_s\tpps\tmetering_pps(ipfix: export flows/s)\tmaxrss_kB\tbytes_per_flow\tflows\n'
ipfix_out=${BENCH_DIR:-/tmp/bench}/bench.ipfix
for cfg in ${CONFIGS:-no-dpi no-dpi+stats dpi ipfix}; do
	case $cfg in
	no-dpi) opt=(--n-dissections 0 --csv /dev/null) ;;
	no-dpi+stats) opt=(--n-dissections 0 --statistics --csv /dev/null) ;;
	dpi) opt=(--csv /dev/null) ;;
	ipfix) opt=(--n-dissections 0 --statistics --template nfstream
	    --export "ipfix+file://$ipfix_out") ;;
	esac
	best=""
	for _ in $(seq "$runs"); do
		err=$(mktemp)
		# The previous run's 500 MB file may still be being written back
		# to disk: remove it and wait, so each run writes to a quiet disk.
		rm -f "$ipfix_out"
		sync
		/usr/bin/time -f '%e %M' -o "$err.time" "$probe" -r "$pcap" \
			--idle-timeout 7200 --active-timeout 86400 "${opt[@]}" \
			2>"$err"
		read -r wall rss <"$err.time"
		mpps=$(sed -n 's/.*metering: .* s, \([0-9.]*\) M packets.*/\1/p' "$err")
		bpf=$(sed -n 's/.*cached, \([0-9]*\) bytes each.*/\1/p' "$err")
		flows=$(sed -n 's/.*flows: \([0-9]*\) exported.*/\1/p' "$err")
		key=$wall
		if [ "$cfg" = ipfix ]; then
			mpps=$(sed -n 's/.*export thread: .* CPU, \([0-9]*\) flows.*/\1/p' "$err" |
				awk '{printf "%.2f", $1 / 1e6}')
			encode=$(sed -n 's/.*s user: records built and encoded, \([0-9]*\) flows.*/\1/p' "$err")
			key=$(awk -v m="$mpps" 'BEGIN{printf "%.3f", (m > 0 ? 1 / m : 999)}')	# best = fastest export
		fi
		rm -f "$err" "$err.time"
		if [ -z "$best" ] || awk -v a="$key" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then
			best="$key $wall $rss $mpps $bpf $flows ${encode:-}"
		fi
	done
	read -r _ wall rss mpps bpf flows encode <<<"$best"
	pps=$(awk -v p="$packets" -v w="$wall" 'BEGIN{printf "%.0f", p / w}')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cfg" "$wall" "$pps" \
		"$(awk -v m="$mpps" 'BEGIN{printf "%.0f", m * 1e6}')" "$rss" "$bpf" "$flows"
	limit=256
	case $cfg in no-dpi+stats | ipfix) limit=512 ;; esac
	if [ "$bpf" -gt "$limit" ]; then
		echo "target missed: $bpf bytes per flow with $cfg (limit $limit)"
		status=1
	fi
	target=0
	[ "$cfg" = no-dpi ] && target=5000000
	[ "$cfg" = dpi ] && target=1500000
	[ "$cfg" = ipfix ] && echo "ipfix: building and encoding alone (user CPU): $encode records/s"
	if [ "$cfg" = ipfix ] && awk -v m="$mpps" 'BEGIN{exit !(m < 1.0)}'; then
		echo "target missed: $mpps M IPFIX records/s with the nfstream template (target 1 M)"
		status=1
	fi
	rm -f "$ipfix_out"
	if [ "$pps" -lt "$target" ]; then
		echo "target missed: $pps packets/s with $cfg (target $target)"
		status=1
	fi
done
if [ "${PEERS:-0}" = 1 ]; then
	bash "$shared/bench/bench_peers.sh" "$pcap" pcap_count softflowd9
fi
exit $status
