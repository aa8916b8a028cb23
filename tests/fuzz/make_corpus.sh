#!/usr/bin/env bash
# make_corpus.sh OUTDIR - seed corpora for the fuzz harnesses, generated
# (never stored in the repository) from ../shared/pcaps (captures split into
# packets by a small python3 pcap/pcapng reader) and from the shipped
# templates/ and conf/ files:
#   OUTDIR/decode/    one frame each, with fuzz_decode's link-type byte
#   OUTDIR/meter/     the first packets of each capture in fuzz_meter's
#                     framing, under several run modes
#   OUTDIR/template/  each template under two run modes
#   OUTDIR/config/    the sample configuration, typical command lines
#   OUTDIR/nf9/       a few encoder programs for fuzz_nf9
# The input formats are described at the top of each fuzz_*.c.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: make_corpus.sh OUTDIR}
shared=${SHARED_DIR:-$top/../shared}
if [ ! -d "$shared/pcaps" ]; then
	echo "make_corpus: $shared/pcaps not found (the shared test data must" \
	    "sit beside the repository, or set SHARED_DIR)" >&2
	exit 1
fi
mkdir -p "$out"/{decode,meter,template,config,nf9}
exec python3 - "$shared/pcaps" "$top" "$out" <<'PY'
import hashlib, os, struct, sys

pcaps, top, out = sys.argv[1:4]

# tests/fuzz/fuzz_dlt.h's link-type table, index by pcap LINKTYPE
# (LINKTYPE_RAW 101 is DLT_RAW 12 to libpcap on Linux).
DLT_INDEX = {0: 0, 1: 1, 9: 2, 101: 3, 12: 3, 50: 4, 104: 5, 113: 6,
             127: 7, 228: 8, 229: 9, 276: 10}

def read_pcap(data):
    """(linktype, [(ts_us, frame)]) of a classic pcap or a pcapng."""
    magic = data[:4]
    pkts = []
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1',
                 b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '<' if magic[0] in (0xd4, 0x4d) else '>'
        nsec = magic in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
        lt = struct.unpack(e + 'I', data[20:24])[0] & 0xffff
        off = 24
        while off + 16 <= len(data):
            sec, frac, incl, orig = struct.unpack(e + 'IIII', data[off:off + 16])
            off += 16
            if incl > 262144 or off + incl > len(data):
                break
            us = sec * 1000000 + (frac // 1000 if nsec else frac)
            pkts.append((us, data[off:off + incl]))
            off += incl
        return lt, pkts
    if magic == b'\x0a\x0d\x0d\x0a':
        lt, off, e = None, 0, '<'
        while off + 12 <= len(data):
            btype = struct.unpack(e + 'I', data[off:off + 4])[0]
            if btype == 0x0a0d0d0a:
                bom = data[off + 8:off + 12]
                e = '<' if bom == b'\x4d\x3c\x2b\x1a' else '>'
            blen = struct.unpack(e + 'I', data[off + 4:off + 8])[0]
            if blen < 12 or off + blen > len(data):
                break
            body = data[off + 8:off + blen - 4]
            if btype == 1 and lt is None:
                lt = struct.unpack(e + 'H', body[:2])[0]
            elif btype == 6 and len(body) >= 20:
                _, hi, lo, incl, _ = struct.unpack(e + 'IIIII', body[:20])
                pkts.append(((hi << 32) | lo, body[20:20 + incl]))
            elif btype == 3 and len(body) >= 4:
                pkts.append((pkts[-1][0] if pkts else 0, body[4:]))
            off += blen
        return lt, pkts
    return None, []

def put(sub, blob):
    name = hashlib.sha1(blob).hexdigest()[:16]
    with open(os.path.join(out, sub, name), 'wb') as f:
        f.write(blob)

def delta_byte(us):
    """fuzz_meter's time step: 0x00-0x7f ms, 0x80-0xef s, 0xf0-0xff min."""
    ms = us // 1000
    if ms < 0x80:
        return max(ms, 0)
    if ms < 0x70 * 1000:
        return 0x7f + ms // 1000
    return min(0xef + ms // 60000, 0xff)

ndecode = nmeter = 0
for name in sorted(os.listdir(pcaps)):
    if not name.endswith(('.pcap', '.pcapng', '.cap')):
        continue
    with open(os.path.join(pcaps, name), 'rb') as f:
        lt, pkts = read_pcap(f.read())
    if lt not in DLT_INDEX or not pkts:
        continue
    idx = DLT_INDEX[lt]
    # decode: the first 40 frames of each file (tunnels on).
    for _, frame in pkts[:40]:
        put('decode', bytes([idx | 0x10]) + frame)
        ndecode += 1
    # meter: the first 48 packets, frames cut at 1500 bytes; modes:
    # everything on (standard template), statistics+DPI (nfstream), and
    # DPI only with --tcp-end and a small table (ntop).
    seq = b''
    prev = pkts[0][0]
    for us, frame in pkts[:48]:
        frame = frame[:1500]
        seq += struct.pack('>HB', len(frame), delta_byte(us - prev)) + frame
        prev = us
    for hdr in (bytes([idx | 0x10, 0x4f, 0x22, 12]),
                bytes([idx | 0x10, 0x15, 0x13, 8]),
                bytes([idx | 0x30, 0x24, 0x01, 3])):
        put('meter', hdr + seq)
        nmeter += 1

tmpls = os.path.join(top, 'templates')
for name in sorted(os.listdir(tmpls)):
    if name.endswith('.tmpl'):
        text = open(os.path.join(tmpls, name), 'rb').read()
        put('template', b'\x0f' + text)		# every column, biflow
        put('template', b'\x5f' + text)		# uniflow, SPLT of 255

conf = open(os.path.join(top, 'conf', 'streamprobe.conf'), 'rb').read()
put('config', b'\x00' + conf)
for args in (['-r', 'a.pcap,b.pcap', '--csv', '-'],
             ['-i', 'eth0', '--export', 'ipfix+udp://[::1]:4739',
              '--export', 'nf9+udp://127.0.0.1:2055', '--statistics',
              '--splt', '10', '--tcp-end', '--template', 'nfstream'],
             ['-r', 'x.pcap', '--json', 'out.json', '--export',
              'ipfix+file://out.ipfix', '--uniflow', '--n-dissections', '0'],
             ['-D', '--pidfile', '/run/p.pid', '-i', 'lo', '--user', 'nobody',
              '--stats-interval', '60', '--check-config'],
             ['--help'], ['-V']):
    put('config', b'\x01' + b'\x00'.join(a.encode() for a in args))
put('config', b'\x02' + conf + b'\x00' + b'-r\x00c.pcap\x00--csv\x00x.csv')

# nf9: see fuzz_nf9.c (cap, then ops: T template, O options template,
# R record, F finish and begin again).
def tmpl_op(tid, fields):
    return b'T' + struct.pack('>HB', tid, len(fields)) + b''.join(
        struct.pack('>HH', t, l) for t, l in fields)
std = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8), (2, 8), (152, 8)]
rec = bytes(range(40))
put('nf9', struct.pack('>H', 1400) + tmpl_op(256, std) + b'R' +
    struct.pack('>HH', 256, 40) + rec + b'R' + struct.pack('>HH', 256, 40) +
    rec + b'F')
put('nf9', struct.pack('>H', 100) + b'O' + struct.pack('>HBB', 260, 1, 2) +
    struct.pack('>HHHHHH', 1, 4, 40, 8, 41, 8) + b'R' +
    struct.pack('>HH', 260, 20) + bytes(20) + b'F' + tmpl_op(257, std * 3))
print('make_corpus: %d decode, %d meter inputs in %s' % (ndecode, nmeter, out))
PY
