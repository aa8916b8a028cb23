#!/usr/bin/env bash
# collectors_generated.sh GEN_COLLECTORS SOURCE_DIR - the committed decoder
# files (conf/collectors/) are what gen_collectors writes from templates/
# now; a difference means someone changed a template without regenerating
# (cmake --build build --target collectors) or edited a generated file.
set -euo pipefail
gen=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$gen" "$src/templates" "$work/collectors"
if ! diff -r -u "$src/conf/collectors" "$work/collectors" >"$work/diff"; then
	head -60 "$work/diff"
	echo "FAIL conf/collectors is stale: run cmake --build build --target collectors"
	exit 1
fi
echo "ok   conf/collectors matches templates/ ($(find "$work/collectors" -type f | wc -l) files)"
