/*
 * flow.c - canonical flow keys.
 *
 *	flow_key_from_pkt()	packet -> canonical key + which end sent it
 */
#include <string.h>

#include "decode.h"
#include "flow.h"

/* memcmp order of two 16-byte addresses, as two big-endian words. */
static inline int
addr_cmp(const uint8_t *a, const uint8_t *b)
{
	uint64_t x, y;
	int i;

	for (i = 0; i < 16; i += 8) {
		x = (uint64_t)a[i] << 56 | (uint64_t)a[i + 1] << 48 |
		    (uint64_t)a[i + 2] << 40 | (uint64_t)a[i + 3] << 32 |
		    (uint64_t)a[i + 4] << 24 | (uint64_t)a[i + 5] << 16 |
		    (uint64_t)a[i + 6] << 8 | a[i + 7];
		y = (uint64_t)b[i] << 56 | (uint64_t)b[i + 1] << 48 |
		    (uint64_t)b[i + 2] << 40 | (uint64_t)b[i + 3] << 32 |
		    (uint64_t)b[i + 4] << 24 | (uint64_t)b[i + 5] << 16 |
		    (uint64_t)b[i + 6] << 8 | b[i + 7];
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

/*
 * Order the two endpoints by address, then port, so that both directions
 * build the same key.  NFStream orders by the text form of the address;
 * the order differs but the set of packets sharing a key is the same.
 */
void
flow_key_from_pkt(const struct pkt_view *pv, struct flow_key *key,
    uint8_t *pkt_src_end)
{
	int c;

	memset(key, 0, sizeof(*key));
	c = addr_cmp(pv->src_addr, pv->dst_addr);
	if (c == 0)
		c = (pv->src_port > pv->dst_port) - (pv->src_port < pv->dst_port);
	if (c <= 0) {
		memcpy(key->addr[0], pv->src_addr, 16);
		memcpy(key->addr[1], pv->dst_addr, 16);
		key->port[0] = pv->src_port;
		key->port[1] = pv->dst_port;
		*pkt_src_end = 0;
	} else {
		memcpy(key->addr[0], pv->dst_addr, 16);
		memcpy(key->addr[1], pv->src_addr, 16);
		key->port[0] = pv->dst_port;
		key->port[1] = pv->src_port;
		*pkt_src_end = 1;
	}
	key->vlan_id = pv->vlan_id;
	key->protocol = pv->protocol;
	key->ip_version = pv->ip_version;
	key->tunnel_id = pv->tunnel_id;
}
