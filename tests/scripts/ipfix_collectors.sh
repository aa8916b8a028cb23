#!/usr/bin/env bash
# ipfix_collectors.sh - the probe's IPFIX export as real collectors see it.
#
#   tests/scripts/ipfix_collectors.sh [PROBE] [SHARED]
#     PROBE   default build-ipfixtest/streamprobe beside this repository
#     SHARED  default ../shared beside the repository
#
# (a) nfcapd over UDP, standard template: one fresh nfcapd per capture (each
#     probe run is a new exporter process whose sequence numbers start at 0;
#     one nfcapd for several runs would count that as a sequence error).
#     nfdump's flow, packet and byte totals must equal the CSV's (rows, sum of
#     bidirectional_packets, sum of bidirectional_bytes: nfdump's Bytes is
#     in + out, and the standard template carries octetDeltaCount and
#     reverseOctetDeltaCount, which nfcapd maps to in and out), every flow
#     must come back with its addresses, ports, protocol, per-direction
#     packets/bytes, first/last seen (ms) and VLAN id, and nfcapd must report
#     0 sequence errors and 0 bad packets.
# (b) tshark decodes every message of UDP runs (standard and nfstream
#     templates, IPv4 and IPv6) captured on lo, with no malformed packet and
#     no expert error, and finds every flowId of the CSV.  Also: the probe's
#     own advice for a template too big for UDP ("a smaller --splt") must work.
# (c) Late UDP collector: the probe reads a FIFO that a generator fills over
#     ~12 s (timestamps follow the clock, one short flow every 20 ms,
#     --idle-timeout 1, so flows are exported all along), --template-refresh 2;
#     a UDP collector starts 5 s later.  Templates must reach it within one
#     refresh interval (2 s + 0.5 s slack), every data set after that must be
#     decodable, and from then on no flow may be missing (loopback, collector
#     reading: no loss is expected).
# (d) TCP collector stopped (SIGTERM) at ~4 s and restarted at ~7 s on the
#     same port, same slow feed: the new connection's file must decode with
#     ipfixDump on its own (templates re-sent), and records in the sink files
#     + records the probe reports as not sent (notSentFlowTotalCount of the
#     last statistics record, + "records not encodable" on stderr) == flows in
#     the CSV, with no flow twice; and the stderr summary gives the TCP
#     transport's counters, as README says it does.
#
# Prints "ok"/"FAIL" lines and "N passed, M failed"; exit 1 on failure, 2 when
# SHARED or a tool is missing.  Everything goes to 127.0.0.1; every process
# this script starts is stopped by it (trap on EXIT).
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
	echo "ipfix_collectors: captures on lo with tshark, needs root: skipped"
	exit 77
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PROBE=${1:-$REPO/build-ipfixtest/streamprobe}
SHARED=${2:-$(dirname "$REPO")/shared}
PCAPS=$SHARED/pcaps
T_START=$(date +%s.%N)

if [[ ! -d $PCAPS ]]; then
	echo "ipfix_collectors: $PCAPS not found: the shared captures are needed" \
	    "(pass SHARED as the second argument)" >&2
	exit 2
fi
for tool in nfcapd nfdump tshark ipfixDump python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "ipfix_collectors: $tool not installed" >&2
		exit 2
	fi
done
if [[ ! -x $PROBE ]]; then
	echo "ipfix_collectors: probe $PROBE not executable" >&2
	exit 2
fi
PROBE=$(cd "$(dirname "$PROBE")" && pwd)/$(basename "$PROBE")

WORK=$(mktemp -d /tmp/ipfix_collectors.XXXXXX)
. "$HERE/collector_lib.sh"

H=$WORK/h.py
cat >"$H" <<'PYEOF'
"""Helpers for ipfix_collectors.sh (written out by the script)."""
import os, signal, socket, struct, sys, time

sys.path.insert(0, os.environ["HERE"])
from collector_common import feed, udpsink, read_udplog, udpcount, cmpflows  # noqa: E402,F401
from ipfix_roundtrip import read_csv, run_ipfixdump, parse_dump  # noqa: E402


def freeport(kind):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp"
                      else socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def csvstat(path):
    """rows, sum of bidirectional packets and bytes."""
    _h, rows = read_csv(path)
    print(len(rows), sum(int(r["bidirectional_packets"]) for r in rows),
          sum(int(r["bidirectional_bytes"]) for r in rows))


def csvids(path):
    _h, rows = read_csv(path)
    for r in rows:
        print(r["id"])


def qinq(path):
    """A small capture with 802.1ad + 802.1Q (QinQ) frames and plain 802.1Q
    frames: TCP and UDP flows in both directions."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    ts = 1700000000.0

    def frame(tags, src, dst, proto, sp, dp, payload, flags=0x18):
        l4 = struct.pack("!HHIIBBHHH", sp, dp, 1, 0, 0x50, flags, 8192, 0, 0) \
            if proto == 6 else struct.pack("!HHHH", sp, dp, 8 + len(payload), 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4) + len(payload),
                         1, 0, 64, proto, 0, socket.inet_aton(src),
                         socket.inet_aton(dst))
        eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01"
        for tpid, vid in tags:
            eth += struct.pack("!HH", tpid, vid)
        return eth + b"\x08\x00" + ip + l4 + payload

    pk = []
    for i in range(6):
        a, b = "192.0.2.%d" % (10 + i % 3), "198.51.100.%d" % (1 + i % 2)
        tags = [(0x88A8, 100), (0x8100, 200 + i % 3)] if i < 4 else \
            [(0x8100, 300 + i)]
        proto = 6 if i % 2 else 17
        for k in range(3 + i):
            fwd = k % 2 == 0
            s, d = (a, b) if fwd else (b, a)
            sp, dp = (40000 + i, 443) if fwd else (443, 40000 + i)
            pk.append(frame(tags, s, d, proto, sp, dp, b"x" * (10 + 7 * k)))
    for n, fr in enumerate(pk):
        t = ts + n * 0.01
        out.append(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(fr),
                               len(fr)) + fr)
    with open(path, "wb") as f:
        f.write(b"".join(out))


def u(b):
    return int.from_bytes(b, "big")


def late(log, csv_path, refresh, slack):
    """(c): templates within one refresh interval of the collector starting;
    afterwards every data set decodable and no flow missing."""
    refresh, slack = float(refresh), float(slack)
    with open(log + ".ready") as f:
        t_up = float(f.read())
    dg = read_udplog(log)
    ids = [int(x["id"]) for x in read_csv(csv_path)[1]]
    dec = Decoder()
    t_tmpl = None
    undecodable_before = undecodable_after = 0
    got, stats = [], None
    for t, m in dg:
        for sid, okd, recs in dec.message(m):
            if sid == 2 and t_tmpl is None and (256 in dec.tmpl or
                                                257 in dec.tmpl):
                t_tmpl = t
            if sid in (256, 257):
                if not okd:
                    if t_tmpl is None:
                        undecodable_before += 1
                    else:
                        undecodable_after += 1
                for r in recs:
                    got.append(u(r[(0, 148)]))
            if sid == 260 and okd:
                for r in recs:
                    stats = {k: u(r[(0, k)]) for k in (40, 41, 42, 164, 166)}
    fails = []
    print("collector up at +%.2f s after the feed started; %d datagrams"
          % (t_up - float(os.environ["T_FEED"]), len(dg)))
    if t_tmpl is None:
        fails.append("no data template ever reached the collector")
    else:
        print("first templates %.2f s after the collector started (refresh "
              "%.0f s); %d data sets arrived before them (lost to the "
              "collector)" % (t_tmpl - t_up, refresh, undecodable_before))
        if t_tmpl - t_up > refresh + slack:
            fails.append("templates came %.2f s after the collector started, "
                         "more than one refresh interval (%.0f s + %.1f s)"
                         % (t_tmpl - t_up, refresh, slack))
    if undecodable_after:
        fails.append("%d data sets without a known template after the "
                      "templates arrived" % undecodable_after)
    if not got:
        fails.append("no flow record decoded")
    else:
        first = min(got)
        want = [i for i in ids if i >= first]
        missing = sorted(set(want) - set(got))
        print("%d flows in the CSV, %d decoded by the collector (flowId %d "
              "to %d); from the first decoded on, %d missing"
              % (len(ids), len(got), first, max(got), len(missing)))
        if missing:
            fails.append("%d flows missing after the collector had the "
                         "templates (first %s)" % (len(missing), missing[:5]))
        if len(got) != len(set(got)):
            fails.append("flows received twice")
    if stats:
        print("last statistics record: exportedFlowRecordTotalCount %d, "
              "notSentFlowTotalCount %d, exportedMessageTotalCount %d"
              % (stats[42], stats[166], stats[41]))
    for f in fails:
        print("FAILED: " + f)
    sys.exit(1 if fails else 0)


def count_stream(path):
    """Records in one TCP stream file, as ipfixDump decodes them and as a
    decoder that knows the templates of every connection would."""
    rc, text, err = run_ipfixdump(path)
    ev = parse_dump(text) if rc == 0 else []
    ids = []
    for e in ev:
        if e[0] == "rec" and e[1] in (256, 257):
            ids.append({(p, i): v for p, i, _n, v in e[2]}[(0, 148)])
    tmpl_before_data = None
    for e in ev:
        if e[0] == "tmpl" and e[1] in (256, 257) and tmpl_before_data is None:
            tmpl_before_data = True
        if e[0] == "rec" and e[1] in (256, 257) and tmpl_before_data is None:
            tmpl_before_data = False
    stats = [dict((n, v) for _p, _i, n, v in e[2]) for e in ev
             if e[0] == "rec" and e[1] == 260]
    skipped = err.count("Missing external template")
    return rc, [int(x) for x in ids], bool(tmpl_before_data), stats, skipped, err


def stream_messages(path):
    with open(path, "rb") as f:
        d = f.read()
    o = 0
    while o + 16 <= len(d):
        n = struct.unpack("!H", d[o + 2:o + 4])[0]
        if n < 16 or o + n > len(d):
            break
        yield d[o:o + n]
        o += n


def raw_flow_ids(files):
    """flowIds per file, decoded with the templates of every file (for
    diagnosis: what a file holds even when it lacks its own templates)."""
    dec = Decoder()
    for p in files:
        for m in stream_messages(p):
            dec.message(m)
    out = []
    for p in files:
        ids = []
        for m in stream_messages(p):
            for sid, _ok, recs in dec.message(m):
                if sid in (256, 257):
                    ids += [u(r[(0, 148)]) for r in recs]
        out.append(ids)
    return out


def tcp_account(csv_path, stderr_path, *files):
    """(d): sink records + records the probe reports as not sent == CSV
    flows; the last connection decodes on its own."""
    ids = [int(x["id"]) for x in read_csv(csv_path)[1]]
    raw = raw_flow_ids(files)
    with open(stderr_path) as f:
        perr = f.read()
    fails, allids, last_stats = [], [], None
    for n, p in enumerate(files):
        rc, got, tmpl_first, stats, skipped, err = count_stream(p)
        print("%s: %d bytes, ipfixDump exit %d, %d flow records decoded "
              "(%d in the file, decoded with every connection's templates), "
              "templates before data: %s, sets skipped for want of a "
              "template: %d;" % (os.path.basename(p), os.path.getsize(p), rc,
                                 len(got), len(raw[n]),
                                 "yes" if tmpl_first else "no", skipped))
        if rc != 0:
            fails.append("%s: ipfixDump exit %d: %s"
                         % (os.path.basename(p), rc, err.strip()[:200]))
        if skipped:
            fails.append("%s: %d data sets cannot be decoded (no template on "
                         "this connection)" % (os.path.basename(p), skipped))
        if n > 0 and not tmpl_first:
            fails.append("%s: templates not re-sent before data on the new "
                         "connection" % os.path.basename(p))
        allids += got
        if stats:
            last_stats = stats[-1]
    import re
    not_sent = int(last_stats["notSentFlowTotalCount"]) if last_stats else 0
    exp_rec = int(last_stats["exportedFlowRecordTotalCount"]) \
        if last_stats else -1
    enc = 0
    for line in perr.splitlines():
        m = re.search(r"ipfix\+tcp://\S+: \d+ flows;.* (\d+) not encodable",
                      line)
        if m:
            enc = int(m.group(1))
    print("last statistics record: exportedFlowRecordTotalCount %d, "
          "notSentFlowTotalCount %d" % (exp_rec, not_sent))
    rawids = set(x for r in raw for x in r)
    print("decodable with every connection's templates: %d flows"
          % len(rawids))
    # README: "The probe's summary on stderr gives every exporter's flows,
    # records that could not be encoded, and the transport's counters."
    import re
    tr = [l for l in perr.splitlines() if "tcp://" in l and
          re.search(r"\d+ (records |messages )?(dropped|not sent)", l)]
    if not tr:
        fails.append("the stderr summary gives no transport counters (sent/"
                     "dropped) for the TCP exporter, which README promises; "
                     "only the last statistics record says what was not sent")
    dup = len(allids) - len(set(allids))
    print("CSV flows %d; in the sink files %d (%d twice); reported not sent "
          "%d + not encodable %d" % (len(ids), len(set(allids)), dup,
                                     not_sent, enc))
    if dup:
        fails.append("%d flows arrived twice" % dup)
    if set(allids) - set(ids):
        fails.append("flowIds not in the CSV")
    if len(set(allids)) + not_sent + enc != len(ids):
        fails.append("accounting: %d received + %d not sent + %d not "
                     "encodable != %d flows"
                     % (len(set(allids)), not_sent, enc, len(ids)))
    for f in fails:
        print("FAILED: " + f)
    sys.exit(1 if fails else 0)


def cmpids(tshark_out, csv_path):
    got = set()
    with open(tshark_out) as f:
        for line in f:
            got.update(int(x) for x in line.strip().split(",") if x)
    ids = {int(x["id"]) for x in read_csv(csv_path)[1]}
    if got != ids:
        print("tshark decoded %d flowIds, CSV has %d (%d missing)"
              % (len(got), len(ids), len(ids - got)))
        sys.exit(1)




class Decoder:
    """Just enough IPFIX to count records: templates, options templates, data
    sets with fixed and variable-length fields."""

    def __init__(self):
        self.tmpl = {}

    def message(self, m):
        """-> list of (set_id, decodable, records); records are dicts
        {(pen, id): bytes} for data sets; template set ids are 2/3."""
        out = []
        if len(m) < 16 or struct.unpack("!H", m[:2])[0] != 10:
            return [("bad", False, [])]
        mlen = struct.unpack("!H", m[2:4])[0]
        off = 16
        while off + 4 <= mlen:
            sid, slen = struct.unpack("!HH", m[off:off + 4])
            if slen < 4:
                return out + [("bad", False, [])]
            body = m[off + 4:off + slen]
            if sid in (2, 3):
                self._templates(sid, body)
                out.append((sid, True, []))
            elif sid >= 256:
                t = self.tmpl.get(sid)
                out.append((sid, t is not None,
                            self._data(t, body) if t else []))
            off += slen
        return out

    def _templates(self, sid, b):
        o = 0
        while o + 4 <= len(b):
            tid, n = struct.unpack("!HH", b[o:o + 4])
            o += 4
            if sid == 3:
                o += 2
            if tid < 256:
                break
            fl = []
            for _ in range(n):
                ie, ln = struct.unpack("!HH", b[o:o + 4])
                o += 4
                pen = 0
                if ie & 0x8000:
                    pen = struct.unpack("!I", b[o:o + 4])[0]
                    o += 4
                    ie &= 0x7FFF
                fl.append((pen, ie, ln))
            self.tmpl[tid] = fl

    @staticmethod
    def _data(t, b):
        minlen = sum(1 if ln == 65535 else ln for _p, _i, ln in t)
        recs, o = [], 0
        while len(b) - o >= max(minlen, 1):
            r = {}
            for pen, ie, ln in t:
                if ln == 65535:
                    ln = b[o]
                    o += 1
                    if ln == 255:
                        ln = struct.unpack("!H", b[o:o + 2])[0]
                        o += 2
                r[(pen, ie)] = b[o:o + ln]
                o += ln
            if o > len(b):
                break
            recs.append(r)
        return recs

if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
PYEOF
export HERE


# What the probe printed (summary lines about export; repeated lines counted).
probe_said() {
	echo "     $1 probe stderr:"
	grep -v -E '^streamprobe: (metering|dpi|export thread|packets)' "$2" |
	    sed -E 's/[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+:[0-9]+/HOST:PORT/' |
	    awk '{ n[$0]++; if (n[$0] == 1) o[++k] = $0 }
		END { for (i = 1; i <= k; i++)
			printf "       %s%s\n", o[i], (n[o[i]] > 1 ? " (x" n[o[i]] ")" : "") }'
}

# ---------------------------------------------------------------------------
# (a) nfcapd over UDP, standard template
# ---------------------------------------------------------------------------
h qinq "$WORK/qinq.pcap"
A_CAPS=("$PCAPS/1kxun.pcap" "$PCAPS/webex.pcap" "$PCAPS/dns_fragmented.pcap"
	"$PCAPS/http_ipv6.pcap" "$PCAPS/mongodb.pcap" "$PCAPS/vxlan.pcap"
	"$WORK/qinq.pcap")
for cap in "${A_CAPS[@]}"; do
	name=$(basename "$cap")
	d=$WORK/a_${name}
	port=$(h freeport udp)
	if ! start_nfcapd "$d" "$port"; then
		bad "(a) $name: nfcapd did not start: $(tail -2 "$d/nfcapd.log")"
		continue
	fi
	rc=0
	"$PROBE" -r "$cap" --csv "$d/flows.csv" \
	    --export "ipfix+udp://127.0.0.1:$port" 2>"$d/probe.err" || rc=$?
	sleep 0.3	# the last datagrams
	stop_pid "$NF_PID"	# SIGTERM: nfcapd writes its file and its counters
	if [[ $rc -ne 0 ]]; then
		bad "(a) $name: probe exit $rc: $(tail -1 "$d/probe.err")"
		continue
	fi
	read -r rows pkts bytes < <(h csvstat "$d/flows.csv")
	nfd=$(nfdump -R "$d/flows" -I 2>&1 || true)
	n_flows=$(sed -n 's/^Flows: //p' <<<"$nfd")
	n_pkts=$(sed -n 's/^Packets: //p' <<<"$nfd")
	n_bytes=$(sed -n 's/^Bytes: //p' <<<"$nfd")
	n_seq=$(sed -n 's/^Sequence failures: //p' <<<"$nfd")
	# nfcapd's own line at exit: "Flows: .., Sequence Errors: N, Bad Packets: N"
	seqerr=$(sed -n 's/.*Sequence Errors: \([0-9]*\).*/\1/p' "$d/nfcapd.log" | tail -1)
	badpk=$(sed -n 's/.*Bad Packets: \([0-9]*\).*/\1/p' "$d/nfcapd.log" | tail -1)
	got="flows $n_flows packets $n_pkts bytes $n_bytes seqfail ${n_seq:-?} seqerr ${seqerr:-?} bad ${badpk:-?}"
	want="flows $rows packets $pkts bytes $bytes seqfail 0 seqerr 0 bad 0"
	if [[ $got == "$want" ]]; then
		ok "(a) $name: nfdump $got"
	else
		bad "(a) $name: nfdump/nfcapd: $got; CSV: $want"
	fi
	# Flow by flow (TZ=UTC: nfdump prints local time; -6 full IPv6).
	TZ=UTC nfdump -R "$d/flows" -6 -N -q \
	    -o "fmt:%ts %te %sa %da %sp %dp %pr %ipkt %ibyt %opkt %obyt %svln" \
	    >"$d/nfdump.txt" 2>&1 || true
	if msg=$(h cmpflows "$d/flows.csv" "$d/nfdump.txt"); then
		ok "(a) $name: every flow's times, addresses, ports, in/out packets and bytes, VLAN id"
	else
		bad "(a) $name: flows differ: $msg"
	fi
done

# ---------------------------------------------------------------------------
# (b) tshark decodes every message of UDP runs
# ---------------------------------------------------------------------------
tshark_run() {	# name template cap [probe options...]
	local name=$1 tmpl=$2 cap=$3
	shift 3
	local d=$WORK/b_$name port mport ts_pid rc=0 frames dgrams malformed i
	mkdir -p "$d"
	port=$(h freeport udp)
	mport=$(h freeport udp)	# marker datagrams: capture running, capture done
	start_udpsink "$port" "$d/udp.log" || { bad "(b) $name: UDP sink did not start"; return; }
	local sink_pid=$SINK_PID
	tshark -i lo -f "udp port $port or udp port $mport" -w "$d/cap.pcap" -l -P \
	    >"$d/tshark.out" 2>"$d/tshark.log" &
	ts_pid=$!
	started "$ts_pid"
	# "Capturing on" comes before the filter is in place: wait until a
	# marker datagram (5 bytes) shows up in tshark's own packet list.
	for i in $(seq 150); do
		echo -n start >"/dev/udp/127.0.0.1/$mport" 2>/dev/null || true
		grep -q "Len=5" "$d/tshark.out" 2>/dev/null && break
		sleep 0.1
	done
	if ! grep -q "Len=5" "$d/tshark.out"; then
		bad "(b) $name: tshark did not start capturing: $(tail -2 "$d/tshark.log")"
		stop_pid "$ts_pid"; stop_pid "$sink_pid"
		return
	fi
	"$PROBE" -r "$cap" --csv "$d/flows.csv" --template "$tmpl" "$@" \
	    --export "ipfix+udp://127.0.0.1:$port" 2>"$d/probe.err" || rc=$?
	# A 7-byte marker after the probe: once tshark lists it, it has every
	# frame sent before it (loopback keeps the order).
	for i in $(seq 100); do
		echo -n the-end >"/dev/udp/127.0.0.1/$mport" 2>/dev/null || true
		sleep 0.1
		grep -q "Len=7" "$d/tshark.out" && break
	done
	stop_pid "$ts_pid"
	stop_pid "$sink_pid"
	if [[ $rc -ne 0 ]]; then
		bad "(b) $name: probe exit $rc: $(tail -1 "$d/probe.err")"
		return
	fi
	dgrams=$(h udpcount "$d/udp.log")
	frames=$(tshark -r "$d/cap.pcap" -Y "udp.dstport==$port" 2>/dev/null | wc -l)
	# Any malformed frame or expert error of the export shows up as a line
	# here (the marker datagrams are ours, not IPFIX: tshark may guess them
	# as another protocol from their random source port).
	malformed=$(tshark -r "$d/cap.pcap" -d "udp.port==$port,cflow" \
	    -o cflow.max_template_fields:200 \
	    -Y "udp.dstport==$port && (_ws.malformed || _ws.expert.severity >= error)" \
	    2>/dev/null || true)
	tshark -r "$d/cap.pcap" -d "udp.port==$port,cflow" \
	    -o cflow.max_template_fields:200 -T fields -e cflow.flow_id \
	    >"$d/ids.txt" 2>/dev/null || true
	if [[ $frames -eq 0 || $frames -ne $dgrams ]]; then
		bad "(b) $name: tshark captured $frames frames, the collector got $dgrams datagrams"
	elif [[ -n $malformed ]]; then
		bad "(b) $name: tshark flags $(wc -l <<<"$malformed") of $frames frames: $(head -2 <<<"$malformed")"
	elif ! msg=$(h cmpids "$d/ids.txt" "$d/flows.csv"); then
		bad "(b) $name: $msg"
	else
		ok "(b) $name: $frames messages, none malformed, no expert error, every flowId decoded"
	fi
}
tshark_run standard-ipv4 standard "$PCAPS/webex.pcap"
tshark_run standard-ipv6 standard "$PCAPS/http_ipv6.pcap"
tshark_run nfstream-ipv4 nfstream "$PCAPS/webex.pcap" --statistics
tshark_run nfstream-ipv6 nfstream "$PCAPS/http_ipv6.pcap" --statistics

# The probe refuses a template whose records cannot fit a 1420-byte datagram
# and advises "a smaller --splt".  With --splt 1 the SPLT columns hold 7 bytes
# a record (1 + 2 + 4), so following that advice must make nfstream fit.
d=$WORK/b_splt
mkdir -p "$d"
port=$(h freeport udp)
rc=0
"$PROBE" -r "$PCAPS/http_ipv6.pcap" --statistics --splt 1 --template nfstream \
    --csv /dev/null --export "ipfix+udp://127.0.0.1:$port" 2>"$d/probe.err" || rc=$?
if [[ $rc -eq 0 ]]; then
	ok "(b) nfstream template over UDP with --splt 1 accepted"
elif grep -q "smaller --splt" "$d/probe.err"; then
	bad "(b) --template nfstream --statistics --splt 1 over UDP: exit $rc," \
	    "'$(grep -m1 "records can reach" "$d/probe.err" | sed 's/^streamprobe: //')';" \
	    "the advice cannot work: the size check counts the template's maximum" \
	    "SPLT lengths (255+510+1020 bytes), not --splt N (7 bytes)"
else
	ok "(b) nfstream over UDP with --splt 1 refused without advising --splt (exit $rc)"
fi

# ---------------------------------------------------------------------------
# (c) late UDP collector
# ---------------------------------------------------------------------------
FEED_S=12
d=$WORK/c
mkdir -p "$d"
mkfifo "$d/feed.pcap"
port=$(h freeport udp)
"$PROBE" -r "$d/feed.pcap" --idle-timeout 1 --template-refresh 2 \
    --csv "$d/flows.csv" --export "ipfix+udp://127.0.0.1:$port" \
    2>"$d/probe.err" &
probe_pid=$!
started "$probe_pid"
T_FEED=$(now)
export T_FEED
python3 "$H" feed "$d/feed.pcap" "$FEED_S" 0.02 >"$d/feed.out" &
feed_pid=$!
started "$feed_pid"
sleep_until 5 "$T_FEED"
start_udpsink "$port" "$d/udp.log" || bad "(c) UDP collector did not start"
c_sink=$SINK_PID
reap "$feed_pid"
frc=$REAPED
reap "$probe_pid"
prc=$REAPED
sleep 0.5
stop_pid "$c_sink"
if ! delivery_ok "$prc" "$d/probe.err" || [[ $frc -ne 0 ]]; then
	bad "(c) probe exit $prc, feed exit $frc: $(tail -2 "$d/probe.err")"
elif out=$(h late "$d/udp.log" "$d/flows.csv" 2 0.5); then
	ok "(c) late UDP collector: templates within one refresh interval, then every flow decodable"
	sed 's/^/       /' <<<"$out"
else
	bad "(c) late UDP collector:"
	sed 's/^/       /' <<<"$out"
fi
probe_said "(c)" "$d/probe.err"

# ---------------------------------------------------------------------------
# (d) TCP collector stopped at ~4 s and restarted at ~7 s on the same port
# ---------------------------------------------------------------------------
d=$WORK/d
mkdir -p "$d/sink"
mkfifo "$d/feed.pcap"
python3 "$HERE/tcp_sink.py" --dir "$d/sink" --port-file "$d/port" --quiet &
s1=$!
started "$s1"
for i in $(seq 100); do [[ -f $d/port ]] && break; sleep 0.05; done
port=$(cat "$d/port")
"$PROBE" -r "$d/feed.pcap" --idle-timeout 1 --template-refresh 2 \
    --csv "$d/flows.csv" --export "ipfix+tcp://127.0.0.1:$port" \
    2>"$d/probe.err" &
probe_pid=$!
started "$probe_pid"
T_FEED=$(now)
python3 "$H" feed "$d/feed.pcap" "$FEED_S" 0.02 >"$d/feed.out" &
feed_pid=$!
started "$feed_pid"
sleep_until 4 "$T_FEED"
stop_pid "$s1"		# SIGTERM: the sink half-closes, drains and exits
sleep_until 7 "$T_FEED"
rm -f "$d/port"
python3 "$HERE/tcp_sink.py" --dir "$d/sink" --port "$port" --port-file "$d/port" --quiet &
s2=$!
started "$s2"
reap "$feed_pid"
frc=$REAPED
reap "$probe_pid"
prc=$REAPED
sleep 0.5
stop_pid "$s2"
files=("$d"/sink/conn-*.ipfix)
if ! delivery_ok "$prc" "$d/probe.err" || [[ $frc -ne 0 ]]; then
	bad "(d) probe exit $prc, feed exit $frc: $(tail -2 "$d/probe.err")"
elif [[ ${#files[@]} -lt 2 || ! -f ${files[0]} ]]; then
	bad "(d) expected a connection before and one after the restart, sink has: $(ls "$d/sink" | tr '\n' ' ')"
elif out=$(h tcp_account "$d/flows.csv" "$d/probe.err" "${files[@]}"); then
	ok "(d) TCP collector restart: new connection decodes alone, every record accounted for"
	sed 's/^/       /' <<<"$out"
else
	bad "(d) TCP collector restart:"
	sed 's/^/       /' <<<"$out"
fi
probe_said "(d)" "$d/probe.err"

T_END=$(now)
echo "$(python3 -c "print('%.1f' % ($T_END - $T_START))") s"
echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
