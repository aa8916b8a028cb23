#!/usr/bin/env python3
"""plugin_early_test.py PROBE PLUGIN MODEL SHARED_DIR - the early_classification
example plugin against the same model computed here from tshark's packets.

The plugin keeps a flow's first three IP sizes, computes a logistic regression
at the third packet and ends the flow there (expiration_id -1); the flow's next
packet starts a new flow, which is classified the same way.  So each 5-tuple's
packets, in capture order, fall into chunks of three, and every chunk is one
CSV row.  This test rebuilds those chunks from tshark's own dissection (IPv4
total length, IPv6 payload length: NFStream's ip_size), computes

    probability = 1 / (1 + exp(-(bias + w1*s1 + w2*s2 + w3*s3)))
    prediction  = 1 if probability >= threshold else 0

with the weights read from MODEL by its own parser, and checks every row: the
prediction, the probability (to 1e-12), expiration_id -1 and 3 packets for
full chunks, prediction -1 for a last chunk of one or two packets, and that
the volatile size fields are not exported.  Captures: TCP and UDP over IPv4
and IPv6 without IP fragments or tunnels (the probe skips non-first
fragments; tshark would count them).
"""
import csv
import math
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

CAPTURES = ["443-curl.pcap", "http_ipv6.pcap", "googledns_android10.pcap",
            "ssh.pcap"]


def fail(msg):
    print("FAIL", msg)
    sys.exit(1)


def read_model(path):
    m = {"threshold": 0.5}
    with open(path) as fp:
        for line in fp:
            line = line.split("#", 1)[0].strip()
            if line:
                key, value = line.split()
                m[key] = float(value)
    return m


def ms_of(epoch):
    """NFStream's packet time: seconds * 1000 + microseconds // 1000."""
    sec, _, frac = epoch.partition(".")
    return int(sec) * 1000 + int((frac + "000")[:3])


def tshark_chunks(pcap):
    """{(proto, endpoint pair, first_ms): [sizes]} of 3-packet chunks."""
    fields = ["frame.time_epoch", "ip.src", "ip.dst", "ip.len", "ipv6.src",
              "ipv6.dst", "ipv6.plen", "tcp.srcport", "tcp.dstport",
              "udp.srcport", "udp.dstport"]
    cmd = ["tshark", "-n", "-r", pcap, "-Y", "(tcp or udp) and not icmp and "
           "not icmpv6", "-T", "fields", "-E", "separator=\t"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    per_flow = defaultdict(list)
    for line in out.stdout.splitlines():
        v = dict(zip(fields, line.split("\t")))
        first = lambda k: v.get(k, "").split(",")[0]
        if first("ip.src"):
            src, dst, size = first("ip.src"), first("ip.dst"), first("ip.len")
        else:
            src, dst, size = first("ipv6.src"), first("ipv6.dst"), first("ipv6.plen")
        if first("tcp.srcport"):
            proto, sport, dport = 6, first("tcp.srcport"), first("tcp.dstport")
        else:
            proto, sport, dport = 17, first("udp.srcport"), first("udp.dstport")
        key = (proto,) + tuple(sorted([(src, int(sport)), (dst, int(dport))]))
        per_flow[key].append((ms_of(v["frame.time_epoch"]), int(size)))
    chunks = {}
    for key, pkts in per_flow.items():
        for i in range(0, len(pkts), 3):
            part = pkts[i:i + 3]
            chunks[key + (part[0][0],)] = [s for _, s in part]
    return chunks


def expected(model, sizes):
    if len(sizes) < 3:
        return -1, 0.0
    z = model["bias"] + sum(model["w%d" % (i + 1)] * sizes[i] for i in range(3))
    p = 1.0 / (1.0 + math.exp(-z))
    return (1 if p >= model["threshold"] else 0), p


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        sys.exit(2)
    probe, plugin, model_path, shared = sys.argv[1:]
    pcaps = os.path.join(shared, "pcaps")
    if not os.path.isdir(pcaps):
        fail("%s not found: the shared captures are needed" % pcaps)
    model = read_model(model_path)
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in CAPTURES:
            pcap = os.path.join(pcaps, name)
            out = os.path.join(tmp, name + ".csv")
            run = subprocess.run([probe, "-r", pcap, "--plugin",
                                  plugin + ":" + model_path,
                                  "--idle-timeout", "1000000",
                                  "--active-timeout", "1000000",
                                  "--csv", out], capture_output=True, text=True)
            if run.returncode != 0:
                fail("%s: probe exit %d: %s" % (name, run.returncode, run.stderr))
            want = tshark_chunks(pcap)
            with open(out) as fp:
                rows = list(csv.DictReader(fp))
            for col in ("udps.size1", "udps.size2", "udps.size3"):
                if rows and col in rows[0]:
                    fail("%s: volatile field %s exported" % (name, col))
            got = {}
            for r in rows:
                if int(r["protocol"]) not in (6, 17):
                    continue
                key = (int(r["protocol"]),) + tuple(sorted(
                    [(r["src_ip"], int(r["src_port"])),
                     (r["dst_ip"], int(r["dst_port"]))]))
                got[key + (int(r["bidirectional_first_seen_ms"]),)] = r
            if set(got) != set(want):
                fail("%s: flows differ: %d only in the probe, %d only in "
                     "tshark's chunks (e.g. %s)" % (
                         name, len(set(got) - set(want)),
                         len(set(want) - set(got)),
                         sorted(set(got) ^ set(want))[:2]))
            for key, sizes in want.items():
                r = got[key]
                pred, prob = expected(model, sizes)
                ok = (int(r["udps.model_prediction"]) == pred and
                      math.isclose(float(r["udps.model_probability"]), prob,
                                   rel_tol=1e-12, abs_tol=1e-300) and
                      int(r["bidirectional_packets"]) == len(sizes) and
                      (len(sizes) < 3 or int(r["expiration_id"]) == -1))
                if not ok:
                    fail("%s: flow %s: sizes %s -> want prediction %d "
                         "probability %r, got %s %s (%s packets, "
                         "expiration_id %s)" % (
                             name, key, sizes, pred, prob,
                             r["udps.model_prediction"],
                             r["udps.model_probability"],
                             r["bidirectional_packets"], r["expiration_id"]))
            ones = sum(1 for k, s in want.items() if expected(model, s)[0] == 1)
            print("ok   %s: %d flows (%d full chunks, %d predicted 1) match "
                  "the model computed from tshark's packets" % (
                      name, len(want),
                      sum(1 for s in want.values() if len(s) == 3), ones))
            checked += len(want)
    print("ok   early_classification: %d flows checked" % checked)


if __name__ == "__main__":
    main()
