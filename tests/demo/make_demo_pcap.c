/*
 * make_demo_pcap.c - generate the streamprobe demo capture.
 *
 * Writes a small, byte-for-byte deterministic libpcap file (Ethernet,
 * microsecond timestamps) with one example of each protocol the probe
 * classifies, in this order of start time (lightly interleaved):
 *   1. IPv4 TCP 192.168.1.10:51000 -> 93.184.216.34:443, TLS 1.2 style:
 *      ClientHello (SNI www.example.com, ALPN h2), ServerHello +
 *      ServerHelloDone, application data both ways, FIN close
 *   2. IPv4 DNS A query/response for www.example.com
 *   3. IPv4 HTTP/1.1 GET to 198.51.100.20:80 (server without TCP timestamps,
 *      so its bare ACKs are short frames that get Ethernet padding)
 *   4. IPv4 ICMP echo request/reply, two rounds
 *   5. IPv6 DNS AAAA query/response
 *   6. IPv6 HTTP/1.1 GET to [2001:db8:2::80]:80
 *   7. ICMPv6 echo request/reply
 *   8. 802.1Q (VID 100) tagged NTPv4 client request and server reply
 *
 * The capture is generated instead of checked in so that the README's first
 * command works without any external data.  It is written by hand with stdio
 * because the project allows each third-party library (libpcap included) in
 * exactly one probe module.
 *
 * Usage: make_demo_pcap OUT.pcap
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

enum {
    BUF_CAP = 2048,         /* larger than any frame we build */
    ETH_MIN_FRAME = 60,     /* minimum Ethernet frame, FCS excluded */
    PCAP_SNAPLEN = 65535,
    LINKTYPE_ETHERNET = 1,
    PING_DATA_LEN = 56,     /* Linux ping default payload */
};

enum {
    ETHERTYPE_IPV4 = 0x0800,
    ETHERTYPE_VLAN = 0x8100,
    ETHERTYPE_IPV6 = 0x86dd,
};

enum {
    PROTO_ICMP = 1,
    PROTO_TCP = 6,
    PROTO_UDP = 17,
    PROTO_ICMPV6 = 58,
};

enum {
    TCP_FIN = 0x01,
    TCP_SYN = 0x02,
    TCP_PSH = 0x08,
    TCP_ACK = 0x10,
};

enum {
    TCPOPT_NOP = 1,
    TCPOPT_MSS = 2,
    TCPOPT_WSCALE = 3,
    TCPOPT_SACK_PERM = 4,
    TCPOPT_TIMESTAMP = 8,
};

enum {
    DNS_TYPE_A = 1,
    DNS_TYPE_AAAA = 28,
    DNS_CLASS_IN = 1,
};

enum {
    TLS_CONTENT_HANDSHAKE = 0x16,
    TLS_CONTENT_APP_DATA = 0x17,
    TLS_HS_CLIENT_HELLO = 1,
    TLS_HS_SERVER_HELLO = 2,
    TLS_HS_SERVER_HELLO_DONE = 14,
};

#define START_TIME_US (UINT64_C(1700000000) * 1000000u)
#define NTP_UNIX_EPOCH_DELTA UINT64_C(2208988800) /* 1900-01-01 to 1970-01-01 */

#define CLIENT_MAC { 0x00, 0x1b, 0x21, 0x3a, 0x4f, 0x01 }
#define GATEWAY_MAC { 0x00, 0x0c, 0x29, 0x8e, 0x11, 0x02 }

static const char demo_user_agent[] = "streamprobe-demo/1.0 (X11; Linux x86_64)";

/* ------------------------------------------------------------------------ */
/* Byte buffer with big-endian writers                                       */
/* ------------------------------------------------------------------------ */

struct byte_buf {
    uint8_t data[BUF_CAP];
    size_t len;
    bool overflow; /* sticky, so builders need no error checks of their own */
};

static uint8_t *reserve(struct byte_buf *b, size_t n)
{
    if (b->overflow || n > BUF_CAP - b->len) {
        b->overflow = true;
        return NULL;
    }
    uint8_t *p = b->data + b->len;
    b->len += n;
    return p;
}

static void set_u16be(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void set_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void set_u16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u8(struct byte_buf *b, uint8_t v)
{
    uint8_t *p = reserve(b, 1);
    if (p)
        p[0] = v;
}

static void put_u16be(struct byte_buf *b, uint16_t v)
{
    uint8_t *p = reserve(b, 2);
    if (p)
        set_u16be(p, v);
}

static void put_u24be(struct byte_buf *b, uint32_t v)
{
    put_u8(b, (uint8_t)(v >> 16));
    put_u16be(b, (uint16_t)v);
}

static void put_u32be(struct byte_buf *b, uint32_t v)
{
    put_u16be(b, (uint16_t)(v >> 16));
    put_u16be(b, (uint16_t)v);
}

static void put_u64le(struct byte_buf *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        put_u8(b, (uint8_t)(v >> (8 * i)));
}

static void put_bytes(struct byte_buf *b, const void *src, size_t n)
{
    uint8_t *p = reserve(b, n);
    if (p && n > 0)
        memcpy(p, src, n);
}

static void put_zeros(struct byte_buf *b, size_t n)
{
    uint8_t *p = reserve(b, n);
    if (p && n > 0)
        memset(p, 0, n);
}

static void put_str(struct byte_buf *b, const char *s)
{
    put_bytes(b, s, strlen(s));
}

/* murmur3 32-bit finalizer: a cheap, well-mixing bijection */
static uint32_t mix32(uint32_t z)
{
    z ^= z >> 16;
    z *= 0x85ebca6bu;
    z ^= z >> 13;
    z *= 0xc2b2ae35u;
    z ^= z >> 16;
    return z;
}

/*
 * Stable stand-in for random or encrypted bytes: a hashed counter whose start
 * is itself hashed from the seed, so nearby seeds give unrelated output.
 */
static void put_pattern(struct byte_buf *b, size_t n, uint32_t seed)
{
    uint32_t counter = mix32(seed);
    for (size_t i = 0; i < n; i++) {
        counter += 0x9e3779b9u;
        put_u8(b, (uint8_t)(mix32(counter) >> 24));
    }
}

/*
 * TLS and DNS nest length-prefixed blocks: reserve the length field now and
 * patch it once the contents are known.
 */
static size_t begin_block(struct byte_buf *b, size_t len_bytes)
{
    size_t mark = b->len;
    put_zeros(b, len_bytes);
    return mark;
}

static void end_block(struct byte_buf *b, size_t mark, size_t len_bytes)
{
    if (b->overflow)
        return;
    size_t n = b->len - mark - len_bytes;
    for (size_t i = 0; i < len_bytes; i++)
        b->data[mark + i] = (uint8_t)(n >> (8 * (len_bytes - 1 - i)));
}

/* ------------------------------------------------------------------------ */
/* Internet checksum                                                        */
/* ------------------------------------------------------------------------ */

static uint32_t checksum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t checksum_finish(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

/* ------------------------------------------------------------------------ */
/* Capture file, hosts and flows                                            */
/* ------------------------------------------------------------------------ */

struct capture {
    FILE *fp;
    uint64_t now_us;   /* timestamp of the packet being built */
    unsigned packets;
    const char *error; /* first error; later packets are skipped */
    int error_errno;   /* errno for I/O errors, 0 otherwise */
};

enum ip_family { IPV4 = 4, IPV6 = 6 };

struct host {
    uint8_t mac[6];      /* as seen on the capture LAN: remote hosts sit behind the gateway */
    enum ip_family family;
    uint8_t addr[16];
    uint8_t ttl;         /* TTL / hop limit as observed at the capture point */
    uint16_t next_ip_id; /* IPv4 identification, incremented per packet */
};

enum direction { FROM_CLIENT = 0, FROM_SERVER = 1 };

struct flow {
    struct host *host[2];     /* indexed by enum direction */
    uint16_t port[2];
    uint16_t vlan_id;         /* 0: untagged */
    uint32_t flow_label[2];   /* IPv6 only */
    /* TCP only */
    uint32_t next_seq[2];
    uint16_t syn_window[2];   /* unscaled window in SYN / SYN-ACK */
    uint16_t window[2];       /* window field once scaling is in effect */
    uint16_t mss[2];
    uint8_t wscale[2];
    bool timestamps[2];       /* side offers RFC 7323 timestamps */
    uint32_t ts_base[2];      /* per-side TSval clock offset */
    uint32_t last_tsval[2];
};

static void capture_fail(struct capture *cap, const char *msg, int err)
{
    if (!cap->error) {
        cap->error = msg;
        cap->error_errno = err;
    }
}

static void advance_clock(struct capture *cap, uint32_t gap_us)
{
    cap->now_us += gap_us;
}

static void write_global_header(struct capture *cap)
{
    uint8_t h[24];
    /* Written little-endian explicitly so the file is identical on any host. */
    set_u32le(h, 0xa1b2c3d4u);
    set_u16le(h + 4, 2);
    set_u16le(h + 6, 4);
    set_u32le(h + 8, 0);  /* thiszone */
    set_u32le(h + 12, 0); /* sigfigs */
    set_u32le(h + 16, PCAP_SNAPLEN);
    set_u32le(h + 20, LINKTYPE_ETHERNET);
    if (fwrite(h, 1, sizeof h, cap->fp) != sizeof h)
        capture_fail(cap, "write failed", errno);
}

static void write_record(struct capture *cap, const struct byte_buf *frame)
{
    uint8_t h[16];
    set_u32le(h, (uint32_t)(cap->now_us / 1000000u));
    set_u32le(h + 4, (uint32_t)(cap->now_us % 1000000u));
    set_u32le(h + 8, (uint32_t)frame->len);  /* caplen */
    set_u32le(h + 12, (uint32_t)frame->len); /* len: nothing is truncated */
    if (fwrite(h, 1, sizeof h, cap->fp) != sizeof h ||
        fwrite(frame->data, 1, frame->len, cap->fp) != frame->len) {
        capture_fail(cap, "write failed", errno);
        return;
    }
    cap->packets++;
}

/* ------------------------------------------------------------------------ */
/* Layer 2-4 writers                                                        */
/* ------------------------------------------------------------------------ */

static void put_eth_header(struct byte_buf *b, const uint8_t dst[6], const uint8_t src[6],
                           uint16_t vlan_id, uint16_t ethertype)
{
    put_bytes(b, dst, 6);
    put_bytes(b, src, 6);
    if (vlan_id != 0) {
        put_u16be(b, ETHERTYPE_VLAN);
        put_u16be(b, (uint16_t)(vlan_id & 0x0fff)); /* PCP 0, DEI 0 */
    }
    put_u16be(b, ethertype);
}

static void put_ipv4_header(struct byte_buf *b, struct host *src, const struct host *dst,
                            uint8_t proto, size_t payload_len, bool dont_fragment)
{
    size_t start = b->len;
    put_u8(b, 0x45); /* version 4, 20-byte header */
    put_u8(b, 0);    /* DSCP/ECN */
    put_u16be(b, (uint16_t)(20 + payload_len));
    put_u16be(b, src->next_ip_id++);
    put_u16be(b, dont_fragment ? 0x4000 : 0);
    put_u8(b, src->ttl);
    put_u8(b, proto);
    put_u16be(b, 0); /* checksum, patched below */
    put_bytes(b, src->addr, 4);
    put_bytes(b, dst->addr, 4);
    if (!b->overflow)
        set_u16be(b->data + start + 10, checksum_finish(checksum_add(0, b->data + start, 20)));
}

static void put_ipv6_header(struct byte_buf *b, const struct host *src, const struct host *dst,
                            uint8_t next_header, size_t payload_len, uint32_t flow_label)
{
    put_u32be(b, 0x60000000u | (flow_label & 0xfffffu)); /* version 6, traffic class 0 */
    put_u16be(b, (uint16_t)payload_len);
    put_u8(b, next_header);
    put_u8(b, src->ttl);
    put_bytes(b, src->addr, 16);
    put_bytes(b, dst->addr, 16);
}

/* Fill the transport checksum; all but ICMPv4 cover an IP pseudo-header. */
static void fill_l4_checksum(const struct host *src, const struct host *dst, uint8_t proto,
                             struct byte_buf *l4)
{
    size_t off;
    bool pseudo = true;
    switch (proto) {
    case PROTO_TCP:
        off = 16;
        break;
    case PROTO_UDP:
        off = 6;
        break;
    case PROTO_ICMP:
        off = 2;
        pseudo = false;
        break;
    case PROTO_ICMPV6:
        off = 2;
        break;
    default:
        return;
    }
    if (l4->len < off + 2)
        return;

    uint32_t sum = 0;
    uint32_t len = (uint32_t)l4->len;
    if (pseudo && src->family == IPV4) {
        sum = checksum_add(sum, src->addr, 4);
        sum = checksum_add(sum, dst->addr, 4);
        sum += proto;
        sum += len;
    } else if (pseudo) {
        sum = checksum_add(sum, src->addr, 16);
        sum = checksum_add(sum, dst->addr, 16);
        sum += len >> 16;
        sum += len & 0xffffu;
        sum += proto;
    }
    set_u16be(l4->data + off, 0);
    uint16_t csum = checksum_finish(checksum_add(sum, l4->data, l4->len));
    if (proto == PROTO_UDP && csum == 0)
        csum = 0xffff; /* zero means "no checksum" in UDP */
    set_u16be(l4->data + off, csum);
}

/* Wrap a finished transport segment in IP and Ethernet, pad, and record it. */
static void emit_ip_packet(struct capture *cap, struct host *src, const struct host *dst,
                           uint8_t proto, struct byte_buf *l4, uint16_t vlan_id,
                           uint32_t flow_label)
{
    struct byte_buf frame = { .len = 0 };

    if (cap->error)
        return;
    if (l4->overflow) {
        capture_fail(cap, "transport payload exceeds buffer (generator bug)", 0);
        return;
    }
    fill_l4_checksum(src, dst, proto, l4);
    put_eth_header(&frame, dst->mac, src->mac, vlan_id,
                   src->family == IPV4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6);
    if (src->family == IPV4)
        put_ipv4_header(&frame, src, dst, proto, l4->len, proto == PROTO_TCP);
    else
        put_ipv6_header(&frame, src, dst, proto, l4->len, flow_label);
    put_bytes(&frame, l4->data, l4->len);
    /* NICs pad short frames; the padding is part of the captured frame. */
    if (frame.len < ETH_MIN_FRAME)
        put_zeros(&frame, ETH_MIN_FRAME - frame.len);
    if (frame.overflow) {
        capture_fail(cap, "frame exceeds buffer (generator bug)", 0);
        return;
    }
    write_record(cap, &frame);
}

static void emit_flow_packet(struct capture *cap, struct flow *f, enum direction dir,
                             uint8_t proto, struct byte_buf *l4)
{
    enum direction peer = dir == FROM_CLIENT ? FROM_SERVER : FROM_CLIENT;
    emit_ip_packet(cap, f->host[dir], f->host[peer], proto, l4, f->vlan_id, f->flow_label[dir]);
}

static void send_udp(struct capture *cap, struct flow *f, enum direction dir, uint32_t gap_us,
                     const struct byte_buf *payload)
{
    enum direction peer = dir == FROM_CLIENT ? FROM_SERVER : FROM_CLIENT;
    struct byte_buf dgram = { .len = 0 };

    advance_clock(cap, gap_us);
    put_u16be(&dgram, f->port[dir]);
    put_u16be(&dgram, f->port[peer]);
    put_u16be(&dgram, (uint16_t)(8 + payload->len));
    put_u16be(&dgram, 0); /* checksum */
    put_bytes(&dgram, payload->data, payload->len);
    if (payload->overflow)
        dgram.overflow = true;
    emit_flow_packet(cap, f, dir, PROTO_UDP, &dgram);
}

/* SYN options in the order Linux sends them. */
static void put_syn_options(struct byte_buf *o, const struct flow *f, enum direction dir,
                            bool use_ts, uint32_t tsval, uint32_t tsecr)
{
    put_u8(o, TCPOPT_MSS);
    put_u8(o, 4);
    put_u16be(o, f->mss[dir]);
    if (use_ts) {
        put_u8(o, TCPOPT_SACK_PERM);
        put_u8(o, 2);
        put_u8(o, TCPOPT_TIMESTAMP);
        put_u8(o, 10);
        put_u32be(o, tsval);
        put_u32be(o, tsecr);
    } else {
        put_u8(o, TCPOPT_NOP);
        put_u8(o, TCPOPT_NOP);
        put_u8(o, TCPOPT_SACK_PERM);
        put_u8(o, 2);
    }
    put_u8(o, TCPOPT_NOP);
    put_u8(o, TCPOPT_WSCALE);
    put_u8(o, 3);
    put_u8(o, f->wscale[dir]);
}

/*
 * Send one TCP segment.  Sequence and acknowledgement numbers come from the
 * flow state, so every segment acknowledges everything the peer has sent.
 */
static void send_tcp(struct capture *cap, struct flow *f, enum direction dir, uint32_t gap_us,
                     uint8_t flags, const void *payload, size_t len)
{
    enum direction peer = dir == FROM_CLIENT ? FROM_SERVER : FROM_CLIENT;
    struct byte_buf seg = { .len = 0 };
    struct byte_buf opts = { .len = 0 };
    bool syn = (flags & TCP_SYN) != 0;
    bool both_ts = f->timestamps[FROM_CLIENT] && f->timestamps[FROM_SERVER];
    /* A SYN may offer timestamps; a SYN-ACK only answers an offer. */
    bool use_ts = syn ? (dir == FROM_CLIENT ? f->timestamps[dir] : both_ts) : both_ts;

    advance_clock(cap, gap_us);
    uint32_t tsval = f->ts_base[dir] + (uint32_t)((cap->now_us - START_TIME_US) / 1000u);
    uint32_t tsecr = (flags & TCP_ACK) ? f->last_tsval[peer] : 0;

    if (syn)
        put_syn_options(&opts, f, dir, use_ts, tsval, tsecr);
    else if (use_ts) {
        put_u8(&opts, TCPOPT_NOP);
        put_u8(&opts, TCPOPT_NOP);
        put_u8(&opts, TCPOPT_TIMESTAMP);
        put_u8(&opts, 10);
        put_u32be(&opts, tsval);
        put_u32be(&opts, tsecr);
    }
    if (use_ts)
        f->last_tsval[dir] = tsval;

    put_u16be(&seg, f->port[dir]);
    put_u16be(&seg, f->port[peer]);
    put_u32be(&seg, f->next_seq[dir]);
    put_u32be(&seg, (flags & TCP_ACK) ? f->next_seq[peer] : 0);
    put_u16be(&seg, (uint16_t)(((20 + opts.len) / 4) << 12 | flags));
    put_u16be(&seg, syn ? f->syn_window[dir] : f->window[dir]);
    put_u16be(&seg, 0); /* checksum */
    put_u16be(&seg, 0); /* urgent pointer */
    put_bytes(&seg, opts.data, opts.len);
    put_bytes(&seg, payload, len);

    f->next_seq[dir] += (uint32_t)len + (syn ? 1u : 0u) + ((flags & TCP_FIN) ? 1u : 0u);
    emit_flow_packet(cap, f, dir, PROTO_TCP, &seg);
}

static void send_tcp_ack(struct capture *cap, struct flow *f, enum direction dir, uint32_t gap_us)
{
    send_tcp(cap, f, dir, gap_us, TCP_ACK, NULL, 0);
}

static void send_tcp_data(struct capture *cap, struct flow *f, enum direction dir, uint32_t gap_us,
                          const struct byte_buf *data)
{
    send_tcp(cap, f, dir, gap_us, TCP_PSH | TCP_ACK, data->data, data->len);
}

static void tcp_handshake(struct capture *cap, struct flow *f, uint32_t gap_us, uint32_t rtt_us)
{
    send_tcp(cap, f, FROM_CLIENT, gap_us, TCP_SYN, NULL, 0);
    send_tcp(cap, f, FROM_SERVER, rtt_us, TCP_SYN | TCP_ACK, NULL, 0);
    send_tcp_ack(cap, f, FROM_CLIENT, 1000);
}

/* Client-initiated close: FIN/ACK, FIN/ACK, ACK. */
static void tcp_close(struct capture *cap, struct flow *f, uint32_t gap_us, uint32_t rtt_us)
{
    send_tcp(cap, f, FROM_CLIENT, gap_us, TCP_FIN | TCP_ACK, NULL, 0);
    send_tcp(cap, f, FROM_SERVER, rtt_us, TCP_FIN | TCP_ACK, NULL, 0);
    send_tcp_ack(cap, f, FROM_CLIENT, 1000);
}

/* ------------------------------------------------------------------------ */
/* Application payloads                                                     */
/* ------------------------------------------------------------------------ */

static size_t begin_tls_extension(struct byte_buf *b, uint16_t type)
{
    put_u16be(b, type);
    return begin_block(b, 2);
}

/* A browser-like TLS 1.2-format ClientHello that also offers TLS 1.3. */
static void put_client_hello(struct byte_buf *b, const char *server_name)
{
    static const uint16_t cipher_suites[] = {
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
        0xcca8, 0xc009, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
    };
    static const uint16_t groups[] = { 0x001d, 0x0017, 0x0018 }; /* x25519, P-256, P-384 */
    static const uint16_t sig_algs[] = {
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201,
    };
    size_t rec, hs, list, ext, exts, inner;

    put_u8(b, TLS_CONTENT_HANDSHAKE);
    put_u16be(b, 0x0301); /* record version used by real clients for compatibility */
    rec = begin_block(b, 2);
    put_u8(b, TLS_HS_CLIENT_HELLO);
    hs = begin_block(b, 3);
    put_u16be(b, 0x0303);
    put_pattern(b, 32, 0xc11e0001u); /* client random */
    put_u8(b, 32);
    put_pattern(b, 32, 0xc11e0002u); /* legacy session id (middlebox compatibility) */

    list = begin_block(b, 2);
    for (size_t i = 0; i < sizeof cipher_suites / sizeof cipher_suites[0]; i++)
        put_u16be(b, cipher_suites[i]);
    end_block(b, list, 2);
    put_u8(b, 1);
    put_u8(b, 0); /* null compression */

    exts = begin_block(b, 2);

    ext = begin_tls_extension(b, 0); /* server_name */
    list = begin_block(b, 2);
    put_u8(b, 0); /* host_name */
    inner = begin_block(b, 2);
    put_str(b, server_name);
    end_block(b, inner, 2);
    end_block(b, list, 2);
    end_block(b, ext, 2);

    ext = begin_tls_extension(b, 23); /* extended_master_secret */
    end_block(b, ext, 2);

    ext = begin_tls_extension(b, 0xff01); /* renegotiation_info */
    put_u8(b, 0);
    end_block(b, ext, 2);

    ext = begin_tls_extension(b, 10); /* supported_groups */
    list = begin_block(b, 2);
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        put_u16be(b, groups[i]);
    end_block(b, list, 2);
    end_block(b, ext, 2);

    ext = begin_tls_extension(b, 11); /* ec_point_formats */
    put_u8(b, 1);
    put_u8(b, 0); /* uncompressed */
    end_block(b, ext, 2);

    ext = begin_tls_extension(b, 35); /* session_ticket, empty: no ticket yet */
    end_block(b, ext, 2);

    ext = begin_tls_extension(b, 16); /* application_layer_protocol_negotiation */
    list = begin_block(b, 2);
    put_u8(b, 2);
    put_str(b, "h2");
    put_u8(b, 8);
    put_str(b, "http/1.1");
    end_block(b, list, 2);
    end_block(b, ext, 2);

    ext = begin_tls_extension(b, 5); /* status_request: OCSP, no responder ids */
    put_u8(b, 1);
    put_u16be(b, 0);
    put_u16be(b, 0);
    end_block(b, ext, 2);

    ext = begin_tls_extension(b, 13); /* signature_algorithms */
    list = begin_block(b, 2);
    for (size_t i = 0; i < sizeof sig_algs / sizeof sig_algs[0]; i++)
        put_u16be(b, sig_algs[i]);
    end_block(b, list, 2);
    end_block(b, ext, 2);

    ext = begin_tls_extension(b, 43); /* supported_versions */
    list = begin_block(b, 1);
    put_u16be(b, 0x0304);
    put_u16be(b, 0x0303);
    end_block(b, list, 1);
    end_block(b, ext, 2);

    ext = begin_tls_extension(b, 45); /* psk_key_exchange_modes */
    list = begin_block(b, 1);
    put_u8(b, 1); /* psk_dhe_ke */
    end_block(b, list, 1);
    end_block(b, ext, 2);

    ext = begin_tls_extension(b, 51); /* key_share */
    list = begin_block(b, 2);
    put_u16be(b, 0x001d); /* x25519 */
    inner = begin_block(b, 2);
    put_pattern(b, 32, 0xc11e0003u);
    end_block(b, inner, 2);
    end_block(b, list, 2);
    end_block(b, ext, 2);

    end_block(b, exts, 2);
    end_block(b, hs, 3);
    end_block(b, rec, 2);
}

/*
 * ServerHello choosing TLS 1.2 with ECDHE-RSA-AES128-GCM-SHA256 and h2,
 * followed by ServerHelloDone in the same record.  The server issues a fresh
 * session id: echoing the client's would signal an abbreviated (resumed)
 * handshake, which contradicts the ServerHelloDone.
 */
static void put_server_hello(struct byte_buf *b)
{
    size_t rec, hs, ext, exts, list;

    put_u8(b, TLS_CONTENT_HANDSHAKE);
    put_u16be(b, 0x0303);
    rec = begin_block(b, 2);

    put_u8(b, TLS_HS_SERVER_HELLO);
    hs = begin_block(b, 3);
    put_u16be(b, 0x0303);
    put_pattern(b, 32, 0x5e4e0001u); /* server random */
    put_u8(b, 32);
    put_pattern(b, 32, 0x5e4e0002u); /* new session id */
    put_u16be(b, 0xc02f);
    put_u8(b, 0); /* null compression */

    exts = begin_block(b, 2);
    ext = begin_tls_extension(b, 0xff01); /* renegotiation_info */
    put_u8(b, 0);
    end_block(b, ext, 2);
    ext = begin_tls_extension(b, 23); /* extended_master_secret */
    end_block(b, ext, 2);
    ext = begin_tls_extension(b, 11); /* ec_point_formats */
    put_u8(b, 1);
    put_u8(b, 0);
    end_block(b, ext, 2);
    ext = begin_tls_extension(b, 16); /* ALPN: selected protocol */
    list = begin_block(b, 2);
    put_u8(b, 2);
    put_str(b, "h2");
    end_block(b, list, 2);
    end_block(b, ext, 2);
    end_block(b, exts, 2);
    end_block(b, hs, 3);

    put_u8(b, TLS_HS_SERVER_HELLO_DONE);
    put_u24be(b, 0);

    end_block(b, rec, 2);
}

/* Opaque application data record: stable pseudo-random "ciphertext". */
static void put_tls_app_data(struct byte_buf *b, size_t len, uint32_t seed)
{
    put_u8(b, TLS_CONTENT_APP_DATA);
    put_u16be(b, 0x0303);
    put_u16be(b, (uint16_t)len);
    put_pattern(b, len, seed);
}

static void put_dns_name(struct byte_buf *b, const char *name)
{
    while (*name) {
        size_t label = strcspn(name, ".");
        put_u8(b, (uint8_t)label);
        put_bytes(b, name, label);
        name += label;
        if (*name == '.')
            name++;
    }
    put_u8(b, 0);
}

static void put_dns_header(struct byte_buf *b, uint16_t id, uint16_t flags, uint16_t answers)
{
    put_u16be(b, id);
    put_u16be(b, flags);
    put_u16be(b, 1); /* questions */
    put_u16be(b, answers);
    put_u16be(b, 0); /* authority */
    put_u16be(b, 0); /* additional */
}

static void put_dns_query(struct byte_buf *b, uint16_t id, const char *name, uint16_t qtype)
{
    put_dns_header(b, id, 0x0100, 0); /* standard query, RD */
    put_dns_name(b, name);
    put_u16be(b, qtype);
    put_u16be(b, DNS_CLASS_IN);
}

static void put_dns_response(struct byte_buf *b, uint16_t id, const char *name, uint16_t qtype,
                             const uint8_t *rdata, uint16_t rdlen)
{
    put_dns_header(b, id, 0x8180, 1); /* response, RD, RA, NOERROR */
    put_dns_name(b, name);
    put_u16be(b, qtype);
    put_u16be(b, DNS_CLASS_IN);
    put_u16be(b, 0xc00c); /* pointer to the question name at offset 12 */
    put_u16be(b, qtype);
    put_u16be(b, DNS_CLASS_IN);
    put_u32be(b, 300); /* TTL */
    put_u16be(b, rdlen);
    put_bytes(b, rdata, rdlen);
}

static void dns_exchange(struct capture *cap, struct flow *f, uint32_t gap_us, uint32_t rtt_us,
                         uint16_t id, const char *name, uint16_t qtype,
                         const uint8_t *rdata, uint16_t rdlen)
{
    struct byte_buf msg = { .len = 0 };
    put_dns_query(&msg, id, name, qtype);
    send_udp(cap, f, FROM_CLIENT, gap_us, &msg);

    msg = (struct byte_buf){ .len = 0 };
    put_dns_response(&msg, id, name, qtype, rdata, rdlen);
    send_udp(cap, f, FROM_SERVER, rtt_us, &msg);
}

static void put_http_response(struct byte_buf *b, const char *content_type, const char *body)
{
    char head[256];
    /* Content-Length is derived from the body so the two cannot disagree. */
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Server: demo\r\n\r\n",
                     content_type, strlen(body));
    if (n < 0 || (size_t)n >= sizeof head) {
        b->overflow = true;
        return;
    }
    put_str(b, head);
    put_str(b, body);
}

static void put_http_request(struct byte_buf *b, const char *path, const char *host)
{
    put_str(b, "GET ");
    put_str(b, path);
    put_str(b, " HTTP/1.1\r\nHost: ");
    put_str(b, host);
    put_str(b, "\r\nUser-Agent: ");
    put_str(b, demo_user_agent);
    put_str(b, "\r\nAccept: */*\r\n\r\n");
}

static void http_exchange(struct capture *cap, struct flow *f, uint32_t rtt_us, const char *path,
                          const char *host, const char *content_type, const char *body)
{
    struct byte_buf msg = { .len = 0 };
    put_http_request(&msg, path, host);
    send_tcp_data(cap, f, FROM_CLIENT, 1200, &msg);
    send_tcp_ack(cap, f, FROM_SERVER, rtt_us);

    msg = (struct byte_buf){ .len = 0 };
    put_http_response(&msg, content_type, body);
    send_tcp_data(cap, f, FROM_SERVER, 2400, &msg);
    send_tcp_ack(cap, f, FROM_CLIENT, 1100);
}

/* Linux ping payload: struct timeval (little-endian on x86_64), then 0x10, 0x11, ... */
static void put_ping_payload(struct byte_buf *b, uint64_t now_us)
{
    put_u64le(b, now_us / 1000000u);
    put_u64le(b, now_us % 1000000u);
    for (size_t i = 0; i < PING_DATA_LEN - 16; i++)
        put_u8(b, (uint8_t)(0x10 + i));
}

static void put_echo(struct byte_buf *b, uint8_t type, uint16_t id, uint16_t seq,
                     const struct byte_buf *data)
{
    put_u8(b, type);
    put_u8(b, 0);    /* code */
    put_u16be(b, 0); /* checksum */
    put_u16be(b, id);
    put_u16be(b, seq);
    put_bytes(b, data->data, data->len);
}

/* One echo request from the client and the matching reply (ICMP or ICMPv6). */
static void ping_exchange(struct capture *cap, struct flow *f, uint32_t gap_us, uint32_t rtt_us,
                          uint16_t id, uint16_t seq)
{
    bool v6 = f->host[FROM_CLIENT]->family == IPV6;
    uint8_t proto = v6 ? PROTO_ICMPV6 : PROTO_ICMP;
    struct byte_buf data = { .len = 0 };
    struct byte_buf msg = { .len = 0 };

    advance_clock(cap, gap_us);
    put_ping_payload(&data, cap->now_us);
    put_echo(&msg, v6 ? 128 : 8, id, seq, &data);
    emit_flow_packet(cap, f, FROM_CLIENT, proto, &msg);

    advance_clock(cap, rtt_us);
    msg = (struct byte_buf){ .len = 0 };
    put_echo(&msg, v6 ? 129 : 0, id, seq, &data);
    emit_flow_packet(cap, f, FROM_SERVER, proto, &msg);
}

static void put_ntp_timestamp(struct byte_buf *b, uint64_t unix_us)
{
    put_u32be(b, (uint32_t)(unix_us / 1000000u + NTP_UNIX_EPOCH_DELTA));
    /* Round the fraction up so decoders print the exact microsecond back. */
    put_u32be(b, (uint32_t)((((unix_us % 1000000u) << 32) + 999999u) / 1000000u));
}

/* NTPv4 client request (mode 3) and a stratum-2 server reply (mode 4). */
static void ntp_exchange(struct capture *cap, struct flow *f, uint32_t gap_us, uint32_t rtt_us)
{
    static const uint8_t upstream_refid[4] = { 198, 51, 100, 1 };
    struct byte_buf msg = { .len = 0 };

    advance_clock(cap, gap_us);
    uint64_t client_tx_us = cap->now_us;
    put_u8(&msg, 0x23);    /* LI 0, VN 4, mode 3 (client) */
    put_u8(&msg, 0);       /* stratum: unspecified */
    put_u8(&msg, 6);       /* poll 64 s */
    put_u8(&msg, 0xe9);    /* precision 2^-23 s */
    put_u32be(&msg, 0);    /* root delay */
    put_u32be(&msg, 0);    /* root dispersion */
    put_u32be(&msg, 0);    /* reference id */
    put_zeros(&msg, 24);   /* reference, origin, receive timestamps */
    put_ntp_timestamp(&msg, client_tx_us);
    send_udp(cap, f, FROM_CLIENT, 0, &msg);

    advance_clock(cap, rtt_us);
    msg = (struct byte_buf){ .len = 0 };
    put_u8(&msg, 0x24);    /* LI 0, VN 4, mode 4 (server) */
    put_u8(&msg, 2);       /* stratum 2 */
    put_u8(&msg, 6);
    put_u8(&msg, 0xe9);
    put_u32be(&msg, 0x00000a3d); /* root delay ~40 ms (16.16) */
    put_u32be(&msg, 0x00000312); /* root dispersion ~12 ms */
    put_bytes(&msg, upstream_refid, 4);
    put_ntp_timestamp(&msg, cap->now_us - 37u * 1000000u);  /* last sync */
    put_ntp_timestamp(&msg, client_tx_us);                  /* origin */
    put_ntp_timestamp(&msg, client_tx_us + rtt_us / 2 - 40); /* receive */
    put_ntp_timestamp(&msg, client_tx_us + rtt_us / 2);      /* transmit */
    send_udp(cap, f, FROM_SERVER, 0, &msg);
}

/* ------------------------------------------------------------------------ */
/* The demo timeline                                                        */
/* ------------------------------------------------------------------------ */

static void generate_capture(struct capture *cap)
{
    struct host client4 = {
        .mac = CLIENT_MAC, .family = IPV4, .addr = { 192, 168, 1, 10 },
        .ttl = 64, .next_ip_id = 0x4a1c,
    };
    struct host gateway4 = {
        .mac = GATEWAY_MAC, .family = IPV4, .addr = { 192, 168, 1, 1 },
        .ttl = 64, .next_ip_id = 0x0d31,
    };
    /* Remote servers arrive through the gateway with TTLs already decremented. */
    struct host example_com = {
        .mac = GATEWAY_MAC, .family = IPV4, .addr = { 93, 184, 216, 34 },
        .ttl = 56, .next_ip_id = 0x9e10,
    };
    struct host web_server4 = {
        .mac = GATEWAY_MAC, .family = IPV4, .addr = { 198, 51, 100, 20 },
        .ttl = 57, .next_ip_id = 0x21f7,
    };
    struct host ping_target = {
        .mac = GATEWAY_MAC, .family = IPV4, .addr = { 198, 51, 100, 7 },
        .ttl = 57, .next_ip_id = 0x7c02,
    };
    struct host ntp_server = {
        .mac = GATEWAY_MAC, .family = IPV4, .addr = { 198, 51, 100, 123 },
        .ttl = 57, .next_ip_id = 0x5b60,
    };
    struct host client6 = {
        .mac = CLIENT_MAC, .family = IPV6, .ttl = 64,
        .addr = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x10 },
    };
    struct host gateway6 = {
        .mac = GATEWAY_MAC, .family = IPV6, .ttl = 64,
        .addr = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01 },
    };
    struct host web_server6 = {
        .mac = GATEWAY_MAC, .family = IPV6, .ttl = 57,
        .addr = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x80 },
    };

    struct flow tls = {
        .host = { &client4, &example_com }, .port = { 51000, 443 },
        .next_seq = { 0x6b8b4567u, 0x327b23c6u },
        .syn_window = { 64240, 65535 }, .window = { 502, 128 },
        .mss = { 1460, 1460 }, .wscale = { 7, 9 },
        .timestamps = { true, true }, .ts_base = { 0x1d2f3a4bu, 0x8a3c5e71u },
    };
    struct flow dns4 = { .host = { &client4, &gateway4 }, .port = { 53000, 53 } };
    /* This server does not do TCP timestamps, so its ACKs are padded frames. */
    struct flow http4 = {
        .host = { &client4, &web_server4 }, .port = { 51002, 80 },
        .next_seq = { 0x643c9869u, 0x66334873u },
        .syn_window = { 64240, 29200 }, .window = { 502, 229 },
        .mss = { 1460, 1460 }, .wscale = { 7, 7 },
        .timestamps = { true, false }, .ts_base = { 0x1d2f3a4bu, 0 },
    };
    struct flow ping4 = { .host = { &client4, &ping_target } };
    struct flow dns6 = {
        .host = { &client6, &gateway6 }, .port = { 53001, 53 },
        .flow_label = { 0x8d3a1, 0 },
    };
    struct flow http6 = {
        .host = { &client6, &web_server6 }, .port = { 51004, 80 },
        .flow_label = { 0x2b7e5, 0xf1c04 },
        .next_seq = { 0x74b0dc51u, 0x19495cffu },
        .syn_window = { 64800, 64800 }, .window = { 507, 253 },
        .mss = { 1440, 1440 }, .wscale = { 7, 8 },
        .timestamps = { true, true }, .ts_base = { 0x2ae8944au, 0x625558ecu },
    };
    struct flow ping6 = {
        .host = { &client6, &web_server6 }, .flow_label = { 0x5d1f2, 0x0a9e3 },
    };
    struct flow ntp = {
        .host = { &client4, &ntp_server }, .port = { 123, 123 }, .vlan_id = 100,
    };

    static const uint8_t example_com_a[4] = { 93, 184, 216, 34 };
    static const uint8_t web_server6_aaaa[16] = {
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x80,
    };
    struct byte_buf msg = { .len = 0 };

    /* 1. TLS: handshake, hellos, first client application data. */
    tcp_handshake(cap, &tls, 0, 18400);
    put_client_hello(&msg, "www.example.com");
    send_tcp_data(cap, &tls, FROM_CLIENT, 1300, &msg);
    send_tcp_ack(cap, &tls, FROM_SERVER, 18900);
    msg = (struct byte_buf){ .len = 0 };
    put_server_hello(&msg);
    send_tcp_data(cap, &tls, FROM_SERVER, 1700, &msg);
    send_tcp_ack(cap, &tls, FROM_CLIENT, 1050);
    msg = (struct byte_buf){ .len = 0 };
    put_tls_app_data(&msg, 229, 0xda7a0001u);
    send_tcp_data(cap, &tls, FROM_CLIENT, 3600, &msg);
    msg = (struct byte_buf){ .len = 0 };
    put_tls_app_data(&msg, 341, 0xda7a0002u);
    send_tcp_data(cap, &tls, FROM_CLIENT, 1400, &msg);

    /* 2. DNS A lookup overlaps the TLS exchange. */
    dns_exchange(cap, &dns4, 2100, 7300, 0x1a2b, "www.example.com", DNS_TYPE_A,
                 example_com_a, sizeof example_com_a);

    send_tcp_ack(cap, &tls, FROM_SERVER, 9800);
    msg = (struct byte_buf){ .len = 0 };
    put_tls_app_data(&msg, 398, 0xda7a0003u);
    send_tcp_data(cap, &tls, FROM_SERVER, 4300, &msg);
    msg = (struct byte_buf){ .len = 0 };
    put_tls_app_data(&msg, 287, 0xda7a0004u);
    send_tcp_data(cap, &tls, FROM_SERVER, 1600, &msg);
    send_tcp_ack(cap, &tls, FROM_CLIENT, 1150);

    /* 3. HTTP over IPv4 opens while the TLS connection is being closed. */
    tcp_handshake(cap, &http4, 12500, 24100);
    tcp_close(cap, &tls, 6200, 19300);
    http_exchange(cap, &http4, 23800, "/index.html", "www.example.org",
                  "text/html; charset=UTF-8", "<html><body>streamprobe demo</body></html>\n");
    tcp_close(cap, &http4, 4700, 24600);

    /* 4-5. ICMP echo, with the IPv6 DNS lookup between the two rounds. */
    ping_exchange(cap, &ping4, 15800, 21700, 0x0101, 1);
    dns_exchange(cap, &dns6, 8900, 6400, 0x3c4d, "www.example.com", DNS_TYPE_AAAA,
                 web_server6_aaaa, sizeof web_server6_aaaa);
    ping_exchange(cap, &ping4, 9600, 22300, 0x0101, 2);

    /* 6. HTTP over IPv6. */
    tcp_handshake(cap, &http6, 3200, 27400);
    http_exchange(cap, &http6, 26900, "/", "www.example.com", "text/plain",
                  "hello from the streamprobe demo over IPv6\n");
    tcp_close(cap, &http6, 5100, 27800);

    /* 7. ICMPv6 echo. */
    ping_exchange(cap, &ping6, 17300, 27600, 0x0202, 1);

    /* 8. NTP on VLAN 100. */
    ntp_exchange(cap, &ntp, 31500, 22900);
}

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '\0') {
        fprintf(stderr, "usage: %s OUT.pcap\n", argc > 0 ? argv[0] : "make_demo_pcap");
        return 2;
    }
    const char *path = argv[1];
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        fprintf(stderr, "make_demo_pcap: cannot open %s: %s\n", path, strerror(errno));
        return 2;
    }

    /* Only a regular file may be deleted on failure (think OUT = /dev/full). */
    struct stat st;
    bool regular_file = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode);

    struct capture cap = { .fp = fp, .now_us = START_TIME_US };
    write_global_header(&cap);
    generate_capture(&cap);
    if (fclose(fp) != 0)
        capture_fail(&cap, "write failed", errno);

    if (cap.error) {
        if (cap.error_errno)
            fprintf(stderr, "make_demo_pcap: %s: %s: %s\n", path, cap.error,
                    strerror(cap.error_errno));
        else
            fprintf(stderr, "make_demo_pcap: %s: %s\n", path, cap.error);
        if (regular_file)
            remove(path); /* never leave a truncated capture behind */
        return 2;
    }
    printf("wrote %u packets to %s\n", cap.packets, path);
    return 0;
}
