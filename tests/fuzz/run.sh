#!/usr/bin/env bash
# run.sh SECONDS [BUILD_DIR] - build the fuzz harnesses (clang,
# -DSTREAMPROBE_FUZZ=ON; default BUILD_DIR: build-fuzz), make their seed
# corpora (make_corpus.sh, once per build dir) and run each harness for
# SECONDS with libFuzzer; print executions, exec/s and coverage per harness.
# Exits 1 if any harness found a crash, a leak, a timeout or ran out of
# memory; the input is kept in BUILD_DIR/fuzz-artifacts/HARNESS/.
#
# Environment: FUZZ_HARNESSES (default "decode template config nf9 meter"),
# FUZZ_JOBS (harnesses run at once, default 1; .ci/run uses 2),
# FUZZ_NICE (nice level, default 0), FUZZ_ARGS (more libFuzzer options).
# Corpora grow in BUILD_DIR/fuzz-corpus/HARNESS across runs; logs are in
# BUILD_DIR/fuzz-logs/.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:?usage: run.sh SECONDS [BUILD_DIR]}
bdir=${2:-$top/build-fuzz}
mkdir -p "$bdir"
bdir=$(cd "$bdir" && pwd)
harnesses=${FUZZ_HARNESSES:-decode template config nf9 meter}
jobs=${FUZZ_JOBS:-1}
nice_level=${FUZZ_NICE:-0}

if ! command -v clang >/dev/null; then
	echo "run.sh: clang not found (tests/scripts/setup.sh installs it)" >&2
	exit 1
fi
if [ ! -f "$bdir/CMakeCache.txt" ]; then
	CC=clang CXX=clang++ cmake -S "$top" -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DSTREAMPROBE_FUZZ=ON >/dev/null
elif ! grep -q '^STREAMPROBE_FUZZ:BOOL=ON' "$bdir/CMakeCache.txt"; then
	echo "run.sh: $bdir is not a fuzz build (configure it with" \
	    "CC=clang CXX=clang++ -DSTREAMPROBE_FUZZ=ON, or name another directory)" >&2
	exit 1
fi
targets=()
for h in $harnesses; do
	targets+=(--target "fuzz_$h")
done
cmake --build "$bdir" -j"${FUZZ_BUILD_JOBS:-$(nproc)}" "${targets[@]}" >/dev/null

seeds=$bdir/fuzz-seeds
if [ ! -d "$seeds" ]; then
	bash "$top/tests/fuzz/make_corpus.sh" "$seeds.tmp"
	mv "$seeds.tmp" "$seeds"
fi
mkdir -p "$bdir/fuzz-logs"

run_one() {
	local h=$1 corpus=$bdir/fuzz-corpus/$1 art=$bdir/fuzz-artifacts/$1/
	local log=$bdir/fuzz-logs/$1.log rc=0 regress=$top/tests/fuzz/regress/$1
	mkdir -p "$corpus" "$art"
	# First corpus dir: where new inputs go; the seeds and the
	# reproducers are read only.  -close_fd_mask=3: the code's own
	# messages (a refused template, ...) would flood the log; libFuzzer
	# and the sanitizers still report.
	# shellcheck disable=SC2086
	nice -n "$nice_level" "$bdir/tests/fuzz/fuzz_$h" \
	    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -close_fd_mask=3 -artifact_prefix="$art" \
	    ${FUZZ_ARGS:-} "$corpus" "$seeds/$h" "$regress" >"$log" 2>&1 || rc=$?
	echo "$rc" >"$log.rc"
}

pids=()
for h in $harnesses; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n || true
	done
	echo "run.sh: fuzz_$h for ${secs}s"
	run_one "$h" &
	pids+=($!)
done
wait

status=0
printf '%-10s %12s %8s %7s %8s %8s  %s\n' harness executions exec/s cov ft corpus result
for h in $harnesses; do
	log=$bdir/fuzz-logs/$h.log
	rc=$(cat "$log.rc" 2>/dev/null || echo 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+.*cov: [0-9]+' "$log" | tail -1 || true)
	cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.*corp: \([0-9]*\).*/\1/p' <<<"$last")
	if [ "$rc" = 0 ]; then
		result=ok
	else
		result="FAILED (exit $rc; input: $(ls "$bdir/fuzz-artifacts/$h/" 2>/dev/null | head -3 | tr '\n' ' '); log: $log)"
		status=1
	fi
	printf '%-10s %12s %8s %7s %8s %8s  %s\n' "$h" "${execs:-?}" "${rate:-?}" \
	    "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
if [ "$status" != 0 ]; then
	echo "run.sh: a harness failed; reproduce with" \
	    "$bdir/tests/fuzz/fuzz_HARNESS INPUT, then add INPUT to" \
	    "tests/fuzz/regress/HARNESS/ with the fix" >&2
	grep -h -A3 -E '^==[0-9]+==ERROR|property failed|SUMMARY' \
	    "$bdir"/fuzz-logs/*.log >&2 || true
fi
exit "$status"
