#!/usr/bin/env python3
"""Comparisons for live_netns.sh (live capture on a veth span port).

    live_netns_check.py compare FILE.csv LIVE.csv
        Same flow set, and per flow the same packet and byte counts, in the
        probe's CSV from reading a capture (-r) and from capturing its replay
        live.  Flows are matched by (src_ip, src_port, dst_ip, dst_port,
        protocol, vlan_id, ip_version, tunnel_id); the direction is the first
        packet's sender in both.  Prints up to 5 differences.
    live_netns_check.py count CSV
        Number of flow rows.
    live_netns_check.py idle CSV NFLOWS IDLE_MS MAX_MS WAIT_S [READY_FILE]
        Polls CSV every 100 ms (the probe is running) and notes the wall-clock
        time at which each row first appears; touches READY_FILE once polling
        (the caller replays after that).  Stops when NFLOWS rows were seen or
        after WAIT_S seconds.  Every row must appear no later than MAX_MS and
        not earlier than IDLE_MS (less 100 ms: the timestamps are whole ms,
        the poll has 100 ms steps) after its bidirectional_last_seen_ms.
    live_netns_check.py ipfix CONN.ipfix CSV PROBE_STDERR
        The IPFIX stream the TCP sink received: flow data records == CSV
        rows == the "N exported" of the probe's summary, the same flowIds as
        the CSV ids, the same packet counts per flow, the CSV's packets add up
        to the summary's "M metered", and flowEndReason 4 (end of input /
        shutdown) for at least one flow; its totals must equal the summary's
        idle/active/at-end counts.

Exit status 0 when the check passed (a one-line result on stdout), 1 when not
(the reasons on stdout, indented, one per line, under the FAIL line that the
shell script prints), 2 for bad usage.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ipfix_roundtrip import (parse_dump, parse_summary, read_csv,  # noqa: E402
                             run_ipfixdump, split_csv_line)

KEY = ("src_ip", "src_port", "dst_ip", "dst_port", "protocol", "vlan_id",
       "ip_version", "tunnel_id")
COUNTS = ("bidirectional_packets", "bidirectional_bytes", "src2dst_packets",
          "dst2src_packets", "src2dst_bytes", "dst2src_bytes")
MAX_SHOWN = 5


def key_of(row):
    return tuple(row.get(k, "") for k in KEY)


def fmt_key(k):
    src_ip, sp, dst_ip, dp, proto, vlan, ipv, tun = k
    s = "%s:%s -> %s:%s proto %s ipv%s" % (src_ip, sp, dst_ip, dp, proto, ipv)
    if vlan not in ("", "0"):
        s += " vlan %s" % vlan
    if tun not in ("", "0"):
        s += " tunnel %s" % tun
    return s


def fmt_counts(row):
    return "%s pkts %s bytes (%s/%s pkts, %s/%s bytes)" % tuple(
        row[c] for c in COUNTS)


def group(rows):
    out = {}
    for r in rows:
        out.setdefault(key_of(r), []).append(r)
    for k in out:
        out[k].sort(key=lambda r: int(r["id"]))
    return out


def cmd_compare(file_csv, live_csv):
    try:
        _h, frows = read_csv(file_csv)
        _h, lrows = read_csv(live_csv)
    except (OSError, ValueError) as e:
        print("    cannot read the CSV: %s" % e)
        return 1
    fg, lg = group(frows), group(lrows)
    problems = []
    for k in sorted(set(fg) | set(lg)):
        fl, ll = fg.get(k, []), lg.get(k, [])
        if not ll:
            problems.append("flow %s only from the file: %s" %
                            (fmt_key(k), fmt_counts(fl[0])))
            continue
        if not fl:
            problems.append("flow %s only live: %s" %
                            (fmt_key(k), fmt_counts(ll[0])))
            continue
        if len(fl) != len(ll):
            problems.append("flow %s: %d records from the file, %d live" %
                            (fmt_key(k), len(fl), len(ll)))
            continue
        for f, l in zip(fl, ll):
            if any(f[c] != l[c] for c in COUNTS):
                problems.append("flow %s: file %s, live %s" %
                                (fmt_key(k), fmt_counts(f), fmt_counts(l)))
    if problems:
        print("    %d flows from the file, %d live, %d differences:" %
              (len(frows), len(lrows), len(problems)))
        for p in problems[:MAX_SHOWN]:
            print("    " + p)
        if len(problems) > MAX_SHOWN:
            print("    ... %d more" % (len(problems) - MAX_SHOWN))
        return 1
    print(len(frows))
    return 0


def cmd_count(path):
    try:
        print(len(read_csv(path)[1]))
    except (OSError, ValueError) as e:
        print("    cannot read %s: %s" % (path, e))
        return 1
    return 0


def complete_rows(path):
    """The rows of a CSV being written: only lines ended by a newline."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except FileNotFoundError:
        return []
    lines = text.split("\n")[:-1]  # the last piece is unfinished or ""
    if not lines:
        return []
    header = lines[0].split(",")
    rows = []
    for ln in lines[1:]:
        vals = split_csv_line(ln)
        if len(vals) == len(header):
            rows.append(dict(zip(header, vals)))
    return rows


def cmd_idle(path, nflows, idle_ms, max_ms, wait_s, ready=None):
    nflows, idle_ms, max_ms = int(nflows), int(idle_ms), int(max_ms)
    seen = {}  # id -> (row, wall ms when first seen)
    deadline = time.time() + float(wait_s)
    if ready:
        open(ready, "w").close()
    while True:
        now_ms = int(time.time() * 1000)
        for r in complete_rows(path):
            if r["id"] not in seen:
                seen[r["id"]] = (r, now_ms)
        if len(seen) >= nflows or time.time() > deadline:
            break
        time.sleep(0.1)
    problems, delays = [], []
    for fid, (r, wall) in sorted(seen.items(), key=lambda x: int(x[0])):
        delay = wall - int(r["bidirectional_last_seen_ms"])
        delays.append(delay)
        if delay > max_ms or delay < idle_ms - 100:
            problems.append("flow %s (%s) exported %d ms after its last "
                            "packet; expected %d..%d ms" %
                            (fid, fmt_key(key_of(r)), delay, idle_ms, max_ms))
    if len(seen) != nflows:
        problems.append("%d flows appeared in the CSV within %s s of the "
                        "replay, expected %d" % (len(seen), wait_s, nflows))
    if problems:
        for p in problems[:MAX_SHOWN + 3]:
            print("    " + p)
        return 1
    print("%d flows, %d..%d ms after their last packet" %
          (len(seen), min(delays), max(delays)))
    return 0


def cmd_ipfix(stream, csv_path, err_path):
    problems = []
    try:
        _h, rows = read_csv(csv_path)
    except (OSError, ValueError) as e:
        print("    cannot read the CSV: %s" % e)
        return 1
    with open(err_path, encoding="utf-8", errors="replace") as f:
        err_text = f.read()
    summary = parse_summary(err_text)
    rc, text, stderr = run_ipfixdump(stream)
    if rc != 0:
        print("    ipfixDump exit %d: %s" % (rc, stderr.strip()[:300]))
        return 1
    try:
        ev = parse_dump(text)
    except ValueError as e:
        print("    cannot parse ipfixDump output: %s" % e)
        return 1
    recs = {}
    reasons = {}
    n_flow = 0
    for e in ev:
        if e[0] != "rec":
            continue
        fmap = {(p, i): v for p, i, _n, v in e[2]}
        if (0, 148) not in fmap:
            continue  # options records: statistics, applications, types
        n_flow += 1
        fid = fmap[(0, 148)].strip()
        if fid in recs:
            problems.append("flowId %s twice in the stream" % fid)
        recs[fid] = fmap
        fer = fmap.get((0, 136), "?").strip()
        reasons[fer] = reasons.get(fer, 0) + 1
    exported = summary.get("flows")
    if exported is None:
        problems.append("no \"flows: N exported\" summary on the probe's "
                        "stderr")
    if not (n_flow == len(rows) == exported):
        problems.append("%d flow records reached the collector, the CSV has "
                        "%d rows, the probe's summary says %s exported" %
                        (n_flow, len(rows), exported))
    ids = {r["id"] for r in rows}
    if set(recs) != ids:
        only_c = sorted(ids - set(recs), key=int)
        only_i = sorted(set(recs) - ids, key=int)
        problems.append("flowIds: %d only in the CSV (first %s), %d only at "
                        "the collector (first %s)" %
                        (len(only_c), only_c[:5], len(only_i), only_i[:5]))
    bad = []
    for r in rows:
        fm = recs.get(r["id"])
        if fm is None:
            continue
        got = (fm.get((0, 2), "").strip(), fm.get((29305, 2), "").strip())
        if got != (r["src2dst_packets"], r["dst2src_packets"]):
            bad.append("flow %s: IPFIX %s/%s packets, CSV %s/%s" %
                       ((r["id"],) + got + (r["src2dst_packets"],
                                            r["dst2src_packets"])))
    if bad:
        problems.append("%d flows with other packet counts at the "
                        "collector: %s" % (len(bad), "; ".join(bad[:3])))
    m = re.search(r"streamprobe: packets: \d+ read, (\d+) metered", err_text)
    if m is None:
        problems.append("no \"packets: N read, M metered\" summary")
    else:
        total = sum(int(r["bidirectional_packets"]) for r in rows)
        if total != int(m.group(1)):
            problems.append("the CSV's flows hold %d packets, the summary "
                            "says %s metered" % (total, m.group(1)))
    if reasons.get("4", 0) == 0:
        problems.append("no flow with flowEndReason 4 (end of input / "
                        "shutdown); reasons seen: %s" % reasons)
    if exported is not None:
        want = {"1": summary["idle"], "2": summary["active"],
                "4": summary["at_end"], "5": summary["evicted"]}
        want = {k: v for k, v in want.items() if v}
        if reasons != want:
            problems.append("flowEndReason counts %s, the summary says %s" %
                            (reasons, want))
    if problems:
        for p in problems:
            print("    " + p)
        return 1
    print("%d flows (%d with flowEndReason 4)" % (n_flow, reasons.get("4", 0)))
    return 0


def main(argv):
    cmds = {"compare": (cmd_compare, 2, 2), "count": (cmd_count, 1, 1),
            "idle": (cmd_idle, 5, 6), "ipfix": (cmd_ipfix, 3, 3)}
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    fn, lo, hi = cmds[argv[1]]
    if not lo <= len(argv) - 2 <= hi:
        print(__doc__, file=sys.stderr)
        return 2
    return fn(*argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
