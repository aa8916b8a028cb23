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
check export-bad-url 2 "expected ipfix" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+udp://nohost
check export-bad-scheme 2 "expected ipfix" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+sctp://127.0.0.1:4739
check export-bad-port 2 "expected ipfix" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+udp://127.0.0.1:70000
check export-unresolvable 2 "cannot resolve collector" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+udp://no.such.host.invalid:4739
check export-unknown-template 2 "unknown template \"nosuch\"" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/x.ipfix" --template nosuch
printf 'enterprise 32473\nsrc_ip sourceIPv4Address 8 ipv4Address\nbogus_col x ENT:1 unsigned8\n' >"$tmp/t1.tmpl"
printf 'src_ip sourceIPv4Address 8 ipv4Address\nsrc_port sourceTransportPort 7 float64\n' >"$tmp/t2.tmpl"
printf 'src_ip sourceIPv4Address 8 ipv4Address\nsrc_port x 29305:999 unsigned16\n' >"$tmp/t3.tmpl"
printf 'src_ip sourceIPv4Address 8 ipv4Address\napplication_name x ENT:1 string 10\n' >"$tmp/t4.tmpl"
check template-unknown-column 2 "t1.tmpl line 3: unknown column \"bogus_col\"" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/x.ipfix" --template "$tmp/t1.tmpl"
check template-wrong-type 2 "t2.tmpl line 2: element 7 is unsigned16, not float64" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/x.ipfix" --template "$tmp/t2.tmpl"
check template-unknown-element 2 "t3.tmpl line 2: reverse element 999 is not a known IANA element" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/x.ipfix" --template "$tmp/t3.tmpl"
check template-ent-before-enterprise 2 "t4.tmpl line 2: ENT used before" -- "$probe" -r "$tmp/demo.pcap" --export ipfix+file://"$tmp/x.ipfix" --template "$tmp/t4.tmpl"
check udp-record-too-big 2 "records can reach" -- "$probe" -r "$tmp/demo.pcap" --statistics --splt 255 --template nfstream --export ipfix+udp://127.0.0.1:4739
check template-refresh-0 2 "template-refresh" -- "$probe" -r "$tmp/demo.pcap" --template-refresh 0

# NetFlow v9: no TCP (no length in the header), packet size bounds.
check nf9-tcp 2 "NetFlow v9 over TCP is not offered" -- "$probe" -r "$tmp/demo.pcap" --export nf9+tcp://127.0.0.1:2055
check nf9-mtu-small 2 "mtu" -- "$probe" -r "$tmp/demo.pcap" --export nf9+udp://127.0.0.1:2055 --mtu 100
printf 'src_ip sourceIPv4Address 8 ipv4Address\nuser_agent httpUserAgent 468 string 1200\n' >"$tmp/t5.tmpl"
check nf9-record-too-big 2 "do not fit a 600-byte packet" -- "$probe" -r "$tmp/demo.pcap" --export nf9+udp://127.0.0.1:2055 --mtu 600 --template "$tmp/t5.tmpl"
printf 'enterprise 32473\nsrc_ip x ENT:1 ipv4Address\n' >"$tmp/t6.tmpl"
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

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
