/*
 * flow.c - canonical flow keys.
 *
 *	flow_key_from_pkt()	packet -> canonical key + which end sent it
 */
#include <string.h>

#include "decode.h"
#include "flow.h"

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
	c = memcmp(pv->src_addr, pv->dst_addr, sizeof(pv->src_addr));
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
