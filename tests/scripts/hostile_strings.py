#!/usr/bin/env python3
"""Hostile text from the wire must not break the outputs.

    hostile_strings.py PROBE

Writes a capture of one HTTP exchange whose User-Agent carries a quote, a
backslash, control bytes, invalid UTF-8 and valid UTF-8, and whose response
Content-Type carries a control byte; runs the probe with CSV and JSON
outputs; both must parse, and every byte that is not printable UTF-8 must
come out as \\xHH (the expected strings are written out by hand below).
"""
import csv
import json
import os
import struct
import subprocess
import sys
import tempfile


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def frame(src, dst, sport, dport, seq, ack, flags, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    tcp += payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return bytes.fromhex("0011223344550066554433220800") + ip + tcp


USER_AGENT = b'evil "agent" \\ \x01\x7f\xff\xc3\x28 caf\xc3\xa9 %n%s%x'
# quote and backslash stay; 0x01, 0x7f, 0xff and the broken 0xc3 are escaped;
# "(" and the valid two-byte e-acute stay; printf conversions stay text (a
# packet byte never reaches a format string).
WANT_USER_AGENT = 'evil "agent" \\ \\x01\\x7f\\xff\\xc3( caf\u00e9 %n%s%x'
WANT_CONTENT_TYPE = "text/\\x02html"


def write_capture(path):
    c, s = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    req = (b"GET / HTTP/1.1\r\nHost: hostile.example\r\nUser-Agent: " + USER_AGENT +
           b"\r\n\r\n")
    body = b"<html><body>hostile</body></html>\n"
    rsp = (b"HTTP/1.1 200 OK\r\nContent-Type: text/\x02html\r\nContent-Length: " +
           str(len(body)).encode() + b"\r\nServer: demo\r\n\r\n" + body)
    frames = [frame(c, s, 40000, 80, 1, 0, 0x02, b""),
              frame(s, c, 80, 40000, 9, 2, 0x12, b""),
              frame(c, s, 40000, 80, 2, 10, 0x10, b""),
              frame(c, s, 40000, 80, 2, 10, 0x18, req),
              frame(s, c, 80, 40000, 10, 2 + len(req), 0x10, b""),
              frame(s, c, 80, 40000, 10, 2 + len(req), 0x18, rsp)]
    out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
    for i, f in enumerate(frames):
        out += struct.pack("<IIII", 1700000000, i * 1000, len(f), len(f)) + f
    with open(path, "wb") as fh:
        fh.write(out)


def main():
    probe = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "hostile.pcap")
        write_capture(pcap)
        csv_path, json_path = os.path.join(tmp, "h.csv"), os.path.join(tmp, "h.json")
        subprocess.run([probe, "-r", pcap, "--csv", csv_path, "--json", json_path],
                       check=True, stderr=subprocess.DEVNULL)
        with open(csv_path, encoding="utf-8") as f:
            rows = list(csv.DictReader(f, escapechar="\\"))
        with open(json_path, encoding="utf-8") as f:
            objs = [json.loads(line) for line in f]
    problems = []
    if len(rows) != 1 or len(objs) != 1:
        problems.append(f"{len(rows)} CSV rows and {len(objs)} JSON objects, expected 1")
    else:
        o = objs[0]
        for key, want in (("user_agent", WANT_USER_AGENT), ("content_type", WANT_CONTENT_TYPE),
                          ("application_name", "HTTP"),
                          ("requested_server_name", "hostile.example")):
            if o.get(key) != want:
                problems.append(f"JSON {key}: {o.get(key)!r}, expected {want!r}")
        if rows[0]["requested_server_name"] != "hostile.example":
            problems.append("CSV row does not parse back")
    for p in problems:
        print(f"FAIL {p}")
    print(f"{0 if problems else 1} passed, {1 if problems else 0} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
