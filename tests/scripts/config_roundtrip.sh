#!/usr/bin/env bash
# config_roundtrip.sh PROBE - what --check-config prints loads back (-f) to
# the same configuration, for every option in the probe's option table.
#
# Two configurations between them set every option to a value other than its
# default (one reads files, one is a daemon on an interface: the two are
# exclusive), with the values that are hard to write back: blanks at either
# end, double quotes, commas and backslashes in file names, "#" and "=".
# Each is printed (A), A is loaded and printed again (B): A and B must be
# equal, and A must show every value given.  A new option without a value
# here fails the test, so the round trip stays complete.
set -uo pipefail
probe=${1:?usage: config_roundtrip.sh PROBE}
src_dir=$(cd "$(dirname "$0")/../.." && pwd)
# --check-config loads plugins (not their init): the example built beside
# the probe (build/plugins/).
plugin=$(cd "$(dirname "$probe")" && pwd)/plugins/packet_with_666_size.so
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
failed() { echo "FAIL $*"; fail=$((fail + 1)); }

# KEY<TAB>VALUE: the value as given, and as the printed line must show it.
common=$(printf '%s\n' \
	"snaplen	2000" \
	"no-promisc	yes" \
	"buffer-size	4194304" \
	"immediate	yes" \
	"no-decode-tunnels	yes" \
	"idle-timeout	15" \
	"active-timeout	300" \
	"tcp-end	yes" \
	"accounting-mode	2" \
	"statistics	yes" \
	"splt	12" \
	"n-dissections	7" \
	"max-flows	5000" \
	"max-memory	512M" \
	"threads	3" \
	"template	nfstream" \
	"template-dir	$src_dir/templates" \
	"template-refresh	30" \
	"template-packets	5" \
	"mtu	9000" \
	"observation-domain	77" \
	"uniflow	yes" \
	"stats-interval	10" \
	"no-progress	yes" \
	"plugin	$plugin:a b,c" \
	"plugin-arg	packet_with_666_size.k=v = w")
files=$(printf '%s\n' \
	"read	$tmp/a\\,b.pcap" \
	"read	$tmp/q\"x\\y #=z.pcap" \
	"csv	$tmp/x y,z.csv" \
	"json	 $tmp/lead blank.json" \
	"export	ipfix+file://$tmp/out.ipfix")
live=$(printf '%s\n' \
	"interface	lo" \
	"bpf	\"tcp port 53\" " \
	"export	ipfix+udp://127.0.0.1:4739" \
	"export	nf9+udp://[::1]:2055" \
	"export	ipfix+tcp://localhost:4739" \
	"daemon	yes" \
	"pidfile	$tmp/p # =.pid" \
	"user	nobody")

# roundtrip NAME LINES: command line from LINES, print, load, print again.
roundtrip() {
	local name=$1 lines=$2 key value args=()
	while IFS=$'\t' read -r key value; do
		case $key in
		no-promisc | immediate | no-decode-tunnels | tcp-end | statistics | uniflow | no-progress | daemon)
			args+=("--$key") ;;
		*) args+=("--$key" "$value") ;;
		esac
	done <<<"$lines"
	if ! "$probe" "${args[@]}" --check-config >"$tmp/$name.a" 2>"$tmp/err"; then
		failed "$name: --check-config from the command line: $(head -c 300 "$tmp/err")"
		return
	fi
	if ! "$probe" -f "$tmp/$name.a" --check-config >"$tmp/$name.b" 2>"$tmp/err"; then
		failed "$name: the printed configuration does not load: $(head -c 300 "$tmp/err")"
		return
	fi
	if ! cmp -s "$tmp/$name.a" "$tmp/$name.b"; then
		failed "$name: loading the printed configuration changed it: $(diff "$tmp/$name.a" "$tmp/$name.b" | head -c 600)"
		return
	fi
	pass=$((pass + 1))
	# Each value as given, read back by the file's rules (config_load_file:
	# blanks trimmed, one pair of quotes removed; add_files: "\," and "\\").
	while IFS=$'\t' read -r key value; do
		case $key in
		no-promisc | immediate | no-decode-tunnels | tcp-end | statistics | uniflow | no-progress | daemon)
			value=yes ;;
		esac
		# plugin-arg NAME.KEY=VALUE prints as plugin.NAME.KEY = VALUE
		if [ "$key" = plugin-arg ]; then
			key=plugin.${value%%=*} value=${value#*=}
		fi
		python3 - "$tmp/$name.b" "$key" "$value" <<'EOF' || failed "$name: $key = \"$value\" not in the printed configuration"
import sys
path, key, want = sys.argv[1:]
if key == "read":
    want = want.replace("\\,", ",")
for line in open(path, encoding="utf-8"):
    if not line.startswith(key + " = "):
        continue
    v = line[len(key) + 3:].rstrip("\n").strip(" \t")
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        v = v[1:-1]
    if key == "read":
        out, i = "", 0
        while i < len(v):
            if v[i] == "\\" and i + 1 < len(v) and v[i + 1] in ",\\":
                i += 1
            out += v[i]
            i += 1
        v = out
    if v == want:
        sys.exit(0)
sys.exit(1)
EOF
	done <<<"$lines"
}
roundtrip files "$common
$files"
roundtrip live "$common
$live"

# Every option of the table has a value above, so nothing is left printed as
# "not set" or untested (the actions -f, --check-config, --help and
# --version have no value).
opts=$(sed -n 's/^\t{ "\([a-z0-9-]*\)",.*/\1/p' "$src_dir/src/app/config.c")
[ "$(echo "$opts" | wc -l)" -gt 30 ] || failed "cannot read the option table from src/app/config.c"
given=$(printf '%s\n%s\n%s\n' "$common" "$files" "$live" | cut -f1 | sort -u)
for o in $opts; do
	case $o in config | check-config | help | version) continue ;; esac
	grep -qx -- "$o" <<<"$given" || failed "option --$o has no value in this test"
done
grep -h "is not set" "$tmp/files.a" "$tmp/live.a" 2>/dev/null | grep -vE "^# (interface|bpf|pidfile|user|read) is not set" &&
	failed "an option printed as not set"

# Values that cannot be printed on one line are refused when given.
if "$probe" -i lo --bpf $'tcp\nport 53' --check-config >/dev/null 2>"$tmp/err" ||
	! grep -q "bpf: a value cannot contain a line break" "$tmp/err"; then
	failed "line break in a value: $(head -c 300 "$tmp/err")"
else
	pass=$((pass + 1))
fi
if "$probe" -i lo --bpf "$(head -c 5000 /dev/zero | tr '\0' x)" --check-config >/dev/null 2>"$tmp/err" ||
	! grep -q "bpf: value longer than 4096 bytes" "$tmp/err"; then
	failed "over-long value: $(head -c 300 "$tmp/err")"
else
	pass=$((pass + 1))
fi

echo "config_roundtrip: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
