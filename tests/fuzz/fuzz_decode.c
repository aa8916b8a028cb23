/*
 * fuzz_decode.c - one frame through decode_packet().
 *
 * Input: byte 0 picks the link type (low 4 bits: every DLT decode.c reads,
 * and one it does not), tunnel decoding (bit 4) and the wire length
 * (bits 5-7: equal to the captured length, longer, or shorter as a hostile
 * capture file may say); the rest is the frame, in a buffer that ends
 * where it ends (ASan sees a read past it).
 * Checked: the result is a known reason; a decoded view points inside the
 * frame, from its innermost IP header to the frame's end.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode.h"
#include "fuzz_check.h"
#include "fuzz_dlt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decode_conf dc;
	struct pkt_view pv;
	enum decode_result r;
	const uint8_t *frame;
	uint32_t caplen, wirelen;
	volatile uint8_t sink = 0;
	unsigned i;

	if (size < 1 || size - 1 > UINT32_MAX / 2)
		return 0;
	memset(&dc, 0, sizeof(dc));
	dc.dlt = fuzz_dlts[(data[0] & 0x0f) % FUZZ_NDLTS];
	dc.decode_tunnels = (data[0] & 0x10) != 0;
	frame = data + 1;
	caplen = (uint32_t)(size - 1);
	switch (data[0] >> 5) {
	case 0: case 1: case 2: case 3:
		wirelen = caplen;
		break;
	case 4:
		wirelen = caplen + 1;
		break;
	case 5:
		wirelen = caplen + 60000;
		break;
	case 6:
		wirelen = caplen / 2;
		break;
	default:
		wirelen = 0;
		break;
	}
	memset(&pv, 0xa5, sizeof(pv));	/* nothing left unset is trusted */
	r = decode_packet(&dc, frame, caplen, wirelen, &pv);
	FUZZ_CHECK((unsigned)r < DECODE_RESULT_COUNT);
	FUZZ_CHECK(decode_result_name(r) != NULL);
	if (r != DECODE_OK)
		return 0;
	FUZZ_CHECK(pv.ip_version == 4 || pv.ip_version == 6);
	FUZZ_CHECK(pv.l3 >= frame && pv.l3 <= frame + caplen);
	FUZZ_CHECK(pv.l3_len <= (size_t)(frame + caplen - pv.l3));
	/* Read what the view lends, as DPI will. */
	for (i = 0; i < pv.l3_len; i++)
		sink ^= pv.l3[i];
	(void)sink;
	return 0;
}
