#!/usr/bin/env bash
# demo.sh - set up, build, and run the probe on a capture the project makes
# itself: the flows are printed as CSV, exported as JSON lines, and exported
# as IPFIX to a file that ipfixDump (libfixbuf's collector tool) decodes.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
bash tests/scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
./build/tests/make_demo_pcap build/demo.pcap
./build/streamprobe -r build/demo.pcap --csv -
./build/streamprobe -r build/demo.pcap --statistics --splt 8 --json build/demo.json 2>/dev/null
echo "demo: flows above (CSV, core columns); with statistics and SPLT as JSON lines in build/demo.json:"
head -n 1 build/demo.json
./build/streamprobe -r build/demo.pcap --export ipfix+file://build/demo.ipfix 2>/dev/null
# ipfixDump prints one block per record; show the first flow record (the TLS
# flow) and count them all.  --rfc5610 names streamprobe's own elements from
# the type records the probe sends.
ipfixDump --in build/demo.ipfix --rfc5610 | awk '
	function end_block() {
		if (block ~ /^--- data record/ && block ~ /flowStartMilliseconds/ &&
		    ++flows == 1)
			printf "%s", block
		block = ""
	}
	/^--- / { end_block() }
	{ block = block $0 "\n" }
	END {
		end_block()
		printf "demo: ipfixDump decoded %d flow records from build/demo.ipfix (first one above)\n", flows
	}' | sed '1i demo: the same flows exported as IPFIX to build/demo.ipfix; ipfixDump --rfc5610 decodes them:'
