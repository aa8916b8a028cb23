#!/usr/bin/env python3
"""IPFIX round trip: every flow the probe writes to CSV must come back,
value for value, from its IPFIX export (file and TCP transports).

    ipfix_roundtrip.py --probe build-ipfixtest/streamprobe --shared ../shared

For every capture in SHARED/pcaps (none skipped) the probe runs once with

    --statistics --splt 10 --template nfstream --csv X.csv
    --export ipfix+file://X.ipfix --export ipfix+tcp://127.0.0.1:PORT

(each exporter gets every flow), the TCP export going to tcp_sink.py (one sink
for the whole run, one connection and so one file per probe run).  Both IPFIX
streams are decoded with `ipfixDump --rfc5610 --hexdump=4096` and checked
against the CSV, which is the reference (the NFStream comparison test checks
the CSV itself):

  * data records of templates 256/257 == CSV rows, flowIds == CSV ids;
  * every field of every record == the CSV column the template file maps it
    to (templates/nfstream.tmpl): integers exactly, doubles to ipfixDump's
    8 significant digits (relative 1e-6), timestamps to the ms (UTC),
    addresses as addresses, strings exactly (cut to the template's maximum
    the way the probe documents it), SPLT octet arrays decoded from hex;
  * the export-only columns from what the CSV implies: flowEndReason from
    expiration_id and the summary's idle/active/at-end counts, biflowDirection
    1, tcpControlBits = OR of the flags whose per-direction counters are > 0,
    applicationId = nDPI engine 22 + an id the application table names as one
    component of application_name;
  * templates 256/257 list exactly the template file's fields for the family;
    RFC 5610 type records name and type every enterprise element before the
    templates that use it;
  * options: the application table (261) is there; over TCP, backlog records
    (265) hold five integers; the last statistics record
    (260) has notSentFlowTotalCount 0, exportedFlowRecordTotalCount >= flows,
    ignoredPacketTotalCount == the summary's skipped packets; for the file
    transport (where "sent" is exact) its message/octet/record counters equal
    what precedes it in the file, and every message's sequence number equals
    the data records before it (RFC 7011 section 3.1);
  * the probe's exit status: 0, or 1 only for captures whose MANIFEST
    capinfos_error is non-empty (damaged files: the flows read are written).

Prints one line per failure, a summary and "N passed, M failed"; exit 1 on any
failure, 2 when SHARED (or a tool) is missing.
"""
import argparse
import concurrent.futures
import datetime
import ipaddress
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

TID_V4, TID_V6, TID_STATS, TID_APPS, TID_TYPES = 256, 257, 260, 261, 263
# The application table alternates between 261 and 264, one record a set.
TID_APPS_ALT = 264
# TCP only: the backlog (queued, unacknowledged) with each statistics record.
TID_BACKLOG = 265
VARLEN = 65535
TYPE_SIZE = {
    "unsigned8": 1, "unsigned16": 2, "unsigned32": 4, "unsigned64": 8,
    "signed8": 1, "signed16": 2, "signed32": 4, "signed64": 8,
    "float32": 4, "float64": 8, "boolean": 1, "macAddress": 6,
    "ipv4Address": 4, "ipv6Address": 16, "dateTimeSeconds": 4,
    "dateTimeMilliseconds": 8, "dateTimeMicroseconds": 8,
    "dateTimeNanoseconds": 8, "string": VARLEN, "octetArray": VARLEN,
}
# RFC 5610 informationElementDataType numbering (IANA registry).
RFC5610_TYPE = {
    "octetArray": 0, "unsigned8": 1, "unsigned16": 2, "unsigned32": 3,
    "unsigned64": 4, "signed8": 5, "signed16": 6, "signed32": 7,
    "signed64": 8, "float32": 9, "float64": 10, "boolean": 11,
    "macAddress": 12, "string": 13, "dateTimeSeconds": 14,
    "dateTimeMilliseconds": 15, "dateTimeMicroseconds": 16,
    "dateTimeNanoseconds": 17, "ipv4Address": 18, "ipv6Address": 19,
}
# tcpControlBits bit for each NFStream flag counter (RFC 7012 / TCP header).
TCP_FLAG_BITS = {"fin": 0x01, "syn": 0x02, "rst": 0x04, "psh": 0x08,
                 "ack": 0x10, "urg": 0x20, "ece": 0x40, "cwr": 0x80}
# expiration_id -> flowEndReason(s): 0 idle (NFStream counts the flows
# flushed at the end of input as idle too), 1 active, -1 evicted (table full).
END_REASONS = {0: {1, 4}, 1: {2}, -1: {5}}
EXPORT_ONLY = ("flow_end_reason", "biflow_direction", "application_id",
               "src2dst_tcp_flags", "dst2src_tcp_flags")


class Field:
    def __init__(self, column, element, pen, ie, typ, length, line,
                 fixed=False):
        self.column, self.element, self.pen, self.id = column, element, pen, ie
        self.type, self.length, self.line = typ, length, line
        self.fixed = fixed
        if typ in ("string", "octetArray") and not fixed:
            self.wire_len = VARLEN
        else:
            self.wire_len = length if length else TYPE_SIZE[typ]
        self.family = {"ipv4Address": 4, "ipv6Address": 6}.get(typ, 0)


def parse_template(path):
    """The template file: `column element [pen:]id type [length [fixed]]`
    lines."""
    fields, ent = [], None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            if line[0] == "enterprise":
                ent = int(line[1])
                continue
            if line == ["plugin-fields"]:	# the loaded plugins' fields
                continue
            col, elem, ident, typ = line[:4]
            length = int(line[4]) if len(line) > 4 else 0
            if ":" in ident:
                pen, num = ident.split(":")
                pen = ent if pen == "ENT" else int(pen)
            else:
                pen, num = 0, ident
            fields.append(Field(col, elem, pen, int(num), typ, length, n,
                                len(line) > 5 and line[5] == "fixed"))
    return fields


def family_fields(fields, family):
    return [f for f in fields if f.family in (0, family)]


def read_manifest(shared):
    damaged = {}
    path = os.path.join(shared, "pcaps", "MANIFEST.tsv")
    with open(path, newline="") as f:
        head = f.readline().rstrip("\n").split("\t")
        ci = head.index("capinfos_error")
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) > ci:
                damaged[cols[0]] = cols[ci].strip() != ""
            else:
                damaged[cols[0]] = False
    return damaged


# ---- CSV ------------------------------------------------------------------

def split_csv_line(line):
    """The probe's CSV (NFStream's to_csv): numbers bare, everything else in
    double quotes with inner quotes written \\".  Other backslashes are
    literal (the probe writes bytes it cannot print as \\xHH), which the csv
    module with escapechar='\\\\' would eat, so split by hand.  (A string
    ending in a backslash cannot be told from an escaped quote in this format;
    such a line then has the wrong number of fields and is reported.)"""
    out, i, n = [], 0, len(line)
    while True:
        if i < n and line[i] == '"':
            i += 1
            buf = []
            while i < n:
                c = line[i]
                if c == "\\" and i + 1 < n and line[i + 1] == '"':
                    buf.append('"')
                    i += 2
                elif c == '"':
                    i += 1
                    break
                else:
                    buf.append(c)
                    i += 1
            out.append("".join(buf))
        else:
            j = line.find(",", i)
            j = n if j < 0 else j
            out.append(line[i:j])
            i = j
        if i >= n:
            return out
        if line[i] != ",":
            raise ValueError("bad CSV near field %d" % len(out))
        i += 1


def read_csv(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    if text == "":
        return [], []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    header = lines[0].split(",")
    rows = []
    for ln in lines[1:]:
        vals = split_csv_line(ln)
        if len(vals) != len(header):
            raise ValueError("%s: %d values for %d columns" %
                             (path, len(vals), len(header)))
        rows.append(dict(zip(header, vals)))
    return header, rows


# ---- ipfixDump output -----------------------------------------------------

RE_MSG1 = re.compile(r"export time: (.*)\tobservation domain id: (\d+)")
RE_MSG2 = re.compile(r"message length: (\d+)\s+sequence number: (\d+)")
RE_TMPL_HDR = re.compile(r"\ttid:\s+(\d+) \(0x[0-9a-f]+\)\s+field count:\s+(\d+)"
                         r"\s+scope:\s+(\d+)")
RE_TMPL_FIELD = re.compile(r"\tent:\s+(\d+)\s+id:\s+(\d+)\s+type:\s+(\S+)\s+"
                           r"len:\s+(\d+)\s*(\(S\))?\s*(\S+)$")
RE_REC_HDR = re.compile(r"\tcount:\s+(\d+)\s+tid:\s+(\d+)")
RE_REC_FIELD = re.compile(r"\t\((\d+)(?:/(\d+))?\)\s*(?:\(S\))?\s*(\S+) : (.*)$",
                          re.S)
RE_FILE_STATS = re.compile(r"\*\*\* File Stats: (\d+) Messages, (\d+) Data "
                           r"Records, (\d+) Template Records")


def frame_messages(path):
    """Split an IPFIX stream into messages by their headers: [(length, seq)],
    and the number of trailing bytes that do not form a whole message."""
    with open(path, "rb") as f:
        data = f.read()
    out, off = [], 0
    while off + 16 <= len(data):
        version = int.from_bytes(data[off:off + 2], "big")
        length = int.from_bytes(data[off + 2:off + 4], "big")
        if version != 10 or length < 16 or off + length > len(data):
            break
        out.append((length, int.from_bytes(data[off + 8:off + 12], "big")))
        off += length
    return out, len(data) - off


def run_ipfixdump(path):
    p = subprocess.run(["ipfixDump", "--in", path, "--rfc5610",
                        "--hexdump=4096"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    return (p.returncode, p.stdout.decode("utf-8", "surrogateescape"),
            p.stderr.decode("utf-8", "replace"))


def parse_dump(text):
    """Events in stream order: ('msg', {...}), ('tmpl', tid, scope, fields),
    ('rec', tid, [(pen, id, name, value)]), ('filestats', (m, d, t))."""
    ev = []
    lines = text.split("\n")
    i, n = 0, len(lines)
    while i < n:
        ln = lines[i]
        if ln == "--- Message Header ---":
            m1 = RE_MSG1.match(lines[i + 1])
            m2 = RE_MSG2.match(lines[i + 2])
            if not m1 or not m2:
                raise ValueError("message header at line %d" % (i + 1))
            ev.append(("msg", {"obs": int(m1.group(2)),
                               "length": int(m2.group(1)),
                               "seq": int(m2.group(2))}))
            i += 3
            continue
        if ln in ("--- template record ---", "--- options template record ---"):
            h = RE_TMPL_HDR.match(lines[i + 2])
            if not h:
                raise ValueError("template header at line %d" % (i + 3))
            j, flds = i + 4, []
            while j < n and lines[j].startswith("\tent:"):
                mf = RE_TMPL_FIELD.match(lines[j])
                if not mf:
                    raise ValueError("template field at line %d" % (j + 1))
                flds.append((int(mf.group(1)), int(mf.group(2)), mf.group(3),
                             int(mf.group(4)), mf.group(6)))
                j += 1
            ev.append(("tmpl", int(h.group(1)), int(h.group(3)), flds))
            i = j
            continue
        if ln.startswith("--- data record "):
            h = RE_REC_HDR.match(lines[i + 2])
            if not h:
                raise ValueError("record header at line %d" % (i + 3))
            j, flds = i + 4, []
            while j < n and lines[j].startswith("\t("):
                mf = RE_REC_FIELD.match(lines[j])
                if not mf:
                    raise ValueError("record field at line %d: %r" %
                                     (j + 1, lines[j][:80]))
                if mf.group(2) is not None:
                    pen, ie = int(mf.group(1)), int(mf.group(2))
                else:
                    pen, ie = 0, int(mf.group(1))
                flds.append((pen, ie, mf.group(3), mf.group(4)))
                j += 1
            ev.append(("rec", int(h.group(2)), flds))
            i = j
            continue
        m = RE_FILE_STATS.match(ln)
        if m:
            ev.append(("filestats", tuple(int(x) for x in m.groups())))
        i += 1
    return ev


# ---- value checks -----------------------------------------------------------

def fmt_ms(ms):
    sec, milli = divmod(int(ms), 1000)
    dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=sec)
    return "%s.%03d" % (dt.strftime("%Y-%m-%d %H:%M:%S"), milli)


def text_cut(s, maxlen):
    """The probe's rule for strings longer than the template maximum: the
    longest prefix of at most maxlen bytes that cuts no UTF-8 character and no
    \\xHH escape."""
    b = s.encode("utf-8", "surrogateescape")
    if len(b) <= maxlen:
        return b
    n = maxlen
    while n > 0 and (b[n] & 0xC0) == 0x80:
        n -= 1
    for i in range(max(n - 3, 0), n):
        if b[i:i + 2] == b"\\x":
            return b[:i]
    return b[:n]


def parse_len_value(v):
    m = re.match(r"\(len: (\d+)\) ?(.*)$", v, re.S)
    if not m:
        return None, None
    return int(m.group(1)), m.group(2)


def parse_list(s):
    s = s.strip()
    if not (s.startswith("[") and s.endswith("]")):
        raise ValueError("not a list: %r" % s)
    body = s[1:-1].strip()
    return [int(x) for x in body.split(",")] if body else []


def decode_splt(hexstr, width):
    b = bytes.fromhex(hexstr[2:]) if hexstr.startswith("0x") else b""
    if len(b) % width:
        raise ValueError("octet array of %d bytes, not a multiple of %d" %
                         (len(b), width))
    out = []
    for k in range(0, len(b), width):
        v = int.from_bytes(b[k:k + width], "big", signed=True)
        if width == 1:
            v = -1 if v == -1 else v & 0xFF  # 255 = none, written -1 in CSV
        out.append(v)
    return out


def octets_of(v):
    """An octetArray value: '(len: N) 0xHEX' (with --hexdump), or a fixed
    short array ipfixDump printed as an integer (its host byte order)."""
    ln, rest = parse_len_value(v)
    if ln is not None:
        rest = rest.strip()
        b = bytes.fromhex(rest[2:]) if rest.startswith("0x") else b""
        return b if len(b) == ln else None
    try:
        return int(v).to_bytes(5, "little")
    except (ValueError, OverflowError):
        return None


def check_value(fld, raw, row, errs, ctx, counters):
    col, typ = fld.column, fld.type
    if col in EXPORT_ONLY:
        return  # checked per record, from several columns
    exp = row[col]
    if typ in ("unsigned8", "unsigned16", "unsigned32", "unsigned64",
               "signed8", "signed16", "signed32", "signed64"):
        try:
            got = int(raw)
        except ValueError:
            errs.append("%s %s: not an integer: %r" % (ctx, col, raw))
            return
        if got != int(exp):
            errs.append("%s %s: ipfix %s, csv %s" % (ctx, col, got, exp))
    elif typ in ("float32", "float64"):
        got, want = float(raw), float(exp)
        if not (got == want or math.isclose(got, want, rel_tol=1e-6)):
            errs.append("%s %s: ipfix %s, csv %s" % (ctx, col, raw, exp))
    elif typ == "dateTimeMilliseconds":
        if raw.strip() != fmt_ms(exp):
            errs.append("%s %s: ipfix %s, csv %s (%s)" %
                        (ctx, col, raw, exp, fmt_ms(exp)))
    elif typ in ("ipv4Address", "ipv6Address"):
        try:
            ok = ipaddress.ip_address(raw.strip()) == ipaddress.ip_address(exp)
        except ValueError:
            ok = False
        if not ok:
            errs.append("%s %s: ipfix %s, csv %s" % (ctx, col, raw, exp))
    elif typ == "macAddress":
        if raw.strip().lower() != exp.lower():
            errs.append("%s %s: ipfix %s, csv %s" % (ctx, col, raw, exp))
    elif typ == "string":
        ln, text = parse_len_value(raw)
        want = text_cut(exp, fld.length or VARLEN)
        got = None if text is None else text.encode("utf-8", "surrogateescape")
        if got is not None and fld.fixed:
            got = got.rstrip(b"\0")	# NUL-padded (ipfixDump may stop at
            # the first NUL): the length is the template's
        if ln is None or got != want or \
                ln != (fld.length if fld.fixed else len(want)):
            errs.append("%s %s: ipfix %r, csv %r%s" % (
                ctx, col, raw, exp, " (cut to %d bytes)" % fld.length
                if len(want) < len(exp.encode("utf-8", "surrogateescape"))
                else ""))
        elif len(want) < len(exp.encode("utf-8", "surrogateescape")):
            counters["strings_cut"] = counters.get("strings_cut", 0) + 1
    elif typ == "octetArray" and col.startswith("splt_"):
        width = {"splt_direction": 1, "splt_ps": 2, "splt_piat_ms": 4}[col]
        ln, hx = parse_len_value(raw)
        try:
            got = decode_splt((hx or "").strip(), width)
        except ValueError as e:
            errs.append("%s %s: %s" % (ctx, col, e))
            return
        want = parse_list(exp)
        if got != want or ln != len(want) * width:
            errs.append("%s %s: ipfix %s, csv %s" % (ctx, col, got, want))
    else:
        errs.append("%s %s: no rule for type %s" % (ctx, col, typ))


def check_stream(label, path, rows, header, tmpl, summary, is_file,
                 t_start, t_end, tmpl_name):
    """All checks of one IPFIX stream against its CSV.  Returns
    (list of failure strings, counters dict)."""
    errs, counters = [], {}
    rc, text, stderr = run_ipfixdump(path)
    if rc != 0:
        errs.append("%s: ipfixDump exit %d: %s" % (label, rc,
                                                   stderr.strip()[:300]))
        return errs, counters
    try:
        ev = parse_dump(text)
    except ValueError as e:
        errs.append("%s: cannot parse ipfixDump output: %s" % (label, e))
        return errs, counters

    frames, trailing = frame_messages(path)
    if trailing:
        errs.append("%s: %d bytes at the end are not a whole IPFIX message" %
                    (label, trailing))
    by_key = {(f.pen, f.id): f for f in tmpl}
    csv_cols = set(header)
    # Templates: exactly the template file's lines for the family, in order.
    want_tmpl = {tid: [(f.pen, f.id, f.wire_len) for f in family_fields(tmpl, fam)]
                 for tid, fam in ((TID_V4, 4), (TID_V6, 6))}
    for tid, fam in ((TID_V4, 4), (TID_V6, 6)):
        cols = {f.column for f in family_fields(tmpl, fam)}
        missing = csv_cols - cols
        if missing:
            errs.append("%s: template %d lacks CSV columns %s" %
                        (label, tid, sorted(missing)))
    seen_tmpl, type_recs, type_before = {}, {}, {}
    apps, stats = {}, []
    recs_before = msgs_before = octets_before = 0
    cur_msg = None
    data = {}
    n_data = 0
    seq_errors = []
    for e in ev:
        if e[0] == "msg":
            if cur_msg is not None:
                msgs_before += 1
                octets_before += cur_msg["length"]
            cur_msg = e[1]
            if cur_msg["seq"] != recs_before % (1 << 32):
                seq_errors.append("message %d: sequence %d, %d data records "
                                  "before it" % (msgs_before + 1,
                                                 cur_msg["seq"], recs_before))
            if cur_msg["obs"] != 1:
                errs.append("%s: observation domain %d" % (label,
                                                           cur_msg["obs"]))
        elif e[0] == "tmpl":
            tid, flds = e[1], e[3]
            if tid in (TID_V4, TID_V6):
                got = [(pen, ie, ln) for pen, ie, _t, ln, _n in flds]
                if got != want_tmpl[tid]:
                    errs.append("%s: template %d fields differ from %s" %
                                (label, tid, tmpl_name))
                # RFC 5610: every enterprise element described before use.
                for pen, ie, _t, _l, _n in flds:
                    if pen not in (0, 29305) and (pen, ie) not in type_recs:
                        errs.append("%s: template %d uses %d/%d before its "
                                    "RFC 5610 type record" % (label, tid,
                                                              pen, ie))
            seen_tmpl[tid] = flds
        elif e[0] == "rec":
            tid, flds = e[1], e[2]
            recs_before += 1
            if tid == TID_TYPES:
                d = {name: v for _p, _i, name, v in flds}
                try:
                    key = (int(d["privateEnterpriseNumber"]),
                           int(d["informationElementId"]))
                    type_recs[key] = (int(d["informationElementDataType"]),
                                      parse_len_value(
                                          d["informationElementName"])[1])
                except (KeyError, ValueError, TypeError):
                    errs.append("%s: bad RFC 5610 record %r" % (label, d))
            elif tid in (TID_APPS, TID_APPS_ALT):
                d = {name: v for _p, _i, name, v in flds}
                b = octets_of(d.get("applicationId", ""))
                name = parse_len_value(d.get("applicationName", ""))[1]
                if b is None or name is None or len(b) != 5:
                    errs.append("%s: bad application record %r" % (label, d))
                else:
                    apps[b] = name
            elif tid == TID_STATS:
                d = {name: v for _p, _i, name, v in flds}
                d["_before"] = (msgs_before, octets_before, recs_before - 1)
                stats.append(d)
            elif tid == TID_BACKLOG:
                vals = [v for _p, _i, _n, v in flds]
                if "[tcp]" not in label or len(vals) != 5 or not all(
                        re.fullmatch(r"\d+", str(v).strip()) for v in vals):
                    errs.append("%s: bad backlog record %r" % (label, flds))
            elif tid in (TID_V4, TID_V6):
                n_data += 1
                fmap = {(p, i): v for p, i, _n, v in flds}
                fid = fmap.get((0, 148))
                if fid is None:
                    errs.append("%s: record without flowId" % label)
                    continue
                if fid in data:
                    errs.append("%s: flowId %s twice" % (label, fid))
                data[fid] = (tid, flds)
            else:
                errs.append("%s: data record of unknown template %d" %
                            (label, tid))
    if seq_errors:
        errs.append("%s: %d sequence number errors, first: %s" %
                    (label, len(seq_errors), seq_errors[0]))
    skipped = re.findall(r"Skipping set: Missing external template (\S+)",
                         stderr)
    if skipped:
        errs.append("%s: ipfixDump skipped %d sets for want of a template "
                    "(first: %s)" % (label, len(skipped), skipped[0]))
    if not any(t in seen_tmpl for t in (TID_V4, TID_V6)):
        # Nothing below can be checked; one line says it all.
        errs.append("%s: the stream (%d bytes, %d messages) has no flow "
                    "templates and no RFC 5610 type records: %d flow records "
                    "decodable, CSV has %d rows" %
                    (label, os.path.getsize(path), len(frames), n_data,
                     len(rows)))
        return errs, counters

    # Record count and ids.
    if n_data != len(rows):
        errs.append("%s: %d flow records, CSV has %d rows" %
                    (label, n_data, len(rows)))
    ids = {r["id"] for r in rows}
    if set(data) != ids:
        errs.append("%s: flowIds differ from CSV ids (%d only in IPFIX, %d "
                    "only in CSV)" % (label, len(set(data) - ids),
                                      len(ids - set(data))))

    # RFC 5610 records: name and type of every enterprise element used.
    for f in tmpl:
        if f.pen in (0, 29305):
            continue
        tr = type_recs.get((f.pen, f.id))
        if tr is None:
            errs.append("%s: no RFC 5610 record for %s (%d/%d)" %
                        (label, f.element, f.pen, f.id))
        elif tr != (RFC5610_TYPE[f.type], f.element):
            errs.append("%s: RFC 5610 record for %d/%d says %s, template "
                        "file %s %s" % (label, f.pen, f.id, tr, f.element,
                                        f.type))

    # Application table.
    if not apps:
        errs.append("%s: no applicationId -> applicationName records" % label)
    elif any(b[0] != 22 for b in apps):
        errs.append("%s: application table with an engine other than 22 "
                    "(nDPI)" % label)

    # Values, record by record.
    end_counts = {}
    rowmap = {r["id"]: r for r in rows}
    for fid, (tid, flds) in sorted(data.items(), key=lambda x: int(x[0])):
        row = rowmap.get(fid)
        if row is None:
            continue
        ctx = "%s flow %s" % (label, fid)
        fam = 6 if tid == TID_V6 else 4
        if row["ip_version"] != str(fam):
            errs.append("%s: ip_version %s in template %d" %
                        (ctx, row["ip_version"], tid))
        fmap = {(p, i): v for p, i, _n, v in flds}
        rec_errs = []
        for p, i, _n, v in flds:
            fld = by_key.get((p, i))
            if fld is None:
                rec_errs.append("%s: element %d/%d not in the template file" %
                                (ctx, p, i))
                continue
            check_value(fld, v, row, rec_errs, ctx, counters)
        # Export-only columns, derived from the CSV.
        try:
            exp_id = int(row["expiration_id"])
            fer = int(fmap.get((0, 136), "-99"))
            end_counts[fer] = end_counts.get(fer, 0) + 1
            if fer not in END_REASONS.get(exp_id, set()):
                rec_errs.append("%s flowEndReason %d for expiration_id %d" %
                                (ctx, fer, exp_id))
            if fmap.get((0, 239)) != "1":
                rec_errs.append("%s biflowDirection %s, want 1 (initiator)" %
                                (ctx, fmap.get((0, 239))))
            for key, d in (((0, 6), "src2dst"), ((29305, 6), "dst2src")):
                want = 0
                for flag, bit in TCP_FLAG_BITS.items():
                    if int(row["%s_%s_packets" % (d, flag)]) > 0:
                        want |= bit
                got = int(fmap.get(key, "-1"))
                if got != want:
                    rec_errs.append("%s %s tcpControlBits 0x%02x, flag "
                                    "counters give 0x%02x" % (ctx, d, got,
                                                              want))
            b = octets_of(fmap.get((0, 95), ""))
            if b is None or len(b) != 5 or b[0] != 22:
                rec_errs.append("%s applicationId %r is not nDPI's 5 bytes" %
                                (ctx, fmap.get((0, 95))))
            else:
                name = apps.get(b)
                parts = row["application_name"].split(".")
                if name is None:
                    rec_errs.append("%s applicationId 0x%s not in the "
                                    "application table" % (ctx, b.hex()))
                elif name not in parts:
                    rec_errs.append("%s applicationId 0x%s names %r, flow's "
                                    "application_name %r" %
                                    (ctx, b.hex(), name,
                                     row["application_name"]))
        except (KeyError, ValueError) as e:
            rec_errs.append("%s: %s" % (ctx, e))
        errs.extend(rec_errs)

    # flowEndReason totals == the summary's idle/active/at-end/evicted.
    if summary.get("flows") is not None:
        want = {1: summary["idle"], 2: summary["active"],
                4: summary["at_end"], 5: summary["evicted"]}
        want = {k: v for k, v in want.items() if v}
        if end_counts != want:
            errs.append("%s: flowEndReason counts %s, summary says %s" %
                        (label, end_counts, want))

    # Statistics: the last record is the final word.
    if not stats:
        errs.append("%s: no statistics options record" % label)
    else:
        st = stats[-1]
        try:
            ex_rec = int(st["exportedFlowRecordTotalCount"])
            ex_msg = int(st["exportedMessageTotalCount"])
            ex_oct = int(st["exportedOctetTotalCount"])
            not_sent = int(st["notSentFlowTotalCount"])
            ignored = int(st["ignoredPacketTotalCount"])
            init = st["systemInitTimeMilliseconds"].strip()
        except (KeyError, ValueError) as e:
            errs.append("%s: statistics record: %s" % (label, e))
        else:
            counters["stats"] = (ex_msg, ex_oct, ex_rec, not_sent)
            if not_sent != 0:
                errs.append("%s: notSentFlowTotalCount %d" % (label, not_sent))
            if ex_rec < len(rows):
                mb, ob, rb = st["_before"]
                errs.append("%s: last statistics record says %d records, %d "
                            "messages, %d octets exported, but %d flow records "
                            "(%d data records, %d messages, %d octets in all) "
                            "precede it in the stream" %
                            (label, ex_rec, ex_msg, ex_oct, len(rows), rb, mb,
                             ob))
            if summary.get("skipped") is not None and \
                    ignored != summary["skipped"]:
                errs.append("%s: ignoredPacketTotalCount %d, summary says "
                            "%d skipped" % (label, ignored,
                                            summary["skipped"]))
            if not (fmt_ms(int(t_start * 1000) - 2000) <= init <=
                    fmt_ms(int(t_end * 1000) + 2000)):
                errs.append("%s: systemInitTimeMilliseconds %s outside the "
                            "run" % (label, init))
            if is_file:
                mb, ob, rb = st["_before"]
                if (ex_msg, ex_oct, ex_rec) != (mb, ob, rb):
                    errs.append("%s: statistics say %d messages, %d octets, "
                                "%d records sent; the file holds %d, %d, %d "
                                "before that message" %
                                (label, ex_msg, ex_oct, ex_rec, mb, ob, rb))
    counters["records"] = n_data
    return errs, counters


# ---- running --------------------------------------------------------------

RE_SUM_FLOWS = re.compile(r"streamprobe: flows: (\d+) exported, (\d+) idle, "
                          r"(\d+) active, (\d+) at end, (\d+) evicted \(table "
                          r"full\), (\d+) dropped \(export queue full\), "
                          r"(\d+) failed")
RE_SUM_PKTS = re.compile(r"streamprobe: packets: (\d+) read, (\d+) metered, "
                         r"(\d+) skipped")


def parse_summary(stderr):
    s = {"flows": None, "skipped": None, "exporters": {}}
    m = RE_SUM_FLOWS.search(stderr)
    if m:
        (s["flows"], s["idle"], s["active"], s["at_end"], s["evicted"],
         s["queue_dropped"], s["failed"]) = (int(x) for x in m.groups())
    m = RE_SUM_PKTS.search(stderr)
    if m:
        s["skipped"] = int(m.group(3))
    # "streamprobe: URL: N flows; R records in M messages (B bytes) sent,
    #  D records dropped, E not encodable[, C connections]"
    for m in re.finditer(r"streamprobe: (ipfix\+\S+): (\d+) flows; \d+ records "
                         r"in \d+ messages \(\d+ bytes\) sent, (\d+) records "
                         r"dropped, (\d+) not encodable", stderr):
        s["exporters"][m.group(1)] = (int(m.group(2)),
                                      int(m.group(3)) + int(m.group(4)))
    return s


def analyse(job):
    """Worker: all checks of one capture's outputs."""
    (name, csv_path, streams, summary, t0, t1, tmpl_path) = job
    errs, info = [], {}
    try:
        header, rows = read_csv(csv_path)
    except (OSError, ValueError) as e:
        return name, ["%s: CSV: %s" % (name, e)], info
    info["rows"] = len(rows)
    tmpl = parse_template(tmpl_path)
    for kind, path in streams:
        label = "%s [%s]" % (name, kind)
        if path is None:
            errs.append("%s: no stream received" % label)
            continue
        e, c = check_stream(label, path, rows, header, tmpl, summary,
                            kind == "file", t0, t1,
                            os.path.basename(tmpl_path))
        errs.extend(e)
        info[kind] = c
    return name, errs, info


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probe", default=os.path.join(REPO, "build-ipfixtest",
                                                    "streamprobe"))
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(REPO),
                                                     "shared"))
    ap.add_argument("--template-file",
                    default=os.path.join(REPO, "templates", "nfstream.tmpl"),
                    help="the nfstream template the probe uses")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the work dir")
    ap.add_argument("--only", help="regex: only captures whose name matches "
                    "(debugging; the test proper runs them all)")
    ap.add_argument("--max-errors", type=int, default=8,
                    help="failure lines printed per capture")
    a = ap.parse_args()

    pcaps_dir = os.path.join(a.shared, "pcaps")
    if not os.path.isdir(pcaps_dir) or not os.path.isfile(
            os.path.join(pcaps_dir, "MANIFEST.tsv")):
        print("ipfix_roundtrip: %s not found: the shared captures are needed "
              "(pass --shared PATH)" % pcaps_dir, file=sys.stderr)
        return 2
    for tool in ("ipfixDump",):
        if shutil.which(tool) is None:
            print("ipfix_roundtrip: %s not installed" % tool, file=sys.stderr)
            return 2
    if not os.access(a.probe, os.X_OK):
        print("ipfix_roundtrip: probe %s not executable" % a.probe,
              file=sys.stderr)
        return 2
    damaged = read_manifest(a.shared)
    caps = sorted(f for f in os.listdir(pcaps_dir)
                  if re.search(r"\.pcap(ng)?$", f) and
                  os.path.isfile(os.path.join(pcaps_dir, f)))
    if a.only:
        caps = [c for c in caps if re.search(a.only, c)]

    t_begin = time.monotonic()
    work = tempfile.mkdtemp(prefix="ipfix_roundtrip.")
    sink_dir = os.path.join(work, "sink")
    port_file = os.path.join(work, "sink.port")
    sink = None
    passed, failed = 0, []

    def on_signal(sig, _frm):
        raise SystemExit(128 + sig)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        # One TCP sink for the whole run; it picks a free port itself.
        sink = subprocess.Popen([sys.executable, os.path.join(HERE,
                                                              "tcp_sink.py"),
                                 "--dir", sink_dir, "--port-file", port_file,
                                 "--quiet"])
        for _ in range(100):
            if os.path.exists(port_file) or sink.poll() is not None:
                break
            time.sleep(0.05)
        if not os.path.exists(port_file):
            print("ipfix_roundtrip: tcp_sink.py did not start", file=sys.stderr)
            return 2
        with open(port_file) as f:
            port = int(f.read())

        pool = concurrent.futures.ProcessPoolExecutor(max_workers=a.jobs)
        futures = []
        notes = set()
        not_in_manifest = [c for c in caps if c not in damaged]
        if not_in_manifest:
            print("note: not in MANIFEST.tsv (expected exit 0): %s" %
                  ", ".join(not_in_manifest))
        for cap in caps:
            base = os.path.join(work, re.sub(r"[^A-Za-z0-9_.-]", "_", cap))
            csv_path, ipfix_path = base + ".csv", base + ".ipfix"
            before = set(os.listdir(sink_dir)) if os.path.isdir(sink_dir) \
                else set()
            cmd = [a.probe, "-r", os.path.join(pcaps_dir, cap),
                   "--statistics", "--splt", "10", "--template", "nfstream",
                   "--csv", csv_path,
                   "--export", "ipfix+file://" + ipfix_path,
                   "--export", "ipfix+tcp://127.0.0.1:%d" % port]
            t0 = time.time()
            p = subprocess.run(cmd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=120)
            t1 = time.time()
            stderr = p.stderr.decode("utf-8", "replace")
            pre = []
            # Exit status: 1 is allowed only for the damaged captures.
            want_rc = 1 if damaged.get(cap) else 0
            if p.returncode != want_rc:
                last = [l for l in stderr.splitlines()
                        if not l.startswith("streamprobe: ") or
                        "error" in l or "fail" in l]
                pre.append("%s: probe exit %d, expected %d (%s)" %
                           (cap, p.returncode, want_rc,
                            "; ".join(last[:2]) or "no error message"))
            summary = parse_summary(stderr)
            # The TCP connection's file appears (renamed) once the probe's
            # connection is closed.
            new = None
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                now = set(os.listdir(sink_dir)) - before
                done = sorted(f for f in now if f.endswith(".ipfix"))
                if done and not any(f.endswith(".part") for f in now):
                    new = done
                    break
                time.sleep(0.02)
            if new is None:
                pre.append("%s: no complete TCP connection file" % cap)
                tcp_path = None
            else:
                if len(new) != 1:
                    pre.append("%s: %d TCP connections for one run" %
                               (cap, len(new)))
                tcp_path = os.path.join(sink_dir, new[0])
            # The summary: one line per exporter, every flow, none lost.
            n_rows = None
            try:
                n_rows = len(read_csv(csv_path)[1])
            except (OSError, ValueError):
                pass
            if summary["flows"] is None:
                pre.append("%s: no flow summary on stderr" % cap)
            elif n_rows is not None and summary["flows"] != n_rows:
                pre.append("%s: summary says %d flows exported, CSV has %d" %
                           (cap, summary["flows"], n_rows))
            for url in ("ipfix+file://" + ipfix_path,
                        "ipfix+tcp://127.0.0.1:%d" % port):
                ex = summary["exporters"].get(url)
                if ex is None and len(url) > 63:
                    # The probe keeps 63 characters of an exporter's name.
                    ex = summary["exporters"].get(url[:63])
                    notes.add("the summary shows exporter URLs longer than "
                              "63 characters cut to 63")
                if ex is None:
                    pre.append("%s: no summary line for %s" % (cap, url))
                elif n_rows is not None and ex != (n_rows, 0):
                    pre.append("%s: %s summary: %d flows, %d not encodable; "
                               "CSV has %d" % (cap, url, ex[0], ex[1], n_rows))
            streams = [("file", ipfix_path if os.path.exists(ipfix_path)
                        else None), ("tcp", tcp_path)]
            fut = pool.submit(analyse, (cap, csv_path, streams, summary, t0,
                                        t1, a.template_file))
            futures.append((cap, pre, fut))

        totals = {"rows": 0, "cut": 0}
        for cap, pre, fut in futures:
            name, errs, info = fut.result()
            errs = pre + errs
            totals["rows"] += info.get("rows", 0)
            for k in ("file", "tcp"):
                totals["cut"] += info.get(k, {}).get("strings_cut", 0)
            if errs:
                failed.append(cap)
                print("FAIL %s (%d problems)" % (cap, len(errs)))
                for e in errs[:a.max_errors]:
                    print("    " + e)
                if len(errs) > a.max_errors:
                    print("    ... %d more" % (len(errs) - a.max_errors))
            else:
                passed += 1
                print("ok   %s: %d flows, file and tcp identical to CSV" %
                      (cap, info.get("rows", 0)))
        pool.shutdown()
        for note in sorted(notes):
            print("note: " + note)
        print("captures: %d, flows compared: %d (x2 transports), strings cut "
              "to the template maximum: %d, %.1f s" %
              (len(caps), totals["rows"], totals["cut"],
               time.monotonic() - t_begin))
    finally:
        if sink is not None and sink.poll() is None:
            sink.send_signal(signal.SIGTERM)
            try:
                sink.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sink.kill()
                sink.wait()
        if a.keep:
            print("work dir kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
