#!/usr/bin/env bash
# plugin_asan_test.sh PROBE TEST_PLUGIN_DIR SHARED - sanitizer build only
# (tests/CMakeLists.txt registers it with STREAMPROBE_SANITIZE): a plugin
# that writes one byte past its declared state (bad_overflow.so) is caught
# by AddressSanitizer.  The probe hands each callback its state in a heap
# buffer of exactly state_size bytes in this build (src/plugin/plugin.c),
# so the write is a heap-buffer-overflow, reported and fatal.
set -uo pipefail
probe=${1:?usage: plugin_asan_test.sh PROBE TEST_PLUGIN_DIR SHARED}
tdir=${2:?}
cap=${3:?}/pcaps/443-curl.pcap
[ -r "$cap" ] || { echo "FAIL: $cap missing (shared test data)"; exit 1; }
err=$(mktemp)
trap 'rm -f "$err"' EXIT
"$probe" -r "$cap" --plugin "$tdir/bad_overflow.so" --csv /dev/null 2>"$err"
rc=$?
if [ "$rc" -ne 0 ] && grep -q "ERROR: AddressSanitizer: heap-buffer-overflow" "$err" &&
	grep -q "bad_plugin.c" "$err"; then
	echo "plugin_asan_overflow: caught (exit $rc)"
	exit 0
fi
echo "FAIL: a write past the plugin's state was not caught (exit $rc):"
head -20 "$err"
exit 1
