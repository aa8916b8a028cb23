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
./build/streamprobe -r build/demo.pcap --statistics --csv - --json build/demo.json
echo "demo: flows above (CSV); JSON export in build/demo.json:"
head -n 2 build/demo.json
