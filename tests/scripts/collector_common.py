"""Helpers shared by ipfix_collectors.sh and nf9_collectors.sh.

feed() writes a pcap slowly into a FIFO so that a probe runs long enough for
collectors to start late or restart; udpsink() is a UDP collector that logs
every datagram with its arrival time; read_udplog()/udpcount() read that log.
"""
import os
import signal
import socket
import struct
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
