/*
 * nf9.h - NetFlow v9 (RFC 3954) packet encoder: pure, no I/O, no library.
 *
 * A packet is built in a caller's buffer: nf9_begin() writes the header,
 * then template, options-template and data records are added; consecutive
 * records of one kind share a FlowSet.  nf9_finish() pads the open FlowSet
 * to 4 bytes, back-patches its length and the header's record count, and
 * returns the packet length.  An add that does not fit returns NF9_FULL
 * and leaves the packet unchanged: send it and start a new one.
 */
#ifndef STREAMPROBE_NF9_H
#define STREAMPROBE_NF9_H

#include <stddef.h>
#include <stdint.h>

#define NF9_HEADER_LEN		20
#define NF9_FLOWSET_HEADER	4
#define NF9_FULL		(-1)
#define NF9_BAD			(-2)

struct nf9_field {
	uint16_t	type;
	uint16_t	len;
};

struct nf9_packet {
	uint8_t		*buf;
	size_t		 cap;
	size_t		 len;
	uint16_t	 count;		/* records of every kind */
	size_t		 set_start;	/* open FlowSet, 0 when none */
	uint16_t	 set_id;
};

void nf9_begin(struct nf9_packet *p, uint8_t *buf, size_t cap,
    uint32_t sys_uptime_ms, uint32_t unix_secs, uint32_t sequence,
    uint32_t source_id);
int nf9_add_template(struct nf9_packet *p, uint16_t template_id,
    const struct nf9_field *fields, unsigned n);
int nf9_add_options_template(struct nf9_packet *p, uint16_t template_id,
    const struct nf9_field *scopes, unsigned nscopes,
    const struct nf9_field *options, unsigned noptions);
int nf9_add_record(struct nf9_packet *p, uint16_t template_id,
    const uint8_t *rec, size_t len);
size_t nf9_finish(struct nf9_packet *p);

#endif
