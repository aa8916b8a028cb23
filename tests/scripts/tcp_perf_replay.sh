#!/usr/bin/env bash
# tcp_perf_replay.sh REPLAY PCAP... - tcp_perf against tshark, segment by
# segment: tshark's fields of every TCP segment (not inside ICMP errors; the
# innermost header of a tunnel) go through build/tests/unit/tcp_perf_replay,
# which runs the plugin per tshark stream and prints each segment where
# the plugin's retransmission or zero-window counters move differently
# from tshark's flags.  Exit 1 on any difference.  A development check
# (README "tcp_perf"), e.g.:
#	tests/scripts/tcp_perf_replay.sh build/tests/unit/tcp_perf_replay \
#	    ../shared/pcaps/*.pcap*
# No pipefail: tshark exits non-zero on a damaged capture after printing
# what it read; the replay's status is the pipeline's.
set -u
replay=$1
shift
status=0
for pcap in "$@"; do
	bad=0
	out=$(tshark -r "$pcap" -Y 'tcp && !icmp && !icmpv6' -T fields \
	    -E occurrence=l -e tcp.stream -e frame.time_epoch -e ip.src \
	    -e ipv6.src -e tcp.srcport -e tcp.flags -e tcp.seq_raw \
	    -e tcp.ack_raw -e tcp.window_size_value -e tcp.len -e tcp.hdr_len \
	    -e tcp.analysis.retransmission -e tcp.analysis.fast_retransmission \
	    -e tcp.analysis.spurious_retransmission -e tcp.analysis.zero_window \
	    -e tcp.analysis.initial_rtt 2>/dev/null |
	    awk -F'\t' 'BEGIN {OFS = "\t"} {s = $3; if (s == "") s = $4;
		print $1, $2, s, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
		$15, $16}' | "$replay") || bad=1
	echo "$(basename "$pcap"): ${out##*$'\n'}"
	if [ "$bad" != 0 ]; then
		printf '%s\n' "$out" | head -20
		status=1
	fi
done
exit $status
