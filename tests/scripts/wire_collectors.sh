#!/usr/bin/env bash
# wire_collectors.sh - the wire fixes of issue 11, each checked against the
# collector that exposed it, for every shipped template over IPFIX and
# NetFlow v9 (UDP).
#
#   tests/scripts/wire_collectors.sh PROBE [SHARED]
#
# One probe run per template (standard, nfstream with --statistics, ntop) and
# protocol reads a TLS/HTTP/DNS capture set (443-curl, webex, dns_fragmented,
# http_ipv6: IPv4 and IPv6, JA3/JA3S/SNI, HTTP, DNS) and exports the same
# flows to every collector at once; each is judged against the run's CSV:
#
# (a) nfcapd/nfdump 1.7: every flow with its start and end times (ms),
#     addresses, ports, protocol, in/out packets and bytes, VLAN id
#     (collector_common.cmpflows); with an applicationId in the template,
#     nfdump names every flow's application from the probe's application
#     table, a component of the CSV's application_name (over IPFIX too:
#     the table's applicationName has a fixed length); over v9 no record is
#     flagged as an NSEL event (no flowId 148 in v9); 0 sequence errors.
# (b) nfacctd (standard and nfstream): a minimal aggregate_primitives file
#     derived from the template (the shipped ones are the decoder
#     generator's) and nfacctd's print plugin: every flow once (by flow
#     id), forward and reverse counters, application (class, from the
#     application table), applicationName, category, SNI, JA3, JA3S equal
#     to the CSV (cut as the template cuts); no "malformed" options
#     template; at least one flow with SNI, JA3, JA3S, reverse packets and a
#     named application, or the check proves nothing.
# (c) FastNetMon (standard template, IPFIX and v9): its Prometheus flow
#     counters grow by the CSV's number of flows (IPv4 and IPv6 apart).
# (d) tshark decodes every datagram as cflow with no malformed packet and
#     no expert warning (-o cflow.max_template_fields:0: the large
#     templates exceed its default of 60 fields).
#
# Prints "ok"/"FAIL" lines and "N passed, M failed"; exit 1 on failure, 2
# when SHARED or the probe is missing, 77 when nfcapd, nfdump, nfacctd or
# tshark is not installed (FastNetMon missing: (c) is reported as skipped).
# No root needed.  Everything goes to 127.0.0.1; every process this script
# starts is stopped by it.  KEEP=1 keeps the work directory.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PROBE=${1:-$REPO/build/streamprobe}
SHARED=${2:-$(dirname "$REPO")/shared}
PCAPS=$SHARED/pcaps
T_START=$(date +%s.%N)

CAPS=(443-curl.pcap webex.pcap dns_fragmented.pcap http_ipv6.pcap)
for c in "${CAPS[@]}"; do
	if [[ ! -f $PCAPS/$c ]]; then
		echo "wire_collectors: $PCAPS/$c not found: the shared captures" \
		    "are needed (pass SHARED as the second argument)" >&2
		exit 2
	fi
done
for tool in nfcapd nfdump nfacctd tshark python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "wire_collectors: $tool not installed: skipped"
		exit 77
	fi
done
if [[ ! -x $PROBE ]]; then
	echo "wire_collectors: probe $PROBE not executable" >&2
	exit 2
fi
PROBE=$(cd "$(dirname "$PROBE")" && pwd)/$(basename "$PROBE")
READ=$(printf "$PCAPS/%s," "${CAPS[@]}")
READ=${READ%,}

# nfdump 1.7.1 reads a fixed-length IPFIX applicationId as a number (bytes
# swapped): it cannot name the application of such a record.
NFDUMP_VERSION=$(nfdump -V 2>&1 | grep -o '[0-9]\+\.[0-9]\+\.[0-9]\+' | head -1)
NFDUMP_SWAPS_APPID=$(python3 -c "
v = tuple(int(x) for x in '${NFDUMP_VERSION:-0.0.0}'.split('.'))
print(int(v < (1, 7, 2)))")

WORK=$(mktemp -d /tmp/wire_collectors.XXXXXX)
H=$HERE/wire_collectors.py
. "$HERE/collector_lib.sh"
indent() { sed 's/^/       /'; }

# The probe sends a run's records in one burst (110 datagrams of 1400 bytes
# with nfstream over v9): more than a default UDP receive buffer (212 kB,
# ~2.3 kB of kernel memory a datagram) holds when nfacctd is slow to read on
# a busy machine, and the last flows were lost there, not in the probe.  So
# nfacctd asks for 8 MB (nfacctd_pipe_size), which the kernel grants up to
# net.core.rmem_max: raised for the test when lower, and put back at exit.
NFACCTD_RCVBUF=8388608
rmem_max=$(sysctl -n net.core.rmem_max 2>/dev/null || echo 0)
if [[ $rmem_max -lt $NFACCTD_RCVBUF && $(id -u) -eq 0 ]] &&
    sysctl -qw net.core.rmem_max=$NFACCTD_RCVBUF 2>/dev/null; then
	ON_EXIT="sysctl -qw net.core.rmem_max=$rmem_max"
fi

# Start nfacctd on 127.0.0.1:$2 with primitives $3, JSON lines into $1/pm.json;
# sets PM_PID.
start_nfacctd() {
	local d=$1 port=$2 aggr
	aggr=$(h primitives "$3" "$4" "$d/primitives.lst")
	cat >"$d/nfacctd.conf" <<-EOF
	daemonize: false
	nfacctd_ip: 127.0.0.1
	nfacctd_port: $port
	nfacctd_time_new: true
	classifier_table_num: 1024
	aggregate_primitives: $d/primitives.lst
	plugins: print[p]
	aggregate[p]: src_host, dst_host, src_port, dst_port, proto, class, $aggr
	print_output[p]: json
	print_output_file[p]: $d/pm.json
	print_output_file_append[p]: true
	print_refresh_time[p]: 1
	nfacctd_pipe_size: $NFACCTD_RCVBUF
	EOF
	nfacctd -f "$d/nfacctd.conf" >"$d/nfacctd.log" 2>&1 &
	PM_PID=$!
	started "$PM_PID"
	wait_for_line "$d/nfacctd.log" 10 "waiting for NetFlow/IPFIX data" && return 0
	stop_pid "$PM_PID"
	return 1
}

# nfacctd blocks SIGTERM while it works; SIGINT ends it cleanly.
stop_nfacctd() {
	local i
	kill -INT "$1" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	stop_pid "$1"
}

# FastNetMon: its own configuration (no ban, no API, no other listener than
# the flow collector and Prometheus, both on 127.0.0.1), started once.
FNM_URL=
FNM_PORT=
if command -v fastnetmon >/dev/null; then
	mkdir -p "$WORK/fnm"
	FNM_PORT=$(h freeport)
	prom=$(h freeport)
	printf '192.0.2.0/24\n' >"$WORK/fnm/networks"
	: >"$WORK/fnm/whitelist"
	cat >"$WORK/fnm/fastnetmon.conf" <<-EOF
	logging_level = info
	logging_local_syslog_logging = off
	enable_ban = off
	enable_ban_ipv6 = off
	networks_list_path = $WORK/fnm/networks
	white_list_path = $WORK/fnm/whitelist
	netflow = on
	sflow = off
	pcap = off
	mirror_afpacket = off
	netflow_host = 127.0.0.1
	netflow_port = $FNM_PORT
	netflow_sampling_ratio = 1
	cli_stats_file_path = $WORK/fnm/fastnetmon.dat
	cli_stats_ipv6_file_path = $WORK/fnm/fastnetmon_ipv6.dat
	pid_path = $WORK/fnm/fastnetmon.pid
	enable_api = off
	prometheus = on
	prometheus_host = 127.0.0.1
	prometheus_port = $prom
	redis_enabled = off
	mongodb_enabled = off
	influxdb = off
	graphite = off
	exabgp = off
	gobgp = off
	monitor_local_ip_addresses = off
	EOF
	fastnetmon --configuration_file "$WORK/fnm/fastnetmon.conf" \
	    --log_file "$WORK/fnm/fastnetmon.log" --disable_pid_logic \
	    >"$WORK/fnm/out.txt" 2>&1 &
	FNM_PID=$!
	started "$FNM_PID"
	for i in $(seq 100); do
		h metrics "http://127.0.0.1:$prom/metrics" x >/dev/null 2>&1 &&
		    FNM_URL=http://127.0.0.1:$prom/metrics && break
		sleep 0.1
	done
	[[ -n $FNM_URL ]] || bad "(c) fastnetmon did not start: $(tail -2 "$WORK/fnm/fastnetmon.log")"
fi

run() {	# template protocol [probe options...]
	local tmpl=$1 proto=$2
	shift 2
	local name=$tmpl-$proto d=$WORK/$tmpl-$proto rc=0 msg nport pport sport
	local -a exports=()
	local fnm_before= counters
	mkdir -p "$d"
	nport=$(h freeport)
	if ! start_nfcapd "$d" "$nport"; then
		bad "(a) $name: nfcapd did not start: $(tail -2 "$d/nfcapd.log")"
		return
	fi
	exports+=(--export "$proto+udp://127.0.0.1:$nport")
	PM_PID=
	if [[ $tmpl != ntop ]]; then	# ntop's template has no flow id
		pport=$(h freeport)
		if start_nfacctd "$d" "$pport" "$REPO/templates/$tmpl.tmpl" "$proto"; then
			exports+=(--export "$proto+udp://127.0.0.1:$pport")
		else
			bad "(b) $name: nfacctd did not start: $(tail -2 "$d/nfacctd.log")"
		fi
	fi
	sport=$(h freeport)
	start_udpsink "$sport" "$d/udp.log" || { bad "(d) $name: UDP sink did not start"; return; }
	local sink_pid=$SINK_PID
	exports+=(--export "$proto+udp://127.0.0.1:$sport")
	if [[ $tmpl == standard && -n $FNM_URL ]]; then
		exports+=(--export "$proto+udp://127.0.0.1:$FNM_PORT")
		fnm_before=$(fnm_counters "$proto")
	fi
	"$PROBE" -r "$READ" --template "$tmpl" "$@" --csv "$d/flows.csv" \
	    "${exports[@]}" 2>"$d/probe.err" || rc=$?
	if [[ $rc -ne 0 ]]; then
		bad "$name: probe exit $rc: $(tail -1 "$d/probe.err")"
	fi
	read -r rows v4 v6 < <(python3 -c "
import sys; sys.path.insert(0, '$HERE')
from ipfix_roundtrip import read_csv
r = read_csv('$d/flows.csv')[1]
print(len(r), sum(x['ip_version'] == '4' for x in r), sum(x['ip_version'] == '6' for x in r))")

	# (a) nfdump
	sleep 0.3	# the last datagrams
	stop_pid "$NF_PID"
	TZ=UTC nfdump -R "$d/flows" -6 -N -q \
	    -o "fmt:%ts %te %sa %da %sp %dp %pr %ipkt %ibyt %opkt %obyt %svln" \
	    >"$d/nfdump.txt" 2>&1 || true
	nfdump -R "$d/flows" -6 -o raw >"$d/raw.txt" 2>&1 || true
	seqerr=$(sed -n 's/.*Sequence Errors: \([0-9]*\), Bad Packets: \([0-9]*\).*/\1 \2/p' \
	    "$d/nfcapd.log" | tail -1)
	if [[ $seqerr != "0 0" ]]; then
		bad "(a) $name: nfcapd sequence errors / bad packets: ${seqerr:-?}"
	elif msg=$(h cmpflows "$d/flows.csv" "$d/nfdump.txt"); then
		ok "(a) $name: nfdump: $rows flows with the CSV's start and end times, addresses, ports, in/out packets and bytes, VLAN"
	else
		bad "(a) $name: nfdump: $msg"
	fi
	if [[ $proto == ipfix && $NFDUMP_SWAPS_APPID == 1 ]] &&
	    grep -q '^application_id .* fixed$' "$REPO/templates/$tmpl.tmpl"; then
		echo "skip (a) $name: application names: nfdump $NFDUMP_VERSION" \
		    "byte-swaps a fixed-length applicationId read from IPFIX (fixed" \
		    "in 1.7.2); nfstream-ipfix and the v9 runs check the names"
	elif grep -q '^application_id ' "$REPO/templates/$tmpl.tmpl"; then
		if msg=$(h nfdump_apps "$d/flows.csv" "$d/raw.txt"); then
			ok "(a) $name: nfdump: $msg"
		else
			bad "(a) $name: nfdump application names:"
			indent <<<"$msg"
		fi
	fi
	if [[ $proto == nf9 ]]; then
		n=$(grep -c 'EVENT' "$d/raw.txt" || true)
		if [[ $n -eq 0 ]]; then
			ok "(a) $name: nfdump flags no record as an NSEL event"
		else
			bad "(a) $name: nfdump flags $n records as NSEL events (flowId 148 in v9?)"
		fi
	fi

	# (b) nfacctd: wait until every flow is printed (1 s refresh)
	if [[ -n $PM_PID ]]; then
		for i in $(seq 150); do
			[[ $(cat "$d/pm.json" 2>/dev/null | wc -l) -ge $rows ]] && break
			sleep 0.1
		done
		sleep 1.2	# one more refresh: nothing may come twice
		stop_nfacctd "$PM_PID"
		if msg=$(h pmacct "$d/flows.csv" "$d/pm.json" \
		    "$REPO/templates/$tmpl.tmpl" "$d/nfacctd.log"); then
			ok "(b) $name: nfacctd: $msg"
		else
			bad "(b) $name: nfacctd:"
			indent <<<"$msg"
		fi
	fi

	# (c) FastNetMon
	if [[ -n $fnm_before ]]; then
		local want
		for i in $(seq 100); do
			counters=$(fnm_counters "$proto")
			want=$(python3 -c "
a, b = '$fnm_before'.split(), '$counters'.split()
print(' '.join(str(int(y) - int(x)) for x, y in zip(a, b)))")
			[[ $want == "$rows $v4 $v6" ]] && break
			sleep 0.1
		done
		if [[ $want == "$rows $v4 $v6" ]]; then
			ok "(c) $name: fastnetmon decoded $rows flows ($v4 IPv4, $v6 IPv6), as many as the CSV has"
		else
			bad "(c) $name: fastnetmon flows (all, IPv4, IPv6): $want; CSV: $rows $v4 $v6"
		fi
	fi

	# (d) tshark
	stop_pid "$sink_pid"
	local dgrams frames flagged
	dgrams=$(h mkpcap "$d/udp.log" "$d/udp.pcap" "$sport")
	frames=$(tshark -r "$d/udp.pcap" -d "udp.port==$sport,cflow" \
	    -o cflow.max_template_fields:0 -Y cflow 2>/dev/null | wc -l)
	flagged=$(tshark -r "$d/udp.pcap" -d "udp.port==$sport,cflow" \
	    -o cflow.max_template_fields:0 \
	    -Y "_ws.malformed || _ws.expert.severity >= warning" 2>/dev/null || true)
	if [[ $dgrams -eq 0 || $frames -ne $dgrams ]]; then
		bad "(d) $name: tshark decoded $frames of $dgrams datagrams as cflow"
	elif [[ -n $flagged ]]; then
		bad "(d) $name: tshark flags $(wc -l <<<"$flagged") of $frames datagrams: $(head -2 <<<"$flagged")"
	else
		ok "(d) $name: tshark decodes all $frames datagrams, none malformed, no expert warning"
	fi
}

fnm_counters() {	# flows, IPv4 flows, IPv6 flows of one protocol
	if [[ $1 == ipfix ]]; then
		h metrics "$FNM_URL" fastnetmon_ipfix_total_flows \
		    fastnetmon_ipfix_total_ipv4_flows fastnetmon_ipfix_total_ipv6_flows
	else
		h metrics "$FNM_URL" fastnetmon_netflow_v9_total_flows \
		    fastnetmon_netflow_v9_total_ipv4_flows \
		    fastnetmon_netflow_v9_total_ipv6_flows
	fi
}

for proto in ipfix nf9; do
	run standard "$proto"
	run nfstream "$proto" --statistics
	run ntop "$proto"
done
if ! command -v fastnetmon >/dev/null; then
	echo "skip (c) fastnetmon not installed"
fi

T_END=$(now)
echo "$(python3 -c "print('%.1f' % ($T_END - $T_START))") s"
echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
