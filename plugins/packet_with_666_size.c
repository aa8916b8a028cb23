/*
 * packet_with_666_size - NFStream's seed plugin example: the number of
 * packets of the flow whose raw size (the frame, accounting mode 0) is 666.
 *
 * NFStream:
 *	class Packet666(NFPlugin):
 *	    def on_init(self, packet, flow):
 *	        flow.udps.packet_with_666_size = 1 if packet.raw_size == 666
 *	            else 0
 *	    def on_update(self, packet, flow):
 *	        if packet.raw_size == 666:
 *	            flow.udps.packet_with_666_size += 1
 *
 * Column udps.packet_with_666_size (CSV, JSON); IPFIX: the probe's own
 * enterprise space (no ipfix_pen/ipfix_id given); NetFlow v9 id 40666.
 */
#include <streamprobe/plugin.h>

static const struct sp_field fields[] = {
	{ .name = "packet_with_666_size", .type = SP_UINT64, .v9_id = 40666,
	  .description = "packets whose raw size is 666 bytes" },
};

static void
on_init(void *instance, const struct sp_pkt *pkt, struct sp_flow *flow)
{
	(void)instance;
	sp_set_uint(flow, 0, pkt->raw_size == 666);
}

static void
on_update(void *instance, const struct sp_pkt *pkt, struct sp_flow *flow)
{
	(void)instance;
	if (pkt->raw_size == 666)
		sp_set_uint(flow, 0, sp_get_uint(flow, 0) + 1);
}

SP_PLUGIN = {
	.abi = SP_PLUGIN_ABI,
	.name = "packet_with_666_size",
	.version = "1.0",
	.fields = fields,
	.nfields = 1,
	.on_init = on_init,
	.on_update = on_update,
};
