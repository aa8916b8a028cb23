#!/usr/bin/env python3
"""tcp_perf_tshark.py --probe P --plugin SO --shared DIR - the tcp_perf
plugin's columns against tshark's own TCP analysis, flow by flow.

For each capture below the probe runs with --plugin tcp_perf.so and long
timeouts (no flow is split by time: tshark's analysis never is), and tshark
(4.0, Debian 12) reads the same file.  Per tshark TCP stream (tcp.stream):

  retransmissions by sender   packets with tcp.analysis.retransmission,
                              .fast_retransmission or .spurious_retransmission
  zero windows by sender      packets with tcp.analysis.zero_window
  initial_rtt_us, server_rtt_us, client_rtt_us  derived here from
      tshark's packet times and flags, by Wireshark's rule for
      tcp.analysis.initial_rtt: the first segment with ACK and without SYN
      later than a pure SYN (FIN and RST included), minus the latest pure
      SYN before it.  tshark shows initial_rtt on that segment and the
      later ones except FINs and RSTs, so the value is derived, and checked
      against tshark's own wherever tshark shows it (1 us apart at most:
      tshark keeps nanoseconds, the probe microseconds).  server = the
      first SYN/ACK later than a pure SYN minus the latest pure SYN before
      it; client = that ACK minus the latest SYN/ACK before it (0: none).

A stream maps to the probe's TCP flows by its two endpoints (address, port;
the VLAN ignored, as tshark does).  Where one stream is one flow every
column must be equal, each direction by its sender.  Where tshark and the
probe cut a connection differently (tshark starts a new stream on a SYN
after the connection closed, the probe with NFStream's semantics keeps one
flow), the per-sender sums of retransmissions and zero windows are compared
and the RTTs are not (the plugin's first handshake against tshark's per
stream); those pairs are listed.  A connection captured on two VLANs (each
packet twice, mongodb.pcap) is two flows in the probe, one per VLAN, and
one stream in tshark, whose second copies are retransmissions to it: such
pairs are listed and not compared.  Packets inside ICMP errors are left out
(tshark does not analyse them; the probe counts them as ICMP).

A run with --threads 2 (the packet times cross the dispatcher) gives every
flow the same udps values.  The same runs also write JSON and an IPFIX file
with the nfstream template:
every flow's udps values in JSON equal its CSV row's, `ipfixDump --rfc5610`
names the seven elements (RFC 5610 type records), and each element's
values over the file's records are the CSV column's values.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ipfix_roundtrip import parse_dump  # noqa: E402

# Captures with retransmissions of each kind and the one zero window of the
# shared set (tshark -Y tcp.analysis.zero_window over ../shared/pcaps and
# nfstream_testdata: only skype.pcap has one; unit_tcp_perf covers zero
# windows, probes and their acks by hand).
CAPTURES = [
    "skype.pcap",             # 469 retransmissions, 1 zero window
    "alexa-app.pcapng",       # 201 retransmissions, 35 spurious
    "webex.pcap",             # 39 retransmissions, 9 spurious
    "1kxun.pcap",             # 47, fast retransmissions
    "KakaoTalk_talk.pcap",    # 16
    "ocs.pcap",               # 10
    "mongodb.pcap",           # SYNs repeated 16 us apart
    "googledns_android10.pcap",
    "tls_certificate_too_long.pcap",  # IPv6
    "synscan.pcap",           # SYN scan: SYN/RST, no handshake
]

FIELDS = ["tcp.stream", "frame.time_epoch", "ip.src", "ipv6.src",
          "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport", "tcp.flags",
          "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission",
          "tcp.analysis.spurious_retransmission",
          "tcp.analysis.zero_window", "tcp.analysis.initial_rtt"]

SYN, ACK = 0x02, 0x10


def epoch_us(s):
    """frame.time_epoch ('1431969790.024440000') to integer us, truncated
    as the probe's clock (libpcap microseconds)."""
    sec, _, frac = s.partition(".")
    return int(sec) * 1000000 + int((frac + "000000")[:6])


def tshark_streams(pcap):
    cmd = ["tshark", "-r", pcap, "-Y", "tcp && !icmp && !icmpv6",
           "-T", "fields", "-E", "occurrence=l"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True,
                         text=True).stdout
    streams = {}
    for line in out.splitlines():
        v = line.split("\t")
        if len(v) < len(FIELDS) or not v[0]:
            continue
        sid = int(v[0])
        t = epoch_us(v[1])
        src = (v[2] or v[3], int(v[4]))
        dst = (v[5] or v[6], int(v[7]))
        flags = int(v[8], 16)
        s = streams.get(sid)
        if s is None:
            s = streams[sid] = {
                "src": src, "dst": dst, "retx": defaultdict(int),
                "zwin": defaultdict(int), "initial_rtt_us": 0, "tshark_irtt": 0,
                "server_rtt_us": 0, "client_rtt_us": 0,
                "syn": 0, "synack": 0}
        if v[9] or v[10] or v[11]:
            s["retx"][src] += 1
        if v[12]:
            s["zwin"][src] += 1
        if v[13] and not s["tshark_irtt"]:
            s["tshark_irtt"] = round(float(v[13]) * 1e6)
        sa = flags & (SYN | ACK)
        if sa == SYN:
            s["syn"] = t
        elif sa == SYN | ACK:
            if s["syn"] and not s["server_rtt_us"] and t > s["syn"]:
                s["server_rtt_us"] = t - s["syn"]
            s["synack"] = t
        elif sa == ACK and s["syn"] and not s["initial_rtt_us"] and \
                t > s["syn"]:
            # The segment where Wireshark sets initial_rtt.
            s["initial_rtt_us"] = t - s["syn"]
            if s["synack"] and t > s["synack"]:
                s["client_rtt_us"] = t - s["synack"]
    for sid, s in streams.items():
        if s["tshark_irtt"] and abs(s["tshark_irtt"] -
                                    s["initial_rtt_us"]) > 1:
            sys.exit(f"tcp_perf_tshark: {pcap} stream {sid}: tshark's "
                     f"initial_rtt {s['tshark_irtt']} us, derived "
                     f"{s['initial_rtt_us']} us: the rule above is wrong")
    return streams


COLUMNS = ["initial_rtt_us", "server_rtt_us", "client_rtt_us",
           "src2dst_retransmissions", "dst2src_retransmissions",
           "src2dst_zero_windows", "dst2src_zero_windows"]


def flow_values(rows):
    keys = ("src_ip", "src_port", "dst_ip", "dst_port", "protocol",
            "vlan_id", "bidirectional_first_seen_ms")
    return sorted(tuple(r[k] for k in keys) +
                  tuple(r["udps." + c] for c in COLUMNS) for r in rows)


def probe_flows(probe, plugin, pcap, tmp, errors):
    """The probe's TCP flows (CSV rows); JSON and IPFIX checked against
    the CSV of the same run."""
    out, js, ipfix = (os.path.join(tmp, "flows." + x)
                      for x in ("csv", "json", "ipfix"))
    subprocess.run([probe, "-r", pcap, "--plugin", plugin, "--csv", out,
                    "--json", js, "--template", "nfstream", "--export",
                    "ipfix+file://" + ipfix,
                    "--n-dissections", "0", "--idle-timeout", "315360000",
                    "--active-timeout", "315360000", "--no-progress"],
                   check=True, stderr=subprocess.DEVNULL)
    with open(out, newline="") as fp:
        rows = list(csv.DictReader(fp))
    name = os.path.basename(pcap)
    out2 = os.path.join(tmp, "threads.csv")
    subprocess.run([probe, "-r", pcap, "--plugin", plugin, "--csv", out2,
                    "--threads", "2", "--n-dissections", "0",
                    "--idle-timeout", "315360000", "--active-timeout",
                    "315360000", "--no-progress"],
                   check=True, stderr=subprocess.DEVNULL)
    with open(out2, newline="") as fp:
        rows2 = list(csv.DictReader(fp))
    if flow_values(rows) != flow_values(rows2):
        errors.append(f"{name}: --threads 2 gives other udps values")
    with open(js) as fp:
        objs = {o["id"]: o for o in map(json.loads, fp)}
    for r in rows:
        o = objs.get(int(r["id"]), {})
        for c in COLUMNS:
            if o.get("udps." + c) != int(r["udps." + c]):
                errors.append(f"{name} flow {r['id']} JSON udps.{c} "
                              f"{o.get('udps.' + c)}, CSV {r['udps.' + c]}")
    dump = subprocess.run(["ipfixDump", "--rfc5610", "--in", ipfix],
                          check=True, capture_output=True, text=True).stdout
    got = defaultdict(Counter)
    for ev in parse_dump(dump):
        if ev[0] == "rec":
            for _, _, elem, value in ev[2]:
                if elem.startswith("udps_"):
                    got[elem[5:]][int(value)] += 1
    for c in COLUMNS:
        if f"informationElementName : (len: {5 + len(c)}) udps_{c}" \
                not in dump:
            errors.append(f"{name} IPFIX: no type record names udps_{c}")
        want = Counter(int(r["udps." + c]) for r in rows)
        if got[c] != want:
            errors.append(f"{name} IPFIX udps_{c} values differ from the "
                          f"CSV's ({sum(got[c].values())} records, "
                          f"{len(rows)} flows)")
    return [r for r in rows if r["protocol"] == "6"]


def compare(name, streams, flows):
    by_pair = defaultdict(lambda: ([], []))
    for s in streams.values():
        by_pair[frozenset((s["src"], s["dst"]))][0].append(s)
    for f in flows:
        src = (f["src_ip"], int(f["src_port"]))
        dst = (f["dst_ip"], int(f["dst_port"]))
        by_pair[frozenset((src, dst))][1].append(f)
    errors, split = [], []
    nflows = nretx = nzwin = nrtt = 0
    for pair, (ss, ff) in sorted(by_pair.items(), key=lambda x: str(x[0])):
        if not ss or not ff:
            errors.append(f"{name} {sorted(pair)}: {len(ss)} tshark "
                          f"streams, {len(ff)} probe flows")
            continue
        if len({f["vlan_id"] for f in ff}) > 1:
            split.append(f"{name} {sorted(pair)}: on VLANs "
                         f"{sorted({f['vlan_id'] for f in ff})} "
                         f"(not compared)")
            continue
        want = {"retx": defaultdict(int), "zwin": defaultdict(int)}
        got = {"retx": defaultdict(int), "zwin": defaultdict(int)}
        for s in ss:
            for k in ("retx", "zwin"):
                for ep, n in s[k].items():
                    want[k][ep] += n
        for f in ff:
            src = (f["src_ip"], int(f["src_port"]))
            dst = (f["dst_ip"], int(f["dst_port"]))
            got["retx"][src] += int(f["udps.src2dst_retransmissions"])
            got["retx"][dst] += int(f["udps.dst2src_retransmissions"])
            got["zwin"][src] += int(f["udps.src2dst_zero_windows"])
            got["zwin"][dst] += int(f["udps.dst2src_zero_windows"])
        for k in ("retx", "zwin"):
            for ep in set(want[k]) | set(got[k]):
                if want[k][ep] != got[k][ep]:
                    errors.append(f"{name} {sorted(pair)} {k} sent by {ep}: "
                                  f"tshark {want[k][ep]}, probe "
                                  f"{got[k][ep]}")
        nflows += len(ff)
        nretx += sum(want["retx"].values())
        nzwin += sum(want["zwin"].values())
        if len(ss) != 1 or len(ff) != 1:
            split.append(f"{name} {sorted(pair)}: {len(ss)} streams, "
                         f"{len(ff)} flows (RTTs not compared)")
            continue
        s, f = ss[0], ff[0]
        for col in ("initial_rtt_us", "server_rtt_us", "client_rtt_us"):
            if int(f["udps." + col]) != s[col]:
                errors.append(f"{name} {sorted(pair)} {col}: tshark "
                              f"{s[col]}, probe {f['udps.' + col]}")
        nrtt += s["initial_rtt_us"] > 0
    print(f"{name}: {len(streams)} streams, {nflows} flows, "
          f"{nretx} retransmissions, {nzwin} zero windows, "
          f"{nrtt} handshake RTTs compared")
    return errors, split


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--shared", required=True)
    a = ap.parse_args()
    pcaps = os.path.join(a.shared, "pcaps")
    if not os.path.isdir(pcaps):
        print(f"tcp_perf_tshark: {pcaps} not found (the shared captures "
              f"beside the repository)", file=sys.stderr)
        return 1
    errors, split = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in CAPTURES:
            path = os.path.join(pcaps, name)
            if not os.path.isfile(path):
                print(f"tcp_perf_tshark: {path} missing", file=sys.stderr)
                return 1
            flows = probe_flows(a.probe, a.plugin, path, tmp, errors)
            e, s = compare(name, tshark_streams(path), flows)
            errors += e
            split += s
    for s in split:
        print("  split differently:", s)
    for e in errors:
        print("MISMATCH", e)
    if errors:
        print(f"tcp_perf_tshark: {len(errors)} mismatches", file=sys.stderr)
        return 1
    print("tcp_perf_tshark: all equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
