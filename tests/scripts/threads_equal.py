#!/usr/bin/env python3
"""--threads 1, 2 and 4 give the same flows (issue 14's proof).

    threads_equal.py --probe build/streamprobe [--shared ../shared] [--jobs N]

1. Every capture in shared/nfstream_testdata/pcaps and shared/pcaps, one run
   each with --threads 1, 2, 4 (DPI, --statistics, --splt 10: every column
   there is): the CSV rows, without the id column (ids are numbered in export
   order, which depends on the meters), sorted as whole rows, must be equal.
2. All those captures read as one stream (-r a,b,...: time jumps back at
   each file, which the reader's clock must clamp as one meter does) with
   short timeouts (--idle-timeout 5 --active-timeout 30 --tcp-end, so idle,
   active, TCP-end and end-of-input expiry all happen; without the captures that end in a read
   error, which stops the stream), CSV and IPFIX file together: the CSV rows
   as above, and from ipfixDump's decoding of the IPFIX file the flow records
   (every field but flowId, sorted) and the totals (records, packets and
   octets both ways, the statistics record's exported flow count and ignored
   packets) must be equal.  The reference is always the --threads 1 run of
   the same input: the single-meter path that nfstream_compare checks
   against NFStream.

Known differences (README, "Several meters"): nDPI keeps caches across flows
in its detection module, one per meter.  The reader keeps all flows between
two hosts on one meter, so caches keyed on the host pair (TINC, TLS
certificates) behave as with one meter; the STUN cache is keyed on one
endpoint (address and port), so a WhatsApp call's STUN flow to a second host
may be on another meter than the flow that filled the cache and stay plain
"STUN".  For the captures in CACHE_DIFFERENCES only the application columns
of that many flows may differ; every other column and row must be equal.
The one-stream run leaves them out and must be equal throughout.
"""
import argparse
import concurrent.futures
import csv
import os
import re
import subprocess
import sys
import tempfile

THREADS = (1, 2, 4)
# capture -> flows whose application columns may differ (see above).
CACHE_DIFFERENCES = {"wa_voice.pcap": 1, "wa_video.pcap": 1}
L7_COLUMNS = ("application_name", "application_category_name", "application_is_guessed",
              "application_confidence")
COLUMNS = ["--statistics", "--splt", "10"]


def fail(msg):
    print(f"threads_equal: {msg}", file=sys.stderr)
    sys.exit(1)


def run(probe, args):
    p = subprocess.run([probe] + args + ["--no-progress"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stderr


def csv_rows(path):
    """Rows without the id column, sorted; the header first."""
    with open(path, newline="") as f:
        lines = f.read().splitlines()
    if not lines:
        return []
    head = lines[0].split(",")
    if head[0] != "id":
        fail(f"{path}: first column is {head[0]!r}, not id")
    rows = sorted(line.split(",", 1)[1] if "," in line else "" for line in lines[1:])
    return [lines[0]] + rows


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"row {i}: {x[:160]!r} vs {y[:160]!r}"
    return f"{len(a)} rows vs {len(b)}"


def check_capture(probe, pcap, tmp):
    name = os.path.basename(pcap)
    ref = None
    for n in THREADS:
        out = os.path.join(tmp, f"{name}.{n}.csv")
        rc, err = run(probe, ["-r", pcap, "--threads", str(n), "--csv", out] + COLUMNS)
        if rc != 0 and not os.path.exists(out):
            return name, 2, [f"--threads {n}: exit {rc}: {err.strip()[-300:]}"]
        rows = csv_rows(out)
        os.unlink(out)
        if ref is None:
            ref, ref_rc = rows, rc
            continue
        if rc != ref_rc:
            return name, rc, [f"--threads {n}: exit {rc}, --threads 1: {ref_rc}: "
                              f"{err.strip()[-600:]}"]
        if rows == ref:
            continue
        if name in CACHE_DIFFERENCES:
            problem = cache_difference(rows, ref, CACHE_DIFFERENCES[name])
            if problem is None:
                continue
            return name, rc, [f"--threads {n}: {problem}"]
        return name, rc, [f"--threads {n} differs from --threads 1: {first_diff(rows, ref)}"]
    return name, ref_rc, []


def cache_difference(rows, ref, allowed):
    """None when rows and ref differ in at most allowed flows' L7 columns."""
    if len(rows) != len(ref) or not rows:
        return f"{len(rows)} rows vs {len(ref)}"
    head = next(csv.reader([rows[0]]))[1:]
    l7 = [i for i, c in enumerate(head) if c in L7_COLUMNS]

    def strip(r):
        f = next(csv.reader([r]))
        return repr([x for i, x in enumerate(f) if i not in l7])
    a, b = sorted(map(strip, rows[1:])), sorted(map(strip, ref[1:]))
    if a != b:
        return f"columns other than the application's differ: {first_diff(a, b)}"
    differ = len(set(rows[1:]) - set(ref[1:]))
    if differ > allowed:
        return f"{differ} flows' application columns differ, at most {allowed} expected"
    return None


FIELD = re.compile(r"^\s*\((\S+)\)(?: \(S\))?\s+(\S+) : (.*)$")


def ipfix_flows(path):
    """ipfixDump's data records: (flow records without flowId, sorted; totals)."""
    p = subprocess.run(["ipfixDump", "--rfc5610", "-d", "-i", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        fail(f"ipfixDump {path}: {p.stderr.strip()}")
    flows, stats, cur, tid = [], [], None, None
    for line in p.stdout.splitlines():
        m = re.search(r"tid:\s+(\d+)", line)
        if m:
            if cur is not None:
                (flows if "flowId" in cur[1] else stats).append(cur)
            tid, cur = int(m.group(1)), (int(m.group(1)), {})
            continue
        m = FIELD.match(line)
        if m and cur is not None:
            cur[1][m.group(2)] = m.group(3).strip()
    if cur is not None:
        (flows if "flowId" in cur[1] else stats).append(cur)
    tot = {"records": len(flows)}
    for key in ("packetDeltaCount", "octetDeltaCount", "reversePacketDeltaCount",
                "reverseOctetDeltaCount"):
        tot[key] = sum(int(f[1].get(key, "0")) for f in flows)
    last = [s[1] for s in stats if "exportedFlowRecordTotalCount" in s[1]]
    if not last:
        fail(f"{path}: no statistics record")
    for key in ("exportedFlowRecordTotalCount", "ignoredPacketTotalCount"):
        tot[key] = int(last[-1][key])
    recs = sorted(repr((t, sorted((k, v) for k, v in f.items() if k != "flowId")))
                  for t, f in flows)
    return recs, tot


def check_stream(probe, pcaps, tmp):
    problems = []
    ref = None
    for n in THREADS:
        out = os.path.join(tmp, f"all.{n}.csv")
        ipfix = os.path.join(tmp, f"all.{n}.ipfix")
        reads = [x for pc in pcaps for x in ("-r", pc.replace("\\", "\\\\").replace(",", "\\,"))]
        rc, err = run(probe, reads + ["--threads", str(n), "--csv", out,
                              "--export", "ipfix+file://" + ipfix, "--idle-timeout", "5",
                              "--active-timeout", "30", "--tcp-end"] + COLUMNS)
        if not os.path.exists(out) or not os.path.exists(ipfix):
            return [f"one stream, --threads {n}: exit {rc}: {err.strip()[-300:]}"]
        rows = csv_rows(out)
        recs, tot = ipfix_flows(ipfix)
        print(f"one stream, --threads {n}: exit {rc}, {len(rows) - 1} CSV rows; IPFIX {tot}")
        if ref is None:
            ref = (rc, rows, recs, tot)
            continue
        if rc != ref[0]:
            problems.append(f"one stream, --threads {n}: exit {rc}, --threads 1: {ref[0]}")
        if rows != ref[1]:
            problems.append(f"one stream, --threads {n}: CSV differs: {first_diff(rows, ref[1])}")
        if tot != ref[3]:
            problems.append(f"one stream, --threads {n}: IPFIX totals {tot} vs {ref[3]}")
        if recs != ref[2]:
            problems.append(f"one stream, --threads {n}: IPFIX records differ: "
                            f"{first_diff(recs, ref[2])}")
    return problems


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", required=True)
    ap.add_argument("--shared", default=os.path.join(here, "..", "..", "..", "shared"))
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    dirs = [os.path.join(a.shared, "nfstream_testdata", "pcaps"), os.path.join(a.shared, "pcaps")]
    for d in dirs:
        if not os.path.isdir(d):
            fail(f"shared test data not found: {d} (this test needs ../shared beside the "
                 "repository)")
    if not os.access(a.probe, os.X_OK):
        fail(f"probe binary not found: {a.probe}")
    pcaps = sorted(os.path.join(d, f) for d in dirs for f in os.listdir(d)
                   if f.endswith((".pcap", ".pcapng", ".cap")))
    failures = 0
    bad = set(CACHE_DIFFERENCES)  # and the captures a read error stops
    with tempfile.TemporaryDirectory() as tmp:
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
            for name, rc, problems in ex.map(lambda c: check_capture(a.probe, c, tmp), pcaps):
                if rc != 0:
                    bad.add(name)
                if problems:
                    failures += 1
                    print(f"FAIL {name}")
                    for p in problems:
                        print(f"  {p}")
        problems = check_stream(a.probe, [p for p in pcaps if os.path.basename(p) not in bad],
                                tmp)
    for p in problems:
        print(f"FAIL {p}")
    print(f"{len(pcaps)} captures with --threads {', '.join(map(str, THREADS))}: "
          f"{len(pcaps) - failures} equal, {failures} differ; one stream: "
          f"{'equal' if not problems else 'differs'}")
    return 1 if failures or problems else 0


if __name__ == "__main__":
    sys.exit(main())
