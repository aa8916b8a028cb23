#!/usr/bin/env bash
# package_test.sh BUILD_DIR MAKE_DEMO_PCAP - the .deb, as a user meets it
# (root, dpkg; CI runs it as root on a fresh Debian 12).
#
#  - cpack -G DEB builds it from this build tree: section net, a maintainer,
#    Depends naming the Debian packages that own the libraries the binary
#    links (found here with dpkg -S, not written down), the configuration a
#    conffile, and exactly the expected files (templates, and the decoder
#    files when conf/collectors/ exists, from the source tree).
#  - apt-get install ./streamprobe_*.deb; from PATH: --version is the
#    package's version, --help names /usr/share/streamprobe/templates, an
#    IPFIX export of the demo capture with the installed templates decodes
#    with ipfixDump to the flows of the CSV of the same run, the installed
#    /etc/streamprobe/streamprobe.conf passes --check-config; man streamprobe
#    and man 5 streamprobe.conf render without a warning; the installed unit
#    names the installed binary and configuration, passes systemd-analyze
#    verify (where systemd is installed) and its ExecStartPre succeeds.
#  - apt-get purge at the end (also on failure): the files are gone and any
#    package apt pulled in is purged, so the machine is left as found.
set -uo pipefail
build=${1:?usage: package_test.sh BUILD_DIR MAKE_DEMO_PCAP}
make_demo=${2:?usage: package_test.sh BUILD_DIR MAKE_DEMO_PCAP}
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "installing a package needs root: skipped"
	exit 77
fi
for t in dpkg dpkg-deb dpkg-query apt-get; do
	command -v "$t" >/dev/null || { echo "no $t (not a Debian system): skipped"; exit 77; }
done
command -v dpkg-shlibdeps >/dev/null ||
	{ echo "FAIL: dpkg-shlibdeps missing (dpkg-dev; tests/scripts/setup.sh installs it)"; exit 1; }
if dpkg-query -W -f='${Status}' streamprobe 2>/dev/null | grep -q "ok installed"; then
	echo "a streamprobe package is already installed here; not replacing it: skipped"
	exit 77
fi
build=$(cd "$build" && pwd)
tmp=$(mktemp -d)
chmod 755 "$tmp"	# apt reads the .deb as user _apt
installed=0
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
apt() { apt-get -q -y -o DPkg::Lock::Timeout=120 "$@"; }
dpkg-query -W -f='${Package}\n' | sort >"$tmp/before.pkgs"
purge() {
	apt purge streamprobe >"$tmp/purge.log" 2>&1 || dpkg --purge streamprobe >>"$tmp/purge.log" 2>&1
	dpkg-query -W -f='${Package}\n' | sort >"$tmp/after.pkgs"
	# Whatever apt installed for the package goes too.
	comm -13 "$tmp/before.pkgs" "$tmp/after.pkgs" >"$tmp/new.pkgs"
	[ -s "$tmp/new.pkgs" ] && apt purge $(cat "$tmp/new.pkgs") >>"$tmp/purge.log" 2>&1
	installed=0
}
cleanup() {
	[ "$installed" = 1 ] && purge
	rm -rf "$tmp"
}
trap cleanup EXIT
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
unset STREAMPROBE_TEMPLATE_DIR
export MANWIDTH=80

# ---- build the package -------------------------------------------------------
if ! (cd "$tmp" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg") >"$tmp/cpack.log" 2>&1; then
	echo "FAIL cpack: $(tail -20 "$tmp/cpack.log")"
	exit 1
fi
debs=("$tmp"/pkg/streamprobe_*.deb)
[ "${#debs[@]}" -eq 1 ] && [ -f "${debs[0]}" ] || { echo "FAIL cpack: no single .deb in $tmp/pkg"; exit 1; }
deb=${debs[0]}
field() { dpkg-deb -f "$deb" "$1"; }
version=$(field Version)
[ "$(field Package)" = streamprobe ] && [ "$(field Section)" = net ] &&
	[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] &&
	field Maintainer | grep -qE '^[^<]+ <[^>]+@[^>]+>$' &&
	[ "$(basename "$deb")" = "streamprobe_${version}_$(dpkg --print-architecture).deb" ] && ok ||
	bad "control: $(dpkg-deb -f "$deb" Package Version Section Architecture Maintainer | tr '\n' ' ')"
# Depends: the package owning every library the binary links (dpkg -S).
for lib in libpcap libndpi libfixbuf; do
	path=$(ldd "$build/streamprobe" | awk -v l="$lib" '$1 ~ "^" l "\\.so" { print $3 }')
	owner=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
	[ -z "$owner" ] && owner=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
	if [ -n "$owner" ] && field Depends | tr ',' '\n' | grep -qE "^ *$owner( |$)"; then ok; else
		bad "depends: $lib ($path, package '$owner') not in Depends: $(field Depends)"; fi
done
dpkg-deb -I "$deb" conffiles >"$tmp/conffiles" 2>/dev/null
[ "$(cat "$tmp/conffiles")" = "/etc/streamprobe/streamprobe.conf
/etc/streamprobe/early_classification.model" ] && ok ||
	bad "conffiles: '$(cat "$tmp/conffiles")'"

# The files, exactly: what the layout in CMakeLists.txt promises.
{
	echo /usr/sbin/streamprobe
	echo /usr/include/streamprobe/plugin.h
	for p in "$src"/plugins/*.c; do echo "/usr/lib/streamprobe/plugins/$(basename "$p" .c).so"; done
	for t in "$src"/templates/*.tmpl; do echo "/usr/share/streamprobe/templates/$(basename "$t")"; done
	if [ -d "$src/conf/collectors" ]; then
		(cd "$src/conf/collectors" && find . -type f | sed 's|^\./|/usr/share/streamprobe/collectors/|')
	fi
	echo /etc/streamprobe/streamprobe.conf
	echo /etc/streamprobe/early_classification.model
	echo /lib/systemd/system/streamprobe.service
	for f in README.md LICENSE copyright examples/streamprobe.conf; do echo "/usr/share/doc/streamprobe/$f"; done
	echo /usr/share/man/man8/streamprobe.8.gz
	echo /usr/share/man/man5/streamprobe.conf.5.gz
} | sort >"$tmp/expected.files"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\.||' | sort >"$tmp/deb.files"
if cmp -s "$tmp/expected.files" "$tmp/deb.files"; then ok; else
	bad "contents differ (< expected, > in the .deb): $(diff "$tmp/expected.files" "$tmp/deb.files" | grep '^[<>]' | tr '\n' ' ')"; fi
mkdir "$tmp/x" && dpkg-deb -x "$deb" "$tmp/x"
for page in man8/streamprobe.8 man5/streamprobe.conf.5; do
	if zcat "$tmp/x/usr/share/man/$page.gz" | cmp -s - "$src/src/man/$(basename "$page")"; then ok; else
		bad "man page $page.gz is not src/man/$(basename "$page") gzipped"; fi
done
grep -q "^License: BSD-3-Clause" "$tmp/x/usr/share/doc/streamprobe/copyright" &&
	grep -q "^ Redistribution and use in source and binary forms" "$tmp/x/usr/share/doc/streamprobe/copyright" && ok ||
	bad "copyright: not a machine-readable BSD-3-Clause copyright file"

# ---- install it ----------------------------------------------------------------
installed=1
if ! apt install --no-install-recommends "$deb" >"$tmp/install.log" 2>&1; then
	echo "FAIL apt-get install: $(tail -20 "$tmp/install.log")"
	exit 1
fi
dpkg-query -W -f='${Status} ${Version}' streamprobe 2>/dev/null | grep -qx "install ok installed $version" && ok ||
	bad "not installed: $(dpkg-query -W -f='${Status} ${Version}' streamprobe 2>&1)"
dpkg -L streamprobe | sort >"$tmp/listed"
# dpkg may be told to leave out documentation (path-exclude, as in slim
# container images): those files may be absent from the disk then.
excludes=$(grep -rhs '^path-exclude' /etc/dpkg/dpkg.cfg.d/ | awk '{print $2}')
while read -r f; do
	grep -qxF "$f" "$tmp/listed" || { bad "dpkg -L does not list $f"; continue; }
	[ -f "$f" ] && continue
	excluded=0
	for e in $excludes; do
		# shellcheck disable=SC2053
		[[ $f == $e ]] && excluded=1
	done
	[ "$excluded" = 1 ] && echo "note: $f left out by dpkg's path-exclude" || bad "$f not on disk"
done <"$tmp/expected.files"

[ "$(command -v streamprobe)" = /usr/sbin/streamprobe ] && ok ||
	bad "streamprobe on PATH is '$(command -v streamprobe)', not /usr/sbin/streamprobe"
out=$(streamprobe --version 2>&1)
[[ $out == "streamprobe $version (nDPI "* ]] && ok || bad "--version: '$out', expected streamprobe $version"
streamprobe --help 2>&1 | grep -qx "Templates: /usr/share/streamprobe/templates" && ok ||
	bad "--help: template directory is not the installed one: $(streamprobe --help 2>&1 | grep Templates)"

# An export from PATH, from another directory, with the installed templates.
"$make_demo" "$tmp/demo.pcap" >/dev/null || { echo "FAIL: cannot make the demo capture"; exit 1; }
if (cd / && streamprobe -r "$tmp/demo.pcap" --export "ipfix+file://$tmp/out.ipfix" \
	--csv "$tmp/out.csv") >"$tmp/run.log" 2>&1; then ok; else
	bad "export: $(tail -5 "$tmp/run.log")"; fi
# The flows in the IPFIX file are the CSV's: source port and forward packets.
ipfixDump --in "$tmp/out.ipfix" >"$tmp/out.dump" 2>&1
awk '/sourceTransportPort :/ { p = $NF } /packetDeltaCount :/ && !/reverse/ { print p, $NF }' \
	"$tmp/out.dump" | sort >"$tmp/dump.flows"
python3 - "$tmp/out.csv" <<'PY' | sort >"$tmp/csv.flows"
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    print(r["src_port"], r["src2dst_packets"])
PY
if [ -s "$tmp/csv.flows" ] && cmp -s "$tmp/csv.flows" "$tmp/dump.flows"; then ok; else
	bad "ipfixDump of the installed probe's export differs from its CSV: $(diff "$tmp/csv.flows" "$tmp/dump.flows" | head -5 | tr '\n' ' ')"; fi
# Plugins: the installed example loads; one built outside the project with
# the installed header (README "Plugins": cc ... -shared -fPIC) loads too.
plug=/usr/lib/streamprobe/plugins/packet_with_666_size.so
if streamprobe -r "$tmp/demo.pcap" --plugin "$plug" --csv "$tmp/p.csv" >/dev/null 2>"$tmp/p.err" &&
	head -1 "$tmp/p.csv" | grep -q ',udps.packet_with_666_size$' &&
	cc -std=c11 -shared -fPIC -o "$tmp/own.so" "$src/plugins/packet_with_666_size.c" 2>"$tmp/p.err" &&
	streamprobe -r "$tmp/demo.pcap" --plugin "$tmp/own.so" --csv "$tmp/own.csv" >/dev/null 2>"$tmp/p.err" &&
	cmp -s "$tmp/p.csv" "$tmp/own.csv"; then ok; else
	bad "plugins: $(head -c 300 "$tmp/p.err")"; fi
# The early-classification example with its installed model (no argument:
# the plugin's default path, /etc/streamprobe/early_classification.model).
if streamprobe -r "$tmp/demo.pcap" --csv "$tmp/e.csv" \
	--plugin /usr/lib/streamprobe/plugins/early_classification.so >/dev/null 2>"$tmp/e.err" &&
	head -1 "$tmp/e.csv" | grep -q ',udps.model_prediction,udps.model_probability$'; then ok; else
	bad "early_classification with the installed model: $(head -c 300 "$tmp/e.err")"; fi
for t in "$src"/templates/*.tmpl; do
	name=$(basename "$t" .tmpl)
	streamprobe -r "$tmp/demo.pcap" --template "$name" --export ipfix+udp://127.0.0.1:4739 \
		--check-config >/dev/null 2>"$tmp/check.err" && ok ||
		bad "--check-config --template $name with the installed templates: $(cat "$tmp/check.err")"
done
if streamprobe -f /etc/streamprobe/streamprobe.conf --check-config >"$tmp/conf.out" 2>&1 &&
	grep -qx "# template-dir = /usr/share/streamprobe/templates (built in)" "$tmp/conf.out"; then ok; else
	bad "installed configuration: $(grep -v '^[a-z]' "$tmp/conf.out" | head -5)"; fi

# ---- manual pages ----------------------------------------------------------------
for page in "8 streamprobe" "5 streamprobe.conf"; do
	set -- $page
	if [ -f "/usr/share/man/man$1/$2.$1.gz" ]; then
		man -P cat --warnings "$1" "$2" >"$tmp/man.out" 2>"$tmp/man.err"
	else	# left out by path-exclude: the package's copy
		man -P cat --warnings -l "$tmp/x/usr/share/man/man$1/$2.$1.gz" >"$tmp/man.out" 2>"$tmp/man.err"
	fi
	rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s "$tmp/man.err" ] && grep -q -- "template-dir" "$tmp/man.out" &&
		grep -q "STREAMPROBE_TEMPLATE_DIR" "$tmp/man.out"; then ok; else
		bad "man $1 $2: exit $rc, warnings: $(head -c 300 "$tmp/man.err")"; fi
done

# ---- the systemd unit --------------------------------------------------------------
unit=/lib/systemd/system/streamprobe.service
grep -qx "ExecStart=/usr/sbin/streamprobe -f /etc/streamprobe/streamprobe.conf -D --pidfile /run/streamprobe/streamprobe.pid" "$unit" &&
	grep -qx "ExecStartPre=/usr/sbin/streamprobe -f /etc/streamprobe/streamprobe.conf --check-config" "$unit" && ok ||
	bad "unit: $(grep ^Exec "$unit" | tr '\n' ' ')"
pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
$pre >/dev/null 2>"$tmp/pre.err" && ok || bad "ExecStartPre ($pre): $(cat "$tmp/pre.err")"
if command -v systemd-analyze >/dev/null 2>&1; then
	if systemd-analyze verify "$unit" >"$tmp/unit.err" 2>&1; then ok; else
		bad "systemd-analyze verify $unit: $(head -c 400 "$tmp/unit.err")"; fi
else
	echo "note: systemd-analyze not installed, unit file not verified"
fi

# ---- remove it ----------------------------------------------------------------------
purge
if dpkg-query -W -f='${Status}' streamprobe 2>/dev/null | grep -q "ok installed" ||
	[ -e /usr/sbin/streamprobe ] || [ -e /etc/streamprobe ] || [ -e /usr/share/streamprobe ] ||
	[ -e "$unit" ]; then
	bad "purge left files behind: $(tail -5 "$tmp/purge.log")"
else
	ok
fi
[ -s "$tmp/new.pkgs" ] && echo "note: purged the packages apt installed for it: $(tr '\n' ' ' <"$tmp/new.pkgs")"

echo "package: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
