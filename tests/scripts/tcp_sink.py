#!/usr/bin/env python3
"""Minimal TCP collector for IPFIX tests: saves each connection's bytes.

    tcp_sink.py --dir DIR [--host 127.0.0.1] [--port N] [--port-file F]
                [--rcvbuf BYTES]

Listens on HOST:PORT (port 0 = any free port; the chosen port is written to
--port-file once listening, so a test can wait for that file instead of
guessing).  Every accepted connection is written to DIR/conn-NNNN.part and
renamed to DIR/conn-NNNN.ipfix when the peer closes it, so a complete file
never looks incomplete.  Numbering continues after the files already in DIR,
so a sink restarted on the same directory never overwrites earlier ones.
Bytes are written to the file as they are read (no buffer in this process),
so a sink killed with SIGKILL has saved all it read.  --rcvbuf sets the
sockets' receive buffer (SO_RCVBUF), which bounds what the sink's kernel
acknowledges without the sink reading it (the loss tests' bound).

On SIGTERM or SIGINT: the listening socket is closed, then each client gets a
half-close (shutdown SHUT_WR, i.e. a FIN: an exporter that checks its socket
sees the collector leaving and stops writing), and everything the client has
sent or still sends is read until it closes too, or until nothing has arrived
for --drain-idle seconds (at most --drain-max seconds).  Nothing that reached
this process's socket is discarded.  Then all files are closed and renamed,
and the sink exits 0.  Only 127.0.0.1-style local use is intended.
"""
import argparse
import os
import re
import selectors
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--drain-idle", type=float, default=0.5)
    ap.add_argument("--drain-max", type=float, default=3.0)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--rcvbuf", type=int, default=0)
    a = ap.parse_args()

    os.makedirs(a.dir, exist_ok=True)
    seq = 0
    for name in os.listdir(a.dir):
        m = re.match(r"conn-(\d+)\.(?:part|ipfix)$", name)
        if m:
            seq = max(seq, int(m.group(1)))

    stop = {"flag": False}

    def on_signal(_sig, _frm):
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Restarting on the same port while old connections sit in TIME_WAIT.
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.rcvbuf:
        # Before listen(): accepted sockets inherit it, and it fixes the
        # window scale of their handshake.
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    lsock.bind((a.host, a.port))
    lsock.listen(16)
    lsock.setblocking(False)
    port = lsock.getsockname()[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    if not a.quiet:
        print("tcp_sink: listening on %s:%d" % (a.host, port), file=sys.stderr,
              flush=True)

    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ, None)
    clients = {}  # socket -> [file, part path, final path, bytes]

    def finish(sock):
        fobj, part, final, nbytes = clients.pop(sock)
        try:
            sel.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()
        fobj.close()
        os.rename(part, final)
        if not a.quiet:
            print("tcp_sink: %s closed, %d bytes" % (os.path.basename(final),
                  nbytes), file=sys.stderr, flush=True)

    def read_some(sock):
        """Read what is available; True when the peer has closed."""
        while True:
            try:
                data = sock.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                return False
            except ConnectionError:
                return True
            if not data:
                return True
            rec = clients[sock]
            rec[0].write(data)
            rec[3] += len(data)

    while not stop["flag"]:
        try:
            events = sel.select(timeout=0.2)
        except InterruptedError:
            continue
        for key, _ in events:
            if key.data is None:
                try:
                    conn, _addr = lsock.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                conn.setblocking(False)
                seq += 1
                part = os.path.join(a.dir, "conn-%04d.part" % seq)
                final = os.path.join(a.dir, "conn-%04d.ipfix" % seq)
                clients[conn] = [open(part, "wb", buffering=0), part, final, 0]
                sel.register(conn, selectors.EVENT_READ, "client")
                if not a.quiet:
                    print("tcp_sink: connection %d" % seq, file=sys.stderr,
                          flush=True)
            else:
                if read_some(key.fileobj):
                    finish(key.fileobj)

    # Shutdown: no new connections; half-close and drain every client.
    sel.unregister(lsock)
    lsock.close()
    for sock in list(clients):
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    deadline = time.monotonic() + a.drain_max
    last_data = time.monotonic()
    while clients and time.monotonic() < deadline and \
            time.monotonic() - last_data < a.drain_idle:
        try:
            events = sel.select(timeout=0.05)
        except InterruptedError:
            continue
        for key, _ in events:
            last_data = time.monotonic()
            if read_some(key.fileobj):
                finish(key.fileobj)
    for sock in list(clients):
        read_some(sock)
        finish(sock)
    sel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
