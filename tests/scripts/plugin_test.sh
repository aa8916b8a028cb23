#!/usr/bin/env bash
# plugin_test.sh PROBE PLUGIN_DIR TEST_PLUGIN_DIR SHARED - the plugin API
# end to end (README "Plugins").
#
#  1. packet_with_666_size on two dev captures with 666-byte frames: each
#     flow's udps.packet_with_666_size (CSV and JSON) equals tshark's count of
#     frames with frame.len == 666 of that flow (flows matched by their
#     unordered address/port pair and protocol; one flow per pair here).
#  2. The run with the plugin has exactly the flows and every other column of
#     the run without it; --threads 2 gives the same rows (ids aside).
#  3. IPFIX file, nfstream template: ipfixDump --rfc5610 names the element
#     udps_packet_with_666_size (type record) and its values sum to the CSV's;
#     NetFlow v9 (libfixbuf's collector) carries it under its v9 id;
#     gen_collectors --plugin writes a libfixbuf element file with which
#     ipfixDump (no --rfc5610) decodes it by name, value for value.
#  4. view_plugin (tests/plugins): TTL, TCP sequence number, payload bytes and
#     first payload byte equal tshark's on a one-flow capture, the mean raw
#     size equals the CSV's bytes/packets, ARGS and plugin.NAME.KEY reach
#     init; a volatile field is not exported; expire_at=10 ends the flow at
#     every 10th packet (expiration_id -1, IPFIX flowEndReason 3), the next
#     packet starting a new flow: 109 packets = 10 x 10 + 9 (by hand);
#     --threads 3 makes three instances (init, cleanup).
#  5. --check-config prints the plugin lines and reads them back.
#  6. Every bad plugin (tests/plugins/bad_plugin.c) exits 2 with one message
#     naming the plugin, and no output is written (nothing read).
set -uo pipefail
probe=${1:?usage: plugin_test.sh PROBE PLUGIN_DIR TEST_PLUGIN_DIR SHARED NF9COLLECT GEN_COLLECTORS [BUILD_TYPE]}
pdir=${2:?}
tdir=${3:?}
shared=${4:?}
nf9collect=${5:?}
gen_collectors=${6:?}
build_type=${7:-RelWithDebInfo}
pcaps=$shared/pcaps
for f in WebattackSQLinj.pcap wireguard.pcap 443-curl.pcap; do
	[ -r "$pcaps/$f" ] || { echo "FAIL: $pcaps/$f missing (shared test data)"; exit 1; }
done
command -v tshark >/dev/null || { echo "tshark not installed"; exit 77; }
command -v ipfixDump >/dev/null || { echo "ipfixDump not installed"; exit 77; }
tmp=$(mktemp -d)
nc_pid=
trap '[ -n "$nc_pid" ] && kill "$nc_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
failed() { echo "FAIL $*"; fail=$((fail + 1)); }
p666=$pdir/packet_with_666_size.so

# ---- 1, 2, 3: packet_with_666_size -----------------------------------------
for cap in WebattackSQLinj wireguard; do
	in=$pcaps/$cap.pcap
	"$probe" -r "$in" --csv "$tmp/$cap.0.csv" 2>"$tmp/err" ||
		{ failed "$cap: plain run: $(tail -3 "$tmp/err")"; continue; }
	"$probe" -r "$in" --plugin "$p666" --csv "$tmp/$cap.1.csv" \
		--json "$tmp/$cap.1.json" --template nfstream \
		--export "ipfix+file://$tmp/$cap.ipfix" 2>"$tmp/err" ||
		{ failed "$cap: plugin run: $(tail -3 "$tmp/err")"; continue; }
	"$probe" -r "$in" --plugin "$p666" --threads 2 --csv "$tmp/$cap.2.csv" \
		2>"$tmp/err" || { failed "$cap: --threads 2: $(tail -3 "$tmp/err")"; continue; }
	tshark -r "$in" -Y 'frame.len==666' -T fields -E separator=, \
		-e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e ip.proto \
		-e ipv6.nxt -e tcp.srcport -e udp.srcport -e tcp.dstport \
		-e udp.dstport >"$tmp/$cap.tshark" 2>/dev/null
	ipfixDump --rfc5610 --in "$tmp/$cap.ipfix" >"$tmp/$cap.dump" 2>&1
	if python3 - "$tmp/$cap" <<'EOF'; then ok; else failed "$cap: see above"; fi
import csv, json, sys
from collections import Counter
base = sys.argv[1]
col = "udps.packet_with_666_size"
r0 = list(csv.DictReader(open(base + ".0.csv")))
r1 = list(csv.DictReader(open(base + ".1.csv")))
r2 = list(csv.DictReader(open(base + ".2.csv")))
js = [json.loads(l) for l in open(base + ".1.json")]
bad = []
h0 = list(r0[0].keys())
h1 = list(r1[0].keys())
if h1 != h0 + [col]:
    bad.append("CSV header: the plugin column is not the last, after the built-in ones")
# 2: the same flows and other columns, in the same order
if [[r[k] for k in h0] for r in r1] != [[r[k] for k in h0] for r in r0]:
    bad.append("the plugin run's other columns differ from the plain run's")
key = lambda r: tuple(v for k, v in r.items() if k != "id")
if sorted(map(key, r2)) != sorted(map(key, r1)):
    bad.append("--threads 2 rows differ from --threads 1")
# 1: tshark's count per unordered (addresses, ports, protocol)
def fkey(a, b, pa, pb, proto):
    return (proto,) + tuple(sorted([(a, str(pa)), (b, str(pb))]))
want = Counter()
for line in open(base + ".tshark"):
    f = line.rstrip("\n").split(",")
    src = f[0] or f[1]; dst = f[2] or f[3]; proto = f[4] or f[5]
    sp = f[6] or f[7] or "0"; dp = f[8] or f[9] or "0"
    want[fkey(src, dst, sp, dp, proto)] += 1
got = Counter()
for r in r1:
    got[fkey(r["src_ip"], r["dst_ip"], r["src_port"], r["dst_port"], r["protocol"])] += int(r[col])
got = +got
if got != want:
    bad.append("udps counts %s, tshark %s" % (dict(got), dict(want)))
if sum(want.values()) == 0:
    bad.append("no 666-byte frame in the capture: the test proves nothing")
if [j.get(col) for j in js] != [int(r[col]) for r in r1]:
    bad.append("JSON udps values differ from CSV")
# 3: the IPFIX file names the element and carries the values
dump = open(base + ".dump").read()
if "informationElementName : (len: 25) udps_packet_with_666_size" not in dump:
    bad.append("ipfixDump: no RFC 5610 type record naming udps_packet_with_666_size")
if "informationElementDescription : (len: 35) packets whose raw size is 666 bytes" not in dump:
    bad.append("ipfixDump: the type record lacks the field's description")
vals = [int(l.rsplit(":", 1)[1]) for l in dump.splitlines()
        if "udps_packet_with_666_size :" in l]
if len(vals) != len(r1) or sum(vals) != sum(int(r[col]) for r in r1):
    bad.append("IPFIX values %s, CSV sum %d over %d flows" % (vals, sum(int(r[col]) for r in r1), len(r1)))
for b in bad:
    print(base, b)
print(base, "666-byte frames:", sum(want.values()), "flows:", len(r1))
sys.exit(1 if bad else 0)
EOF
done

# ---- 3c: a template file of one's own naming a plugin column ------------------
# flowId and udps.packet_with_666_size (reduced to 4 bytes) as ENT:3001: the
# values by flow id equal the CSV's; nothing else of the plugin is appended
# (only the nfstream template gets plugin fields by itself).
printf 'enterprise 32473\nid flowId 148 unsigned64\nudps.packet_with_666_size my666Count ENT:3001 unsigned64 4\n' >"$tmp/own.tmpl"
if "$probe" -r "$pcaps/WebattackSQLinj.pcap" --plugin "$p666" --template "$tmp/own.tmpl" \
	--export "ipfix+file://$tmp/own.ipfix" --csv "$tmp/own.csv" 2>"$tmp/err" &&
	ipfixDump --rfc5610 --in "$tmp/own.ipfix" >"$tmp/own.dump" 2>&1 &&
	python3 - "$tmp" <<'EOF'; then ok; else failed "own template naming udps.packet_with_666_size: $(tail -2 "$tmp/err")"; fi
import csv, re, sys
d = sys.argv[1]
want = {r["id"]: r["udps.packet_with_666_size"] for r in csv.DictReader(open(d + "/own.csv"))}
dump = open(d + "/own.dump").read()
got, fid = {}, None
for line in dump.splitlines():
    m = re.search(r"flowId : (\d+)", line)
    if m:
        fid = m.group(1)
    m = re.search(r"my666Count : (\d+)", line)
    if m:
        got[fid] = m.group(1)
ok = got == want and "udps_packet_with_666_size" not in dump and \
    "32473  id:  3001  type: uint64    len:     4     my666Count" in dump
if not ok:
    print("own template: got %s, CSV %s" % (got, want))
sys.exit(0 if ok else 1)
EOF

# ---- 3a: collector files from gen_collectors --plugin ------------------------
if "$gen_collectors" --plugin "$p666" "$(dirname "$0")/../../templates" "$tmp/gc" 2>"$tmp/err" &&
	ipfixDump --element-file "$tmp/gc/libfixbuf/streamprobe.xml" \
		--in "$tmp/wireguard.ipfix" >"$tmp/gc.dump" 2>&1; then
	got=$(sed -n 's/.*(32473\/3001) *udps_packet_with_666_size : //p' "$tmp/gc.dump" | sort | tr '\n' ' ')
	want=$(python3 -c 'import csv,sys; print(" ".join(sorted(r["udps.packet_with_666_size"] for r in csv.DictReader(open(sys.argv[1])))))' "$tmp/wireguard.1.csv")
	if [ "$got" = "$want " ] && grep -q "^| udps.packet_with_666_size | udps_packet_with_666_size | 32473:3001 | unsigned64 | 40666 | nfstream |" "$tmp/gc/FIELDS.md"; then
		ok
	else
		failed "gen_collectors --plugin: ipfixDump with its element file shows \"$got\", CSV \"$want\""
	fi
else
	failed "gen_collectors --plugin: $(tail -2 "$tmp/err")"
fi

# ---- 3b: NetFlow v9 (libfixbuf's translator, tests/nf9collect) ------------
# packet_with_666_size declares v9 id 40666: appended after the nfstream
# template's fields, it is the last field of a record that nf9collect names
# ciscoNetflowGeneric (libfixbuf's name for v9 ids it does not know, as the
# template's ENT fields before it); its values must be the CSV's.  view_plugin's fields
# without a v9 id are left out, named in the exporter's start-up line.
if [ -x "$nf9collect" ]; then
	port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$nf9collect" "$port" 60 "$tmp/nf9.tsv" 2>"$tmp/nc.err" &
	nc_pid=$!
	for _ in $(seq 100); do grep -q "listening on" "$tmp/nc.err" && break; sleep 0.1; done
	cap=$pcaps/WebattackSQLinj.pcap
	"$probe" -r "$cap" --plugin "$p666" --plugin "$tdir/view_plugin.so" \
		--template nfstream --export "nf9+udp://127.0.0.1:$port" \
		--csv "$tmp/nf9.csv" 2>"$tmp/nf9.err"
	rc=$?
	flows=$(($(wc -l <"$tmp/nf9.csv") - 1))
	# Wait (at most 10 s) for every flow record on loopback, then stop.
	for _ in $(seq 100); do
		[ "$(grep -c ciscoNetflowGeneric "$tmp/nf9.tsv" 2>/dev/null)" -ge "$flows" ] && break
		sleep 0.1
	done
	kill -TERM "$nc_pid" 2>/dev/null; wait "$nc_pid" 2>/dev/null; nc_pid=
	if [ "$rc" -eq 0 ] && grep -q "template fields have no NetFlow v9 id and are left out: .*udps.first_ttl" "$tmp/nf9.err" &&
		python3 - "$tmp" <<'EOF'; then ok; else failed "NetFlow v9: exit $rc: $(grep -i v9 "$tmp/nf9.err" | head -2)"; fi
import csv, sys
d = sys.argv[1]
want = sorted(r["udps.packet_with_666_size"] for r in csv.DictReader(open(d + "/nf9.csv")))
got = []
for line in open(d + "/nf9.tsv"):
    f = line.rstrip("\n").split("\t")
    gen = [x for x in f[1:] if x.startswith("ciscoNetflowGeneric")]
    if gen:
        got.append(gen[-1].partition("=")[2])
got.sort()
if got != want:
    print("v9 values %s, CSV %s" % (got, want))
    sys.exit(1)
EOF
else
	failed "NetFlow v9: $nf9collect not built"
fi

# ---- 4: what a plugin sees; arguments; volatile; early expiry ---------------
view=$tdir/view_plugin.so
curl=$pcaps/443-curl.pcap
if "$probe" -r "$curl" --plugin "$view:hello" --plugin-arg view.tag=blue \
	--csv "$tmp/view.csv" 2>"$tmp/err" &&
	"$probe" -r "$curl" --plugin "$view" --plugin-arg view.expire_at=10 \
	--csv "$tmp/exp.csv" --template nfstream \
	--export "ipfix+file://$tmp/exp.ipfix" 2>"$tmp/err"; then
	tshark -r "$curl" -T fields -E separator=, -e ip.ttl -e tcp.seq_raw \
		-e tcp.len -e tcp.payload >"$tmp/view.tshark" 2>/dev/null
	ipfixDump --in "$tmp/exp.ipfix" >"$tmp/exp.dump" 2>&1
	grep -q "^streamprobe: flows: 10 ended early by plugins (expiration_id -1)$" "$tmp/err" && ok ||
		failed "early expiry: the summary does not count 10 flows ended by plugins"
	if python3 - "$tmp" <<'EOF'; then ok; else failed "view plugin: see above"; fi
import csv, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/view.csv")))
pk = [l.rstrip("\n").split(",") for l in open(d + "/view.tshark")]
bad = []
if len(rows) != 1:
    bad.append("443-curl: %d flows, want 1" % len(rows))
r = rows[0]
first_payload = next((int(p[3][:2], 16) for p in pk if int(p[2] or 0) > 0), -1)
checks = {
    "udps.first_ttl": int(pk[0][0]),
    "udps.first_tcp_seq": int(pk[0][1]),
    "udps.payload_bytes": sum(int(p[2] or 0) for p in pk),
    "udps.first_payload_byte": first_payload,
    "udps.args": "hello|blue",
}
for k, v in checks.items():
    if r.get(k) != str(v):
        bad.append("%s = %r, tshark/hand %r" % (k, r.get(k), str(v)))
mean = int(r["bidirectional_bytes"]) / int(r["bidirectional_packets"])
if abs(float(r["udps.mean_raw_size"]) - mean) > 1e-9 * mean:
    bad.append("udps.mean_raw_size %s, CSV bytes/packets %r" % (r["udps.mean_raw_size"], mean))
if "udps.seen" in r:
    bad.append("the volatile field udps.seen is exported")
# expire_at=10: 109 packets -> 10 flows of 10 (expiration_id -1), then 9
ex = list(csv.DictReader(open(d + "/exp.csv")))
got = [(int(x["bidirectional_packets"]), x["expiration_id"]) for x in ex]
want = [(10, "-1")] * 10 + [(9, "0")]
if got != want:
    bad.append("early expiry: (packets, expiration_id) %s, want %s" % (got, want))
reasons = [l.rsplit(":", 1)[1].strip() for l in open(d + "/exp.dump")
           if "flowEndReason :" in l]
if sorted(reasons) != sorted(["3"] * 10 + ["4"]):
    bad.append("early expiry: IPFIX flowEndReason %s, want ten 3 and one 4" % reasons)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF
else
	failed "view plugin run: $(tail -3 "$tmp/err")"
fi

# One instance per meter: --threads 3 calls init() three times, and each
# instance's cleanup() at exit.
"$probe" -r "$curl" --threads 3 --plugin "$view" --plugin-arg view.announce=1 \
	--csv /dev/null >/dev/null 2>"$tmp/err"
if [ "$(grep -c '^view: init [123]$' "$tmp/err")" -eq 3 ] &&
	[ "$(grep -c '^view: cleanup [123]$' "$tmp/err")" -eq 3 ] &&
	! grep -q "^view: init 4" "$tmp/err"; then
	ok
else
	failed "--threads 3: want init and cleanup 3 times: $(grep '^view:' "$tmp/err" | tr '\n' ' ')"
fi

# ---- 5: configuration file and --check-config --------------------------------
printf 'read = %s\nplugin = %s:hello\nplugin.view.tag = blue\n' "$curl" "$view" >"$tmp/a.conf"
if "$probe" -f "$tmp/a.conf" --check-config >"$tmp/a.out" 2>"$tmp/err" &&
	grep -qx "plugin = $view:hello" "$tmp/a.out" &&
	grep -qx "plugin.view.tag = blue" "$tmp/a.out" &&
	"$probe" -f "$tmp/a.out" --check-config >"$tmp/b.out" 2>>"$tmp/err" &&
	cmp -s "$tmp/a.out" "$tmp/b.out" &&
	"$probe" -f "$tmp/a.conf" --csv "$tmp/conf.csv" 2>>"$tmp/err" &&
	head -1 "$tmp/conf.csv" | grep -q "udps.args" &&
	grep -q '"hello|blue"' "$tmp/conf.csv"; then
	ok
else
	failed "configuration file: $(tail -3 "$tmp/err"; cat "$tmp/a.out" 2>/dev/null | grep plugin)"
fi

# ---- 6: bad plugins: exit 2, one message naming the plugin, nothing written --
echo "not an ELF file" >"$tmp/text.so"
bad_case() {	# NAME EXPECTED-MESSAGE PLUGIN-OPTIONS...
	local name=$1 want=$2 rc
	shift 2
	rm -f "$tmp/bad.csv"
	"$probe" -r "$curl" "$@" --csv "$tmp/bad.csv" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq 2 ] && grep -qF -- "$want" "$tmp/err" &&
		[ "$(wc -l <"$tmp/err")" -eq 1 ] && [ ! -s "$tmp/bad.csv" ]; then
		ok
	else
		failed "bad plugin $name: exit $rc, want 2 and one line with \"$want\": $(head -c 400 "$tmp/err")"
	fi
}
bad_case missing "plugin $tmp/nope.so: No such file or directory" --plugin "$tmp/nope.so"
bad_case not_elf "plugin $tmp/text.so: not a loadable shared object" --plugin "$tmp/text.so"
bad_case no_symbol "no streamprobe_plugin symbol: not a streamprobe plugin" --plugin "$tdir/bad_nosymbol.so"
bad_case version "built for plugin API version 2, this probe has API version 1" --plugin "$tdir/bad_version.so"
bad_case sizes "are not this probe's (API version 1:" --plugin "$tdir/bad_sizes.so"
bad_case dup_field "plugin bad_plugin: field twice declared twice" --plugin "$tdir/bad_dup_field.so"
bad_case dup_across "plugin dup_across: field first_ttl declared twice (also by plugin view)" \
	--plugin "$view" --plugin "$tdir/bad_dup_across.so"
bad_case same_name "plugin view ($view): a plugin of that name is already loaded" --plugin "$view" --plugin "$view"
bad_case builtin "plugin bad_plugin: field bidirectional_packets has the name of a built-in column" --plugin "$tdir/bad_builtin.so"
bad_case field_name "plugin bad_plugin: field 0's name \"Bad-Name\" is not [a-z0-9_]" --plugin "$tdir/bad_field_name.so"
bad_case type "plugin bad_plugin: field what: unknown type 9" --plugin "$tdir/bad_type.so"
bad_case string_size "plugin bad_plugin: field text: string size 300" --plugin "$tdir/bad_string_size.so"
bad_case dup_element "plugin dup_element_b: field elem_b: IPFIX element 32473:3000 is already field elem_a of plugin bad_plugin" \
	--plugin "$tdir/bad_dup_element.so" --plugin "$tdir/bad_dup_element_b.so"
bad_case template_element "plugin bad_plugin: field udps_clash is element 32473:1001, which template" \
	--plugin "$tdir/bad_template_element.so" --template nfstream --export "ipfix+file://$tmp/bad.ipfix"
bad_case state_size "plugin bad_plugin: state_size 5000 (0..4096)" --plugin "$tdir/bad_state_size.so"
bad_case state_align "plugin bad_plugin: state_align 3 (1, 2, 4 or 8)" --plugin "$tdir/bad_state_align.so"
bad_case init "plugin bad_plugin: init failed: model file /nonexistent/weights.txt: cannot open" --plugin "$tdir/bad_init.so"
bad_case unknown_arg "plugin argument nobody.k: no plugin named \"nobody\" is loaded" --plugin "$view" --plugin-arg nobody.k=1
[ ! -e "$tmp/bad.ipfix" ] || failed "bad plugin template_element: the IPFIX file was created"

# A plugin that asks to end a flow twice: named; a debug or sanitizer build
# aborts there (rc 134), a release build warns and ends the flow once.
"$probe" -r "$curl" --plugin "$tdir/bad_expire_twice.so" --csv "$tmp/twice.csv" >/dev/null 2>"$tmp/err"
rc=$?
case $build_type in Release | RelWithDebInfo | MinSizeRel) want_rc=0 ;; *) want_rc=134 ;; esac
if grep -qF "plugin bad_plugin: sp_expire() called twice for one flow (a plugin bug)" "$tmp/err" &&
	[ "$rc" -eq "$want_rc" ]; then
	ok
else
	failed "expire twice: exit $rc (want $want_rc, $build_type build): $(head -c 400 "$tmp/err")"
fi

echo "plugin_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
