#!/usr/bin/env python3
"""Check the probe's flows on the demo capture against tshark's decoding.

    demo_flows.py PROBE MAKE_DEMO_PCAP

The expectation is not the probe's own output: tshark dissects every packet
of the generated capture, and this script groups tshark's fields into
NFStream flows by hand (key = unordered endpoints + protocol + VLAN; source =
first packet's source; ms = truncated epoch milliseconds; bytes = frame
length).  Every core column of every flow must agree, and so must the L7
strings tshark also extracts: TLS SNI, JA3 and JA3S, HTTP Host, User-Agent
and Content-Type, DNS query name.
"""
import csv
import os
import subprocess
import sys
import tempfile

FIELDS = ["frame.time_epoch", "frame.len", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
          "ip.proto", "ipv6.nxt", "tcp.srcport", "tcp.dstport", "udp.srcport",
          "udp.dstport", "vlan.id", "eth.src", "eth.dst",
          "tls.handshake.extensions_server_name", "tls.handshake.ja3", "tls.handshake.ja3s",
          "http.host", "http.user_agent", "http.content_type", "dns.qry.name"]
# Column <- tshark fields, first value seen in the flow.
L7_FROM_TSHARK = {
    "requested_server_name": ("tls.handshake.extensions_server_name", "http.host",
                              "dns.qry.name"),
    "client_fingerprint": ("tls.handshake.ja3",),
    "server_fingerprint": ("tls.handshake.ja3s",),
    "user_agent": ("http.user_agent",),
    "content_type": ("http.content_type",),
}


def epoch_ms(text):
    sec, _, frac = text.partition(".")
    return int(sec) * 1000 + int((frac + "000")[:3])


def expected_flows(pcap):
    cmd = ["tshark", "-r", pcap, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=l"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    flows = {}
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        src = v["ip.src"] or v["ipv6.src"]
        dst = v["ip.dst"] or v["ipv6.dst"]
        proto = int(v["ip.proto"] or v["ipv6.nxt"])
        sport = int(v["tcp.srcport"] or v["udp.srcport"] or 0)
        dport = int(v["tcp.dstport"] or v["udp.dstport"] or 0)
        vlan = int(v["vlan.id"] or 0)
        key = (frozenset([(src, sport), (dst, dport)]), proto, vlan)
        t, size = epoch_ms(v["frame.time_epoch"]), int(v["frame.len"])
        f = flows.get(key)
        if f is None:
            f = flows[key] = {"src_ip": src, "src_port": sport, "dst_ip": dst,
                              "dst_port": dport, "protocol": proto, "vlan_id": vlan,
                              "ip_version": 6 if ":" in src else 4,
                              "src_mac": v["eth.src"], "dst_mac": v["eth.dst"],
                              "dirs": [[], []], "l7": {}}
        d = 0 if (src, sport, dst, dport) == (f["src_ip"], f["src_port"], f["dst_ip"],
                                              f["dst_port"]) else 1
        f["dirs"][d].append((t, size))
        for col, fields in L7_FROM_TSHARK.items():
            for field in fields:
                if v.get(field) and col not in f["l7"]:
                    f["l7"][col] = v[field]
    rows = []
    for f in flows.values():
        r = {k: str(v) for k, v in f.items() if k not in ("dirs", "l7")}
        for col in L7_FROM_TSHARK:
            r[col] = f["l7"].get(col, "")
        # nDPI (hence NFStream) keeps the media type without its parameters.
        r["content_type"] = r["content_type"].split(";")[0]
        both = sorted(f["dirs"][0] + f["dirs"][1])
        for name, pk in (("bidirectional", both), ("src2dst", f["dirs"][0]),
                         ("dst2src", f["dirs"][1])):
            first = pk[0][0] if pk else 0
            last = pk[-1][0] if pk else 0
            r[f"{name}_first_seen_ms"] = str(first)
            r[f"{name}_last_seen_ms"] = str(last)
            r[f"{name}_duration_ms"] = str(last - first)
            r[f"{name}_packets"] = str(len(pk))
            r[f"{name}_bytes"] = str(sum(s for _, s in pk))
        rows.append(r)
    return rows


def main():
    probe, make_demo = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "demo.pcap")
        subprocess.run([make_demo, pcap], check=True, stdout=subprocess.DEVNULL)
        want = expected_flows(pcap)
        got_csv = subprocess.run([probe, "-r", pcap], check=True, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True).stdout
    got = list(csv.DictReader(got_csv.splitlines(), escapechar="\\"))
    problems = []
    if len(got) != len(want):
        problems.append(f"{len(got)} flows, tshark-derived expectation {len(want)}")
    index = {(r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"], r["protocol"]): r
             for r in got}
    for w in want:
        g = index.get((w["src_ip"], w["src_port"], w["dst_ip"], w["dst_port"], w["protocol"]))
        if g is None:
            problems.append(f"missing flow {w['src_ip']}:{w['src_port']} -> "
                            f"{w['dst_ip']}:{w['dst_port']} proto {w['protocol']}")
            continue
        for k, v in w.items():
            if g.get(k) != v:
                problems.append(f"{w['src_ip']}:{w['src_port']} proto {w['protocol']} "
                                f"{k}: probe {g.get(k)} expected {v}")
    for p in problems:
        print(f"FAIL {p}")
    print(f"demo flows: {len(want)} flows derived from tshark, {len(problems)} problems")
    print(f"{0 if problems else 1} passed, {1 if problems else 0} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
