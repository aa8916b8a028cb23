/*
 * fuzz_dlt.h - the link types a harness's input picks from (by index):
 * every one decode.c reads, and one it does not.  make_corpus.sh maps
 * pcap link types to these indexes.
 */
#ifndef STREAMPROBE_FUZZ_DLT_H
#define STREAMPROBE_FUZZ_DLT_H

#include "decode.h"

static const int fuzz_dlts[] = {
	DECODE_DLT_NULL, DECODE_DLT_EN10MB, DECODE_DLT_PPP, DECODE_DLT_RAW,
	DECODE_DLT_PPP_SERIAL, DECODE_DLT_C_HDLC, DECODE_DLT_LINUX_SLL,
	DECODE_DLT_IEEE802_11_RADIO, DECODE_DLT_IPV4, DECODE_DLT_IPV6,
	DECODE_DLT_LINUX_SLL2,
	147	/* DLT_USER0: not decoded */
};
#define FUZZ_NDLTS	(sizeof(fuzz_dlts) / sizeof(fuzz_dlts[0]))

#endif
