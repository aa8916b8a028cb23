#!/usr/bin/env python3
"""collectors_schema.py SRCDIR - the decoder files for collectors that do
not install here (Logstash, Filebeat, goflow2) against each tool's documented
format, and complete for the shipped templates.

Formats, from the tools' documentation and the code that reads the files:
  Logstash netflow codec (logstash-plugins/logstash-codec-netflow,
    docs/index.asciidoc "ipfix_definitions"/"netflow_definitions";
    lib/logstash/codecs/netflow.rb load_definitions, ipfix_field_for,
    netflow_field_for): IPFIX: {PEN: {id: [:type, :name] | [:skip]}},
    merged into the codec's own table PEN by PEN (so PEN 0 and 29305 must
    not appear: they would replace the codec's IANA and RFC 5103 tables);
    v9: {id: [:type | length, :name] | [:skip]}, merged id by id.
  Filebeat netflow input (elastic/beats x-pack/filebeat/input/netflow,
    docs "custom_definitions"; decoder LoadFieldDefinitions): the same
    Logstash format, all entries IPFIX-form or all v9-form, types from its
    logstashName2Decoder table, no repeated id.
  goflow2 (netsampler/goflow2 docs/mapping.md; producer/proto/config_impl.go
    ProducerConfig, render.go RendererID): formatter.fields/protobuf/render,
    ipfix.mapping and netflowv9.mapping entries {field, destination,
    penprovided, pen, endianness}; a destination must be a formatter.protobuf
    name; protobuf type varint|string|bytes.
"""
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ipfix_roundtrip import parse_template  # noqa: E402

# Logstash: BinData types the codec's definitions use (ipfix.yaml,
# netflow.yaml) plus its own (util.rb); Filebeat: logstashName2Decoder.
LOGSTASH_TYPES = {"uint8", "uint16", "uint24", "uint32", "uint64", "int8",
                  "int16", "int24", "int32", "int64", "float", "double",
                  "string", "octetarray", "ip4_addr", "ip6_addr", "mac_addr",
                  "skip"}
FILEBEAT_TYPES = {"double", "float", "int8", "int15", "int16", "int24",
                  "int32", "int64", "ip4_addr", "ip4addr", "ip6_addr",
                  "ip6addr", "mac_addr", "macaddr", "string", "uint8",
                  "uint15", "uint16", "uint24", "uint32", "uint64",
                  "octet_array", "octetarray", "acl_id_asa"}
# What each IPFIX type may be decoded as.
TYPE_OK = {
    "unsigned8": {"uint8"}, "unsigned16": {"uint16"},
    "unsigned32": {"uint32"}, "unsigned64": {"uint64"},
    "signed8": {"int8"}, "signed16": {"int16"}, "signed32": {"int32"},
    "signed64": {"int64"}, "float32": {"float"}, "float64": {"double",
                                                           "float"},
    "boolean": {"uint8"}, "macAddress": {"mac_addr"},
    "string": {"string"}, "octetArray": {"octetarray", "skip"},
    "dateTimeSeconds": {"uint32"}, "dateTimeMilliseconds": {"uint64"},
    "ipv4Address": {"ip4_addr"}, "ipv6Address": {"ip6_addr"},
}
# The codec's netflow.yaml defines IANA ids up to 433 (at commit a4e9621);
# a v9 field it does not know drops the whole template (netflow_field_for
# returns nil), so the v9 file must add the later ones the probe sends.
LOGSTASH_IANA_LAST = 433
GOFLOW2_RENDER = {"none", "ip", "mac", "etype", "proto", "type", "network",
                  "datetime", "datetimenano", "string"}
GOFLOW2_MAP_KEYS = {"field", "destination", "penprovided", "pen",
                    "endianness"}

problems = []


def bad(msg):
    problems.append(msg)
    print("FAIL " + msg)


def sym(v):
    return v[1:] if isinstance(v, str) and v.startswith(":") else None


def check_entry(where, ent, types, v9):
    """[:type, :name] or [:skip] (v9 also [length, :name]); the type."""
    if not isinstance(ent, list) or len(ent) not in (1, 2):
        bad("%s: not a one- or two-item list: %r" % (where, ent))
        return None
    if len(ent) == 1:
        if sym(ent[0]) != "skip":
            bad("%s: a one-item entry must be [:skip]" % where)
        return "skip"
    t = sym(ent[0])
    if t is None and not (v9 and isinstance(ent[0], int)):
        bad("%s: type %r is not a :symbol" % (where, ent[0]))
        return None
    if t is not None and t not in types:
        bad("%s: unknown type :%s" % (where, t))
    if sym(ent[1]) is None or not sym(ent[1]):
        bad("%s: name %r is not a :symbol" % (where, ent[1]))
    return t


def fields_md(path):
    """(column, element, pen, id, type, v9) rows of FIELDS.md."""
    out = []
    with open(path) as f:
        for line in f:
            c = [x.strip() for x in line.strip().strip("|").split("|")]
            if len(c) != 6 or c[0] in ("column", "---"):
                continue
            pen, ie = (c[2].split(":") + [None])[:2] if ":" in c[2] \
                else ("0", c[2])
            out.append((c[0], c[1], int(pen), int(ie), c[3].split()[0],
                        None if c[4] == "-" else int(c[4])))
    return out


def main():
    src = sys.argv[1]
    conf = os.path.join(src, "conf", "collectors")
    tmpls = {}
    for tf in sorted(os.listdir(os.path.join(src, "templates"))):
        if tf.endswith(".tmpl"):
            tmpls[tf[:-5]] = parse_template(os.path.join(src, "templates",
                                                         tf))
    enterprise = {}
    for fl in tmpls.values():
        for f in fl:
            if f.pen not in (0, 29305):
                enterprise[(f.pen, f.id)] = f
    rows = fields_md(os.path.join(conf, "FIELDS.md"))
    # v9 ids that are not the IANA element's own (collector needs them)
    v9_own, v9_late = {}, {}
    for col, elem, pen, ie, typ, v9 in rows:
        if v9 and pen != 29305 and not (pen == 0 and v9 == ie):
            v9_own[v9] = (elem, typ)
        elif v9 and pen == 0 and ie > LOGSTASH_IANA_LAST:
            v9_late[v9] = (elem, typ)

    for tool, ipfile, v9file, types in (
            ("logstash", "logstash/ipfix.yaml", "logstash/netflow.yaml",
             LOGSTASH_TYPES),
            ("filebeat", "filebeat/streamprobe-ipfix.yml",
             "filebeat/streamprobe-v9.yml", FILEBEAT_TYPES)):
        with open(os.path.join(conf, ipfile)) as f:
            doc = yaml.safe_load(f)
        if not isinstance(doc, dict) or not doc:
            bad("%s: not a non-empty mapping" % ipfile)
            continue
        seen = set()
        for pen, tbl in doc.items():
            if not isinstance(pen, int) or not 0 < pen < 2 ** 32:
                bad("%s: PEN key %r" % (ipfile, pen))
                continue
            if pen in (0, 29305) and tool == "logstash":
                bad("%s: PEN %d would replace the codec's own table" %
                    (ipfile, pen))
            if not isinstance(tbl, dict):
                bad("%s: PEN %d is not a mapping of ids (IPFIX form)" %
                    (ipfile, pen))
                continue
            for ie, ent in tbl.items():
                where = "%s %d:%r" % (ipfile, pen, ie)
                if not isinstance(ie, int) or not 0 < ie < 32768:
                    bad("%s: element id" % where)
                    continue
                t = check_entry(where, ent, types, False)
                seen.add((pen, ie))
                f = enterprise.get((pen, ie))
                if f is None:
                    bad("%s: no template has this element" % where)
                    continue
                if t not in TYPE_OK[f.type] | ({"octet_array"} if tool ==
                                               "filebeat" else set()):
                    bad("%s: :%s for an %s" % (where, t, f.type))
                if t != "skip" and sym(ent[1]) != f.element:
                    bad("%s: named %s, the template %s" %
                        (where, ent[1], f.element))
        for k, f in sorted(enterprise.items()):
            if k not in seen:
                bad("%s: %s (%d:%d) missing" % (ipfile, f.element, *k))
        with open(os.path.join(conf, v9file)) as f:
            doc = yaml.safe_load(f)
        if not isinstance(doc, dict):
            bad("%s: not a mapping" % v9file)
            continue
        for ie, ent in doc.items():
            where = "%s %r" % (v9file, ie)
            if not isinstance(ie, int) or not 0 < ie < 65536:
                bad("%s: field type" % where)
                continue
            if isinstance(ent, dict):
                bad("%s: IPFIX form in a v9 file" % where)
                continue
            t = check_entry(where, ent, types, True)
            if tool == "logstash" and ie in v9_late:
                if t not in TYPE_OK[v9_late[ie][1]]:
                    bad("%s: :%s for an %s" % (where, t, v9_late[ie][1]))
                continue
            if ie not in v9_own:
                bad("%s: not a v9 id the probe sends for its own elements" %
                    where)
            elif t not in TYPE_OK[v9_own[ie][1]]:
                bad("%s: :%s for an %s" % (where, t, v9_own[ie][1]))
        need = set(v9_own) | (set(v9_late) if tool == "logstash" else set())
        for ie in sorted(need - set(doc)):
            bad("%s: v9 id %d (%s) missing" % (v9file, ie, v9_own[ie][0]))
        if not any(p.startswith(tool) for p in problems):
            print("ok   %s: %s (%d enterprise elements), %s (%d v9 ids)" %
                  (tool, ipfile, len(enterprise), v9file, len(doc)))

    # goflow2
    path = os.path.join(conf, "goflow2", "mapping.yaml")
    with open(path) as f:
        doc = yaml.safe_load(f)
    n0 = len(problems)
    extra = set(doc) - {"formatter", "ipfix", "netflowv9", "sflow"}
    if extra:
        bad("goflow2: unknown top-level keys %s" % sorted(extra))
    fm = doc.get("formatter", {})
    pb = {p["name"]: p for p in fm.get("protobuf", [])}
    idx = [p["index"] for p in pb.values()]
    if len(set(idx)) != len(idx):
        bad("goflow2: protobuf indexes repeat")
    for p in pb.values():
        if set(p) - {"name", "index", "type", "array"} or \
                p.get("type") not in ("varint", "string", "bytes"):
            bad("goflow2: protobuf entry %r" % p)
    for n, r in fm.get("render", {}).items():
        if r not in GOFLOW2_RENDER:
            bad("goflow2: renderer %s for %s" % (r, n))
    for n in pb:
        if n not in fm.get("fields", []):
            bad("goflow2: %s not in formatter.fields (not printed)" % n)
    mapped = {"ipfix": set(), "netflowv9": set()}
    for proto in mapped:
        for m in doc.get(proto, {}).get("mapping", []):
            if set(m) - GOFLOW2_MAP_KEYS or "field" not in m or \
                    "destination" not in m:
                bad("goflow2: %s mapping entry %r" % (proto, m))
                continue
            if m["destination"] not in pb:
                bad("goflow2: %s destination %s has no protobuf entry" %
                    (proto, m["destination"]))
            key = (m.get("pen", 0) if m.get("penprovided") else 0,
                   m["field"])
            mapped[proto].add(key)
    for col, elem, pen, ie, typ, v9 in rows:
        if (pen != 0 or ie >= 128) and (pen, ie) not in mapped["ipfix"]:
            bad("goflow2: ipfix %s (%d:%d) not mapped" % (elem, pen, ie))
        if v9 and v9 >= 128 and (0, v9) not in mapped["netflowv9"]:
            bad("goflow2: netflowv9 %s (%d) not mapped" % (elem, v9))
    if len(problems) == n0:
        print("ok   goflow2: %d extra fields, %d IPFIX and %d v9 mappings" %
              (len(pb), len(mapped["ipfix"]), len(mapped["netflowv9"])))
    print("%d problems" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
