#!/usr/bin/env bash
# nf9_collectors.sh - the probe's NetFlow v9 export as real collectors see it.
#
#   tests/scripts/nf9_collectors.sh PROBE NF9COLLECT [SHARED]
#     PROBE       the streamprobe binary
#     NF9COLLECT  tests/nf9collect's binary (libfixbuf's v9 translator)
#     SHARED      default ../shared beside the repository
#
# What the export must look like is derived from README.md, the template files
# and the v9 rules of src/export/nf9/export_nf9.c's header comment: an IANA
# element keeps its id, except flowId 148 (Cisco NSEL's connection id in
# v9), sent as 49000; RFC 5103 reverse octet/packet counts become
# OUT_BYTES 23 / OUT_PKTS 24;
# ntop's PEN 35632 elements become 57472 + id; streamprobe's own (the
# template's enterprise number) 48000 + id, SPLT lists left out; other
# enterprise elements are left out; every field has the template's fixed
# length (strings and octet
# arrays NUL-padded); templates 256/257 (v4/v6 biflow), 258/259 (uniflow);
# options templates 260 (scope System 1/4: 40,41,42,164,166, 8 bytes each)
# and 261 (scope System: 95 len 5, 96 len 32); source id = --observation-domain.
#
# (a) nfcapd + nfdump, every capture of SHARED/pcaps, standard template, one
#     fresh nfcapd per capture (each probe run is a new exporter whose
#     sequence starts at 0: one nfcapd for several runs with the same source
#     id would count a sequence error).  nfdump's flows / packets / bytes (in +
#     out: 1/2 and 23/24) == the CSV's rows / sum bidirectional_packets / sum
#     bidirectional_bytes, every flow comes back with its times, addresses,
#     ports, protocol, in/out packets and bytes and VLAN, and nfcapd reports 0
#     sequence errors and 0 bad packets.  Exit 0, or 1 for the captures whose
#     MANIFEST capinfos_error is non-empty (damaged: flows read are written).
# (b) tshark (one capture on lo for every run of (b) and (f)) decodes every
#     datagram with no malformed frame and no expert warning: standard and
#     ntop templates, IPv4 and IPv6, biflow and --uniflow, --mtu 600; frames
#     == datagrams the sink got; sum of IN_BYTES (1) == sum src2dst_bytes and
#     of OUT_BYTES (23) == sum dst2src_bytes (uniflow: IN_BYTES == every
#     byte, no 23); flowIds (standard) == the CSV ids (uniflow: twice when
#     dst2src > 0).
# (c) libfixbuf (nf9collect) collects standard v9 from a stream of six
#     captures (IPv4, IPv6, a VLAN, fragments, ICMP/ICMPv6, many
#     applications; --active-timeout 10 --max-flows 64 for every end reason)
#     and every value of every record equals the CSV: the mapping is
#     standard.tmpl's (column -> element), forward counters 1/2 = src2dst,
#     OUT 23/24 = dst2src, strings = the CSV value cut to the template length
#     (the probe's UTF-8-safe cut) then NUL-padded, tcpControlBits = OR of the
#     flags whose src2dst_*_packets > 0 (--statistics only adds CSV columns),
#     flowEndReason from expiration_id (0: idle 1 or end of input 4, 1: active
#     2, -1: evicted 5) with the summary's counts, biflowDirection 1,
#     applicationId = engine 22 + an id the application table (261) names as
#     a component of application_name.  --uniflow: a forward record (src2dst
#     values, bidirectional_* -> src2dst_*) and, when dst2src_packets > 0, a
#     reverse record (endpoints swapped, dst2src values); no 23/24, no 239.
#     The last statistics record: notSent 0, ignored == the summary's skipped.
# (d) late collector by time: a FIFO fed for ~12 s (one short UDP flow every
#     20 ms, timestamps following the clock, --idle-timeout 1), --template-
#     refresh 3, --template-packets 1000000; nf9collect starts 5 s after the
#     probe.  The first datagram with templates after the collector is up
#     arrives within 3 s (+0.5 s slack) of it, nf9collect's first record too,
#     and from that datagram on every data record (decoded from tshark's
#     capture) is in nf9collect's output, none twice, all in the CSV.
# (e) late collector by packet count: same with --template-refresh 3600 and
#     --template-packets 5: templates ride on every 5th export packet, so one
#     of the first 5 datagrams the collector gets carries them; from it on
#     every record reaches nf9collect.
# (f) headers, parsed from the datagrams a Python sink saved (every run of
#     (b) and two more at --mtu 600 --observation-domain 7): version 9,
#     sequence 0, 1, 2, ... (one per export packet), count == template +
#     options template + data records, source id as configured, every FlowSet
#     length a multiple of 4 (padding < 4 zero bytes, no bytes after the
#     last FlowSet), datagram <= --mtu, templates == the template file's v9
#     layout, options templates as above, every data record decodable, a
#     template refresh at least every --template-packets packets, the last
#     statistics record's message/octet counts == what was sent before it
#     (its flow record count >= the flow records sent: the probe counts the
#     options records too, as its IPFIX exporter does).
#     And: the probe either refuses at start-up or delivers every record at
#     its smallest --mtu (576) with templates in every packet (--uniflow,
#     IPv6, --template-packets 1).
# (g) reduced sizes: a 1-byte octetDeltaCount saturates at 255 and a float64
#     sent in 4 bytes equals the CSV's value to float32 precision, as
#     nf9collect decodes them.
#
# Prints "ok"/"FAIL" lines and "N passed, M failed"; exit 1 on failure, 2 when
# SHARED or a tool is missing, 77 (skip) when not root (tshark on lo).
# Everything goes to 127.0.0.1; every process this script starts is stopped.
# KEEP=1 keeps the work directory; ONLY="c d" runs some sections (b and f
# share their runs).
set -euo pipefail
if [[ $# -lt 2 ]]; then
	echo "usage: nf9_collectors.sh PROBE NF9COLLECT [SHARED]" >&2
	exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PROBE=$1
NF9COLLECT=$2
SHARED=${3:-$(dirname "$REPO")/shared}
PCAPS=$SHARED/pcaps
TEMPLATES=$REPO/templates
T_START=$(date +%s.%N)

if [[ ! -d $PCAPS || ! -f $PCAPS/MANIFEST.tsv ]]; then
	echo "nf9_collectors: $PCAPS (with MANIFEST.tsv) not found: the shared" \
	    "captures are needed (pass SHARED as the third argument)" >&2
	exit 2
fi
for tool in nfcapd nfdump tshark python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "nf9_collectors: $tool not installed" >&2
		exit 2
	fi
done
for bin in "$PROBE" "$NF9COLLECT"; do
	if [[ ! -x $bin ]]; then
		echo "nf9_collectors: $bin not executable" >&2
		exit 2
	fi
done
if [[ "$(id -u)" -ne 0 ]]; then
	echo "nf9_collectors: captures on lo with tshark, needs root: skipped"
	exit 77
fi
PROBE=$(cd "$(dirname "$PROBE")" && pwd)/$(basename "$PROBE")
NF9COLLECT=$(cd "$(dirname "$NF9COLLECT")" && pwd)/$(basename "$NF9COLLECT")

WORK=$(mktemp -d /tmp/nf9_collectors.XXXXXX)
. "$HERE/collector_lib.sh"
indent() { sed 's/^/       /'; }
# ONLY="a c" runs those sections only (b and f share their runs)
want() { [[ -z ${ONLY:-} || " $ONLY " == *" $1 "* ]]; }

H=$WORK/h.py
cat >"$H" <<'PYEOF'
"""Helpers for nf9_collectors.sh (written out by the script)."""
import ipaddress
import os
import re
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.environ["HERE"])
from collector_common import feed, udpsink, read_udplog, udpcount, cmpflows  # noqa: E402,F401
from ipfix_roundtrip import (read_csv, read_manifest, parse_template,  # noqa
                             parse_summary, text_cut, TYPE_SIZE,
                             TCP_FLAG_BITS, END_REASONS)

REV_PEN, NTOP_PEN, NTOP_V9_BASE = 29305, 35632, 57472
OWN_V9_BASE, V9_FLOW_ID = 48000, 49000
TID_STATS, TID_APPS = 260, 261
# export_nf9.c's options templates: (scope fields, option fields)
OPT_TMPL = {TID_STATS: ([(1, 4)], [(40, 8), (41, 8), (42, 8), (164, 8),
                                   (166, 8)]),
            TID_APPS: ([(1, 4)], [(95, 5), (96, 32)])}
STATS_RE = re.compile(r"_(min|mean|stddev|max)_(ps|piat_ms)$|"
                      r"_(syn|cwr|ece|urg|ack|psh|rst|fin)_packets$")


def freeport():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def freeports(n):
    """n distinct free UDP ports (bound together, then released)."""
    socks = []
    for _ in range(int(n)):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    print(" ".join(str(s.getsockname()[1]) for s in socks))


def judge_a(shared, name, rc, d):
    """(a) one capture: exit status, nfdump -I totals and nfcapd's counters
    against the CSV, then flow by flow (cmpflows)."""
    rc = int(rc)
    dmg = read_manifest(shared).get(name, False)
    if rc != 0 and not (rc == 1 and dmg):
        with open(os.path.join(d, "probe.err")) as f:
            print("probe exit %d: %s" % (rc, f.read().strip()[-200:]))
        sys.exit(1)
    _h, rows = read_csv(os.path.join(d, "flows.csv"))
    want = "flows %d packets %d bytes %d seqfail 0 seqerr 0 bad 0" % (
        len(rows), sum(int(r["bidirectional_packets"]) for r in rows),
        sum(int(r["bidirectional_bytes"]) for r in rows))
    with open(os.path.join(d, "nfdump-I.txt")) as f:
        info = dict(re.findall(r"^([A-Za-z ]+): (\S+)$", f.read(), re.M))
    with open(os.path.join(d, "nfcapd.log")) as f:
        # nfcapd's line at exit: "..., Sequence Errors: N, Bad Packets: N"
        m = re.findall(r"Sequence Errors: (\d+), Bad Packets: (\d+)",
                       f.read())
    seqerr, badpk = m[-1] if m else ("?", "?")
    got = "flows %s packets %s bytes %s seqfail %s seqerr %s bad %s" % (
        info.get("Flows", "?"), info.get("Packets", "?"),
        info.get("Bytes", "?"), info.get("Sequence failures", "?"),
        seqerr, badpk)
    if got != want:
        print("nfdump/nfcapd: %s; CSV: %s" % (got, want))
        sys.exit(1)
    cmpflows(os.path.join(d, "flows.csv"), os.path.join(d, "nfdump.txt"))
    print("%d flows, %s packets, %s bytes, 0 sequence errors, 0 bad "
          "packets, every flow's fields%s" % (
              len(rows), info["Packets"], info["Bytes"],
              " (damaged capture: exit 1)" if rc else ""))


def read_pcap(path, port):
    """UDP payloads to `port` in a pcap (tshark -F pcap on lo): [(t, data)]."""
    with open(path, "rb") as f:
        d = f.read()
    magic = struct.unpack("<I", d[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    link = struct.unpack(e + "I", d[20:24])[0]
    o, out = 24, []
    while o + 16 <= len(d):
        s, us, cap, _wire = struct.unpack(e + "IIII", d[o:o + 16])
        fr = d[o + 16:o + 16 + cap]
        o += 16 + cap
        l3 = {1: 14, 113: 16, 0: 4}.get(link, 14)
        ip = fr[l3:]
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        dport = struct.unpack("!H", ip[ihl + 2:ihl + 4])[0]
        if dport == int(port):
            out.append((s + us / (1e9 if nano else 1e6), ip[ihl + 8:]))
    return out


# ---- expected v9 layout ---------------------------------------------------

def v9_type(f):
    """export_nf9.c's rule: IANA id kept but flowId 148 -> 49000, RFC 5103
    reverse counters -> 23/24, ntop -> 57472 + id, streamprobe's own (the
    only other PEN of the shipped templates) -> 48000 + id but not the SPLT
    lists, other enterprise elements: none (0)."""
    if f.pen == 0:
        return V9_FLOW_ID if f.id == 148 else f.id
    if f.pen == REV_PEN:
        return {1: 23, 2: 24}.get(f.id, 0)
    if f.pen == NTOP_PEN and NTOP_V9_BASE + f.id <= 0xFFFF:
        return NTOP_V9_BASE + f.id
    if f.id < 9000 and not f.column.startswith("splt_"):
        return OWN_V9_BASE + f.id
    return 0


def active(col, statistics):
    """Columns a default run (DPI on, tunnels decoded, no SPLT) produces."""
    if STATS_RE.search(col):
        return statistics
    return not col.startswith("splt_")


def layout(tmpl_path, family, uniflow, statistics):
    """[(Field, v9 type, length)] of the data template, in template order."""
    out = []
    for f in parse_template(tmpl_path):
        if f.family not in (0, family) or not active(f.column, statistics):
            continue
        t = v9_type(f)
        if t == 0:
            continue
        if uniflow and (f.pen == REV_PEN or f.column.startswith("dst2src_")
                        or f.column == "biflow_direction"):
            continue  # the reverse record carries these / biflows only
        out.append((f, t, f.length or TYPE_SIZE[f.type]))
    return out


def expected_templates(tmpl_path, uniflow, statistics):
    base = 258 if uniflow else 256
    return {base: layout(tmpl_path, 4, uniflow, statistics),
            base + 1: layout(tmpl_path, 6, uniflow, statistics)}


def column_for(col, reverse, uniflow):
    """README's uniflow records: the forward one carries src2dst values
    (bidirectional_* read as src2dst_*), the reverse one dst2src values with
    the endpoints swapped.  Biflow: the column itself."""
    if not uniflow:
        return col
    if col.startswith("bidirectional_"):
        return ("dst2src_" if reverse else "src2dst_") + col[14:]
    if not reverse:
        return col
    for a, b in (("src2dst_", "dst2src_"), ("dst2src_", "src2dst_"),
                 ("src_", "dst_"), ("dst_", "src_")):
        if col.startswith(a):
            return b + col[len(a):]
    return col


# ---- NetFlow v9 parsing ---------------------------------------------------

class V9:
    """A strict RFC 3954 reader: templates, options templates, data."""

    def __init__(self):
        self.tmpl = {}   # tid -> [(type, len)]
        self.opt = {}    # tid -> ([(type, len)], [(type, len)])

    def reclen(self, tid):
        if tid in self.tmpl:
            return sum(ln for _t, ln in self.tmpl[tid])
        s, o = self.opt[tid]
        return sum(ln for _t, ln in s + o)

    def fields(self, tid):
        if tid in self.tmpl:
            return self.tmpl[tid]
        s, o = self.opt[tid]
        return s + o

    def packet(self, d):
        """-> dict: hdr, errs, n_tmpl, n_opt, tids (templates defined),
        recs [(tid, [field bytes])], undecodable (data sets)."""
        p = {"errs": [], "n_tmpl": 0, "n_opt": 0, "tids": [], "recs": [],
             "undecodable": 0, "hdr": None}
        errs = p["errs"]
        if len(d) < 20:
            errs.append("datagram of %d bytes" % len(d))
            return p
        p["hdr"] = struct.unpack("!HHIIII", d[:20])
        if p["hdr"][0] != 9:
            errs.append("version %d" % p["hdr"][0])
            return p
        o = 20
        while o < len(d):
            if len(d) - o < 4:
                errs.append("%d bytes after the last FlowSet" % (len(d) - o))
                break
            sid, slen = struct.unpack("!HH", d[o:o + 4])
            if slen < 4 or slen % 4 or o + slen > len(d):
                errs.append("FlowSet %d at %d: length %d (datagram %d)"
                            % (sid, o, slen, len(d)))
                break
            body = d[o + 4:o + slen]
            o += slen
            if sid == 0:
                self._templates(body, p)
            elif sid == 1:
                self._options(body, p)
            elif sid < 256:
                errs.append("FlowSet id %d" % sid)
            elif sid not in self.tmpl and sid not in self.opt:
                p["undecodable"] += 1
            else:
                rl, fl = self.reclen(sid), self.fields(sid)
                n, pad = divmod(len(body), rl)
                if n == 0 or pad >= 4 or body[n * rl:].strip(b"\0"):
                    errs.append("data FlowSet %d: %d bytes for %d-byte "
                                "records (padding %d)" % (sid, len(body), rl,
                                                          pad))
                for k in range(n):
                    r, q = [], k * rl
                    for _t, ln in fl:
                        r.append(body[q:q + ln])
                        q += ln
                    p["recs"].append((sid, r))
        n = p["n_tmpl"] + p["n_opt"] + len(p["recs"])
        if not errs and not p["undecodable"] and p["hdr"][1] != n:
            errs.append("count %d, %d records (%d templates, %d options "
                        "templates, %d data)" % (p["hdr"][1], n, p["n_tmpl"],
                                                 p["n_opt"], len(p["recs"])))
        return p

    def _templates(self, b, p):
        o = 0
        while len(b) - o >= 4:
            tid, n = struct.unpack("!HH", b[o:o + 4])
            if tid < 256 or o + 4 + 4 * n > len(b):
                p["errs"].append("template %d with %d fields in %d bytes"
                                 % (tid, n, len(b) - o))
                return
            self.tmpl[tid] = [struct.unpack("!HH", b[o + 4 + 4 * i:
                                                     o + 8 + 4 * i])
                              for i in range(n)]
            self.opt.pop(tid, None)
            p["tids"].append(tid)
            p["n_tmpl"] += 1
            o += 4 + 4 * n
        if o != len(b):
            p["errs"].append("%d bytes left in a template FlowSet"
                             % (len(b) - o))

    def _options(self, b, p):
        o = 0
        while len(b) - o >= 6:
            tid, sl, ol = struct.unpack("!HHH", b[o:o + 6])
            if tid < 256 or sl % 4 or ol % 4 or sl == 0 or \
                    o + 6 + sl + ol > len(b):
                p["errs"].append("options template %d scope %d options %d"
                                 % (tid, sl, ol))
                return
            q = o + 6
            sc = [struct.unpack("!HH", b[q + i:q + i + 4])
                  for i in range(0, sl, 4)]
            q += sl
            op = [struct.unpack("!HH", b[q + i:q + i + 4])
                  for i in range(0, ol, 4)]
            self.opt[tid] = (sc, op)
            self.tmpl.pop(tid, None)
            p["tids"].append(tid)
            p["n_opt"] += 1
            o += 6 + sl + ol
        if len(b) - o >= 4 or b[o:].strip(b"\0"):
            p["errs"].append("options FlowSet: %d bytes of padding"
                             % (len(b) - o))


def u(b):
    return int.from_bytes(b, "big")


def expected_records(rows, uniflow):
    """Records a run must deliver: {(flowId, reverse)}."""
    want = set()
    for r in rows:
        want.add((int(r["id"]), 0))
        if uniflow and int(r["dst2src_packets"]) > 0:
            want.add((int(r["id"]), 1))
    return want


# ---- (f) headers ----------------------------------------------------------

def headers(log, csv_path, err_path, tmpl, opts):
    """(f): every datagram of one run, parsed strictly."""
    mtu, srcid, tpk, uniflow, stats = (int(x) for x in opts.split(","))
    dg = read_udplog(log)
    _h, rows = read_csv(csv_path)
    with open(err_path) as f:
        summary = parse_summary(f.read())
    want_t = expected_templates(tmpl, uniflow, stats)
    v9 = V9()
    fails, sizes, tmpl_at, last_stats = [], [], [], None
    sent_octets = 0
    n_data = 0
    flow_recs, sums = [], [0, 0]
    tids_seen = set()
    for i, (_t, d) in enumerate(dg):
        p = v9.packet(d)
        sizes.append(len(d))
        ctx = "datagram %d (%d bytes)" % (i, len(d))
        fails += ["%s: %s" % (ctx, e) for e in p["errs"]]
        if p["hdr"] is None:
            continue
        _v, _c, _up, _secs, seq, sid = p["hdr"]
        if seq != i:
            fails.append("%s: sequence %d, expected %d (one per export "
                         "packet, from 0)" % (ctx, seq, i))
        if sid != srcid:
            fails.append("%s: source id %d, expected %d" % (ctx, sid, srcid))
        if len(d) > mtu:
            fails.append("%s: larger than --mtu %d" % (ctx, mtu))
        if p["undecodable"]:
            fails.append("%s: %d data FlowSets without a template"
                         % (ctx, p["undecodable"]))
        if any(t in want_t for t in p["tids"]):
            tmpl_at.append(i)
        flows_before = len(flow_recs)
        for tid, r in p["recs"]:
            if tid == TID_STATS:
                last_stats = (i, sent_octets, flows_before, r)
            if tid in want_t:
                fl = v9.tmpl[tid]
                val = {t: b for (t, _l), b in zip(fl, r)}
                flow_recs.append(val)
                sums[0] += u(val.get(1, b""))
                sums[1] += u(val.get(23, b""))
            elif tid in (256, 257) and uniflow:
                fails.append("%s: a biflow record (%d) in a uniflow run"
                             % (ctx, tid))
        n_data += len(p["recs"])
        sent_octets += len(d)
    # templates on the wire == the template file's v9 layout
    for tid, lay in want_t.items():
        exp = [(t, ln) for _f, t, ln in lay]
        if lay and v9.tmpl.get(tid) != exp:
            fails.append("template %d: %s, expected %s" % (
                tid, v9.tmpl.get(tid), exp))
        tids_seen.add(tid)
    for tid, exp in OPT_TMPL.items():
        if v9.opt.get(tid) != exp:
            fails.append("options template %d: %s, expected %s"
                         % (tid, v9.opt.get(tid), exp))
    extra = sorted(set(v9.tmpl) - set(want_t) - {256, 257})
    if extra:
        fails.append("unexpected templates %s" % extra)
    # templates at start and at least every --template-packets packets
    gaps = [b - a for a, b in zip([0] + tmpl_at, tmpl_at + [len(dg)])]
    if not tmpl_at or tmpl_at[0] != 0:
        fails.append("the first datagram carries no template")
    elif max(gaps) > tpk:
        fails.append("%d datagrams without templates (--template-packets %d)"
                     % (max(gaps) - 1, tpk))
    # every flow record, once
    want = expected_records(rows, uniflow)
    if V9_FLOW_ID in [t for _f, t, _l in want_t[min(want_t)]]:
        got, seen = [], set()
        for val in flow_recs:
            fid = u(val[V9_FLOW_ID])
            got.append((fid, 1 if fid in seen else 0))
            seen.add(fid)
        if sorted(got) != sorted(want):
            fails.append("records %d (%d distinct), expected %d"
                         % (len(got), len(set(got)), len(want)))
    elif len(flow_recs) != len(want):
        fails.append("%d flow records, expected %d" % (len(flow_recs),
                                                       len(want)))
    in_b = sum(int(r["src2dst_bytes"]) for r in rows)
    out_b = sum(int(r["dst2src_bytes"]) for r in rows)
    exp_sums = [in_b + out_b, 0] if uniflow else [in_b, out_b]
    if sums != exp_sums:
        fails.append("sum of IN_BYTES/OUT_BYTES %s, expected %s"
                     % (sums, exp_sums))
    # the last statistics record: what was sent before its datagram
    if last_stats is None:
        fails.append("no statistics record (260)")
    else:
        i, octets, flows_before, r = last_stats
        st = [u(b) for b in r]
        if st[0] != srcid:
            fails.append("statistics scope %d, expected %d" % (st[0], srcid))
        if st[1:3] != [octets, i]:
            fails.append("last statistics record: %d octets in %d messages; "
                         "sent before it: %d octets in %d datagrams"
                         % (st[1], st[2], octets, i))
        if st[5] != 0:
            fails.append("notSentFlowTotalCount %d" % st[5])
        # exportedFlowRecordTotalCount: at least the flow records sent (the
        # probe counts options records too, as its IPFIX exporter does)
        if st[3] < flows_before:
            fails.append("exportedFlowRecordTotalCount %d < %d flow records "
                         "sent" % (st[3], flows_before))
        if summary["skipped"] is not None and st[4] != summary["skipped"]:
            fails.append("ignoredPacketTotalCount %d, summary skipped %d"
                         % (st[4], summary["skipped"]))
    print("%d datagrams, %d-%d bytes, %d records (%d flow records), "
          "templates in %d datagrams (largest gap %d)"
          % (len(dg), min(sizes or [0]), max(sizes or [0]), n_data,
             len(flow_recs), len(tmpl_at), max(gaps or [0])))
    for f in fails[:12]:
        print("FAILED: " + f)
    if len(fails) > 12:
        print("FAILED: ... %d more" % (len(fails) - 12))
    sys.exit(1 if fails else 0)


# ---- (b) tshark -----------------------------------------------------------

def tshark_fields(path, csv_path, uniflow, has_id):
    """tshark's cflow.flow_id / octets / post_octets of a run vs the CSV."""
    uniflow, has_id = int(uniflow), int(has_id)
    _h, rows = read_csv(csv_path)
    ids, octs, post = [], 0, 0
    with open(path) as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            c += [""] * (3 - len(c))
            ids += [int(x) for x in c[0].split(",") if x]
            octs += sum(int(x) for x in c[1].split(",") if x)
            post += sum(int(x) for x in c[2].split(",") if x)
    in_b = sum(int(r["src2dst_bytes"]) for r in rows)
    out_b = sum(int(r["dst2src_bytes"]) for r in rows)
    want = (in_b + out_b, 0) if uniflow else (in_b, out_b)
    fails = []
    if (octs, post) != want:
        fails.append("IN_BYTES/OUT_BYTES sums %s, CSV %s" % ((octs, post),
                                                             want))
    if has_id:
        w = sorted(i for i, _r in expected_records(rows, uniflow))
        if sorted(ids) != w:
            fails.append("%d flowIds decoded, %d expected (%d distinct of "
                         "%d)" % (len(ids), len(w), len(set(ids)),
                                  len(set(w))))
    print("; ".join(fails) if fails else
          "IN/OUT byte sums %d/%d%s" % (octs, post, ", every flowId" if has_id
                                        else ""))
    sys.exit(1 if fails else 0)


# ---- (c) libfixbuf: every value -------------------------------------------

def read_tsv(path):
    out = []
    with open(path) as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            out.append((int(c[0]), [tuple(x.split("=", 1)) for x in c[1:]]))
    return out


def libfixbuf_name(f, t):
    """The name libfixbuf's v9 translation gives the element: ids above 346
    become ciscoNetflowGeneric (9999); 23/24 are IANA's post*DeltaCount."""
    if t > 346:
        return "ciscoNetflowGeneric"
    return {23: "postOctetDeltaCount", 24: "postPacketDeltaCount"}.get(
        t, f.element)


def tcp_flags(row, d):
    v = 0
    for name, bit in TCP_FLAG_BITS.items():
        if int(row["%s_%s_packets" % (d, name)]) > 0:
            v |= bit
    return v


def check_value(f, t, ln, val, row, rev, uniflow, apps, reasons):
    """'' when the collected value is what the CSV row implies."""
    col = column_for(f.column, rev, uniflow)
    if f.column == "flow_end_reason":
        v = int(val)
        reasons.append(v)
        ok = v in END_REASONS[int(row["expiration_id"])]
        return "" if ok else "%s for expiration_id %s" % (v, row[
            "expiration_id"])
    if f.column == "biflow_direction":
        return "" if int(val) == 1 else val
    if f.column in ("src2dst_tcp_flags", "dst2src_tcp_flags"):
        want = tcp_flags(row, col[:7]) & ((1 << (8 * ln)) - 1)
        return "" if int(val) == want else "%s, expected %d" % (val, want)
    if f.column == "application_id":
        b = bytes.fromhex(val)
        name = apps.get(u(b[1:])) if len(b) == 5 and b[0] == 22 else None
        if name is None or name not in row["application_name"].split("."):
            return "%s (%s) for %s" % (val, name, row["application_name"])
        return ""
    want = row[col]
    if f.type in ("ipv4Address", "ipv6Address"):
        return "" if ipaddress.ip_address(val) == \
            ipaddress.ip_address(want) else "%s, expected %s" % (val, want)
    if f.type == "macAddress":
        return "" if val.lower() == want.lower() else \
            "%s, expected %s" % (val, want)
    if f.type in ("string", "octetArray"):
        b, w = bytes.fromhex(val), text_cut(want, ln)
        if len(b) != ln or b[:len(w)] != w or b[len(w):].strip(b"\0"):
            return "%r, expected %r NUL-padded to %d" % (b, w, ln)
        return ""
    w = min(int(want), (1 << (8 * ln)) - 1)
    return "" if int(val) == w else "%s, expected %d" % (val, w)


def collected(tsv, csv_path, err_path, nc_err, tmpl, uniflow):
    """(c): nf9collect's records == the CSV, value for value."""
    uniflow = int(uniflow)
    _h, rows = read_csv(csv_path)
    byid = {int(r["id"]): r for r in rows}
    with open(err_path) as f:
        summary = parse_summary(f.read())
    recs = read_tsv(tsv)
    want_t = expected_templates(tmpl, uniflow, 0)
    apps, fails, seen, reasons, stats = {}, [], {}, [], None
    for tid, fl in recs:
        if tid == TID_APPS:
            d = dict(fl)
            b = bytes.fromhex(d["applicationName"])
            if len(b) != 32:
                fails.append("application table name of %d bytes" % len(b))
            apps[u(bytes.fromhex(d["applicationId"])[1:])] = \
                b.rstrip(b"\0").decode("utf-8", "replace")
        elif tid == TID_STATS:
            stats = dict(fl)
    for tid, fl in recs:
        if tid in (TID_APPS, TID_STATS):
            continue
        if tid not in want_t:
            fails.append("record of template %d" % tid)
            continue
        lay = want_t[tid]
        names = [re.sub(r"#\d+$", "", n) for n, _v in fl]
        exp = [libfixbuf_name(f, t) for f, t, _l in lay]
        if names != exp:
            fails.append("template %d: fields %s, expected %s"
                         % (tid, names, exp))
            continue
        fid = int(fl[0][1])
        rev = seen.get(fid, 0)
        seen[fid] = rev + 1
        row = byid.get(fid)
        if row is None or rev > (1 if uniflow else 0):
            fails.append("flowId %d: %s" % (fid, "not in the CSV" if row is
                                             None else "once too often"))
            continue
        fam = 257 if row["ip_version"] == "6" else 256
        if tid != fam + (2 if uniflow else 0):
            fails.append("flowId %d (IPv%s) in template %d" % (
                fid, row["ip_version"], tid))
        for (f, t, ln), (n, val) in zip(lay, fl):
            e = check_value(f, t, ln, val, row, rev, uniflow, apps, reasons)
            if e:
                fails.append("flowId %d%s %s (%s): %s" % (
                    fid, " reverse" if rev else "", n, f.column, e))
    want = expected_records(rows, uniflow)
    got = {(fid, k) for fid, n in seen.items() for k in range(min(n, 2))}
    if got != want:
        fails.append("%d records missing, %d unexpected" % (
            len(want - got), len(got - want)))
    # flowEndReason counts == the summary's idle / active / at end / evicted
    if summary["flows"] is not None:
        per = 1 + uniflow
        for code, key in ((1, "idle"), (2, "active"), (4, "at_end"),
                          (5, "evicted")):
            n = sum(1 for r in reasons if r == code)
            if not uniflow and n != summary[key]:
                fails.append("%d records with flowEndReason %d, summary "
                             "says %d %s" % (n, code, summary[key], key))
            elif uniflow and n > per * summary[key]:
                fails.append("flowEndReason %d: %d records" % (code, n))
    if stats is None:
        fails.append("no statistics record")
    else:
        if int(stats["notSentFlowTotalCount"]) != 0:
            fails.append("notSentFlowTotalCount %s" % stats[
                "notSentFlowTotalCount"])
        if int(stats["ignoredPacketTotalCount"]) != summary["skipped"]:
            fails.append("ignoredPacketTotalCount %s, summary %d skipped"
                         % (stats["ignoredPacketTotalCount"],
                            summary["skipped"]))
    with open(nc_err) as f:
        m = re.search(r"(\d+) messages, (\d+) records, (\d+) errors, (\d+) "
                      r"warnings", f.read())
    if not m or m.group(3) != "0" or m.group(4) != "0":
        fails.append("nf9collect: %s" % (m.group(0) if m else "no summary"))
    print("%d records (%d flow records of %d flows), %d application names"
          % (len(recs), sum(seen.values()), len(rows), len(apps)))
    for f in fails[:12]:
        print("FAILED: " + f)
    if len(fails) > 12:
        print("FAILED: ... %d more" % (len(fails) - 12))
    sys.exit(1 if fails else 0)


# ---- (d), (e) late collector ----------------------------------------------

def late(pcap, port, tsv, nc_err, csv_path, mode, limit):
    """(d) mode 'time': templates within `limit` s of the collector start;
    (e) mode 'packets': within the first `limit` datagrams it receives.
    From that datagram on, every record reaches nf9collect."""
    limit = float(limit)
    with open(nc_err) as f:
        err = f.read()
    m = re.search(r"listening on \S+ at ([0-9.]+)", err)
    if not m:
        print("FAILED: nf9collect did not start: " + err.strip()[-200:])
        sys.exit(1)
    t_up = float(m.group(1))
    m = re.search(r"first record at ([0-9.]+|-)", err)
    t_first = float(m.group(1)) if m and m.group(1) != "-" else None
    dg = read_pcap(pcap, port)
    ids = {int(r["id"]) for r in read_csv(csv_path)[1]}
    # the flow id (v9 49000) is the first field: libfixbuf names it
    # ciscoNetflowGeneric
    got = [int(fl[0][1]) for tid, fl in read_tsv(tsv) if tid in (256, 257)]
    v9 = V9()
    after, first_t, first_i, want, lost, fails = 0, None, None, [], 0, []
    maybe = set()   # sent just before "listening" was printed: may be read
    for t, d in dg:
        p = v9.packet(d)
        fails += p["errs"]
        if t < t_up:
            if t > t_up - 0.5:
                maybe.update(u(dict(zip([x for x, _l in v9.tmpl[tid]],
                                        r))[V9_FLOW_ID])
                             for tid, r in p["recs"] if tid in (256, 257))
            continue
        after += 1
        if first_t is None and any(x in (256, 257) for x in p["tids"]):
            first_t, first_i = t, after
        recs = [u(dict(zip([x for x, _l in v9.tmpl[tid]], r))[V9_FLOW_ID])
                for tid, r in p["recs"] if tid in (256, 257)]
        if first_t is None:
            lost += len(recs)
        else:
            want += recs
    print("collector up %.1f s after the first export datagram; %d datagrams "
          "after that, the first with templates: #%s, %.2f s later; "
          "nf9collect's first record %.2f s after start; %d records before "
          "the templates (lost, expected), %d after, nf9collect has %d"
          % (t_up - dg[0][0] if dg else -1, after, first_i,
             (first_t or t_up) - t_up, (t_first or t_up) - t_up, lost,
             len(want), len(got)))
    if first_t is None:
        fails.append("no template after the collector started")
    elif mode == "time" and first_t - t_up > limit:
        fails.append("templates %.2f s after the collector started (refresh "
                     "%.1f s)" % (first_t - t_up, limit))
    elif mode == "packets" and first_i > limit:
        fails.append("templates in datagram #%d after the collector "
                     "started (--template-packets %d)" % (first_i, limit))
    if mode == "time" and (t_first is None or t_first - t_up > limit):
        fails.append("nf9collect's first record: %s" % (
            "none" if t_first is None else "%.2f s" % (t_first - t_up)))
    if not want:
        fails.append("no record after the templates")
    if set(want) - set(got) or set(got) - set(want) - maybe:
        fails.append("nf9collect: %d records missing, %d extra" % (
            len(set(want) - set(got)), len(set(got) - set(want) - maybe)))
    if len(set(got)) != len(got) or set(got) - ids:
        fails.append("nf9collect: duplicates or flowIds not in the CSV")
    for f in fails[:8]:
        print("FAILED: " + f)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
PYEOF
export HERE


# tshark on lo for "udp port P1 or ..." into $1/cap.pcap (pcap format).
# "Capturing on" comes before the filter is in place: wait until a marker
# datagram (5 bytes) shows up in tshark's own packet list.  Sets TS_PID.
tshark_start() {
	local d=$1 filter i
	shift
	MPORT=$(h freeport)
	filter="udp port $MPORT"
	for i in "$@"; do filter="$filter or udp port $i"; done
	tshark -i lo -f "$filter" -w "$d/cap.pcap" -F pcap -l -P \
	    >"$d/tshark.out" 2>"$d/tshark.log" &
	TS_PID=$!
	started "$TS_PID"
	for i in $(seq 150); do
		echo -n start >"/dev/udp/127.0.0.1/$MPORT" 2>/dev/null || true
		grep -q "Len=5" "$d/tshark.out" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# A 7-byte marker: once tshark lists it, it has every frame sent before it
# (loopback keeps the order).  Then stop tshark.
tshark_stop() {
	local d=$1 i
	for i in $(seq 100); do
		echo -n the-end >"/dev/udp/127.0.0.1/$MPORT" 2>/dev/null || true
		sleep 0.1
		grep -q "Len=7" "$d/tshark.out" && break
	done
	stop_pid "$TS_PID"
}

# ---------------------------------------------------------------------------
# (a) nfcapd + nfdump: every capture, standard template
# ---------------------------------------------------------------------------
if want a; then
	T_A=$(now)
	shopt -s nullglob
	CAPS=("$PCAPS"/*.pcap "$PCAPS"/*.pcapng "$PCAPS"/*.cap)
	shopt -u nullglob
	read -r -a PORTS <<<"$(h freeports ${#CAPS[@]})"
	n=0
	for cap in "${CAPS[@]}"; do
		name=$(basename "$cap")
		d=$WORK/a/$name
		port=${PORTS[$n]}
		n=$((n + 1))
		if ! start_nfcapd "$d" "$port"; then
			bad "(a) $name: nfcapd did not start: $(tail -2 "$d/nfcapd.log")"
			continue
		fi
		rc=0
		"$PROBE" -r "$cap" --csv "$d/flows.csv" \
		    --export "nf9+udp://127.0.0.1:$port" 2>"$d/probe.err" || rc=$?
		sleep 0.2		# nfcapd reads the last datagrams
		stop_pid "$NF_PID"	# SIGTERM: nfcapd writes its file and counters
		nfdump -R "$d/flows" -I >"$d/nfdump-I.txt" 2>&1 || true
		# flow by flow; TZ=UTC: nfdump prints local time; -6: full IPv6
		TZ=UTC nfdump -R "$d/flows" -6 -N -q \
		    -o "fmt:%ts %te %sa %da %sp %dp %pr %ipkt %ibyt %opkt %obyt %svln" \
		    >"$d/nfdump.txt" 2>&1 || true
		if msg=$(h judge_a "$SHARED" "$name" "$rc" "$d"); then
			ok "(a) $name: $msg"
		else
			bad "(a) $name: $msg"
		fi
	done
	echo "     (a) ${#CAPS[@]} captures in $(python3 -c "print('%.1f' % ($(now) - $T_A))") s"
fi

# ---------------------------------------------------------------------------
# (b) tshark + (f) headers: one capture on lo, one sink per run
# ---------------------------------------------------------------------------
if want b || want f; then
	T_B=$(now)
	DB=$WORK/b
	mkdir -p "$DB"
	# name | template | captures | options | source id | mtu | template-packets
	RUNS=(
		"standard-ipv4|standard|webex.pcap|--observation-domain 11|11|1400|20"
		"standard-ipv6|standard|http_ipv6.pcap|--observation-domain 12|12|1400|20"
		"ntop-ipv4|ntop|webex.pcap|--statistics --observation-domain 13|13|1400|20"
		"ntop-ipv6|ntop|http_ipv6.pcap|--statistics --observation-domain 14|14|1400|20"
		"standard-uniflow|standard|webex.pcap,http_ipv6.pcap|--uniflow --observation-domain 15|15|1400|20"
		"ntop-uniflow|ntop|webex.pcap,http_ipv6.pcap|--uniflow --statistics --observation-domain 16|16|1400|20"
		"mtu600|standard|webex.pcap,http_ipv6.pcap,dns_fragmented.pcap,1kxun.pcap|--mtu 600 --observation-domain 7|7|600|20"
		"mtu600-uniflow|standard|webex.pcap,http_ipv6.pcap,dns_fragmented.pcap|--uniflow --mtu 600 --template-packets 3 --observation-domain 7|7|600|3"
	)
	declare -A BPORT=()
	for r in "${RUNS[@]}"; do
		BPORT[${r%%|*}]=$(h freeport)
	done
	if ! tshark_start "$DB" "${BPORT[@]}"; then
		bad "(b) tshark did not start capturing: $(tail -2 "$DB/tshark.log")"
	else
		for r in "${RUNS[@]}"; do
			IFS='|' read -r name tmpl caps opts _sid _mtu _tp <<<"$r"
			d=$DB/$name
			mkdir -p "$d"
			files=$(sed "s#\([^,]*\)#$PCAPS/\1#g" <<<"$caps")
			if ! start_udpsink "${BPORT[$name]}" "$d/udp.log"; then
				echo -n >"$d/rc"
				continue
			fi
			rc=0
			# shellcheck disable=SC2086
			"$PROBE" -r "$files" --csv "$d/flows.csv" --template "$tmpl" $opts \
			    --export "nf9+udp://127.0.0.1:${BPORT[$name]}" 2>"$d/probe.err" || rc=$?
			echo "$rc" >"$d/rc"
			sleep 0.2
			stop_pid "$SINK_PID"
		done
		tshark_stop "$DB"
		for r in "${RUNS[@]}"; do
			IFS='|' read -r name tmpl caps opts sid mtu tp <<<"$r"
			d=$DB/$name
			port=${BPORT[$name]}
			rc=$(cat "$d/rc")
			if [[ $rc != 0 ]]; then
				bad "(b) $name: probe exit ${rc:-?} (or no sink): $(tail -1 "$d/probe.err" 2>/dev/null)"
				continue
			fi
			uni=0; [[ $opts == *--uniflow* ]] && uni=1
			st=0; [[ $opts == *--statistics* ]] && st=1
			hasid=0	# the flow id is v9 49000, which tshark does not name
			dgrams=$(h udpcount "$d/udp.log")
			frames=$(tshark -r "$DB/cap.pcap" -Y "udp.dstport==$port" 2>/dev/null | wc -l)
			# Any malformed frame or expert warning/error of this run's
			# frames shows up as a line here.
			flagged=$(tshark -r "$DB/cap.pcap" -d "udp.port==$port,cflow" \
			    -Y "udp.dstport==$port && (_ws.malformed || _ws.expert.severity >= warning)" \
			    2>/dev/null || true)
			tshark -r "$DB/cap.pcap" -d "udp.port==$port,cflow" \
			    -Y "udp.dstport==$port" -T fields -e cflow.flow_id \
			    -e cflow.octets -e cflow.post_octets >"$d/fields.txt" 2>/dev/null || true
			if [[ $frames -eq 0 || $frames -ne $dgrams ]]; then
				bad "(b) $name: tshark captured $frames frames, the sink got $dgrams datagrams"
			elif [[ -n $flagged ]]; then
				bad "(b) $name: tshark flags $(wc -l <<<"$flagged") of $frames frames: $(head -2 <<<"$flagged")"
			elif ! msg=$(h tshark_fields "$d/fields.txt" "$d/flows.csv" "$uni" "$hasid"); then
				bad "(b) $name: $frames frames, none malformed, but: $msg"
			else
				ok "(b) $name: $frames frames, none malformed, no expert warning; $msg"
			fi
			if out=$(h headers "$d/udp.log" "$d/flows.csv" "$d/probe.err" \
			    "$TEMPLATES/$tmpl.tmpl" "$mtu,$sid,$tp,$uni,$st"); then
				ok "(f) $name: header, FlowSets, templates, records: $out"
			else
				bad "(f) $name:"
				indent <<<"$out"
			fi
		done
	fi

	# The probe's start-up check: records that cannot fit a packet are refused
	# (exit 2).  With --template-packets 1 every packet carries the templates (4
	# of them with --uniflow, plus the 2 options templates), so at the smallest
	# --mtu the probe accepts (576) the question is whether a record still fits
	# beside them: either refuse at start-up or deliver every record.
	d=$DB/mtu576
	mkdir -p "$d"
	port=$(h freeport)
	if start_udpsink "$port" "$d/udp.log"; then
		rc=0
		"$PROBE" -r "$PCAPS/http_ipv6.pcap" --csv "$d/flows.csv" --uniflow \
		    --mtu 576 --template-packets 1 --observation-domain 7 \
		    --export "nf9+udp://127.0.0.1:$port" 2>"$d/probe.err" || rc=$?
		sleep 0.2
		stop_pid "$SINK_PID"
		if [[ $rc -eq 2 ]]; then
			ok "(f) --uniflow --mtu 576 --template-packets 1: refused at start-up: $(tail -1 "$d/probe.err")"
		elif [[ $rc -eq 0 ]] && out=$(h headers "$d/udp.log" "$d/flows.csv" \
		    "$d/probe.err" "$TEMPLATES/standard.tmpl" "576,7,1,1,0"); then
			ok "(f) --uniflow --mtu 576 --template-packets 1: $out"
		else
			# what the probe said, without the port
			said=$(grep -E 'too large|flows: ' "$d/probe.err" | sed -E \
			    's/^streamprobe: //; s/nf9[+]udp:[^ ]*: //; s/; peak.*//' | tr '\n' ';')
			bad "(f) --uniflow --mtu 576 --template-packets 1 (http_ipv6.pcap):" \
			    "the start-up check accepted it, then exit $rc: $said" \
			    "with templates in every packet, 4 data templates (--uniflow sends the" \
			    "unused biflow 256/257 too: 348 bytes) + options templates (60) + header" \
			    "(20) leave 148 of 576 bytes, too few for a 159-byte IPv6 uniflow record;" \
			    "export_nf9_open() checks a record alone (20+4+3+159 = 186 <= 576)"
		fi
	else
		bad "(f) mtu576: sink did not start"
	fi
	echo "     (b)+(f) in $(python3 -c "print('%.1f' % ($(now) - $T_B))") s"
fi

# ---------------------------------------------------------------------------
# (c) libfixbuf (nf9collect): every value of every record
# ---------------------------------------------------------------------------
if want c; then
	T_C=$(now)
	# IPv4, IPv6, a VLAN, fragments, ICMP and ICMPv6, many applications;
	# --active-timeout and --max-flows give flowEndReason 2 and 5 too.
	C_CAPS="$PCAPS/webex.pcap,$PCAPS/http_ipv6.pcap,$PCAPS/dns_fragmented.pcap,$PCAPS/ja3_lots_of_cipher_suites.pcap,$PCAPS/1kxun.pcap,$PCAPS/quic_interop_V.pcapng"
	for mode in biflow uniflow; do
		d=$WORK/c/$mode
		mkdir -p "$d"
		port=$(h freeport)
		"$NF9COLLECT" "$port" 60 "$d/out.tsv" 2>"$d/nc.err" &
		nc_pid=$!
		started "$nc_pid"
		if ! wait_for_line "$d/nc.err" 10 "listening on"; then
			bad "(c) $mode: nf9collect did not start: $(tail -2 "$d/nc.err")"
			stop_pid "$nc_pid"
			continue
		fi
		opt=()
		[[ $mode == uniflow ]] && opt=(--uniflow)
		rc=0
		# --statistics: the CSV gets the TCP flag counters tcpControlBits is
		# checked against; the standard template exports no statistics column.
		"$PROBE" -r "$C_CAPS" --statistics --active-timeout 10 --max-flows 64 \
		    "${opt[@]}" --csv "$d/flows.csv" \
		    --export "nf9+udp://127.0.0.1:$port" 2>"$d/probe.err" || rc=$?
		sleep 0.3
		stop_pid "$nc_pid"
		uni=0; [[ $mode == uniflow ]] && uni=1
		if [[ $rc -ne 0 ]]; then
			bad "(c) $mode: probe exit $rc: $(tail -1 "$d/probe.err")"
		elif out=$(h collected "$d/out.tsv" "$d/flows.csv" "$d/probe.err" \
		    "$d/nc.err" "$TEMPLATES/standard.tmpl" "$uni"); then
			ok "(c) libfixbuf $mode: every value equals the CSV: $out"
		else
			bad "(c) libfixbuf $mode:"
			indent <<<"$out"
			grep -m5 "nf9collect: \(error\|warning\)" "$d/nc.err" | indent || true
		fi
	done
	echo "     (c) in $(python3 -c "print('%.1f' % ($(now) - $T_C))") s"
fi

# ---------------------------------------------------------------------------
# (d), (e) late collector (nf9collect), datagrams captured by tshark
# ---------------------------------------------------------------------------
FEED_S=12
late_run() {	# tag mode limit probe-options...
	local tag=$1 mode=$2 limit=$3 d port nc_pid probe_pid feed_pid prc frc
	shift 3
	d=$WORK/$tag
	mkdir -p "$d"
	mkfifo "$d/feed.pcap"
	port=$(h freeport)
	if ! tshark_start "$d" "$port"; then
		bad "($tag) tshark did not start capturing: $(tail -2 "$d/tshark.log")"
		stop_pid "$TS_PID"
		return
	fi
	"$PROBE" -r "$d/feed.pcap" --idle-timeout 1 "$@" --csv "$d/flows.csv" \
	    --export "nf9+udp://127.0.0.1:$port" 2>"$d/probe.err" &
	probe_pid=$!
	started "$probe_pid"
	local t_feed
	t_feed=$(now)
	python3 "$H" feed "$d/feed.pcap" "$FEED_S" 0.02 >"$d/feed.out" &
	feed_pid=$!
	started "$feed_pid"
	sleep_until 5 "$t_feed"
	"$NF9COLLECT" "$port" 60 "$d/out.tsv" 2>"$d/nc.err" &
	nc_pid=$!
	started "$nc_pid"
	reap "$feed_pid"
	frc=$REAPED
	reap "$probe_pid"
	prc=$REAPED
	sleep 0.5
	stop_pid "$nc_pid"
	tshark_stop "$d"
	if ! delivery_ok "$prc" "$d/probe.err" || [[ $frc -ne 0 ]]; then
		bad "($tag) probe exit $prc, feed exit $frc: $(tail -2 "$d/probe.err")"
	elif out=$(h late "$d/cap.pcap" "$port" "$d/out.tsv" "$d/nc.err" \
	    "$d/flows.csv" "$mode" "$limit"); then
		ok "($tag) late collector ($mode): templates in time, then every record decoded by libfixbuf"
		indent <<<"$out"
	else
		bad "($tag) late collector ($mode):"
		indent <<<"$out"
	fi
}
if want d || want e; then
	T_D=$(now)
	# (d) by time: refresh every 3 s, + 0.5 s slack for scheduling
	want d && late_run d time 3.5 --template-refresh 3 --template-packets 1000000
	# (e) by packet count: templates on every 5th export packet
	want e && late_run e packets 5 --template-refresh 3600 --template-packets 5
	echo "     (d)+(e) in $(python3 -c "print('%.1f' % ($(now) - $T_D))") s"
fi

# (g) reduced sizes (RFC 7011 section 6.2, as v9 carries them), decoded by
#     nf9collect against the CSV of the same run: octetDeltaCount in 1 byte
#     saturates at 255, a float64 in 4 bytes is the CSV's mean packet size to
#     float32 precision.
if want g; then
	d=$WORK/g
	mkdir -p "$d"
	printf 'id flowId 148 unsigned64\nbidirectional_bytes octetDeltaCount 1 unsigned64 1\nbidirectional_mean_ps samplingProbability 311 float64 4\n' >"$d/reduced.tmpl"
	port=$(h freeport)
	"$NF9COLLECT" "$port" 60 "$d/out.tsv" 2>"$d/nc.err" &
	nc_pid=$!
	started "$nc_pid"
	wait_for_line "$d/nc.err" 10 "listening on" || true
	rc=0
	"$PROBE" -r "$PCAPS/webex.pcap" --statistics --template "$d/reduced.tmpl" \
	    --csv "$d/flows.csv" --export "nf9+udp://127.0.0.1:$port" \
	    2>"$d/probe.err" || rc=$?
	sleep 0.5
	stop_pid "$nc_pid"
	if [[ $rc -ne 0 ]]; then
		bad "(g) probe exit $rc: $(tail -1 "$d/probe.err")"
	elif out=$(python3 - "$d/flows.csv" "$d/out.tsv" <<'PY'
import csv, sys
rows = {int(r["id"]): r for r in csv.DictReader(open(sys.argv[1]))}
recs = {}
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("\t")
    if f[0] not in ("256", "257"):
        continue
    kv = dict(x.split("=", 1) for x in f[1:])
    recs[int(kv["ciscoNetflowGeneric"])] = kv  # the flow id, v9 49000
bad = []
for fid, r in rows.items():
    kv = recs.get(fid)
    if kv is None:
        bad.append("flow %d missing" % fid)
        continue
    if int(kv["octetDeltaCount"]) != min(int(r["bidirectional_bytes"]), 255):
        bad.append("flow %d bytes %s" % (fid, kv["octetDeltaCount"]))
    want = float(r["bidirectional_mean_ps"])
    if abs(float(kv["samplingProbability"]) - want) > 1e-6 * max(1.0, want):
        bad.append("flow %d mean %s, CSV %r" % (fid, kv["samplingProbability"], want))
print("%d flows, %d records, %d saturated" % (len(rows), len(recs),
      sum(int(r["bidirectional_bytes"]) > 255 for r in rows.values())))
if bad or not rows:
    print("\n".join(bad[:5]))
    sys.exit(1)
PY
	); then
		ok "(g) reduced sizes: 1-byte counter saturates, float64 as float32 matches the CSV"
		indent <<<"$out"
	else
		bad "(g) reduced sizes:"
		indent <<<"$out"
	fi
fi

T_END=$(now)
echo "$(python3 -c "print('%.1f' % ($T_END - $T_START))") s"
echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
