#!/usr/bin/env python3
"""ipfix_uniflow_test.py PROBE MAKE_DEMO_PCAP - IPFIX --uniflow, read back.

The demo capture is exported with --uniflow --statistics --template nfstream
to an IPFIX file and decoded with ipfixDump.  Expected values come from the
CSV the same run writes: per flow a forward record whose source is the flow's
source and whose one-direction elements (packetDeltaCount, octetDeltaCount,
the src2dst and bidirectional statistics elements) hold the src2dst columns,
and, when the destination answered, a reverse record with addresses and
ports swapped holding the dst2src columns.  No RFC 5103 reverse element and
no dst2src element may appear in uniflow records.
"""
import ipaddress
import math
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ipfix_roundtrip import parse_dump, read_csv  # noqa: E402

ENT = 32473
# templates/nfstream.tmpl numbers streamprobe's elements 1000 + n.
E = 1000
# element -> CSV column of the record's own direction, by {dir} = src2dst
# (forward record) or dst2src (reverse record).
ONE_DIR = {
    (0, 2): "{dir}_packets", (0, 1): "{dir}_bytes",
    (ENT, E + 5): "{dir}_packets", (ENT, E + 6): "{dir}_bytes",
    (ENT, E + 12): "{dir}_mean_ps", (ENT, E + 16): "{dir}_mean_ps",
    (ENT, E + 18): "{dir}_max_ps", (ENT, E + 17): "{dir}_stddev_ps",
}


def addr(rec, ies):
    """The record's address from the first of ies present, normalised."""
    for ie in ies:
        if (0, ie) in rec:
            return ipaddress.ip_address(rec[(0, ie)])
    return None


def main():
    probe, make_demo = sys.argv[1:3]
    errs = []
    with tempfile.TemporaryDirectory() as tmp:
        pcap, csv, ipfix = (os.path.join(tmp, n) for n in
                            ("demo.pcap", "u.csv", "u.ipfix"))
        subprocess.run([make_demo, pcap], check=True, stdout=subprocess.DEVNULL)
        p = subprocess.run([probe, "-r", pcap, "--uniflow", "--statistics",
                            "--template", "nfstream", "--csv", csv,
                            "--export", "ipfix+file://" + ipfix],
                           stderr=subprocess.PIPE, timeout=60)
        if p.returncode != 0:
            print("FAIL probe exit %d: %s" % (p.returncode, p.stderr.decode()))
            return 1
        dump = subprocess.run(["ipfixDump", "--in", ipfix, "--rfc5610"],
                              stdout=subprocess.PIPE, check=True, timeout=60)
        _hdr, rows = read_csv(csv)
    recs = []
    for ev in parse_dump(dump.stdout.decode("utf-8", "replace")):
        if ev[0] == "rec" and ev[1] < 260:	# data templates 256..259
            recs.append({(pen, ie): val.strip() for pen, ie, _n, val in ev[2]})
    for r in recs:
        bad = [k for k in r if k[0] == 29305 or k in ((ENT, E + 20),
                                                          (ENT, E + 22))]
        if bad:
            errs.append("uniflow record carries reverse elements %s" % bad)
    want_recs = 0
    for row in rows:
        for direction, src, dst, sport in (
                ("src2dst", row["src_ip"], row["dst_ip"], row["src_port"]),
                ("dst2src", row["dst_ip"], row["src_ip"], row["dst_port"])):
            if direction == "dst2src" and row["dst2src_packets"] == "0":
                continue
            want_recs += 1
            match = [r for r in recs
                     if addr(r, (8, 27)) == ipaddress.ip_address(src) and
                     addr(r, (12, 28)) == ipaddress.ip_address(dst) and
                     r.get((0, 7), "0") == sport and
                     r.get((0, 2)) == row[direction + "_packets"]]
            if len(match) != 1:
                errs.append("flow %s %s: %d records from %s:%s" %
                            (row["id"], direction, len(match), src, sport))
                continue
            for key, col in ONE_DIR.items():
                want = row[col.format(dir=direction)]
                got = match[0].get(key)
                # ipfixDump prints float64 with 8 significant digits
                if got is None or not math.isclose(float(got), float(want),
                                                   rel_tol=1e-6):
                    errs.append("flow %s %s element %s: got %s, CSV %s %s" %
                                (row["id"], direction, key, got,
                                 col.format(dir=direction), want))
    if len(recs) != want_recs:
        errs.append("%d data records, expected %d" % (len(recs), want_recs))
    for e in errs:
        print("FAIL", e)
    print("ipfix_uniflow: %s (%d flows, %d records)" %
          ("FAILED" if errs else "ok", len(rows), len(recs)))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
