#!/usr/bin/env python3
"""collectors_nfacctd.py - pmacct nfacctd 1.7.7 with the shipped decoder files.

For each shipped template (standard, nfstream) and protocol (IPFIX, NetFlow
v9): start nfacctd on 127.0.0.1 (a free port found at run time) with
conf/collectors/pmacct/nfacctd-T-P.conf and its aggregate_primitives file,
changed only in the listening address, the port, the primitives path and the
output file; export a set of TLS/HTTP/DNS captures to it; then every flow
nfacctd prints in JSON must be one flow of the probe's CSV of the same run,
with application name, category, SNI, JA3, JA3S and both directions'
counters by name, and every other primitive equal to its CSV column.

--pgsql: the same with nfacctd's pgsql plugin writing into a PostgreSQL 15
cluster the test creates (initdb/pg_ctl, as a non-root user, on 127.0.0.1 and
a unix socket in a temporary directory); the values are read back with SQL.

Exit 0 when all pass, 1 on a mismatch, with one line per problem.
"""
import argparse
import datetime
import ipaddress
import json
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ipfix_roundtrip import read_csv  # noqa: E402

CAPTURES = ["443-curl.pcap", "webex.pcap", "http_ipv6.pcap",
            "dns_fragmented.pcap"]
# The proof: these by name, equal to the CSV.
PROOF = ["application_name", "application_category_name",
         "requested_server_name", "client_fingerprint",
         "server_fingerprint", "dst2src_bytes", "dst2src_packets"]
PG_BIN = "/usr/lib/postgresql/15/bin"
JSON_TEXT = 63  # nfacctd prints a fixed-length primitive in <= 63 chars

problems = []
procs = []


def bad(msg):
    problems.append(msg)
    print("FAIL " + msg, flush=True)


def free_port(kind=socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(cmd, **kw):
    p = subprocess.Popen(cmd, **kw)
    procs.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in procs:
        procs.remove(p)


def wait_for(pred, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def file_has(path, text):
    try:
        with open(path, errors="replace") as f:
            return text in f.read()
    except OSError:
        return False


def read_primitives(path):
    """name -> (field_type, len, semantics) of the active lines; and the
    commented-out ones, name -> comment above them."""
    active, off = {}, {}
    why = ""
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"^(!\s*)?name=(\S+)\tfield_type=(\S+)\tlen=(\S+)"
                         r"\tsemantics=(\S+)$", line)
            if not m:
                if line.startswith("! ") and line.endswith(":"):
                    why = line[2:-1]
                continue
            if m.group(1):
                off[m.group(2)] = why
            else:
                active[m.group(2)] = (m.group(3), m.group(4), m.group(5))
    return active, off


def ms_of(ts):
    """nfacctd's "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) in ms."""
    d = datetime.datetime.strptime(ts, "%Y-%m-%d %H:%M:%S.%f")
    d = d.replace(tzinfo=datetime.timezone.utc)
    return int(round(d.timestamp() * 1000))


def same(name, sem, length, got, want):
    """nfacctd's text of a primitive against the CSV's value."""
    if sem == "u_int":
        return got != "" and int(got) == int(want)
    if sem == "str":
        if length != "vlen" and len(want) > JSON_TEXT:
            want = want[:JSON_TEXT]   # nfacctd's buffer; README says so
        return got == want
    if sem == "ip":
        return ipaddress.ip_address(got) == ipaddress.ip_address(want)
    if sem == "mac":
        return got.lower() == want.lower()
    if sem == "raw":
        b = bytes.fromhex(got)
        if "." in want or want in ("nan", "inf", "-inf"):
            v = struct.unpack(">d" if len(b) == 8 else ">f", b)[0]
            return abs(v - float(want)) <= 1e-6 * max(1.0, abs(float(want)))
        return int.from_bytes(b, "big", signed=True) == int(want)
    return True


def csv_key(r):
    return (str(ipaddress.ip_address(r["src_ip"])),
            str(ipaddress.ip_address(r["dst_ip"])), int(r["src_port"]),
            int(r["dst_port"]), int(r["bidirectional_first_seen_ms"]))


def compare(label, got_rows, csv_path, prims):
    """got_rows: dicts with ip_src, ip_dst, port_src, port_dst,
    timestamp_start (ms), packets, bytes and the primitives by name."""
    before = len(problems)
    _h, rows = read_csv(csv_path)
    want = {}
    for r in rows:
        want.setdefault(csv_key(r), []).append(r)
    if len(got_rows) != len(rows):
        bad("%s: %d flows from nfacctd, %d in the CSV" %
            (label, len(got_rows), len(rows)))
    checked = {n: 0 for n in PROOF}
    nbad = 0
    for g in got_rows:
        k = (str(ipaddress.ip_address(g["ip_src"])),
             str(ipaddress.ip_address(g["ip_dst"])), int(g["port_src"]),
             int(g["port_dst"]), int(g["timestamp_start"]))
        if k not in want or not want[k]:
            bad("%s: nfacctd flow %s not in the CSV" % (label, k))
            nbad += 1
            continue
        r = want[k].pop(0)
        diffs = []
        if int(g["packets"]) != int(r["src2dst_packets"]) or \
                int(g["bytes"]) != int(r["src2dst_bytes"]):
            diffs.append("packets/bytes %s/%s != %s/%s" % (
                g["packets"], g["bytes"], r["src2dst_packets"],
                r["src2dst_bytes"]))
        for name, (_ft, length, sem) in prims.items():
            if name not in r or name not in g:
                continue
            try:
                ok = same(name, sem, length, str(g[name]), r[name])
            except ValueError:
                ok = False
            if not ok:
                hint = ""
                if sem == "str" and length != "vlen" and \
                        len(r[name].encode()) == int(length):
                    # nfacctd 1.7.7 prints a str primitive up to a NUL
                    # (util.c custom_primitive_value_print, "%s")
                    hint = (" (fills its %s-byte field, no NUL: nfacctd "
                            "prints on into the next primitive)" % length)
                diffs.append("%s %r != CSV %r%s" % (name, g[name], r[name],
                                                    hint))
            elif name in checked and r[name] not in ("", "0"):
                checked[name] += 1
        if diffs:
            nbad += 1
            if nbad <= 5:
                bad("%s: flow %s: %s" % (label, k, "; ".join(diffs)))
    for n, c in checked.items():
        if c == 0:
            bad("%s: no flow with a non-empty %s to compare" % (label, n))
    if len(problems) == before:
        print("ok   %s: %d flows equal to the CSV (%s)" %
              (label, len(got_rows), ", ".join(
                  "%s %d" % (n, c) for n, c in checked.items())), flush=True)


def nfacctd_conf(shipped, confdir, port, extra):
    """The shipped configuration, with this run's address, port and files."""
    out = []
    with open(shipped) as f:
        for line in f:
            if line.startswith("nfacctd_ip:"):
                line = "nfacctd_ip: 127.0.0.1\n"
            elif line.startswith("nfacctd_port:"):
                line = "nfacctd_port: %d\n" % port
            elif line.startswith("aggregate_primitives:"):
                line = "aggregate_primitives: %s/pmacct/%s\n" % (
                    confdir, os.path.basename(line.split()[1]))
            elif line.startswith("print_refresh_time:") and extra.get("sql"):
                continue
            elif line.startswith(("plugins:", "print_output")) and \
                    extra.get("sql"):
                continue
            out.append(line)
    for k, v in extra.items():
        if k != "sql":
            out.append("%s: %s\n" % (k, v))
    return "".join(out)


def start_nfacctd(conf, log, label):
    """nfacctd on CONF, once its LOG says it listens; None (and a failure
    said) when it does not within 20 s."""
    nf = start(["nfacctd", "-f", conf], stdout=subprocess.DEVNULL,
               stderr=subprocess.STDOUT)
    if not wait_for(lambda: file_has(log, "waiting for NetFlow"), 20):
        bad("%s: nfacctd did not start (see %s)" % (label, log))
        stop(nf)
        return None
    return nf


def run_probe(probe, shared, template, url, csv_path, log):
    """One probe run a capture (the CSV is their rows, in order): the
    burst of records at the end of a run stays within a default UDP
    receive buffer (net.core.rmem_default)."""
    rc, text = 0, []
    with open(csv_path, "w") as out:
        for i, c in enumerate(CAPTURES):
            part = "%s.%d" % (csv_path, i)
            r = subprocess.run([probe, "-r", os.path.join(shared, "pcaps", c),
                                "--template", template, "--csv", part,
                                "--export", url, "--no-progress"],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, timeout=120)
            text.append(r.stderr)
            rc = rc or r.returncode
            with open(part) as f:
                lines = f.readlines()
            out.writelines(lines if i == 0 else lines[1:])
    with open(log, "w") as f:
        f.write("".join(text))
    return rc


def csv_rows(path):
    return len(read_csv(path)[1])


def json_rows(path):
    try:
        with open(path) as f:
            return [json.loads(x) for x in f if x.strip()]
    except (OSError, ValueError):
        return []


def one_json(probe, shared, confdir, work, template, proto):
    label = "nfacctd %s %s" % (template, proto)
    lst = os.path.join(confdir, "pmacct", "%s-%s.lst" % (template, proto))
    prims, off = read_primitives(lst)
    for n in PROOF:
        if n not in prims:
            bad("%s: %s is not an active primitive in %s (%s)" %
                (label, n, os.path.basename(lst), off.get(n, "absent")))
    port = free_port()
    d = os.path.join(work, "%s-%s" % (template, proto))
    os.makedirs(d)
    out, log = os.path.join(d, "flows.json"), os.path.join(d, "nfacctd.log")
    conf = os.path.join(d, "nfacctd.conf")
    with open(conf, "w") as f:
        f.write(nfacctd_conf(
            os.path.join(confdir, "pmacct", "nfacctd-%s-%s.conf" %
                         (template, proto)), confdir, port,
            {"print_output_file": out, "print_output_file_append": "true",
             "print_refresh_time": 1, "logfile": log}))
    nf = start_nfacctd(conf, log, label)
    if nf is None:
        return
    url = "%s://127.0.0.1:%d" % ("ipfix+udp" if proto == "ipfix" else
                                 "nf9+udp", port)
    csv_path = os.path.join(d, "flows.csv")
    rc = run_probe(probe, shared, template, url, csv_path,
                   os.path.join(d, "probe.log"))
    if rc != 0:
        bad("%s: probe exit %d" % (label, rc))
    n = csv_rows(csv_path)
    # print_refresh_time 1: every flow is written within a few seconds
    wait_for(lambda: len(json_rows(out)) >= n, 30)
    stop(nf)
    got = []
    for j in json_rows(out):
        j["timestamp_start"] = ms_of(j["timestamp_start"])
        got.append(j)
    with open(log, errors="replace") as f:
        for line in f:
            if "ERROR" in line or "malformed" in line or "WARN" in line:
                print("     nfacctd: " + line.strip()[:200])
    compare(label, got, csv_path, prims)


# ---- PostgreSQL -----------------------------------------------------------

def pg_user():
    """initdb refuses root: run the cluster as postgres (Debian's package
    creates it) when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
        return "postgres"
    except KeyError:
        return "nobody"


def as_user(user, cmd):
    return cmd if user is None else ["runuser", "-u", user, "--"] + cmd


SQL_TYPES = {"u_int": "bigint", "str": "text", "ip": "inet", "mac": "macaddr",
             "raw": "text"}


def one_pgsql(probe, shared, confdir, work, template, proto):
    label = "nfacctd pgsql %s %s" % (template, proto)
    if not os.path.exists(os.path.join(PG_BIN, "initdb")):
        bad("%s: %s/initdb missing (postgresql-15)" % (label, PG_BIN))
        return
    lst = os.path.join(confdir, "pmacct", "%s-%s.lst" % (template, proto))
    prims, off = read_primitives(lst)
    want = [n for n in PROOF if n in prims]
    for n in PROOF:
        if n not in prims:
            bad("%s: %s is not an active primitive (%s)" %
                (label, n, off.get(n, "absent")))
    user = pg_user()
    d = os.path.join(work, "pg-%s-%s" % (template, proto))
    os.makedirs(d)
    data, sock = os.path.join(d, "data"), os.path.join(d, "sock")
    os.makedirs(sock)
    if user:
        shutil.chown(d, user)
        shutil.chown(sock, user)
        os.chmod(work, 0o755)
    r = subprocess.run(as_user(user, [PG_BIN + "/initdb", "-D", data, "-A",
                                      "trust", "-U", "pmacct"]),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if r.returncode != 0:
        bad("%s: initdb: %s" % (label, r.stdout.strip()[-300:]))
        return
    pgport = free_port(socket.SOCK_STREAM)
    r = subprocess.run(as_user(user, [
        PG_BIN + "/pg_ctl", "-D", data, "-l", os.path.join(d, "pg.log"),
        "-w", "-o", "-k %s -h 127.0.0.1 -p %d" % (sock, pgport), "start"]),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        bad("%s: pg_ctl start: %s" % (label, r.stdout.strip()[-300:]))
        return
    try:
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", sock,
                "-p", str(pgport), "-U", "pmacct"]
        cols = ["ip_src inet NOT NULL", "ip_dst inet NOT NULL",
                "port_src integer NOT NULL", "port_dst integer NOT NULL",
                "ip_proto smallint NOT NULL",
                "timestamp_start timestamp without time zone NOT NULL",
                "timestamp_start_residual integer NOT NULL"]
        for n in want:
            cols.append("%s %s" % (n, SQL_TYPES[prims[n][2]]))
        cols += ["packets bigint NOT NULL", "bytes bigint NOT NULL",
                 "stamp_inserted timestamp without time zone",
                 "stamp_updated timestamp without time zone"]
        ddl = "CREATE DATABASE pmacct_flows;\n"
        subprocess.run(psql + ["-d", "postgres", "-c", ddl], check=True)
        subprocess.run(psql + ["-d", "pmacct_flows", "-c",
                               "CREATE TABLE flows (%s);" % ", ".join(cols)],
                       check=True)
        port = free_port()
        log = os.path.join(d, "nfacctd.log")
        conf = os.path.join(d, "nfacctd.conf")
        aggregate = ", ".join(["src_host", "dst_host", "src_port", "dst_port",
                               "proto", "timestamp_start"] + want)
        body = nfacctd_conf(
            os.path.join(confdir, "pmacct", "nfacctd-%s-%s.conf" %
                         (template, proto)), confdir, port,
            {"sql": 1, "plugins": "pgsql", "logfile": log,
             "sql_host": "127.0.0.1", "sql_port": pgport,
             "sql_user": "pmacct", "sql_passwd": "unused",
             "sql_db": "pmacct_flows", "sql_table": "flows",
             "sql_optimize_clauses": "true", "sql_refresh_time": 1,
             "sql_dont_try_update": "true"})
        body = re.sub(r"(?m)^aggregate:.*$", "aggregate: " + aggregate, body)
        with open(conf, "w") as f:
            f.write(body)
        nf = start_nfacctd(conf, log, label)
        if nf is None:
            return
        csv_path = os.path.join(d, "flows.csv")
        url = "%s://127.0.0.1:%d" % ("ipfix+udp" if proto == "ipfix" else
                                     "nf9+udp", port)
        rc = run_probe(probe, shared, template, url, csv_path,
                       os.path.join(d, "probe.log"))
        if rc != 0:
            bad("%s: probe exit %d" % (label, rc))
        n = csv_rows(csv_path)
        sel = ("SELECT row_to_json(t) FROM (SELECT host(ip_src) AS ip_src, "
               "host(ip_dst) AS ip_dst, port_src, port_dst, "
               "(extract(epoch FROM timestamp_start) * 1000)::bigint + "
               "timestamp_start_residual / 1000 AS timestamp_start, "
               "packets, bytes%s FROM flows) t" %
               "".join(", %s" % c for c in want))

        def rows():
            r = subprocess.run(psql + ["-d", "pmacct_flows", "-At", "-c",
                                       sel], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                return []
            return [json.loads(x) for x in r.stdout.splitlines() if x]
        wait_for(lambda: len(rows()) >= n, 30)
        stop(nf)
        got = rows()
        with open(log, errors="replace") as f:
            for line in f:
                if "ERROR" in line or "WARN" in line:
                    print("     nfacctd: " + line.strip()[:200])
        # what SQL gives back, as text, against the CSV
        for g in got:
            for c in want:
                g[c] = "" if g[c] is None else str(g[c])
        compare(label, got, csv_path, {c: prims[c] for c in want})
    finally:
        subprocess.run(as_user(user, [PG_BIN + "/pg_ctl", "-D", data, "-w",
                                      "-m", "fast", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("probe")
    ap.add_argument("shared")
    ap.add_argument("confdir", help="conf/collectors")
    ap.add_argument("--pgsql", action="store_true")
    ap.add_argument("--templates", default="standard,nfstream")
    ap.add_argument("--protocols", default="ipfix,v9")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    for c in CAPTURES:
        if not os.path.exists(os.path.join(a.shared, "pcaps", c)):
            print("missing %s/pcaps/%s (shared test data)" % (a.shared, c))
            return 1
    if shutil.which("nfacctd") is None:
        print("nfacctd missing: tests/scripts/setup.sh installs pmacct")
        return 1
    work = tempfile.mkdtemp(prefix="sp-nfacctd-")
    try:
        for t in a.templates.split(","):
            for p in a.protocols.split(","):
                if a.pgsql:
                    one_pgsql(a.probe, a.shared, a.confdir, work, t, p)
                else:
                    one_json(a.probe, a.shared, a.confdir, work, t, p)
    finally:
        for p in list(procs):
            stop(p)
        if a.keep:
            print("work dir kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("%d problems" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
