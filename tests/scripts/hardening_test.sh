#!/usr/bin/env bash
# hardening_test.sh BINARY BUILD_TYPE - the executable carries the hardening
# CMakeLists.txt asks for, read from the ELF file itself (readelf):
#   PIE            ELF type DYN and DT_FLAGS_1 PIE
#   full RELRO     a GNU_RELRO segment and BIND_NOW (every symbol bound at load)
#   noexecstack    the GNU_STACK segment is not executable
#   canaries       __stack_chk_fail imported (-fstack-protector-strong)
#   FORTIFY        checked libc calls (__snprintf_chk ...) imported, in the
#                  optimised builds only: _FORTIFY_SOURCE needs the optimiser
set -uo pipefail
bin=${1:?usage: hardening_test.sh BINARY BUILD_TYPE}
type=${2:-}
pass=0 fail=0
ok() { pass=$((pass + 1)); }
failed() { echo "FAIL $bin: $*"; fail=$((fail + 1)); }
command -v readelf >/dev/null || { echo "readelf (binutils) is missing"; exit 1; }

readelf -hW "$bin" | grep -qE 'Type:[[:space:]]+DYN' && ok || failed "not position independent (ELF type is not DYN)"
readelf -dW "$bin" | grep -E 'FLAGS_1' | grep -qw PIE && ok || failed "DT_FLAGS_1 lacks PIE"
readelf -lW "$bin" | grep -q GNU_RELRO && ok || failed "no GNU_RELRO segment"
readelf -dW "$bin" | grep -qE 'BIND_NOW|FLAGS_1.*\bNOW\b' && ok || failed "no BIND_NOW: RELRO is partial"
stack=$(readelf -lW "$bin" | grep GNU_STACK)
if [ -z "$stack" ]; then
	failed "no GNU_STACK segment (the stack would be executable)"
elif grep -qE 'RWE|\bE\b' <<<"$stack"; then
	failed "executable stack: $stack"
else
	ok
fi
syms=$(readelf --dyn-syms -W "$bin")
grep -q '__stack_chk_fail' <<<"$syms" && ok || failed "no stack protector (__stack_chk_fail not imported)"
case $type in
RelWithDebInfo | Release | MinSizeRel)
	n=$(grep -oE '__[a-z]+_chk@' <<<"$syms" | sort -u | wc -l)
	[ "$n" -ge 3 ] && ok || failed "_FORTIFY_SOURCE: $n checked libc functions imported, expected several"
	;;
*) echo "$type build: _FORTIFY_SOURCE not checked (it needs an optimised build)" ;;
esac
echo "hardening: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
