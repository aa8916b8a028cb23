#!/usr/bin/env bash
# cli_test.sh PROBE MAKE_DEMO_PCAP - command line and bad input behaviour.
#
# Bad usage or input that cannot be opened: one clear message, exit 2.
# A capture damaged part way: the flows read so far are written, exit 1.
# Malformed packets: counted by reason on stderr and skipped.
set -uo pipefail
probe=${1:?usage: cli_test.sh PROBE MAKE_DEMO_PCAP}
make_demo=${2:?usage: cli_test.sh PROBE MAKE_DEMO_PCAP}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

check() { # name expected_rc stderr_pattern -- command...
	local name=$1 want=$2 pat=$3 rc
	shift 4
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL $name: exit $rc, expected $want; stderr: $(head -c 400 "$tmp/err")"
		fail=$((fail + 1))
	elif [ -n "$pat" ] && ! grep -qE -- "$pat" "$tmp/err"; then
		echo "FAIL $name: stderr does not match /$pat/: $(head -c 400 "$tmp/err")"
		fail=$((fail + 1))
	elif grep -qE 'AddressSanitizer|runtime error|Segmentation' "$tmp/err"; then
		echo "FAIL $name: crashed: $(head -c 400 "$tmp/err")"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
}

"$make_demo" "$tmp/demo.pcap" >/dev/null || { echo "FAIL: cannot make the demo capture"; exit 1; }
printf 'this is not a capture file\n' >"$tmp/text.pcap"

check help 0 "" -- "$probe" --help
grep -q -- "--idle-timeout" "$tmp/out" || { echo "FAIL help: no option list"; fail=$((fail + 1)); }
check version 0 "" -- "$probe" --version
check no-input 2 "nothing to read" -- "$probe"
check missing-file 2 "cannot read capture file .*/nope.pcap" -- "$probe" -r "$tmp/nope.pcap"
check missing-second-file 2 "nope2.pcap" -- "$probe" -r "$tmp/demo.pcap,$tmp/nope2.pcap"
# Blanks around list items are not part of the name ("read = a.pcap, b.pcap"):
# both files read, so twice the demo's 48 packets (make_demo_pcap writes 48).
check list-blanks 0 "packets: 96 read" -- "$probe" -r "$tmp/demo.pcap , $tmp/demo.pcap" --csv /dev/null
printf 'read = %s, %s\ncsv = /dev/null\n' "$tmp/demo.pcap" "$tmp/demo.pcap" >"$tmp/blanks.conf"
check list-blanks-conf 0 "packets: 96 read" -- "$probe" -f "$tmp/blanks.conf"
check not-a-capture 2 "cannot read capture file .*text.pcap" -- "$probe" -r "$tmp/text.pcap"
check bad-bpf 2 "bad BPF filter" -- "$probe" -r "$tmp/demo.pcap" --bpf "port nonsense"
check unknown-interface 2 "interface nosuchif0" -- "$probe" -i nosuchif0
check both-inputs 2 "exclusive" -- "$probe" -r "$tmp/demo.pcap" -i lo
check idle-negative 2 "idle-timeout" -- "$probe" -r "$tmp/demo.pcap" --idle-timeout -1
check idle-text 2 "idle-timeout" -- "$probe" -r "$tmp/demo.pcap" --idle-timeout 10s
check accounting-4 2 "accounting-mode" -- "$probe" -r "$tmp/demo.pcap" --accounting-mode 4
check splt-256 2 "splt" -- "$probe" -r "$tmp/demo.pcap" --splt 256
check snaplen-0 2 "snaplen" -- "$probe" -i lo --snaplen 0
check max-flows-0 2 "max-flows" -- "$probe" -r "$tmp/demo.pcap" --max-flows 0
check n-dissections-256 2 "n-dissections" -- "$probe" -r "$tmp/demo.pcap" --n-dissections 256

# --n-dissections 0 turns DPI off and removes the nine L7 columns (NFStream).
"$probe" -r "$tmp/demo.pcap" --n-dissections 0 2>/dev/null | head -1 | tr ',' '\n' >"$tmp/h0"
"$probe" -r "$tmp/demo.pcap" 2>/dev/null | head -1 | tr ',' '\n' >"$tmp/h20"
if grep -q application_name "$tmp/h0" || [ "$(tail -9 "$tmp/h20" | head -1)" != application_name ] ||
	[ "$(wc -l <"$tmp/h20")" -ne $(($(wc -l <"$tmp/h0") + 9)) ]; then
	echo "FAIL n-dissections-0: L7 columns not removed (or not present by default)"
	fail=$((fail + 1))
else
	pass=$((pass + 1))
fi
check unknown-option 2 "unknown option" -- "$probe" -r "$tmp/demo.pcap" --frobnicate
check missing-value 2 "needs a value" -- "$probe" -r "$tmp/demo.pcap" --csv
check extra-argument 2 "unexpected argument" -- "$probe" -r "$tmp/demo.pcap" stray
check unwritable-output 2 "cannot open csv output" -- "$probe" -r "$tmp/demo.pcap" --csv /nonexistent/dir/x.csv

# IPFIX export: bad URLs, templates and sizes stop the probe at start-up.
# A bad URL names its bad part.
check export-bad-url 2 'missing port in "nohost" \(expected HOST:PORT\)' -- "$probe" -r "$tmp/demo.pcap" --export ipfix+udp://nohost
check export-bad-scheme 2 'unknown scheme "ipfix\+sctp" \(expected ipfix\+udp, ipfix\+tcp, ipfix\+file, nf9\+udp\)' -- "$probe" -r "$tmp/demo.pcap" --export ipfix+sctp://127.0.0.1:4739
check export-bad-port 2 'port "70000" is not in 1\.\.65535' -- "$probe" -r "$tmp/demo.pcap" --export ipfix+udp://127.0.0.1:70000
check export-port-0 2 'port "0" is not in 1\.\.65535' -- "$probe" -r "$tmp/demo.pcap" --export nf9+udp://127.0.0.1:0
check export-port-text 2 'port "47x9" is not in 1\.\.65535' -- "$probe" -r "$tmp/demo.pcap" --export ipfix+tcp://127.0.0.1:47x9
check export-no-port 2 'missing port after "127.0.0.1:"' -- "$probe" -r "$tmp/demo.pcap" --export ipfix+udp://127.0.0.1:
check export-empty-host 2 'empty host in ":4739"' -- "$probe" -r "$tmp/demo.pcap" --export ipfix+udp://:4739
check export-no-collector 2 'ipfix\+tcp://": no collector' -- "$probe" -r "$tmp/demo.pcap" --export ipfix+tcp://
check export-no-scheme 2 '"127.0.0.1:4739": no scheme \(expected ipfix\+udp://HOST:PORT' -- "$probe" -r "$tmp/demo.pcap" --export 127.0.0.1:4739
check export-file-no-path 2 'ipfix\+file://": no path' -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://
check export-ipv6-unclosed 2 '"\[" without "\]"' -- "$probe" -r "$tmp/demo.pcap" --export "ipfix+udp://[::1:4739"
check export-ipv6-no-port 2 'missing port after "\[::1\]"' -- "$probe" -r "$tmp/demo.pcap" --export "ipfix+udp://[::1]"
check export-ipv6-junk 2 '"/x" after "\]": expected ":PORT"' -- "$probe" -r "$tmp/demo.pcap" --export "ipfix+udp://[::1]/x"
check export-ipv6-empty 2 '"\[\]" is not an IPv6 address' -- "$probe" -r "$tmp/demo.pcap" --export "ipfix+udp://[]:4739"
check export-ipv6-brackets 2 'several ":"; an IPv6 collector goes in brackets' -- "$probe" -r "$tmp/demo.pcap" --export "ipfix+udp://::1:4739"
check export-ipv6-ok 0 "" -- "$probe" -r "$tmp/demo.pcap" --export "ipfix+udp://[::1]:4739" --check-config
grep -qx 'export = ipfix+udp://\[::1\]:4739' "$tmp/out" || { echo "FAIL export-ipv6-ok: URL not kept"; fail=$((fail + 1)); }

# Two outputs on standard output would interleave: refused, exit 2.
check two-stdout 2 '2 outputs on standard output \(--csv -, --json -\): only one' -- "$probe" -r "$tmp/demo.pcap" --csv - --json -
check two-stdout-ipfix 2 'outputs on standard output \(--json -, --export ipfix\+file://-\)' -- "$probe" -r "$tmp/demo.pcap" --json - --export ipfix+file://-
[ ! -s "$tmp/out" ] || { echo "FAIL two-stdout-ipfix: wrote to standard output"; fail=$((fail + 1)); }
check one-stdout 0 "" -- "$probe" -r "$tmp/demo.pcap" --json - --csv "$tmp/one.csv"
check export-unresolvable 2 "cannot resolve collector" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+udp://no.such.host.invalid:4739
check export-unknown-template 2 "unknown template \"nosuch\"" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/x.ipfix" --template nosuch
printf 'enterprise 32473\nsrc_ip sourceIPv4Address 8 ipv4Address\nbogus_col x ENT:1 unsigned8\n' >"$tmp/t1.tmpl"
printf 'src_ip sourceIPv4Address 8 ipv4Address\nsrc_port sourceTransportPort 7 float64\n' >"$tmp/t2.tmpl"
printf 'src_ip sourceIPv4Address 8 ipv4Address\nsrc_port x 29305:999 unsigned16\n' >"$tmp/t3.tmpl"
printf 'src_ip sourceIPv4Address 8 ipv4Address\napplication_name x ENT:1 string 10\n' >"$tmp/t4.tmpl"
check template-unknown-column 2 "t1.tmpl line 3: unknown column \"bogus_col\"" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/x.ipfix" --template "$tmp/t1.tmpl"
check template-wrong-type 2 "t2.tmpl line 2: element 7 is unsigned16, not float64" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/x.ipfix" --template "$tmp/t2.tmpl"
# "fixed": a string sent at its template length, NUL-padded (ipfixDump shows
# the value without the padding); only for strings and octet arrays, not lists.
printf 'src_ip sourceIPv4Address 8 ipv4Address\nsrc_port sourceTransportPort 7 unsigned16 2 fixed\n' >"$tmp/t5.tmpl"
check template-fixed-number 2 't5.tmpl line 2: "fixed" is for string and octetArray fields' -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/x.ipfix" --template "$tmp/t5.tmpl"
# A line longer than the parser's buffer is an error, not split in two (the
# tail of a long comment would have become a field line).
{ printf 'src_ip sourceIPv4Address 8 ipv4Address\n# '; printf 'x%.0s' $(seq 600); printf ' dst_ip destinationIPv4Address 12 ipv4Address\n'; } >"$tmp/t12.tmpl"
check template-long-line 2 't12.tmpl line 2: line longer than 510 bytes' -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/x.ipfix" --template "$tmp/t12.tmpl"
printf 'src_ip sourceIPv4Address 8 ipv4Address\napplication_name applicationName 96 string 16 fixd\n' >"$tmp/t6.tmpl"
check template-fixed-typo 2 't6.tmpl line 2: expected "column element \[pen:\]id type \[length \[fixed\]\]"' -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/x.ipfix" --template "$tmp/t6.tmpl"
printf 'enterprise 32473\nsrc_ip sourceIPv4Address 8 ipv4Address\nsplt_ps x ENT:48 octetArray 20 fixed\n' >"$tmp/t7.tmpl"
check template-fixed-list 2 't7.tmpl line 3: a list column cannot be fixed-length' -- "$probe" -r "$tmp/demo.pcap" --splt 4 --export ipfix+file://"$tmp/x.ipfix" --template "$tmp/t7.tmpl"
printf 'src_ip sourceIPv4Address 8 ipv4Address\nsrc_port sourceTransportPort 7 unsigned16\napplication_name applicationName 96 string 16 fixed\n' >"$tmp/t8.tmpl"
check template-fixed 0 "" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/fixed.ipfix" --template "$tmp/t8.tmpl" --csv "$tmp/fixed.csv"
if ! ipfixDump --in "$tmp/fixed.ipfix" --rfc5610 >"$tmp/fixed.dump" 2>&1 ||
	! grep -q "id:    96  type: string    len:    16" "$tmp/fixed.dump" ||
	[ "$(grep -c 'applicationName : (len: [0-9]*) [A-Za-z]' "$tmp/fixed.dump")" -lt "$(($(wc -l <"$tmp/fixed.csv") - 1))" ]; then
	echo "FAIL template-fixed: fixed-length applicationName not decoded: $(grep applicationName "$tmp/fixed.dump" | head -3)"
	fail=$((fail + 1))
fi
# Lengths (RFC 7011 section 6.2): integers may be shorter than their type
# (reduced-size encoding: the value saturates), float64 may be sent in 4
# bytes; nothing else may differ from its type's size.
printf 'src_ip sourceIPv4Address 8 ipv4Address\nsrc_port sourceTransportPort 7 unsigned16 4\n' >"$tmp/t9.tmpl"
check template-length-integer 2 "t9.tmpl line 2: unsigned16 cannot be 4 bytes long" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/x.ipfix" --template "$tmp/t9.tmpl"
printf 'src_ip sourceIPv4Address 8 ipv4Address\nbidirectional_first_seen_ms flowStartMilliseconds 152 dateTimeMilliseconds 4\n' >"$tmp/t10.tmpl"
check template-length-time 2 "t10.tmpl line 2: dateTimeMilliseconds cannot be 4 bytes long" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/x.ipfix" --template "$tmp/t10.tmpl"
# Reduced sizes decoded by ipfixDump against the CSV of the same run: the
# bytes in 1 byte saturate at 255, the duration in 3 bytes is exact, the
# mean packet size in a float32 is the CSV's to float32 precision.
printf 'enterprise 32473\nid flowId 148 unsigned64\nbidirectional_duration_ms flowDurationMilliseconds 161 unsigned32 3\nbidirectional_bytes octetDeltaCount 1 unsigned64 1\nbidirectional_mean_ps streamprobeMeanPs32 ENT:900 float64 4\n' >"$tmp/t11.tmpl"
check template-reduced-size 0 "" -- "$probe" -r "$tmp/demo.pcap" --statistics --template "$tmp/t11.tmpl" --export ipfix+file://"$tmp/reduced.ipfix" --csv "$tmp/reduced.csv"
if ! ipfixDump --in "$tmp/reduced.ipfix" --rfc5610 >"$tmp/reduced.dump" 2>&1 ||
	! python3 - "$tmp/reduced.csv" "$tmp/reduced.dump" <<'PY'; then
import csv, re, sys
rows = {int(r["id"]): r for r in csv.DictReader(open(sys.argv[1]))}
recs, cur = {}, None
for line in open(sys.argv[2]):
    m = re.search(r"\((?:\d+/)?\d+\)\s+(\w+) : (\S+)", line)
    if not m:
        continue
    if m.group(1) == "flowId":
        cur = recs.setdefault(int(m.group(2)), {})
    elif cur is not None:
        cur[m.group(1)] = m.group(2)
bad = []
for fid, r in rows.items():
    d = recs.get(fid, {})
    if int(d.get("flowDurationMilliseconds", -1)) != int(r["bidirectional_duration_ms"]):
        bad.append((fid, "duration", d.get("flowDurationMilliseconds")))
    if int(d.get("octetDeltaCount", -1)) != min(int(r["bidirectional_bytes"]), 255):
        bad.append((fid, "bytes", d.get("octetDeltaCount")))
    want = float(r["bidirectional_mean_ps"])
    if abs(float(d.get("streamprobeMeanPs32", "nan")) - want) > 1e-6 * max(1.0, want):
        bad.append((fid, "mean_ps", d.get("streamprobeMeanPs32"), want))
if bad or not rows or len(recs) != len(rows):
    print("mismatch:", bad[:5], len(rows), len(recs))
    sys.exit(1)
PY
	echo "FAIL template-reduced-size: values differ from the CSV"
	fail=$((fail + 1))
fi
check template-unknown-element 2 "t3.tmpl line 2: reverse element 999 is not a known IANA element" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/x.ipfix" --template "$tmp/t3.tmpl"
check template-ent-before-enterprise 2 "t4.tmpl line 2: ENT used before" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/x.ipfix" --template "$tmp/t4.tmpl"
check udp-record-too-big 2 "records can reach" -- "$probe" -r "$tmp/demo.pcap" --statistics --splt 255 --template nfstream --export ipfix+udp://127.0.0.1:4739
check template-refresh-0 2 "template-refresh" -- "$probe" -r "$tmp/demo.pcap" --template-refresh 0

# NetFlow v9: no TCP (no length in the header), packet size bounds.
check nf9-tcp 2 "NetFlow v9 over TCP is not offered" -- "$probe" -r "$tmp/demo.pcap" --export nf9+tcp://127.0.0.1:2055
check nf9-mtu-small 2 "mtu" -- "$probe" -r "$tmp/demo.pcap" --export nf9+udp://127.0.0.1:2055 --mtu 100
printf 'src_ip sourceIPv4Address 8 ipv4Address\nuser_agent httpUserAgent 468 string 1200\n' >"$tmp/t5.tmpl"
check nf9-record-too-big 2 "do not fit a 600-byte packet" -- "$probe" -r "$tmp/demo.pcap" --export nf9+udp://127.0.0.1:2055 --mtu 600 --template "$tmp/t5.tmpl"
printf 'src_ip x 6871:1 ipv4Address\n' >"$tmp/t6.tmpl"	# CERT's PEN: no v9 id
check nf9-nothing-to-carry 2 "no field NetFlow v9 can carry" -- "$probe" -r "$tmp/demo.pcap" --export nf9+udp://127.0.0.1:2055 --template "$tmp/t6.tmpl"

# A capture cut in the middle of a record: what was read is still written.
size=$(stat -c %s "$tmp/demo.pcap")
head -c $((size / 2 + 7)) "$tmp/demo.pcap" >"$tmp/cut.pcap"
check truncated 1 "truncated" -- "$probe" -r "$tmp/cut.pcap" --csv "$tmp/cut.csv"
rows=$(($(wc -l <"$tmp/cut.csv") - 1))
[ "$rows" -gt 0 ] || { echo "FAIL truncated: no flows written"; fail=$((fail + 1)); }

# Malformed frames are counted by reason and skipped; good ones still count.
python3 - "$tmp/demo.pcap" "$tmp/bad.pcap" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
out = bytearray(data[:24])
def rec(frame, ts):
    return struct.pack("<IIII", ts, 0, len(frame), len(frame)) + frame
eth = bytes.fromhex("00112233445500665544332208")
out += rec(b"\x00" * 20, 1700000000)                      # shorter than 28 bytes
out += rec(eth + b"\x06" + bytes.fromhex("0001080006040001") + b"\x00" * 20, 1700000000)  # ARP
ip = bytearray(bytes.fromhex("4500003c00010080401100000a0000010a000002"))  # offset 1024: non-first fragment
out += rec(eth + b"\x00" + bytes(ip) + b"\x00" * 40, 1700000000)
out += data[24:]
open(sys.argv[2], "wb").write(out)
EOF
check malformed-counted 0 "3 skipped .*frame shorter than 28 bytes 1.*not IPv4/IPv6 1.*IPv4 non-first fragment 1" -- "$probe" -r "$tmp/bad.pcap" --csv "$tmp/bad.csv"
if ! cmp -s <(cut -d, -f2- "$tmp/bad.csv") <("$probe" -r "$tmp/demo.pcap" 2>/dev/null | cut -d, -f2-); then
	echo "FAIL malformed-counted: good packets gave different flows"
	fail=$((fail + 1))
fi

# CSV and JSON outputs carry the same flows and values, in one run.
"$probe" -r "$tmp/demo.pcap" --statistics --splt 4 --csv "$tmp/a.csv" --json "$tmp/a.json" 2>/dev/null
if ! python3 - "$tmp/a.csv" "$tmp/a.json" <<'EOF'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1]), escapechar="\\"))
objs = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows) == len(objs) == 8, (len(rows), len(objs))
for r, o in zip(rows, objs):
    assert list(r.keys()) == list(o.keys()), "different keys"
    for k, v in o.items():
        if isinstance(v, list):
            assert r[k] == "[" + ", ".join(map(str, v)) + "]", (k, r[k], v)
        elif isinstance(v, float):
            assert float(r[k]) == v and repr(v) == r[k], (k, r[k], v)
        else:
            assert r[k] == str(v), (k, r[k], v)
EOF
then
	echo "FAIL csv-json: outputs differ"
	fail=$((fail + 1))
else
	pass=$((pass + 1))
fi

# Configuration file (-f): keys are the long options; --check-config prints
# the effective configuration in the file's syntax and exits 0, or names the
# bad key or value (FILE:LINE) and exits 2.  The command line overrides it.
src_dir=$(cd "$(dirname "$0")/../.." && pwd)
conf_dir=$src_dir/conf
check check-shipped-conf 0 "" -- "$probe" -f "$conf_dir/streamprobe.conf" --check-config
if ! grep -qx "interface = eth1" "$tmp/out" || ! grep -qx "stats-interval = 300" "$tmp/out"; then
	echo "FAIL check-shipped-conf: effective configuration lacks the file's values"
	fail=$((fail + 1))
fi
cp "$tmp/out" "$tmp/effective.conf"
check check-config-idempotent 0 "" -- "$probe" -f "$tmp/effective.conf" --check-config
cmp -s "$tmp/out" "$tmp/effective.conf" ||
	{ echo "FAIL check-config-idempotent: printing the printed configuration changed it"; fail=$((fail + 1)); }
# bad_conf NAME CONTENT PATTERN: a file with CONTENT fails --check-config (2)
# with a message matching PATTERN (which names the file as NAME.conf).
bad_conf() {
	printf '%b' "$2" >"$tmp/$1.conf"
	check "conf-$1" 2 "$3" -- "$probe" -f "$tmp/$1.conf" --check-config
}
bad_conf unknown-key 'interface = lo\n# a comment\n\nidle-timout = 5\n' 'unknown-key.conf:4: unknown key "idle-timout"'
bad_conf bad-number 'interface = lo\nidle-timeout = 5s\n' 'bad-number.conf:2: idle-timeout: "5s" is not a number'
bad_conf bad-flag 'interface = lo\nstatistics = maybe\n' 'bad-flag.conf:2: statistics: "maybe" is not yes or no'
bad_conf no-value 'interface = lo\nbpf\n' 'no-value.conf:2: key "bpf" needs "= value"'
bad_conf bad-url 'interface = lo\nexport = ipfix+udp://nohost\n' 'bad-url.conf:2: export "ipfix\+udp://nohost": missing port in "nohost"'
bad_conf bad-port 'interface = lo\nexport = nf9+udp://127.0.0.1:65536\n' 'bad-port.conf:2: export "nf9\+udp://127.0.0.1:65536": port "65536" is not in 1\.\.65535'
bad_conf two-stdout 'interface = lo\ncsv = -\njson = -\n' '2 outputs on standard output \(--csv -, --json -\)'
# --check-config goes as far as a start without opening anything: the
# template is parsed and the collectors' names resolved.
bad_conf no-template 'interface = lo\nexport = ipfix+udp://127.0.0.1:4739\ntemplate = nosuch\n' 'unknown template "nosuch" \(.*/nosuch.tmpl'
bad_conf no-template-nf9 'interface = lo\nexport = nf9+udp://127.0.0.1:2055\ntemplate = nosuch\n' 'unknown template "nosuch"'
bad_conf broken-template "interface = lo\nexport = ipfix+file://$tmp/x.ipfix\ntemplate = $tmp/t1.tmpl\n" 't1.tmpl line 3: unknown column "bogus_col"'
bad_conf no-template-dir 'interface = lo\nexport = ipfix+udp://127.0.0.1:4739\ntemplate-dir = /nonexistent/dir\n' 'unknown template "standard" \(/nonexistent/dir/standard.tmpl'
bad_conf unresolvable 'interface = lo\nexport = ipfix+udp://127.0.0.1:4739\nexport = ipfix+tcp://no.such.host.invalid:4739\n' 'export ipfix\+tcp://no.such.host.invalid:4739: cannot resolve collector no.such.host.invalid'
# ... and opens nothing: an unknown interface, a collector nobody listens on.
printf 'interface = nosuchif0\nexport = ipfix+tcp://127.0.0.1:9\nexport = nf9+udp://localhost:2055\n' >"$tmp/noopen.conf"
check check-config-opens-nothing 0 "" -- "$probe" -f "$tmp/noopen.conf" --check-config
bad_conf unknown-user 'interface = lo\nuser = no-such-user-here\n' 'no such user "no-such-user-here"'
bad_conf nested 'interface = lo\nconfig = other.conf\n' 'nested.conf:2: unknown key "config"'
bad_conf binary '\x01\x1b[2Jkey\xff = 1\n' 'binary.conf:1: unknown key "\\x01\\x1b\[2Jkey\\xff"'
check conf-missing 2 "cannot read configuration file .*/none.conf" -- "$probe" -f "$tmp/none.conf" --check-config
check check-config-no-input 2 "nothing to read" -- "$probe" --check-config
check daemon-stdout 2 "a daemon has no standard output" -- "$probe" -D -i lo
check daemon-ipfix-stdout 2 "a daemon has no standard output" -- "$probe" -D -i lo --export ipfix+file://-
check pidfile-without-daemon 2 "pidfile is for -D" -- "$probe" -i lo --pidfile "$tmp/p.pid"

# Template directory: --template-dir (or its key) beats STREAMPROBE_TEMPLATE_DIR,
# which beats the built-in rule; this build-tree binary uses the source tree's
# templates/, a copy elsewhere its ../share/streamprobe/templates.
mkdir -p "$tmp/tdir" && cp "$src_dir/templates/standard.tmpl" "$tmp/tdir/mine.tmpl"
check template-dir 0 "" -- "$probe" -r "$tmp/demo.pcap" --template-dir "$tmp/tdir" --template mine --export "ipfix+file://$tmp/td.ipfix" --csv "$tmp/td.csv"
[ -s "$tmp/td.ipfix" ] || { echo "FAIL template-dir: no IPFIX written"; fail=$((fail + 1)); }
check template-dir-missing 2 "unknown template \"standard\" \\($tmp/nodir/standard.tmpl" -- "$probe" -r "$tmp/demo.pcap" --template-dir "$tmp/nodir" --export ipfix+udp://127.0.0.1:4739
check template-dir-env 2 "unknown template \"standard\" \\($tmp/envdir/standard.tmpl" -- env STREAMPROBE_TEMPLATE_DIR="$tmp/envdir" "$probe" -r "$tmp/demo.pcap" --export ipfix+udp://127.0.0.1:4739
check template-dir-env-check 0 "" -- env STREAMPROBE_TEMPLATE_DIR="$tmp/tdir" "$probe" -r "$tmp/demo.pcap" --template mine --export ipfix+udp://127.0.0.1:4739 --check-config
grep -qx "# template-dir = $tmp/tdir (from STREAMPROBE_TEMPLATE_DIR)" "$tmp/out" ||
	{ echo "FAIL template-dir-env-check: $(grep template-dir "$tmp/out")"; fail=$((fail + 1)); }
check template-dir-option-wins 0 "" -- env STREAMPROBE_TEMPLATE_DIR="$tmp/envdir" "$probe" -r "$tmp/demo.pcap" --template-dir "$tmp/tdir" --template mine --export ipfix+udp://127.0.0.1:4739 --check-config
grep -qx "template-dir = $tmp/tdir" "$tmp/out" ||
	{ echo "FAIL template-dir-option-wins: $(grep template-dir "$tmp/out")"; fail=$((fail + 1)); }
check template-dir-built-in 0 "" -- env -u STREAMPROBE_TEMPLATE_DIR "$probe" -r "$tmp/demo.pcap" --check-config
grep -qx "# template-dir = $src_dir/templates (built in)" "$tmp/out" ||
	{ echo "FAIL template-dir-built-in: $(grep template-dir "$tmp/out")"; fail=$((fail + 1)); }
mkdir -p "$tmp/prefix/sbin" "$tmp/prefix/share/streamprobe/templates"
cp "$probe" "$tmp/prefix/sbin/streamprobe"
cp "$src_dir/templates/standard.tmpl" "$tmp/prefix/share/streamprobe/templates/"
check template-dir-relocated 0 "" -- env -u STREAMPROBE_TEMPLATE_DIR "$tmp/prefix/sbin/streamprobe" -r "$tmp/demo.pcap" --export "ipfix+file://$tmp/reloc.ipfix" --csv /dev/null
env -u STREAMPROBE_TEMPLATE_DIR "$tmp/prefix/sbin/streamprobe" --help | grep -qx "Templates: $tmp/prefix/share/streamprobe/templates" ||
	{ echo "FAIL template-dir-relocated: --help names $(env -u STREAMPROBE_TEMPLATE_DIR "$tmp/prefix/sbin/streamprobe" --help | grep Templates)"; fail=$((fail + 1)); }
rm -rf "$tmp/prefix"

# Reading files, records an exporter could not deliver make the exit status 1
# with the count per output; the count is the exporter's own "records
# dropped" in the summary, and at least one per flow of the run's CSV.
# TCP: a port bound but not listening (refused, and nobody else can take it).
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1], flush=True); time.sleep(60)' >"$tmp/port" &
holder=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
tport=$(cat "$tmp/port")
# undelivered NAME URL: exit 1, "URL: N records not delivered", N as above.
undelivered() {
	check "undelivered-$1" 1 "streamprobe: ${2//+/\\+}: [0-9]+ records not delivered" -- "$probe" -r "$tmp/demo.pcap" --export "$2" --csv "$tmp/u.csv"
	local n dropped flows
	n=$(sed -n "s|^streamprobe: $2: \([0-9]*\) records not delivered|\1|p" "$tmp/err")
	dropped=$(sed -n "s|^streamprobe: $2: .* sent, \([0-9]*\) records dropped.*|\1|p" "$tmp/err")
	flows=$(($(wc -l <"$tmp/u.csv") - 1))
	if [ -z "$n" ] || [ "$n" != "$dropped" ] || [ "$n" -lt "$flows" ]; then
		echo "FAIL undelivered-$1: $n not delivered, $dropped dropped, $flows flows"
		fail=$((fail + 1))
	fi
}
undelivered tcp "ipfix+tcp://127.0.0.1:$tport"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
# UDP: a port nobody has bound; loopback answers ICMP port unreachable, and
# every send after the first fails with ECONNREFUSED.
uport=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
undelivered ipfix-udp "ipfix+udp://127.0.0.1:$uport"
undelivered nf9-udp "nf9+udp://127.0.0.1:$uport"

# The manual pages: every long option in streamprobe(8) and --help, every
# configuration key in streamprobe.conf(5), and both render without a warning
# (groff -ww, man, mandoc's lint).
opts=$(sed -n 's/^\t{ "\([a-z0-9-]*\)",.*/\1/p' "$src_dir/src/app/config.c")
[ "$(echo "$opts" | wc -l)" -gt 30 ] || { echo "FAIL man-options: cannot read the option table"; fail=$((fail + 1)); }
"$probe" --help >"$tmp/help"
for o in $opts; do
	# ".It Fl \-stats\-interval Ar seconds", ".It Fl r , Fl \-read Ar ..."
	grep '^\.It ' "$src_dir/src/man/streamprobe.8" | sed 's/$/ /' | grep -qF "Fl \\-${o//-/\\-} " ||
		{ echo "FAIL man-options: --$o not described in src/man/streamprobe.8"; fail=$((fail + 1)); }
	grep -q -- "--$o\b" "$tmp/help" || { echo "FAIL help-options: --$o not in --help"; fail=$((fail + 1)); }
	case $o in config | check-config | help | version) continue ;; esac
	grep -qE "^\.It Ic $o No = " "$src_dir/src/man/streamprobe.conf.5" ||
		{ echo "FAIL man-keys: key $o not described in src/man/streamprobe.conf.5"; fail=$((fail + 1)); }
done
for page in streamprobe.8 streamprobe.conf.5; do
	if groff -mandoc -ww -z "$src_dir/src/man/$page" >"$tmp/groff.err" 2>&1 && [ ! -s "$tmp/groff.err" ] &&
		MANWIDTH=80 man -P cat -l "$src_dir/src/man/$page" >/dev/null 2>"$tmp/man.err" && [ ! -s "$tmp/man.err" ] &&
		mandoc -T lint -W warning "$src_dir/src/man/$page" >"$tmp/mandoc.err" 2>&1; then
		pass=$((pass + 1))
	else
		echo "FAIL man-render $page: $(cat "$tmp/groff.err" "$tmp/man.err" "$tmp/mandoc.err" 2>/dev/null | head -c 400)"
		fail=$((fail + 1))
	fi
done

# The command line overrides the file: scalars, the input and the outputs.
printf 'interface = lo\nidle-timeout = 5\ncsv = %s\njson = %s\nstatistics = yes\n' \
	"$tmp/f.csv" "$tmp/f.json" >"$tmp/over.conf"
check conf-override 0 "" -- "$probe" -f "$tmp/over.conf" -r "$tmp/demo.pcap" --idle-timeout 7 --export "ipfix+file://$tmp/x.ipfix" --check-config
if ! grep -qx "read = $tmp/demo.pcap" "$tmp/out" || grep -q "^interface" "$tmp/out" ||
	! grep -qx "idle-timeout = 7" "$tmp/out" || grep -qE "^(csv|json) =" "$tmp/out" ||
	! grep -qx "export = ipfix+file://$tmp/x.ipfix" "$tmp/out" || ! grep -qx "statistics = yes" "$tmp/out"; then
	echo "FAIL conf-override: $(grep -vE '^#' "$tmp/out" | tr '\n' ' ' | head -c 600)"
	fail=$((fail + 1))
fi

# A run from a file gives the same flows as the same options on the command line.
printf 'read = %s\nstatistics = yes\nsplt = 4\ncsv = %s\n' "$tmp/demo.pcap" "$tmp/fromfile.csv" >"$tmp/run.conf"
"$probe" -f "$tmp/run.conf" 2>/dev/null
"$probe" -r "$tmp/demo.pcap" --statistics --splt 4 --csv "$tmp/fromcli.csv" 2>/dev/null
if [ ! -s "$tmp/fromfile.csv" ] || ! cmp -s "$tmp/fromfile.csv" "$tmp/fromcli.csv"; then
	echo "FAIL conf-run: flows from -f differ from the command line's"
	fail=$((fail + 1))
else
	pass=$((pass + 1))
fi

# on_pty OUT CMD...: run CMD on a pseudo-terminal (stdout and stderr both),
# everything it printed saved in OUT.
on_pty() {
	python3 - "$@" <<'EOF'
import os, pty, sys
out, cmd = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(cmd[0], cmd)
data = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
os.waitpid(pid, 0)
open(out, "wb").write(data)
EOF
}

# Progress bar: drawn on a terminal (a pseudo-terminal here), never otherwise.
on_pty "$tmp/pty.out" "$probe" -r "$tmp/demo.pcap" --csv /dev/null
if grep -q $'\r\\[' "$tmp/pty.out" && grep -q "packets/s" "$tmp/pty.out" &&
	grep -q "left" "$tmp/pty.out"; then
	pass=$((pass + 1))
else
	echo "FAIL progress-tty: no progress bar on a terminal: $(head -c 300 "$tmp/pty.out")"
	fail=$((fail + 1))
fi
# ... nor when the flows themselves go to that terminal (default --csv -).
on_pty "$tmp/pty2.out" "$probe" -r "$tmp/demo.pcap"
if ! grep -q $'\r\\[' "$tmp/pty2.out" && grep -q "bidirectional_packets" "$tmp/pty2.out"; then
	pass=$((pass + 1))
else
	echo "FAIL progress-csv-tty: progress bar drawn over flows on the terminal"
	fail=$((fail + 1))
fi
"$probe" -r "$tmp/demo.pcap" --csv /dev/null 2>"$tmp/notty.err"
if grep -q $'\r' "$tmp/notty.err"; then
	echo "FAIL progress-notty: progress bar written to a file"
	fail=$((fail + 1))
else
	pass=$((pass + 1))
fi

# The systemd unit parses (where systemd-analyze exists), with its binary
# path pointed at this build.
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|/usr/sbin/streamprobe|$(readlink -f "$probe")|g" "$conf_dir/streamprobe.service" >"$tmp/streamprobe.service"
	# verify also runs man for Documentation=man:...: the pages from src/man.
	mkdir -p "$tmp/man/man8" "$tmp/man/man5"
	cp "$src_dir/src/man/streamprobe.8" "$tmp/man/man8/"
	cp "$src_dir/src/man/streamprobe.conf.5" "$tmp/man/man5/"
	if MANPATH="$tmp/man" systemd-analyze verify "$tmp/streamprobe.service" >"$tmp/unit.err" 2>&1; then
		pass=$((pass + 1))
	else
		echo "FAIL systemd-unit: $(head -c 400 "$tmp/unit.err")"
		fail=$((fail + 1))
	fi
else
	echo "note: systemd-analyze not installed, unit file not verified"
fi

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
