#!/usr/bin/env bash
# loss_faults.sh PROBE MAKE_FLOOD_PCAP - every record that does not reach its
# destination is counted, once, and said (issue 13, item 2).
#
# Each check compares the probe's own counters with what the file or the
# collector really holds:
# (a) CSV, JSON and IPFIX files, each on its own 256 KB tmpfs, from a 20,000
#     flow capture (make_flood_pcap: one flow per frame, so 20,000 flows by
#     construction): exit 1, the real cause ("No space left on device") logged
#     before the summary; the CSV and JSON files end with a whole row and
#     every row parses; rows in the file = the summary's "rows written", and
#     written + failed = 20,000; the IPFIX file decodes to its end with
#     ipfixDump, its records = the summary's "records sent", and sent +
#     dropped = the records of the same run written to a file that does not
#     fill.
# The TCP and UDP checks read a FIFO that a generator fills over 6 s (one
# short UDP flow every 1 ms, timestamps following the clock, --idle-timeout 1:
# flows are exported all along; collector_common.py's feed); F = the CSV's
# rows of the same run; tcp_sink.py is the collector (--rcvbuf 8192), and
# ipfixDump decodes what it saved.  The probe's summary gives R records sent
# (acknowledged by the collector's host) and D dropped; the records handed to
# the transport are the F flow records and, at the end, one statistics and
# one TCP backlog record (the run is shorter than --template-refresh), so
# R + D = F + 2 always.
# (b) TCP collector killed (SIGKILL) at 3 s: the collector's files hold C
#     records in whole messages; C <= R, and what it acknowledged but never
#     read (its receive buffer, at most 2 x 8192 bytes, plus the part of a
#     message it saved) bounds R - C: R - C <= (tail + 16384) / 52 (52 bytes:
#     the smallest record, the statistics record; a flow record is 87).
#     C leaves out the RFC 5610 type records that open each connection with
#     the templates: they are not messages of the queue.
# (c) TCP collector hung (SIGSTOP) at 2 s: the status line shows a backlog
#     while packets keep being read (capture does not stall); killed at 5 s:
#     as (b).
# (d) TCP collector never up (a port bound, not listening): R = 0, D = F + 1,
#     exit 1 with "D records not delivered".
# (e) TCP collector stopped (SIGTERM: it drains) at 2 s and restarted at 3.5 s
#     on the same port, --template-refresh 1: exactly C = R, two connections,
#     R + D = F + 2 S (S statistics records, each with a backlog record: as
#     many as the collector got, none being dropped), and a backlog record
#     made during the outage shows records queued.
# (f) UDP collector absent until 2.5 s: the first datagram it gets with
#     templates is among its first 20 (--template-packets, default 20), and
#     from there ipfixDump decodes every record; it got no more messages than
#     the probe counts as sent.
#
# Exit 77 when not root (tmpfs mounts) or a tool is missing.
set -uo pipefail
probe=${1:?usage: loss_faults.sh PROBE MAKE_FLOOD_PCAP}
make_flood=${2:?usage: loss_faults.sh PROBE MAKE_FLOOD_PCAP}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export HERE
[ "$(id -u)" -eq 0 ] || { echo "loss_faults: tmpfs mounts need root: skipped"; exit 77; }
for tool in ipfixDump python3 mount umount; do
	command -v "$tool" >/dev/null ||
		{ echo "loss_faults: $tool not installed: skipped"; exit 77; }
done
T_START=$(date +%s.%N)
WORK=$(mktemp -d /tmp/loss_faults.XXXXXX)
H=$WORK/h.py
. "$HERE/collector_lib.sh"
mounts=()
all_cleanup() {
	local m
	for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
	cleanup
}
trap all_cleanup EXIT

cat >"$H" <<'PYEOF'
"""Helpers for loss_faults.sh (written out by the script)."""
import csv, json, os, re, struct, subprocess, sys

sys.path.insert(0, os.environ["HERE"])
from collector_common import feed, udpsink, read_udplog  # noqa: E402,F401


def textfile(kind, path):
    """Rows of a CSV or JSON output; fails on a cut or unparsable row."""
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        sys.exit("%s does not end with a whole row" % path)
    lines = data.decode().splitlines()
    if kind == "csv":
        if not lines:
            print(0)
            return
        rows = list(csv.reader(lines, escapechar="\\"))
        bad = [r for r in rows if len(r) != len(rows[0])]
        if bad:
            sys.exit("%s: %d rows of the wrong width" % (path, len(bad)))
        print(len(rows) - 1)
    else:
        for line in lines:
            json.loads(line)
        print(len(lines))


def whole(path, out):
    """Copy the whole IPFIX messages of a byte stream to `out`; print the
    bytes left past the last whole one."""
    with open(path, "rb") as f:
        data = f.read()
    o = 0
    while o + 16 <= len(data):
        ver, n = struct.unpack("!HH", data[o:o + 4])
        if ver != 10 or n < 16 or o + n > len(data):
            break
        o += n
    with open(out, "wb") as f:
        f.write(data[:o])
    print(len(data) - o)


def records(path, queue_only=""):
    """Data records ipfixDump decodes in a file; fails on a decoding error.
    With queue_only, less the RFC 5610 type records (template 263): over
    TCP they open each connection with the templates, outside the queue."""
    p = subprocess.run(["ipfixDump", "--in", path], capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0 or "rror" in p.stderr:
        sys.exit("ipfixDump %s: %s" % (path, p.stderr[-300:]))
    m = re.search(r"File Stats: \d+ Messages, (\d+) Data Records", p.stdout)
    n = int(m.group(1)) if m else 0
    if queue_only:
        n -= len(re.findall(r"count: *\d+ +tid: +263 ", p.stdout))
    print(n)


def backlog(*paths):
    """Statistics records (template 260) and the largest
    tcpQueuedRecordCount of the backlog records (265) in IPFIX files."""
    stats, queued = 0, 0
    for path in paths:
        p = subprocess.run(["ipfixDump", "--in", path, "--rfc5610"],
                           capture_output=True, text=True, timeout=60)
        stats += len(re.findall(r"count: *\d+ +tid: +260 ", p.stdout))
        for v in re.findall(r"tcpQueuedRecordCount : (\d+)", p.stdout):
            queued = max(queued, int(v))
    print(stats, queued)


def late(log, out, nmax):
    """UDP: the index of the first datagram with a template set must be
    below nmax; the datagrams from it on go to `out` (an IPFIX file)."""
    dg = [d for _, d in read_udplog(log)]
    first = None
    for i, d in enumerate(dg):
        o = 16
        while o + 4 <= len(d):
            sid, n = struct.unpack("!HH", d[o:o + 4])
            if sid == 2:
                first = i
                break
            if n < 4:
                break
            o += n
        if first is not None:
            break
    if first is None:
        sys.exit("no template in %d datagrams" % len(dg))
    if first >= int(nmax):
        sys.exit("first template in datagram %d of %d (more than %s)"
                 % (first + 1, len(dg), nmax))
    with open(out, "wb") as f:
        f.write(b"".join(dg[first:]))
    print(first, len(dg))


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
PYEOF

# summary FIELD ERRFILE: from "URL: N flows; R records in M messages sent, D
# records dropped" (the TCP/UDP/file exporter's line).
sent_of() { sed -n 's/^streamprobe: ipfix+.*: [0-9]* flows; \([0-9]*\) records in .*/\1/p' "$1"; }
msgs_of() { sed -n 's/^streamprobe: ipfix+.*: [0-9]* flows; [0-9]* records in \([0-9]*\) messages.*/\1/p' "$1"; }
dropped_of() { sed -n 's/^streamprobe: ipfix+.* sent, \([0-9]*\) records dropped.*/\1/p' "$1"; }
rows() { tail -n +2 "$1" | grep -c .; }
# line number of the first match of a pattern (0: none)
line_of() { grep -n -m1 -E "$2" "$1" | cut -d: -f1 | grep . || echo 0; }

# ---------------------------------------------------------------------------
# (a) files on a full tmpfs
# ---------------------------------------------------------------------------
d=$WORK/a
mkdir -p "$d"
"$make_flood" "$d/flood.pcap" 20000 >/dev/null || { bad "(a) cannot make the flood capture"; exit 1; }
for m in csv json ipfix; do
	mkdir -p "$d/$m"
	if ! mount -t tmpfs -o size=256k tmpfs "$d/$m" 2>"$d/mount.err"; then
		echo "loss_faults: cannot mount a tmpfs: $(cat "$d/mount.err"): skipped"
		exit 77
	fi
	mounts+=("$d/$m")
done
"$probe" -r "$d/flood.pcap" --export "ipfix+file://$d/ref.ipfix" 2>"$d/ref.err"
ref=$(sent_of "$d/ref.err")
"$probe" -r "$d/flood.pcap" --csv "$d/csv/f.csv" --json "$d/json/f.json" \
    --export "ipfix+file://$d/ipfix/f.ipfix" 2>"$d/err"
rc=$?
summary=$(line_of "$d/err" '^streamprobe: packets:')
[ "$rc" -eq 1 ] && ok "(a) exit 1 with failed outputs" || bad "(a) exit $rc, expected 1"
for k in csv json; do
	path=$d/$k/f.$k
	first=$(line_of "$d/err" "^streamprobe: $k output $path: write failed: No space left on device")
	written=$(sed -n "s|^streamprobe: $k output $path: \([0-9]*\) rows written, [0-9]* failed|\1|p" "$d/err")
	failed=$(sed -n "s|^streamprobe: $k output $path: [0-9]* rows written, \([0-9]*\) failed|\1|p" "$d/err")
	undel=$(sed -n "s|^streamprobe: $k output $path: \([0-9]*\) records not delivered|\1|p" "$d/err")
	if ! infile=$(h textfile "$k" "$path" 2>&1); then
		bad "(a) $k: $infile"
	elif [ "$first" -eq 0 ] || [ "$first" -gt "$summary" ]; then
		bad "(a) $k: no 'write failed: No space left on device' before the summary: $(head -3 "$d/err")"
	elif [ "${written:-x}" != "$infile" ] || [ $((written + failed)) -ne 20000 ] ||
		[ "${undel:-x}" != "$failed" ]; then
		bad "(a) $k: file has $infile rows; summary: ${written:-?} written, ${failed:-?} failed, ${undel:-?} not delivered (20000 flows)"
	else
		ok "(a) $k on a full tmpfs: $infile rows in the file = rows written, + $failed failed = 20000, cause logged at once"
	fi
done
path=$d/ipfix/f.ipfix
first=$(line_of "$d/err" "^streamprobe: file://$path: write failed \(No space left on device\)")
sent=$(sent_of "$d/err")
dropped=$(dropped_of "$d/err")
if ! infile=$(h records "$path" 2>&1); then
	bad "(a) ipfix: the cut file does not decode: $infile"
elif [ "$first" -eq 0 ] || [ "$first" -gt "$summary" ]; then
	bad "(a) ipfix: no 'write failed (No space left on device)' before the summary"
elif [ "${sent:-x}" != "$infile" ] || [ -z "$ref" ] || [ $((sent + dropped)) -ne "$ref" ] ||
	[ "$dropped" -eq 0 ]; then
	bad "(a) ipfix: file holds $infile records; summary: ${sent:-?} sent, ${dropped:-?} dropped; a full run sends ${ref:-?}"
else
	ok "(a) ipfix on a full tmpfs: decodes to its end, $infile records = sent, + $dropped dropped = $ref of a full run"
fi
for m in "${mounts[@]}"; do umount "$m"; done
mounts=()

# ---------------------------------------------------------------------------
# TCP: the probe reads a slow FIFO feed; a collector misbehaves.
# ---------------------------------------------------------------------------
FEED_S=6
RCVBUF=8192
# start_sink DIR [PORT]: tcp_sink.py on DIR/sink; sets SINK, PORT.
start_sink() {
	local i
	rm -f "$1/port"
	python3 "$HERE/tcp_sink.py" --dir "$1/sink" --port "${2:-0}" \
	    --port-file "$1/port" --rcvbuf "$RCVBUF" --quiet &
	SINK=$!
	started "$SINK"
	for i in $(seq 100); do [ -f "$1/port" ] && break; sleep 0.05; done
	PORT=$(cat "$1/port")
}
# run_probe DIR URL [OPTION...]: the probe on DIR/feed.pcap, status every
# second; the feed starts; sets PROBE_PID, FEED_PID, T_FEED.
run_probe() {
	local dir=$1 url=$2
	shift 2
	mkfifo "$dir/feed.pcap"
	"$probe" -r "$dir/feed.pcap" --idle-timeout 1 --stats-interval 1 \
	    --n-dissections 0 --csv "$dir/flows.csv" --export "$url" "$@" \
	    2>"$dir/err" &
	PROBE_PID=$!
	started "$PROBE_PID"
	T_FEED=$(now)
	python3 "$H" feed "$dir/feed.pcap" "$FEED_S" 0.001 >"$dir/feed.out" &
	FEED_PID=$!
	started "$FEED_PID"
}
# finish_probe: wait for the feed and the probe; sets PRC.
finish_probe() {
	reap "$FEED_PID"
	reap "$PROBE_PID"
	PRC=$REAPED
}
# account NAME DIR EXACT [S]: the collector's records in whole messages (C)
# against the probe's summary (R sent, D dropped) and the CSV (F); S
# statistics records (1), each with a backlog record.
account() {
	local name=$1 dir=$2 exact=$3 S=${4:-1} f c=0 tail=0 n t R D F U
	for f in "$dir"/sink/conn-*; do
		[ -f "$f" ] || continue
		t=$(h whole "$f" "$f.whole") || { bad "$name: $t"; return; }
		n=$(h records "$f.whole" queue 2>&1) || { bad "$name: $n"; return; }
		c=$((c + n))
		tail=$((tail + t))
	done
	R=$(sent_of "$dir/err")
	D=$(dropped_of "$dir/err")
	F=$(rows "$dir/flows.csv")
	U=$(sed -n 's/^streamprobe: ipfix+.*: \([0-9]*\) records not delivered/\1/p' "$dir/err")
	if [ -z "$R" ] || [ -z "$D" ]; then
		bad "$name: no exporter summary: $(tail -3 "$dir/err")"
	elif [ $((R + D)) -ne $((F + 2 * S)) ]; then
		bad "$name: $R sent + $D dropped != $F flows + $S statistics and $S backlog records"
	elif [ "$D" -gt 0 ] && { [ "$PRC" -ne 1 ] || [ "${U:-x}" != "$D" ]; }; then
		bad "$name: $D dropped, but exit $PRC and '${U:-no} records not delivered'"
	elif [ "$D" -eq 0 ] && [ "$PRC" -ne 0 ]; then
		bad "$name: nothing dropped, but exit $PRC"
	elif [ "$exact" = exact ] && [ "$c" -ne "$R" ]; then
		bad "$name: the collector holds $c records, the probe says $R sent ($D dropped)"
	elif [ "$c" -gt "$R" ] || [ $(((R - c) * 52)) -gt $((tail + 2 * RCVBUF)) ]; then
		bad "$name: the collector holds $c records, the probe says $R sent: more than its receive buffer ($((2 * RCVBUF)) bytes) and $tail saved bytes of a cut message can explain"
	else
		ok "$name: collector holds $c records, probe: $R sent + $D dropped = $F flows + $S statistics and $S backlog records; exit $PRC"
		[ "$c" -ne "$R" ] && echo "       ($((R - c)) records acknowledged by the collector's kernel but never read by it: $tail bytes of a cut message saved)"
	fi
}

# (b) killed
d=$WORK/b
mkdir -p "$d/sink"
start_sink "$d"
run_probe "$d" "ipfix+tcp://127.0.0.1:$PORT"
sleep_until 3 "$T_FEED"
kill -KILL "$SINK"; reap "$SINK"
finish_probe
account "(b) TCP collector killed mid-run" "$d" bounded

# (c) hung, then killed
d=$WORK/c
mkdir -p "$d/sink"
start_sink "$d"
run_probe "$d" "ipfix+tcp://127.0.0.1:$PORT"
sleep_until 2 "$T_FEED"
kill -STOP "$SINK"
backlog=
for i in $(seq 100); do	# up to 10 s for a status line with a backlog
	backlog=$(grep -E 'tcp backlog ([1-9][0-9]*) records .* queued|queued, [1-9][0-9]* records' "$d/err" | tail -1)
	[ -n "$backlog" ] && break
	sleep 0.1
done
pkts() { sed -n 's/^streamprobe: status: packets \([0-9]*\) read.*/\1/p' "$d/err" | tail -1; }
p1=$(pkts)
for i in $(seq 100); do	# up to 10 s for a status line with more packets
	p2=$(pkts)
	[ "${p2:-0}" -gt "${p1:-0}" ] && break
	sleep 0.1
done
sleep_until 5 "$T_FEED"
kill -KILL "$SINK"; reap "$SINK"
finish_probe
if [ -z "$backlog" ]; then
	bad "(c) hung collector: no status line showed a backlog: $(grep status: "$d/err" | tail -1)"
elif [ "${p2:-0}" -le "${p1:-0}" ]; then
	bad "(c) hung collector: packets read stalled at ${p1:-?} while it hung"
else
	ok "(c) hung collector: capture went on ($p1 -> $p2 packets), the status line shows the backlog: ${backlog#*tcp backlog }"
fi
account "(c) TCP collector hung, then killed" "$d" bounded

# (d) never up: a port bound but not listening (refused; nobody can take it)
d=$WORK/d
mkdir -p "$d/sink"
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1], flush=True); time.sleep(60)' >"$d/port" &
holder=$!
started "$holder"
for i in $(seq 50); do [ -s "$d/port" ] && break; sleep 0.1; done
run_probe "$d" "ipfix+tcp://127.0.0.1:$(cat "$d/port")"
finish_probe
stop_pid "$holder"
if [ "$(sent_of "$d/err")" != 0 ]; then
	bad "(d) TCP collector never up: $(sent_of "$d/err") records counted as sent"
else
	account "(d) TCP collector never up" "$d" exact
fi

# (e) stopped and restarted on the same port
d=$WORK/e
mkdir -p "$d/sink"
start_sink "$d"
run_probe "$d" "ipfix+tcp://127.0.0.1:$PORT" --template-refresh 1
sleep_until 2 "$T_FEED"
stop_pid "$SINK"	# SIGTERM: the sink half-closes, drains and exits
sleep_until 3.5 "$T_FEED"
start_sink "$d" "$PORT"
finish_probe
stop_pid "$SINK"
conns=$(sed -n 's/^streamprobe: ipfix+tcp.*, \([0-9]*\) connections$/\1/p' "$d/err")
read -r nstats queued < <(h backlog "$d"/sink/conn-*.ipfix)
if [ "${conns:-0}" -ne 2 ]; then
	bad "(e) TCP collector restarted: ${conns:-no} connections, expected 2"
elif [ "${queued:-0}" -eq 0 ]; then
	bad "(e) TCP collector restarted: no backlog record shows records queued during the outage"
else
	ok "(e) TCP collector restarted: a backlog record made during the outage shows $queued records queued"
	account "(e) TCP collector restarted mid-run" "$d" exact "$nstats"
fi

# ---------------------------------------------------------------------------
# (f) UDP collector absent, then started
# ---------------------------------------------------------------------------
d=$WORK/f
mkdir -p "$d"
port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run_probe "$d" "ipfix+udp://127.0.0.1:$port"
sleep_until 2.5 "$T_FEED"
start_udpsink "$port" "$d/udp.log" || bad "(f) UDP collector did not start"
usink=$SINK_PID
finish_probe
sleep 0.3
stop_pid "$usink"
msgs=$(msgs_of "$d/err")
if ! out=$(h late "$d/udp.log" "$d/late.ipfix" 20 2>&1); then
	bad "(f) UDP collector started late: $out"
elif ! n=$(h records "$d/late.ipfix" 2>&1) || [ "$n" -eq 0 ]; then
	bad "(f) UDP collector started late: ipfixDump: $n"
elif [ "$(cut -d' ' -f2 <<<"$out")" -gt "${msgs:-0}" ]; then
	bad "(f) UDP collector got $(cut -d' ' -f2 <<<"$out") datagrams, the probe says ${msgs:-?} messages sent"
else
	ok "(f) UDP collector started late: templates in its datagram $(($(cut -d' ' -f1 <<<"$out") + 1)) (within --template-packets 20), then $n records decoded"
fi

echo "$(python3 -c "print('%.1f' % ($(now) - $T_START))") s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
