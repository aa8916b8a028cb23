# collector_lib.sh - sourced by ipfix_collectors.sh and nf9_collectors.sh
# after they set WORK (their work directory) and H (their Python helper file).
#
# Every background process is registered with `started PID` and stopped by
# the EXIT trap (TERM, then KILL after 5 s); KEEP=1 keeps WORK.
declare -A LIVE=()	# background processes we started and have not reaped
PASS=0
FAIL=0

started() { LIVE[$1]=1; }
reap() {	# reap a child; its status in $REAPED
	REAPED=0
	wait "$1" || REAPED=$?
	unset "LIVE[$1]"
}
stop_pid() {	# stop a child we started, by pid: TERM, then KILL after 5 s
	local pid=$1 i
	[[ -n ${LIVE[$pid]:-} ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
	reap "$pid"
}
cleanup() {
	local pid
	for pid in "${!LIVE[@]}"; do
		stop_pid "$pid"
	done
	[[ -n ${ON_EXIT:-} ]] && eval "$ON_EXIT"
	if [[ -n ${KEEP:-} ]]; then
		echo "work dir kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { echo "ok   $*"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $*"; FAIL=$((FAIL + 1)); }
now() { date +%s.%N; }
# sleep until $1 seconds after the epoch time $2
sleep_until() { python3 -c "import time; time.sleep(max($2+$1-time.time(), 0))"; }
wait_for_line() {	# file, seconds, pattern
	local i
	for i in $(seq $(($2 * 20))); do
		grep -q -- "$3" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

h() { python3 "$H" "$@"; }
# Start a UDP sink (the helper's udpsink) on $1 logging to $2; sets SINK_PID.
start_udpsink() {
	local i
	rm -f "$2.ready"
	python3 "$H" udpsink "$1" "$2" &
	SINK_PID=$!
	started "$SINK_PID"
	for i in $(seq 100); do
		[[ -f $2.ready ]] && return 0
		sleep 0.05
	done
	return 1
}
# Start nfcapd on 127.0.0.1:$2 writing into $1/flows (log $1/nfcapd.log);
# sets NF_PID.  Returns 1 (nfcapd stopped again) if it does not come up.
start_nfcapd() {
	mkdir -p "$1/flows"
	nfcapd -w "$1/flows" -b 127.0.0.1 -p "$2" -t 3600 -B 4194304 \
	    >"$1/nfcapd.log" 2>&1 &
	NF_PID=$!
	started "$NF_PID"
	wait_for_line "$1/nfcapd.log" 10 "Startup nfcapd" && return 0
	stop_pid "$NF_PID"
	return 1
}

# A file run exits 1 when an exporter could not deliver records and says
# how many ("URL: N records not delivered", N = its "records dropped"); 0
# when none were dropped.  delivery_ok RC PROBE_ERR
delivery_ok() {
	local n dropped
	n=$(sed -n 's/^streamprobe: .*: \([0-9]*\) records not delivered$/\1/p' "$2" | awk '{ s += $1 } END { print s + 0 }')
	dropped=$(sed -n 's/.* sent, \([0-9]*\) records dropped.*/\1/p' "$2" | awk '{ s += $1 } END { print s + 0 }')
	[[ $n -eq $dropped ]] && { [[ $1 -eq 0 && $n -eq 0 ]] || [[ $1 -eq 1 && $n -gt 0 ]]; }
}
