#!/usr/bin/env python3
"""collectors_ipfix_files.py - ipfixDump and python-ipfix with the shipped
element files name every element of every shipped template.

For each templates/*.tmpl: the probe writes IPFIX (every column group on:
--statistics --splt 5) of a TLS/HTTP capture set to a file and its CSV.
  - `ipfixDump --element-file conf/collectors/libfixbuf/streamprobe.xml -t`:
    no template field is `_alienInformationElement`, and every enterprise
    element carries the name the template file gives it;
  - python-ipfix with conf/collectors/python-ipfix/streamprobe.iespec (as
    `ipfix2csv --spec` loads it): every template field has a name, and
    `ipfix2csv --spec ... --file` with every field of each data template
    prints as many records as the CSV has flows of that address family, with
    the template's string columns equal to the CSV's.
"""
import argparse
import csv
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ipfix_roundtrip import parse_template, read_csv  # noqa: E402

CAPTURES = ["443-curl.pcap", "webex.pcap", "http_ipv6.pcap",
            "WebattackSQLinj.pcap"]
RE_TID = re.compile(r"tid:\s+(\d+) .*scope:\s+(\d+)")
RE_FIELD = re.compile(r"ent:\s+(\d+)\s+id:\s+(\d+)\s+type:\s+\S+\s+len:\s+"
                      r"(\d+)\s+(?:\(S\)\s+)?(\S+)")
problems = []


def bad(msg):
    problems.append(msg)
    print("FAIL " + msg, flush=True)


def dump_templates(path, xml):
    """tid -> (scope, [(pen, id, len, name)]) as ipfixDump prints them."""
    r = subprocess.run(["ipfixDump", "-t", "-i", path, "--element-file", xml],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, errors="replace", timeout=60)
    if r.returncode != 0:
        bad("ipfixDump exit %d: %s" % (r.returncode, r.stdout[-300:]))
    tmpls, cur = {}, None
    for line in r.stdout.splitlines():
        m = RE_TID.search(line)
        if m:
            cur = []
            tmpls[int(m.group(1))] = (int(m.group(2)), cur)
            continue
        m = RE_FIELD.search(line)
        if m and cur is not None:
            cur.append((int(m.group(1)), int(m.group(2)), int(m.group(3)),
                        m.group(4)))
    return tmpls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("probe")
    ap.add_argument("shared")
    ap.add_argument("srcdir")
    a = ap.parse_args()
    for tool in ("ipfixDump", "ipfix2csv"):
        if shutil.which(tool) is None:
            print("%s missing: tests/scripts/setup.sh installs it" % tool)
            return 1
    files = [os.path.join(a.shared, "pcaps", c) for c in CAPTURES]
    for f in files:
        if not os.path.exists(f):
            print("missing %s (shared test data)" % f)
            return 1
    xml = os.path.join(a.srcdir, "conf/collectors/libfixbuf/streamprobe.xml")
    spec = os.path.join(a.srcdir,
                        "conf/collectors/python-ipfix/streamprobe.iespec")
    # python-ipfix lives with the interpreter ipfix2csv runs under
    with open(shutil.which("ipfix2csv")) as f:
        pyipfix = f.readline()[2:].strip().split()

    def ie_names(entries):
        """python-ipfix's names for (pen, id, len), with the spec loaded
        the way ipfix2csv --spec loads it."""
        code = ("import sys, ipfix.ie\n"
                "ipfix.ie.use_iana_default(); ipfix.ie.use_5103_default()\n"
                "ipfix.ie.use_specfile(sys.argv[1])\n"
                "for a in sys.argv[2:]:\n"
                "    p, i, n = map(int, a.split(':'))\n"
                "    print(ipfix.ie.for_template_entry(p, i, n).name)\n")
        r = subprocess.run(pyipfix + ["-c", code, spec] +
                           ["%d:%d:%d" % e for e in entries],
                           stdout=subprocess.PIPE, text=True, check=True)
        return r.stdout.split()

    tdir = os.path.join(a.srcdir, "templates")
    work = tempfile.mkdtemp(prefix="sp-ipfixfiles-")
    try:
        for tf in sorted(os.listdir(tdir)):
            if not tf.endswith(".tmpl"):
                continue
            name = tf[:-5]
            fields = parse_template(os.path.join(tdir, tf))
            byid = {(f.pen, f.id): f for f in fields}
            out = os.path.join(work, name + ".ipfix")
            csvp = os.path.join(work, name + ".csv")
            r = subprocess.run([a.probe, "-r", ",".join(files), "--template",
                                name, "--statistics", "--splt", "5",
                                "--csv", csvp, "--export",
                                "ipfix+file://" + out, "--no-progress"],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, timeout=120)
            if r.returncode != 0:
                bad("%s: probe exit %d: %s" % (name, r.returncode,
                                               r.stderr[-300:]))
                continue
            _h, rows = read_csv(csvp)
            tmpls = dump_templates(out, xml)
            before = len(problems)
            ndata = nnamed = nrec = 0
            ncols = set()
            for tid, (scope, flds) in sorted(tmpls.items()):
                for pen, ie, _ln, nm in flds:
                    if nm == "_alienInformationElement":
                        bad("%s: ipfixDump: template %d element %d:%d has "
                            "no name" % (name, tid, pen, ie))
                    elif pen not in (0, 29305) and (pen, ie) in byid and \
                            byid[(pen, ie)].element != nm:
                        bad("%s: ipfixDump names %d:%d %s, the template %s"
                            % (name, pen, ie, nm, byid[(pen, ie)].element))
                    else:
                        nnamed += 1
                if scope != 0:
                    continue
                ndata += 1
                # python-ipfix: names, then ipfix2csv with all of them
                names = ie_names([(p, i, n) for p, i, n, _x in flds])
                for (pen, ie, _l, _x), nm in zip(flds, names):
                    if nm.startswith("_ipfix_"):
                        bad("%s: python-ipfix has no name for %d:%d" %
                            (name, pen, ie))
                fam = 6 if any(ie in (27, 28) and pen == 0
                               for pen, ie, _l, _n in flds) else 4
                r = subprocess.run(["ipfix2csv", "--spec", spec, "--file",
                                    out] + names, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True,
                                   errors="replace", timeout=120)
                if r.returncode != 0:
                    bad("%s: ipfix2csv exit %d: %s" %
                        (name, r.returncode, r.stderr[-300:]))
                    continue
                got = list(csv.DictReader(io.StringIO(r.stdout)))
                nrec += len(got)
                want = [x for x in rows if int(x["ip_version"]) == fam]
                # uniflow records would double this; the default is biflow
                if len(got) != len(want):
                    bad("%s: ipfix2csv: %d IPv%d records, %d CSV flows" %
                        (name, len(got), fam, len(want)))
                    continue
                # strings of the template, as multisets, against the CSV
                for (pen, ie, _ln, _nm), col in zip(flds, names):
                    f = byid.get((pen, ie))
                    if f is None or f.type != "string" or \
                            f.column not in want[0]:
                        continue
                    g = sorted(x[col].rstrip("\0") for x in got)
                    w = sorted(x[f.column][:f.length] for x in want)
                    ncols.add(col)
                    if g != w:
                        bad("%s: ipfix2csv %s differs from CSV %s (%s...)"
                            % (name, col, f.column,
                               sorted(set(g) ^ set(w))[:3]))
            if ndata == 0:
                bad("%s: no data template in the export" % name)
            if len(problems) == before:
                print("ok   %s: %d templates, %d fields named by ipfixDump; "
                      "ipfix2csv read %d records of %d data templates, "
                      "strings equal to the CSV: %s" %
                      (name, len(tmpls), nnamed, nrec, ndata,
                       ", ".join(sorted(ncols))), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d problems" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
