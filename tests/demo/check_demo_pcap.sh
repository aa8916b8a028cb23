#!/usr/bin/env bash
# Generate the demo capture with make_demo_pcap and verify it with tshark:
# no malformed packets, no bad checksums, no expert warnings or errors, and
# the expected TLS, DNS, HTTP, ICMP, ICMPv6 and VLAN/NTP content.
#
# usage: tests/demo/check_demo_pcap.sh PATH_TO_make_demo_pcap
# exit:  0 pass, 1 a check failed, 2 bad usage, 77 tshark not installed (skip)
set -euo pipefail

prog=check_demo_pcap

if [ "$#" -ne 1 ]; then
    echo "usage: $0 PATH_TO_make_demo_pcap" >&2
    exit 2
fi
generator=$1
if [ ! -x "$generator" ]; then
    echo "$prog: $generator is not an executable file" >&2
    exit 2
fi
if ! command -v tshark >/dev/null 2>&1; then
    echo "$prog: tshark not found, skipping" >&2
    exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pcap=$tmp/demo.pcap
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# tshark with checksum validation on, so bad checksums become expert errors.
# stderr goes to a file: tshark warns about running as root there.
run_tshark() {
    tshark -n -r "$pcap" \
        -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE \
        "$@" 2>"$tmp/tshark.err"
}

show_tshark_errors() {
    grep -v 'Running as user' "$tmp/tshark.err" >&2 || true
}

# Print the number of packets matching a display filter, or -1 if tshark failed.
count() {
    local out
    if ! out=$(run_tshark -Y "$1" -T fields -e frame.number); then
        echo "$prog: tshark failed on filter '$1':" >&2
        show_tshark_errors
        echo -1
        return 0
    fi
    printf '%s\n' "$out" | awk 'NF { n++ } END { print n + 0 }'
}

# expect FILTER COUNT WHAT
expect() {
    local n
    n=$(count "$1")
    if [ "$n" -ne "$2" ]; then
        fail "$3: expected $2 packet(s) matching '$1', got $n"
    fi
}

# --- generate (twice: the output must be byte-identical) -------------------
if ! gen_out=$("$generator" "$pcap"); then
    echo "FAIL: $generator exited with an error" >&2
    exit 1
fi
total=$(printf '%s\n' "$gen_out" | sed -n 's/^wrote \([0-9][0-9]*\) packets to .*/\1/p')
if [ -z "$total" ]; then
    echo "FAIL: unexpected generator output: $gen_out" >&2
    exit 1
fi
if ! "$generator" "$tmp/again.pcap" >/dev/null; then
    fail "second generator run failed"
elif ! cmp -s "$pcap" "$tmp/again.pcap"; then
    fail "generator output is not deterministic"
fi

# --- dissection health -----------------------------------------------------
if ! expert=$(run_tshark -q -z expert,error); then
    fail "tshark could not read the capture"
    show_tshark_errors
elif printf '%s\n' "$expert" | grep -q '^Errors ('; then
    fail "tshark expert info reports errors:"
    printf '%s\n' "$expert" >&2
fi
expect '_ws.malformed || _ws.expert.severity >= error' 0 "malformed or error packets"
expect '_ws.expert.severity >= warning' 0 "expert warnings (TCP sequence analysis, checksums)"
bad_checksum='ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0'
bad_checksum="$bad_checksum || icmp.checksum.status == 0 || icmpv6.checksum.status == 0"
expect "$bad_checksum" 0 "bad checksums"
expect 'frame.len < 60 || frame.len != frame.cap_len' 0 "short or truncated frames"
expect 'frame' "$total" "total packet count (generator said $total)"

# --- content ---------------------------------------------------------------
expect 'tls.handshake.extensions_server_name == "www.example.com"' 1 "TLS SNI"
expect 'tls.handshake.type == 1' 1 "TLS ClientHello"
expect 'tls.handshake.type == 2' 1 "TLS ServerHello"
expect 'tls.handshake.extensions_alpn_str == "h2"' 2 "TLS ALPN h2 (offered and selected)"
expect 'tls.record.content_type == 23' 4 "TLS application data records"
if tshark -G fields 2>/dev/null | grep -q "	tls\.handshake\.ja3	"; then
    expect 'tls.handshake.ja3' 1 "TLS JA3 fingerprint"
fi

expect 'dns' 4 "DNS packets"
expect 'dns.flags.response == 1 && dns.count.answers > 0' 2 "DNS responses with answers"
expect 'dns.a == 93.184.216.34' 1 "DNS A answer"
expect 'dns.aaaa == 2001:db8:2::80' 1 "DNS AAAA answer"

expect 'http.request' 2 "HTTP requests"
expect 'http.response' 2 "HTTP responses"
expect 'http.response.code == 200' 2 "HTTP 200 responses"
expect 'http.user_agent == "streamprobe-demo/1.0 (X11; Linux x86_64)"' 2 "HTTP User-Agent"

expect 'icmp.type == 8 || icmp.type == 0' 4 "ICMP echo packets"
expect 'icmp.type == 0 && icmp.resp_to' 2 "ICMP echo replies matched to requests"
expect 'icmpv6.type == 128 || icmpv6.type == 129' 2 "ICMPv6 echo packets"

expect 'vlan.id == 100' 2 "802.1Q VID 100 packets"
expect 'vlan.id == 100 && ntp' 2 "NTP on VLAN 100"

if [ "$failures" -ne 0 ]; then
    echo "demo capture check: FAIL ($failures check(s) failed)"
    exit 1
fi
echo "demo capture check: PASS"
