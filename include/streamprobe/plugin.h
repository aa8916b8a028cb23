/*
 * streamprobe/plugin.h - the plugin API: NFStream's NFPlugin in C.
 *
 * The only header a plugin includes.  A plugin is a shared object that
 * defines one symbol, streamprobe_plugin (SP_PLUGIN below), describing its
 * fields and callbacks.  Its fields become the flow columns udps.<name> in
 * CSV and JSON, IPFIX enterprise elements (with RFC 5610 type records) in
 * the nfstream template and in any template file that names them, and
 * NetFlow v9 fields when a v9 id is declared.  Load it with
 *
 *	streamprobe --plugin ./my_plugin.so[:ARGS] ...
 *	plugin = ./my_plugin.so[:ARGS]		(configuration file)
 *	plugin.NAME.KEY = VALUE			(an argument, by key)
 *
 * Build: cc -std=c11 -shared -fPIC -I/usr/include my_plugin.c -o my_plugin.so
 * (the header is installed as /usr/include/streamprobe/plugin.h).
 *
 * THREADS AND RULES.  A plugin runs inside the probe, with its privileges
 * (root until --user drops them, then that user): load only code you trust.
 * With --threads N each meter thread gets its own instance (init() is
 * called N times, each instance sees only its meter's flows).  on_init,
 * on_update and on_expire run on the metering thread for every packet of
 * every flow: they must not block (no I/O, no locks, no sleeping) and
 * should not allocate (the per-flow state below is the flow's memory,
 * zeroed when the flow starts).  init and cleanup run at start-up and at
 * exit, on the main thread; init may allocate, read files and fail.
 * Nothing a callback gets may be kept after it returns, except through the
 * flow's own state and fields.
 *
 * ORDER.  Callbacks see the flow as NFStream's plugins do: the packet is
 * already counted (flow->packets includes it), on_init for the flow's
 * first packet, on_update for each later one, on_expire once when the flow
 * ends (idle, active, end of input, eviction, or the plugin's own
 * request), before the record is exported.  Plugins run in --plugin order,
 * after the probe's own features and application detection of the packet.
 *
 * ABI.  SP_PLUGIN_API_VERSION changes whenever a structure below changes
 * incompatibly; the probe refuses a plugin built for another version, and
 * one whose structure sizes differ from its own, naming both.
 */
#ifndef STREAMPROBE_PLUGIN_H
#define STREAMPROBE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SP_PLUGIN_API_VERSION	1

/* Field value types. */
enum sp_type {
	SP_UINT64 = 1,		/* IPFIX unsigned64 */
	SP_INT64 = 2,		/* IPFIX signed64 */
	SP_DOUBLE = 3,		/* IPFIX float64 */
	SP_STRING = 4		/* IPFIX string; size bytes kept, NUL included */
};

/*
 * One field.  name: [a-z0-9_], at most 48 bytes; its column is
 * udps.<name>.  ipfix_pen/ipfix_id: the IPFIX element (enterprise number,
 * id 1..16383); both 0: the probe numbers it in its own enterprise space,
 * in load order (the README's table).  v9_id: the NetFlow v9 field type
 * (>= 128 is customary for vendor fields); 0: not sent over v9.
 * is_volatile: computed and readable by the plugin, never exported
 * (NFStream's volatile=True).
 */
struct sp_field {
	const char	*name;
	enum sp_type	 type;
	uint16_t	 size;		/* SP_STRING: 2..256 bytes with the NUL */
	uint32_t	 ipfix_pen;
	uint16_t	 ipfix_id;
	uint16_t	 v9_id;
	int		 is_volatile;
	const char	*description;	/* optional: RFC 5610 / README text */
};

/* Packet directions (NFStream's 0 and 1). */
#define SP_SRC_TO_DST	0
#define SP_DST_TO_SRC	1

/* TCP flags, as in the header's byte 13. */
#define SP_TCP_FIN	0x01
#define SP_TCP_SYN	0x02
#define SP_TCP_RST	0x04
#define SP_TCP_PSH	0x08
#define SP_TCP_ACK	0x10
#define SP_TCP_URG	0x20
#define SP_TCP_ECE	0x40
#define SP_TCP_CWR	0x80

/*
 * The packet, read-only.  Sizes under each accounting mode: raw_size the
 * frame (mode 0), ip_size from the IP header (1), transport_size from the
 * transport header (2), payload_size the payload (3).  Addresses are 16
 * bytes, IPv4 in the first 4.  TCP fields are 0 for other protocols;
 * has_tcp tells a real TCP header from a truncated one.  payload points at
 * the captured payload (payload_len bytes, at most payload_size: the
 * snapshot length may cut it); NULL when there is none.
 */
struct sp_pkt {
	uint64_t	 time_ms;	/* the packet's time, ms since the epoch */
	unsigned	 direction;	/* SP_SRC_TO_DST or SP_DST_TO_SRC */
	uint16_t	 raw_size;
	uint16_t	 ip_size;
	uint16_t	 transport_size;
	uint16_t	 payload_size;
	uint8_t		 ip_version;	/* 4 or 6 */
	uint8_t		 protocol;	/* IP protocol number */
	uint8_t		 ttl;		/* TTL or hop limit */
	uint8_t		 has_tcp;
	const uint8_t	*src_ip;	/* 16 bytes */
	const uint8_t	*dst_ip;
	uint16_t	 src_port;
	uint16_t	 dst_port;
	uint16_t	 vlan_id;
	uint8_t		 tcp_flags;	/* SP_TCP_* */
	uint8_t		 tcp_header_len;	/* bytes, options included */
	uint32_t	 tcp_seq;
	uint32_t	 tcp_ack;
	uint16_t	 tcp_window;	/* as sent, not scaled */
	uint16_t	 payload_len;	/* captured payload bytes */
	const uint8_t	*payload;
};

/*
 * The flow, as NFStream's plugins see it: its columns so far, this packet
 * counted (index 0 src2dst, 1 dst2src; the src is the first packet's
 * sender), and the plugin's own per-flow state and fields.
 */
struct sp_flow {
	/* Read-only columns. */
	uint64_t	 first_seen_ms[2];	/* 0: no packet that way yet */
	uint64_t	 last_seen_ms[2];
	uint64_t	 packets[2];
	uint64_t	 bytes[2];		/* under the accounting mode */
	const uint8_t	*src_ip;		/* 16 bytes */
	const uint8_t	*dst_ip;
	uint16_t	 src_port;
	uint16_t	 dst_port;
	uint16_t	 vlan_id;
	uint8_t		 ip_version;
	uint8_t		 protocol;
	/* The plugin's per-flow state: state_size bytes, aligned to
	 * state_align, zeroed when the flow starts. */
	void		*state;
	/* Private to the probe: use sp_set_*() and sp_expire(). */
	uint8_t		*sp_values;
	const uint32_t	*sp_value_off;
	uint32_t	*sp_request;
};

/* Values of the plugin's fields (index = position in its fields[]). */
static inline void
sp_set_uint(struct sp_flow *f, unsigned field, uint64_t v)
{
	memcpy(f->sp_values + f->sp_value_off[field], &v, sizeof(v));
}

static inline void
sp_set_int(struct sp_flow *f, unsigned field, int64_t v)
{
	memcpy(f->sp_values + f->sp_value_off[field], &v, sizeof(v));
}

static inline void
sp_set_double(struct sp_flow *f, unsigned field, double v)
{
	memcpy(f->sp_values + f->sp_value_off[field], &v, sizeof(v));
}

static inline uint64_t
sp_get_uint(const struct sp_flow *f, unsigned field)
{
	uint64_t v;

	memcpy(&v, f->sp_values + f->sp_value_off[field], sizeof(v));
	return v;
}

static inline int64_t
sp_get_int(const struct sp_flow *f, unsigned field)
{
	int64_t v;

	memcpy(&v, f->sp_values + f->sp_value_off[field], sizeof(v));
	return v;
}

static inline double
sp_get_double(const struct sp_flow *f, unsigned field)
{
	double v;

	memcpy(&v, f->sp_values + f->sp_value_off[field], sizeof(v));
	return v;
}

/* A string field: len bytes of s, cut to the field's size - 1.  The
 * probe keeps the field's size in the byte before its value. */
static inline void
sp_set_string(struct sp_flow *f, unsigned field, const char *s, size_t len)
{
	uint8_t *p = f->sp_values + f->sp_value_off[field];
	size_t cap = (size_t)p[-1] + 1;		/* size, 2..256 */

	if (len > cap - 1)
		len = cap - 1;
	memcpy(p, s, len);
	p[len] = '\0';
}

/*
 * End the flow after this packet (NFStream's expiration_id = -1): it is
 * exported with expiration_id -1 in CSV and JSON and IPFIX flowEndReason 3
 * (end of flow detected), and the flow's next packet starts a new flow.
 * From on_init or on_update only; asking twice is a plugin bug (caught in
 * the probe's sanitizer build).
 */
#define SP_REQUEST_EXPIRE	0x1u

static inline void
sp_expire(struct sp_flow *f)
{
	/* A count, not a bit: the probe sees a second request. */
	*f->sp_request += SP_REQUEST_EXPIRE;
}

/*
 * Arguments: ARGS of --plugin PATH:ARGS as one string (arg, "" when none),
 * and the plugin.NAME.KEY = VALUE lines of the configuration file and
 * command line, in order.
 */
struct sp_args {
	const char		*arg;
	unsigned		 n;
	const char *const	*keys;
	const char *const	*values;
};

/* The value of key, or NULL. */
static inline const char *
sp_arg(const struct sp_args *a, const char *key)
{
	unsigned i;

	for (i = a->n; i > 0; i--)	/* the last one wins */
		if (strcmp(a->keys[i - 1], key) == 0)
			return a->values[i - 1];
	return NULL;
}

struct sp_abi {
	uint32_t	 api_version;
	uint32_t	 plugin_size;	/* sizeof(struct sp_plugin) */
	uint32_t	 field_size;	/* sizeof(struct sp_field) */
	uint32_t	 pkt_size;	/* sizeof(struct sp_pkt) */
	uint32_t	 flow_size;	/* sizeof(struct sp_flow) */
	uint32_t	 args_size;	/* sizeof(struct sp_args) */
};

struct sp_plugin {
	struct sp_abi		 abi;		/* SP_PLUGIN_ABI: first, always */
	const char		*name;		/* [a-z0-9_]: plugin.NAME.KEY */
	const char		*version;	/* the plugin's own, for messages */
	const struct sp_field	*fields;
	unsigned		 nfields;	/* 0..64 */
	size_t			 state_size;	/* per flow, 0..4096 bytes */
	size_t			 state_align;	/* 1, 2, 4 or 8 */
	/* Start-up: make an instance (*instance, may stay NULL); return 0,
	 * or -1 with a message in err (the probe names the plugin). */
	int	(*init)(const struct sp_args *args, void **instance, char *err,
		    size_t errlen);
	void	(*on_init)(void *instance, const struct sp_pkt *pkt,
		    struct sp_flow *flow);
	void	(*on_update)(void *instance, const struct sp_pkt *pkt,
		    struct sp_flow *flow);
	/* The flow ends; pkt-less.  Final values are set here. */
	void	(*on_expire)(void *instance, struct sp_flow *flow);
	void	(*cleanup)(void *instance);
};

#define SP_PLUGIN_ABI	{ SP_PLUGIN_API_VERSION, sizeof(struct sp_plugin), \
	sizeof(struct sp_field), sizeof(struct sp_pkt), \
	sizeof(struct sp_flow), sizeof(struct sp_args) }

/*
 * The one symbol a plugin defines:
 *
 *	SP_PLUGIN = {
 *		.abi = SP_PLUGIN_ABI,
 *		.name = "packet_with_666_size",
 *		...
 *	};
 */
#define SP_PLUGIN \
	__attribute__((visibility("default"))) \
	const struct sp_plugin streamprobe_plugin; \
	const struct sp_plugin streamprobe_plugin

#ifdef __cplusplus
}
#endif

#endif
