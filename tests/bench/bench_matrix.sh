#!/usr/bin/env bash
# bench_matrix.sh [PROBE] - streamprobe against its peers, capture by capture.
#
# Not part of CI (minutes, and timings need a quiet machine).  For each
# capture size it builds (../shared/bench/make_bench_pcap.sh, once, cached
# in /tmp/bench*), it times, in the same run:
#   the peers        ../shared/bench/bench_peers.sh: pcap_count (libpcap's
#                    read loop), softflowd9 (NetFlow v9, no DPI) and
#                    ndpiReader (nDPI; left out at 60M: ~14 GB of memory)
#   the probe        every configuration of CONFIGS, with --threads T for
#                    each T of THREADS, median of RUNS runs (by wall time)
# and prints one TSV row per probe run set, with its ratios to the peers:
#   size packets flows config threads wall_s Mpps metering_Mpps export_cpu_s
#   maxrss_MB new_flows_per_s collected x_pcap x_softflowd x_ndpiReader
# then the same as a Markdown table (README).  Peers' rows go to
# $OUT/peers.tsv.  Long timeouts (idle 7200 s, active 86400 s, as the
# peers get): no flow is split, every flow is cached until the end, except
# in the configurations named "default-timeouts" (120 s / 1800 s).
#
# Configurations (CONFIGS, space separated; default: all on 15m, the
# SIZE_CONFIGS subset on the other sizes):
#   nodpi               --n-dissections 0, CSV to /dev/null
#   nodpi+stats         --n-dissections 0 --statistics, CSV to /dev/null
#   dpi                 nDPI (20 packets a flow), CSV to /dev/null
#   dpi+stats           nDPI and the 48 statistics, CSV to /dev/null
#   dpi+stats:default-timeouts   the same with default timeouts
#   dpi+stats:ipfix-file  IPFIX nfstream template to a file
#   dpi+stats:ipfix-udp   IPFIX nfstream template over UDP to nfcapd
#   dpi+stats:nf9-udp     NetFlow v9 over UDP to nfcapd
#   nodpi:nf9-udp         NetFlow v9 over UDP, no DPI (softflowd's job)
# "export none" is the metering_Mpps column: the packets/s of the meters
# alone, until the last packet is metered (the probe's own "metering:"
# line), whatever the output does after.  UDP runs count the flows nfcapd
# stored (collected; kernel receive-buffer drops show there).
#
# Environment: SIZES (default "1m 15m 60m"; 1m ~68 k flows, 15m ~1 M,
# 60m ~4 M), THREADS (default 1 .. number of CPUs), RUNS (3), PEERS (1),
# OUT (/tmp/bench-matrix).  Other work on the machine skews the numbers:
# run it alone (with kernel.sched_autogroup_enabled=0, nice -n 19 does
# keep background jobs out of the way).  Needs root (nfcapd's receive buffer) and
# the peers installed: bash tests/scripts/setup.sh bench.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
probe=$(readlink -f "${1:-$here/../../build/streamprobe}")
shared=${SHARED:-$here/../../../shared}
runs=${RUNS:-3}
sizes=${SIZES:-1m 15m 60m}
threads=${THREADS:-$(seq -s ' ' 1 "$(nproc)")}
out=${OUT:-/tmp/bench-matrix}
port=${PORT:-29996}
all_configs="nodpi nodpi+stats dpi dpi+stats dpi+stats:default-timeouts
    dpi+stats:ipfix-file dpi+stats:ipfix-udp dpi+stats:nf9-udp nodpi:nf9-udp"
size_configs="nodpi dpi+stats:default-timeouts dpi+stats:ipfix-udp"

die() { echo "bench_matrix: $*" >&2; exit 2; }
[ -x "$probe" ] || die "no probe at $probe (build first)"
[ -d "$shared/bench" ] || die "$shared/bench not found (the shared data)"
for tool in capinfos nfcapd softflowd ndpiReader; do
	command -v "$tool" >/dev/null ||
		die "$tool not installed (bash tests/scripts/setup.sh bench)"
done
# A probe copied out of the build tree finds its templates here.
export STREAMPROBE_TEMPLATE_DIR=${STREAMPROBE_TEMPLATE_DIR:-$here/../../templates}
mkdir -p "$out"
sysctl -qw net.core.rmem_max=268435456 2>/dev/null || true

# capture SIZE: builds it if needed, prints its path.
capture() {
	local dir pkts
	case $1 in
	1m) dir=/tmp/bench1m pkts=1000000 ;;
	15m) dir=/tmp/bench pkts=15000000 ;;
	60m) dir=/tmp/bench60m pkts=60000000 ;;
	*) die "unknown size $1 (1m, 15m, 60m)" ;;
	esac
	# 15m keeps the script's default full-payload twin (bench_peers.sh's
	# other users); the others make a small one.
	if [ "$1" = 15m ]; then
		OUT=$dir bash "$shared/bench/make_bench_pcap.sh" >&2 ||
			die "cannot build the $1 capture"
	else
		OUT=$dir TARGET_PKTS=$pkts FULL_BYTES=100000000 \
		    bash "$shared/bench/make_bench_pcap.sh" >&2 ||
			die "cannot build the $1 capture"
	fi
	echo "$dir/bench.pcap"
}

collector_start() {	# $1 = directory
	rm -rf "$1"; mkdir -p "$1"
	nfcapd -b 127.0.0.1 -p "$port" -w "$1" -B 200000000 -I bench \
	    >"$1.log" 2>&1 &
	col_pid=$!
	sleep 1
}
collector_stop() {	# $1 = directory; sets collected
	local last=-1 cur
	for _ in $(seq 1 60); do	# until its files stop growing
		cur=$(du -sb "$1" | cut -f1)
		[ "$cur" = "$last" ] && break
		last=$cur; sleep 1
	done
	kill -TERM "$col_pid"; wait "$col_pid" 2>/dev/null
	collected=$(grep -o 'Flows: [0-9]*' "$1.log" | awk '{s += $2} END {print s + 0}')
}

# probe_opts CONFIG: the probe's options for it, in the array opts.
probe_opts() {
	local base=${1%%:*} variant=
	[ "$base" != "$1" ] && variant=${1#*:}
	opts=()
	case $base in
	nodpi) opts+=(--n-dissections 0) ;;
	nodpi+stats) opts+=(--n-dissections 0 --statistics) ;;
	dpi) ;;
	dpi+stats) opts+=(--statistics) ;;
	*) die "unknown configuration $1" ;;
	esac
	[ "$variant" = default-timeouts ] ||
		opts+=(--idle-timeout 7200 --active-timeout 86400)
	# Room for 60m's 4 M flows (softflowd gets -m 4000000): no eviction.
	opts+=(--max-flows 4194304)
	case $variant in
	"" | default-timeouts) opts+=(--csv /dev/null) ;;
	ipfix-file) opts+=(--template nfstream --export "ipfix+file://$out/run.ipfix") ;;
	ipfix-udp) opts+=(--template nfstream --export "ipfix+udp://127.0.0.1:$port") ;;
	nf9-udp) opts+=(--export "nf9+udp://127.0.0.1:$port") ;;
	*) die "unknown variant $variant in $1" ;;
	esac
}

# run_probe PCAP CONFIG THREADS: one run; sets wall rss mpps ecpu flows coll.
run_probe() {
	local udp=false
	probe_opts "$2"
	case $2 in *-udp) udp=true ;; esac
	rm -f "$out/run.ipfix"; sync
	$udp && collector_start "$out/col"
	/usr/bin/time -f '%e %M' -o "$out/run.time" "$probe" -r "$1" \
	    --threads "$3" "${opts[@]}" 2>"$out/run.err"
	local rc=$?
	read -r wall rss <"$out/run.time"
	[ "$rc" = 0 ] || echo "bench_matrix: probe exit $rc ($2, --threads $3): $(tail -2 "$out/run.err")" >&2
	mpps=$(sed -n 's/.*metering: .* s, \([0-9.]*\) M packets.*/\1/p' "$out/run.err")
	ecpu=$(sed -n 's/.*export thread: \([0-9.]*\) s CPU.*/\1/p' "$out/run.err")
	flows=$(sed -n 's/.*flows: \([0-9]*\) exported.*/\1/p' "$out/run.err")
	coll=-
	if $udp; then collector_stop "$out/col"; coll=$collected; fi
	rm -f "$out/run.ipfix"
}

peer_wall() {	# $1 = tool, $2 = capture: the peer's wall seconds or NA
	awk -F'\t' -v t="$1" -v p="$(basename "$2")" \
	    '$1 == t && $2 == p {w = $4} END {print (w == "" ? "NA" : w)}' \
	    "$out/peers.tsv"
}
ratio() {	# $1 = peer wall, $2 = our wall: how many times faster we are
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "NA" || b <= 0) print "-"; else printf "%.2f", a / b }'
}

: >"$out/peers.tsv"
: >"$out/matrix.tsv"
hdr='size\tpackets\tflows\tconfig\tthreads\twall_s\tMpps\tmetering_Mpps\texport_cpu_s\tmaxrss_MB\tnew_flows_per_s\tcollected\tx_pcap\tx_softflowd\tx_ndpiReader'
printf "$hdr\n"
for size in $sizes; do
	pcap=$(capture "$size") || exit 2
	# A copy per size: bench_peers.sh names rows by file name.
	ln -sf "$pcap" "$out/bench_$size.pcap"
	pcap=$out/bench_$size.pcap
	packets=$(capinfos -M -T -r -c "$pcap" | tail -1 | cut -f2)
	cat "$pcap" >/dev/null	# warm cache, as bench_peers.sh does
	if [ "${PEERS:-1}" = 1 ]; then
		tools="pcap_count softflowd9"
		[ "$size" = 60m ] || tools+=" ndpiReader"
		WORKDIR=$out/peers RESULTS=$out/peers.tsv \
		    bash "$shared/bench/bench_peers.sh" "$pcap" $tools >&2
	fi
	configs=${CONFIGS:-$size_configs}
	[ -z "${CONFIGS:-}" ] && [ "$size" = 15m ] && configs=$all_configs
	for cfg in $configs; do
		for t in $threads; do
			res=()
			for _ in $(seq "$runs"); do
				run_probe "$pcap" "$cfg" "$t"
				res+=("$wall $rss $mpps ${ecpu:-0} ${flows:-0} $coll")
			done
			# The median run by wall time.
			read -r wall rss mpps ecpu flows coll < <(printf '%s\n' "${res[@]}" |
			    sort -n | sed -n "$(( (runs + 1) / 2 ))p")
			row=$(awk -v s="$size" -v p="$packets" -v c="$cfg" -v t="$t" \
			    -v w="$wall" -v r="$rss" -v m="$mpps" -v e="$ecpu" \
			    -v f="$flows" -v k="$coll" 'BEGIN {
				printf "%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t%s",
				    s, p, f, c, t, w, p / w / 1e6, m, e, r / 1024, f / w, k }')
			row+=$'\t'$(ratio "$(peer_wall pcap_count "$pcap")" "$wall")
			row+=$'\t'$(ratio "$(peer_wall softflowd9 "$pcap")" "$wall")
			row+=$'\t'$(ratio "$(peer_wall ndpiReader "$pcap")" "$wall")
			echo "$row" | tee -a "$out/matrix.tsv"
		done
	done
done
echo
echo "peers (bench_peers.sh: tool pcap packets wall_s user_s sys_s maxrss_kB pps flows_reported flows_collected note):"
cat "$out/peers.tsv"
echo
# The same rows as a Markdown table, for the README.
printf "$hdr\n" | tr '\t' '|' | sed 's/^/|/; s/$/|/'
printf "$hdr\n" | tr -c '\t\n' '-' | sed 's/-\+/---/g' | tr '\t' '|' | sed 's/^/|/; s/$/|/'
tr '\t' '|' <"$out/matrix.tsv" | sed 's/^/|/; s/$/|/'
