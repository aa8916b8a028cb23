"""Helpers for wire_collectors.sh: what nfdump, nfacctd, FastNetMon and tshark
made of one probe run, judged against the probe's CSV of that run.

    python3 wire_collectors.py COMMAND ARGS...

freeport, primitives (an nfacctd aggregate_primitives file derived from a
template file: the element ids are the template's, the NetFlow v9 ids follow
README's rule), nfdump_apps, pmacct, mkpcap, metrics.  Each judging command
prints one summary line, or "FAILED: ..." lines and exits 1.
"""
import ipaddress
import json
import os
import socket
import struct
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from collector_common import read_udplog, udpsink, cmpflows  # noqa: E402,F401
from ipfix_roundtrip import read_csv, parse_template, text_cut  # noqa: E402

REV_PEN = 29305
# README "NetFlow v9": the flow id goes out as 49000; streamprobe element n
# (the template's enterprise number) as 48000 + n; reverse counters 23/24.
OWN_V9_BASE, V9_FLOW_ID = 48000, 49000
PROTO = {"tcp": 6, "udp": 17, "icmp": 1, "ipv6-icmp": 58, "icmp6": 58}
# Columns the nfacctd check reads by name, and the primitive names it uses.
PRIM = {"id": "sp_flow_id", "dst2src_bytes": "sp_rev_bytes",
        "dst2src_packets": "sp_rev_pkts", "application_name": "sp_app",
        "application_category_name": "sp_category",
        "requested_server_name": "sp_sni", "client_fingerprint": "sp_ja3",
        "server_fingerprint": "sp_ja3s"}


def fail(msgs, ok_line):
    for m in msgs[:10]:
        print("FAILED: " + m)
    if len(msgs) > 10:
        print("FAILED: ... %d more" % (len(msgs) - 10))
    if msgs:
        sys.exit(1)
    print(ok_line)


def freeport():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def tmpl_fields(tmpl):
    """{column: Field} of the template's lines the nfacctd check reads."""
    out = {}
    for f in parse_template(tmpl):
        if f.column in PRIM and f.column not in out:
            out[f.column] = f
    return out


def primitives(tmpl, proto, out):
    """A minimal aggregate_primitives file for this template: the shipped
    one (conf/collectors/) is the decoder generator's; this one is derived
    here from the same template so the check does not depend on it."""
    lines = []
    for col, f in tmpl_fields(tmpl).items():
        if proto == "ipfix":
            ft = "%d:%d" % (f.pen, f.id) if f.pen else "%d" % f.id
        elif f.pen == REV_PEN:
            ft = "%d" % {1: 23, 2: 24}[f.id]
        elif f.pen == 0:
            ft = "%d" % (V9_FLOW_ID if f.id == 148 else f.id)
        else:
            ft = "%d" % (OWN_V9_BASE + f.id)
        if f.type == "string":
            # nfacctd reads IANA strings (id < 384) only at a fixed length
            ln = "vlen" if proto == "ipfix" and not f.fixed and f.pen else \
                str(f.length)
            sem = "str"
        else:
            ln, sem = "8", "u_int"
        lines.append("name=%s field_type=%s len=%s semantics=%s"
                     % (PRIM[col], ft, ln, sem))
    with open(out, "w") as fp:
        fp.write("\n".join(lines) + "\n")
    print(", ".join(PRIM[c] for c in tmpl_fields(tmpl)))


def nfdump_apps(csv_path, raw_path):
    """nfdump -o raw: every flow with an application id names it, and the
    name is a component of the CSV's application_name (NFStream writes
    master.app: the table names the id nDPI detected)."""
    _h, rows = read_csv(csv_path)
    want = {}
    for r in rows:
        p = int(r["protocol"])
        key = (int(r["bidirectional_first_seen_ms"]),
               ipaddress.ip_address(r["src_ip"]),
               ipaddress.ip_address(r["dst_ip"]),
               int(r["src_port"]) if p in (6, 17) else 0,
               int(r["dst_port"]) if p in (6, 17) else 0)
        want.setdefault(key, []).append(r["application_name"])
    recs, cur = [], {}
    with open(raw_path) as f:
        for line in f:
            if line.startswith("Flow Record"):
                cur = {}
                recs.append(cur)
                continue
            k, sep, v = line.partition("=")
            if sep:
                cur[k.strip()] = v.strip()
    fails, named = [], 0
    for r in recs:
        if "app ID" not in r:
            fails.append("flow without an application id: %s" % r)
            continue
        name = r["app ID"].split(":", 1)[1].strip()
        p = int(r["proto"].split()[0])
        key = (int(r["first"].split()[0]),
               ipaddress.ip_address(r["src addr"]),
               ipaddress.ip_address(r["dst addr"]),
               int(r["src port"]) if p in (6, 17) else 0,
               int(r["dst port"]) if p in (6, 17) else 0)
        apps = want.get(key)
        if apps is None:
            fails.append("nfdump flow %s not in the CSV" % (key,))
        elif not any(name in a.split(".") for a in apps):
            fails.append("%s: nfdump names %r, CSV application_name %s"
                         % (key, name, apps))
        else:
            named += 1
    if len(recs) != len(rows):
        fails.append("%d nfdump flows, %d CSV flows" % (len(recs), len(rows)))
    fail(fails, "%d of %d flows named by the application table, every name "
         "part of the CSV's application_name" % (named, len(rows)))


def pmacct(csv_path, json_path, tmpl, log_path):
    """nfacctd's print plugin (JSON lines, aggregated by the flow id and the
    other primitives): every CSV flow once, with its forward counters
    (packets, bytes), reverse counters, application (class from the
    application table; app_name/app_cat from the records), SNI, JA3, JA3S
    equal to the CSV's, strings cut as the template cuts them."""
    _h, rows = read_csv(csv_path)
    byid = {int(r["id"]): r for r in rows}
    fl = tmpl_fields(tmpl)
    got = {}
    with open(json_path) as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                got.setdefault(int(d["sp_flow_id"]), []).append(d)
    fails, seen = [], {"sp_sni": 0, "sp_ja3": 0, "sp_ja3s": 0, "rev": 0,
                       "class": 0}
    for fid, r in byid.items():
        ds = got.pop(fid, None)
        if ds is None:
            fails.append("flow %d missing" % fid)
            continue
        if len(ds) != 1:
            fails.append("flow %d: %d records" % (fid, len(ds)))
            continue
        d = ds[0]
        p = PROTO.get(str(d["ip_proto"]), d["ip_proto"])
        exp = [("ip_src", ipaddress.ip_address(r["src_ip"]),
                ipaddress.ip_address(d["ip_src"])),
               ("ip_proto", int(r["protocol"]), int(p)),
               ("packets", int(r["src2dst_packets"]), int(d["packets"])),
               ("bytes", int(r["src2dst_bytes"]), int(d["bytes"])),
               ("sp_rev_pkts", int(r["dst2src_packets"]),
                int(d["sp_rev_pkts"])),
               ("sp_rev_bytes", int(r["dst2src_bytes"]),
                int(d["sp_rev_bytes"]))]
        for col, prim in PRIM.items():
            if col in fl and fl[col].type == "string":
                w = text_cut(r[col], fl[col].length).decode("utf-8",
                                                             "replace")
                exp.append((prim, w, d.get(prim)))
        for name, want, have in exp:
            if want != have:
                fails.append("flow %d %s: nfacctd %r, CSV %r"
                             % (fid, name, have, want))
        if d["class"] not in r["application_name"].split("."):
            fails.append("flow %d class %r, CSV application_name %r"
                         % (fid, d["class"], r["application_name"]))
        for k in ("sp_sni", "sp_ja3", "sp_ja3s"):
            seen[k] += bool(d.get(k))
        seen["rev"] += int(d["sp_rev_pkts"]) > 0
        seen["class"] += d["class"] not in ("", "unknown")
    if got:
        fails.append("%d flow ids not in the CSV" % len(got))
    for k, n in seen.items():
        if n == 0:
            fails.append("no flow with a non-empty %s: the check proves "
                         "nothing" % k)
    with open(log_path, errors="replace") as f:
        bad = [ln.strip() for ln in f if "malformed" in ln.lower() or
               "ERROR" in ln]
    fails += ["nfacctd: " + b for b in bad[:3]]
    fail(fails, "%d flows, all fields equal to the CSV: %d with SNI, %d JA3, "
         "%d JA3S, %d with reverse packets, %d named by the application "
         "table; no malformed template" % (
             len(rows), seen["sp_sni"], seen["sp_ja3"], seen["sp_ja3s"],
             seen["rev"],
             seen["class"]))


def mkpcap(log, out, port):
    """The datagrams a UDP sink saved, as a pcap (raw IPv4 link type) for
    tshark: 127.0.0.1:40000 -> 127.0.0.1:PORT, in arrival order."""
    port = int(port)
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 228))
        for i, (t, d) in enumerate(read_udplog(log)):
            udp = struct.pack("!HHHH", 40000, port, 8 + len(d), 0) + d
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp),
                             i & 0xFFFF, 0, 64, 17, 0,
                             socket.inet_aton("127.0.0.1"),
                             socket.inet_aton("127.0.0.1")) + udp
            f.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(ip),
                                len(ip)) + ip)
    print(len(read_udplog(log)))


def metrics(url, *names):
    """FastNetMon's Prometheus counters, in the order asked (0 if absent)."""
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode()
    vals = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, _s, v = line.rpartition(" ")
            vals[k.strip()] = v
    print(" ".join(str(int(float(vals.get(n, 0)))) for n in names))


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
