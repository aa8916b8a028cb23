/*
 * make_flood_pcap.c - generate a SYN flood capture: every packet a new flow.
 *
 * Usage: make_flood_pcap OUT.pcap FLOWS
 *
 * Writes FLOWS Ethernet frames (60 bytes, microsecond libpcap format), one
 * TCP SYN each, 1 us apart from 2026-01-01 00:00:00 UTC.  Frame n (from 0)
 * goes from 10.(n>>16 & 255).(n>>8 & 255).(n & 255) port 1024 + n % 60000 to
 * 192.0.2.1 port 80, so every frame is a distinct flow (up to 16 M flows;
 * n >> 24 changes the destination's last byte beyond that).  The expected
 * result of metering it is therefore known by construction: FLOWS flows of
 * one packet and 60 bytes each (accounting mode 0), every one with a SYN.
 *
 * Written with stdio, as make_demo_pcap.c: libpcap belongs to one probe
 * module only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_LEN	60
#define START_SEC	1767225600u	/* 2026-01-01T00:00:00Z */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void
put32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* RFC 1071 one's-complement sum over an even number of bytes. */
static uint16_t
inet_csum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
build_frame(uint8_t *f, uint32_t n)
{
	uint8_t *ip = f + 14, *tcp = ip + 20;
	uint32_t src = 10u << 24 | (n & 0xffffff), dst = 0xc0000201u + (n >> 24);
	uint32_t pseudo;

	memset(f, 0, FRAME_LEN);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, 40);
	put16(ip + 4, (uint16_t)n);
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, inet_csum(ip, 20, 0));
	put16(tcp, (uint16_t)(1024 + n % 60000));
	put16(tcp + 2, 80);
	put32(tcp + 4, n * 2654435761u);
	tcp[12] = 5 << 4;
	tcp[13] = 0x02;		/* SYN */
	put16(tcp + 14, 64240);
	pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	    6 + 20;
	put16(tcp + 16, inet_csum(tcp, 20, pseudo));
}

int
main(int argc, char **argv)
{
	uint8_t hdr[24], rec[16], frame[FRAME_LEN];
	unsigned long long flows, n;
	char *end;
	FILE *fp;

	if (argc != 3) {
		fprintf(stderr, "usage: make_flood_pcap OUT.pcap FLOWS\n");
		return 2;
	}
	errno = 0;
	flows = strtoull(argv[2], &end, 10);
	if (errno != 0 || *end != '\0' || flows == 0 || flows > 1ull << 32) {
		fprintf(stderr, "make_flood_pcap: FLOWS \"%s\" is not in "
		    "1..4294967296\n", argv[2]);
		return 2;
	}
	if ((fp = fopen(argv[1], "wb")) == NULL) {
		fprintf(stderr, "make_flood_pcap: %s: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	put32le(hdr, 0xa1b2c3d4);
	hdr[4] = 2, hdr[5] = 0, hdr[6] = 4, hdr[7] = 0;	/* version 2.4 */
	memset(hdr + 8, 0, 8);
	put32le(hdr + 16, 65535);
	put32le(hdr + 20, 1);				/* Ethernet */
	fwrite(hdr, 1, sizeof(hdr), fp);
	for (n = 0; n < flows; n++) {
		put32le(rec, START_SEC + (uint32_t)(n / 1000000));
		put32le(rec + 4, (uint32_t)(n % 1000000));
		put32le(rec + 8, FRAME_LEN);
		put32le(rec + 12, FRAME_LEN);
		build_frame(frame, (uint32_t)n);
		fwrite(rec, 1, sizeof(rec), fp);
		fwrite(frame, 1, sizeof(frame), fp);
	}
	if (ferror(fp) | fclose(fp)) {
		fprintf(stderr, "make_flood_pcap: %s: write failed\n", argv[1]);
		return 1;
	}
	return 0;
}
