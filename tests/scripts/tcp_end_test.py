#!/usr/bin/env python3
"""tcp_end_test.py PROBE - --tcp-end: FIN both ways or RST ends a TCP flow.

Writes a crafted capture (Ethernet/IPv4/TCP, every frame 54 bytes plus its
payload) and checks the flows by hand-derived expectations, with and without
--tcp-end.  Client 10.0.0.1, server 10.0.0.2:80; times in ms from 0:

  port 40000  0 SYN, 10 SYN-ACK, 20 ACK, 30 PSH-ACK +100 bytes, 40 ACK,
              50 FIN c->s, 60 FIN s->c (both ways: the flow is closing),
              70 last ACK c->s (still this flow: within the 1 s linger)
        then  500 SYN c->s reusing the ports: a new connection, so the old
              flow ends (reason 3) and this SYN starts the next one,
              510 SYN-ACK, 520 ACK, 530 RST c->s (closing at once)
  port 40001  600 SYN, 610 SYN-ACK, 620 ACK  (open at end of input: reason 4)
  port 40002  700 SYN, 710 SYN-ACK, 720 ACK, 730 FIN c->s, 740 FIN s->c,
              3000 ACK c->s: 2260 ms after closing, past the linger, so the
              closed flow ended and this ACK is a flow of its own (reason 4)

With --tcp-end: five flows
  40000 #1: 8 packets (c->s 5, s->c 3), 7*54+154 = 532 bytes, reason 3
  40000 #2: 4 packets (c->s 3, s->c 1), 216 bytes, reason 3
  40001:    3 packets, 162 bytes, reason 4
  40002 #1: 5 packets (c->s 3, s->c 2), 270 bytes, reason 3
  40002 #2: 1 packet, 54 bytes, reason 4
Without it (NFStream: FIN and RST never end a flow, idle timeout 120 s):
three flows, 40000 with 12 packets (748 bytes), 40001 with 3, 40002 with 6;
all reason 4.  CSV expiration_id is NFStream's: 0 for idle/end of input and
-1 (custom) for a TCP end.  flowEndReason is read back from an IPFIX file
with ipfixDump.
"""
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile_strings import frame  # noqa: E402
from ipfix_roundtrip import parse_dump, read_csv  # noqa: E402

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
C, S = "c", "s"
T0 = 1700000000


def tcp_frame(sender, cport, flags, payload=b""):
    cip, sip = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    if sender == C:
        return frame(cip, sip, cport, 80, 1, 1, flags, payload)
    return frame(sip, cip, 80, cport, 1, 1, flags, payload)


PACKETS = [
    (0, C, 40000, SYN), (10, S, 40000, SYN | ACK), (20, C, 40000, ACK),
    (30, C, 40000, PSH | ACK, b"x" * 100), (40, S, 40000, ACK),
    (50, C, 40000, FIN | ACK), (60, S, 40000, FIN | ACK), (70, C, 40000, ACK),
    (500, C, 40000, SYN), (510, S, 40000, SYN | ACK), (520, C, 40000, ACK),
    (530, C, 40000, RST),
    (600, C, 40001, SYN), (610, S, 40001, SYN | ACK), (620, C, 40001, ACK),
    (700, C, 40002, SYN), (710, S, 40002, SYN | ACK), (720, C, 40002, ACK),
    (730, C, 40002, FIN | ACK), (740, S, 40002, FIN | ACK),
    (3000, C, 40002, ACK),
]

# (first_seen offset, port, packets, c->s, s->c, bytes, flowEndReason)
WITH_TCP_END = [
    (0, 40000, 8, 5, 3, 532, 3), (500, 40000, 4, 3, 1, 216, 3),
    (600, 40001, 3, 2, 1, 162, 4), (700, 40002, 5, 3, 2, 270, 3),
    (3000, 40002, 1, 1, 0, 54, 4),
]
WITHOUT = [
    (0, 40000, 12, 8, 4, 748, 4), (600, 40001, 3, 2, 1, 162, 4),
    (700, 40002, 6, 4, 2, 324, 4),
]


def write_pcap(path):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for p in PACKETS:
            ms, sender, port, flags = p[:4]
            data = tcp_frame(sender, port, flags, p[4] if len(p) > 4 else b"")
            f.write(struct.pack("<IIII", T0 + ms // 1000, (ms % 1000) * 1000,
                                len(data), len(data)))
            f.write(data)


def end_reasons(ipfix_path):
    """flowEndReason (IE 136) of each data record, keyed by first seen ms."""
    p = subprocess.run(["ipfixDump", "--in", ipfix_path, "--rfc5610"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    if p.returncode != 0:
        raise RuntimeError("ipfixDump failed: %s" % p.stderr.decode()[:300])
    out = {}
    for ev in parse_dump(p.stdout.decode("utf-8", "replace")):
        if ev[0] != "rec":
            continue
        f = {(pen, ie): val for pen, ie, _name, val in ev[2]}
        if (0, 136) in f and (0, 7) in f:
            out[(int(f[(0, 7)]), f.get((0, 152), f.get((0, 150))))] = \
                int(f[(0, 136)])
    return out


def run(probe, pcap, tmp, tag, extra, want):
    csv = os.path.join(tmp, tag + ".csv")
    ipfix = os.path.join(tmp, tag + ".ipfix")
    p = subprocess.run([probe, "-r", pcap, "--n-dissections", "0", "--csv",
                        csv, "--export", "ipfix+file://" + ipfix] + extra,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    errs = []
    if p.returncode != 0:
        return ["%s: exit %d: %s" % (tag, p.returncode, p.stderr.decode())]
    _hdr, rows = read_csv(csv)
    got = sorted((int(r["bidirectional_first_seen_ms"]) - T0 * 1000,
                  int(r["src_port"]), int(r["bidirectional_packets"]),
                  int(r["src2dst_packets"]), int(r["dst2src_packets"]),
                  int(r["bidirectional_bytes"]), int(r["expiration_id"]))
                 for r in rows)
    exp = sorted((w[0], w[1], w[2], w[3], w[4], w[5], -1 if w[6] == 3 else 0)
                 for w in want)
    if got != exp:
        errs.append("%s: flows\n  got  %s\n  want %s" % (tag, got, exp))
    try:
        reasons = end_reasons(ipfix)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        return errs + ["%s: %s" % (tag, e)]
    got_r = sorted((port, r) for (port, _t), r in reasons.items())
    exp_r = sorted((w[1], w[6]) for w in want)
    if got_r != exp_r:
        errs.append("%s: flowEndReason by port: got %s, want %s" %
                    (tag, got_r, exp_r))
    n_tcp_end = sum(1 for w in want if w[6] == 3)
    if (", %d tcp end;" % n_tcp_end) not in p.stderr.decode():
        errs.append("%s: summary does not count %d tcp end flows: %s" %
                    (tag, n_tcp_end, p.stderr.decode()[-400:]))
    return errs


def main():
    probe = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "tcp_end.pcap")
        write_pcap(pcap)
        errs = run(probe, pcap, tmp, "tcp-end", ["--tcp-end"], WITH_TCP_END)
        errs += run(probe, pcap, tmp, "default", [], WITHOUT)
    for e in errs:
        print("FAIL", e)
    print("tcp_end: %s" % ("FAILED" if errs else "ok (2 runs, 8 flows)"))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
