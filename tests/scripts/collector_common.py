"""Helpers shared by ipfix_collectors.sh and nf9_collectors.sh.

feed() writes a pcap slowly into a FIFO so that a probe runs long enough for
collectors to start late or restart; udpsink() is a UDP collector that logs
every datagram with its arrival time; read_udplog()/udpcount() read that log;
cmpflows() matches the probe's CSV flows with nfdump's listing.
"""
import ipaddress
import os
import signal
import socket
import struct
import sys
import time


def feed(path, duration, interval):
    """Write a pcap to `path` (a FIFO) slowly: one new UDP flow (query +
    answer 1 ms later) every `interval` s for `duration` s, timestamps
    following the clock, so a probe with a short idle timeout exports flows
    all along."""
    duration, interval = float(duration), float(interval)
    f = open(path, "wb")
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    f.flush()
    t0 = time.time()
    k = 0
    eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"

    def pkt(t, src, dst, sp, dp, payload):
        udp = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), k & 0xFFFF,
                         0, 64, 17, 0, socket.inet_aton(src),
                         socket.inet_aton(dst))
        fr = eth + ip + udp
        return struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(fr),
                           len(fr)) + fr

    try:
        while True:
            due = k * interval
            if due > duration:
                break
            delay = t0 + due - time.time()
            if delay > 0:
                time.sleep(delay)
            t = t0 + due
            cli = "10.%d.%d.%d" % (1 + (k >> 16) % 200, (k >> 8) & 255, k & 255)
            sp = 1024 + k % 60000
            f.write(pkt(t, cli, "10.250.0.53", sp, 53, b"q" * 30))
            f.write(pkt(t + 0.001, "10.250.0.53", cli, 53, sp, b"a" * 60))
            f.flush()
            k += 1
    except BrokenPipeError:
        pass
    f.close()
    print(k)


def udpsink(port, log):
    """Save every datagram with its arrival time (8-byte float, 4-byte length,
    data) until SIGTERM; LOG.ready holds the time the socket was bound."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind(("127.0.0.1", int(port)))
    s.settimeout(0.1)
    with open(log, "wb") as f:
        with open(log + ".ready.tmp", "w") as r:
            r.write("%.6f\n" % time.time())
        os.rename(log + ".ready.tmp", log + ".ready")
        while not stop:
            try:
                d = s.recv(65535)
            except socket.timeout:
                continue
            except InterruptedError:
                continue
            f.write(struct.pack("!dI", time.time(), len(d)) + d)
            f.flush()
        s.settimeout(0)
        while True:  # what is already queued
            try:
                d = s.recv(65535)
            except (BlockingIOError, socket.timeout):
                break
            f.write(struct.pack("!dI", time.time(), len(d)) + d)
    s.close()


def read_udplog(log):
    with open(log, "rb") as f:
        d = f.read()
    o, out = 0, []
    while o + 12 <= len(d):
        t, n = struct.unpack("!dI", d[o:o + 12])
        out.append((t, d[o + 12:o + 12 + n]))
        o += 12 + n
    return out


def udpcount(log):
    print(len(read_udplog(log)))


def _fmt_ms(ms):
    t = time.gmtime(ms // 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", t) + ".%03d" % (ms % 1000)


def cmpflows(csv_path, nfdump_out):
    """Every CSV flow must be one nfdump flow: times, addresses, ports (TCP,
    UDP), protocol, in/out packets and bytes, VLAN id."""
    from ipfix_roundtrip import read_csv
    _h, rows = read_csv(csv_path)
    want = []
    for r in rows:
        p = int(r["protocol"])
        ports = (int(r["src_port"]), int(r["dst_port"])) if p in (6, 17) \
            else None
        want.append((_fmt_ms(int(r["bidirectional_first_seen_ms"])),
                     _fmt_ms(int(r["bidirectional_last_seen_ms"])),
                     ipaddress.ip_address(r["src_ip"]),
                     ipaddress.ip_address(r["dst_ip"]), ports, p,
                     int(r["src2dst_packets"]), int(r["src2dst_bytes"]),
                     int(r["dst2src_packets"]), int(r["dst2src_bytes"]),
                     int(r["vlan_id"])))
    got = []
    with open(nfdump_out) as f:
        for line in f:
            t = line.split()
            if len(t) != 14:  # 2 x (date time), 10 more fields
                continue
            p = int(t[8])
            got.append((t[0] + " " + t[1], t[2] + " " + t[3],
                        ipaddress.ip_address(t[4]), ipaddress.ip_address(t[5]),
                        (int(t[6]), int(t[7])) if p in (6, 17) else None, p,
                        int(t[9]), int(t[10]), int(t[11]), int(t[12]),
                        int(t[13])))
    key = lambda x: tuple(str(v) for v in x)  # noqa: E731
    w, g = sorted(map(key, want)), sorted(map(key, got))
    if w != g:
        miss = sorted(set(w) - set(g))
        extra = sorted(set(g) - set(w))
        print("%d nfdump flows, %d CSV flows; %d CSV flows not in nfdump, "
              "%d nfdump flows not in CSV; first missing: %s; first extra: %s"
              % (len(g), len(w), len(miss), len(extra), miss[:1], extra[:1]))
        sys.exit(1)
