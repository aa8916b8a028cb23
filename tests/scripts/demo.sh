#!/usr/bin/env bash
# demo.sh - set up, build, and run the probe on a capture the project makes
# itself: the flows are printed as CSV and exported as JSON lines.
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
