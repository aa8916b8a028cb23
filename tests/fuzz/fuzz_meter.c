/*
 * fuzz_meter.c - a sequence of packets through the whole metering path,
 * composed as probe.c composes it but without threads or libpcap: decode,
 * flow table, the flow extensions (features, SPLT, nDPI), idle, active and
 * TCP-end expiry on the packet clock, the meter's ring, the export stage
 * (export_stage_pump() on this thread) and every exporter's record
 * building: CSV and JSON text, IPFIX through libfixbuf (to /dev/null) and
 * NetFlow v9 (UDP to a socket of this process on 127.0.0.1), then the
 * final flush, each exporter's finish and report.
 *
 * Input: a 4-byte run mode, then records "length:2 delta:1 bytes"
 * (length big-endian, cut to what the input has left):
 *   h0  bits 0-3 link type (fuzz_decode's table), 4 tunnel decoding,
 *       5 --tcp-end, 6-7 --accounting-mode
 *   h1  bit 0 --statistics, 1 --splt (10 packets; bit 6: 255), 2 DPI,
 *       3 --uniflow, 4-5 template: standard, nfstream, ntop, or 3: the
 *       first record is a template file (bad ones leave IPFIX and v9
 *       out), 7 --mtu 576 (else 1400)
 *   h2  low 4 bits --idle-timeout, high 4 bits --active-timeout (index
 *       into timeouts[])
 *   h3  bits 0-3 --max-flows 2^(n mod 13), 4-5 --template-packets
 *       20, 2, 1 or 1000, 6 wire length 100 bytes over the captured one,
 *       7 --max-memory at the smallest budget the meter takes (so DPI is
 *       given up, then flows evicted with reason 5, within a few thousand
 *       flows)
 * delta advances the packet clock: 0x00-0x7f milliseconds, 0x80-0xef
 * (delta - 0x7f) seconds, 0xf0-0xff (delta - 0xef) minutes.  Each frame
 * is copied to a buffer of its own size (ASan sees a read past it).
 *
 * Deterministic: nDPI is created once (its start-up costs ~100 runs), and
 * what it caches across flows may carry over from one input to the next;
 * everything else is made and freed per input (leak checking on).
 */
#define _GNU_SOURCE	/* mkdtemp */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "columns.h"
#include "decode.h"
#include "dpi.h"
#include "export_stage.h"
#include "exporter.h"
#include "flowext.h"
#include "fuzz_check.h"
#include "fuzz_dlt.h"
#include "fuzz_outputs.h"
#include "meter.h"
#include "monotime.h"
#include "ring.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE_SEC	1600000000LL
#define TICK_MS		1000	/* the export thread's idle tick */


static const uint64_t timeouts_s[16] = {
	0, 1, 2, 3, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600, 86400,
	315360000
};
static const char *const templates[] = { "standard", "nfstream", "ntop" };
static const unsigned template_packets[] = { 20, 2, 1, 1000 };

/* The per-flow layouts, made once each: statistics x SPLT (0, 10, 255)
 * x DPI.  A layout is plain configuration, the same for every run. */
struct layout {
	bool		made;
	struct flowext	ext;
};
static struct layout layouts[2][3][2];
static struct dpi *dpi;
static char tmpl_path[64];
static FILE *devnull;

static char tmp_dir[64];

/* The temporary file and its directory go at exit (CTest runs too). */
static void
remove_tmp(void)
{
	unlink(tmpl_path);
	rmdir(tmp_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct dpi_conf dc = { 20 };
	char err[256], dir[] = "/tmp/fuzz_meter.XXXXXX";

	(void)argc;
	(void)argv;
	if (columns_init(err, sizeof(err)) != 0 ||
	    columns_freeze(err, sizeof(err)) != 0 ||
	    (dpi = dpi_create(&dc, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_meter: %s\n", err);
		abort();
	}
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	snprintf(tmp_dir, sizeof(tmp_dir), "%s", dir);
	snprintf(tmpl_path, sizeof(tmpl_path), "%s/t.tmpl", dir);
	atexit(remove_tmp);
	FUZZ_CHECK((devnull = fopen("/dev/null", "w")) != NULL);
	(void)fuzz_udp_sink();
	return 0;
}

static const struct flowext *
layout(bool statistics, unsigned splt_i, bool use_dpi)
{
	static const unsigned splt_n[3] = { 0, 10, 255 };
	struct layout *l = &layouts[statistics][splt_i][use_dpi];
	char err[256];

	if (l->made)
		return &l->ext;
	flowext_init(&l->ext);
	if (flowfeat_ext_register(&l->ext, statistics, splt_n[splt_i], err,
	    sizeof(err)) != 0 || (use_dpi &&
	    dpi_ext_register(dpi, &l->ext, err, sizeof(err)) != 0) ||
	    flowext_freeze(&l->ext, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_meter: %s\n", err);
		abort();
	}
	l->made = true;
	return &l->ext;
}

static uint64_t
delta_us(uint8_t d)
{
	if (d < 0x80)
		return (uint64_t)d * 1000;
	if (d < 0xf0)
		return (uint64_t)(d - 0x7f) * 1000000;
	return (uint64_t)(d - 0xef) * 60000000;
}

/* One record: 0 at the end of the input. */
static int
next_record(const uint8_t **p, const uint8_t *end, const uint8_t **bytes,
    uint32_t *len, uint8_t *delta)
{
	size_t n;

	if (end - *p < 3)
		return 0;
	n = (size_t)(*p)[0] << 8 | (*p)[1];
	*delta = (*p)[2];
	*p += 3;
	if (n > (size_t)(end - *p))
		n = (size_t)(end - *p);
	*bytes = *p;
	*len = (uint32_t)n;
	*p += n;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 4, *end = data + size, *bytes;
	const struct flowext *ext;
	struct meter_conf mc;
	struct meter *m = NULL;
	struct export_stage *stage = NULL;
	struct exporter_env env;
	struct exporter_conf oc;
	struct colset cols;
	struct cap_pkt h;
	enum exporter_kind kind;
	uint64_t us = 0, mono0, last_tick = 0, pkt_ms;
	uint32_t len;
	uint8_t h0, h1, h2, h3, delta, *frame;
	bool use_dpi, custom;
	char err[1024];
	FILE *fp;

	if (size < 4)
		return 0;
	h0 = data[0];
	h1 = data[1];
	h2 = data[2];
	h3 = data[3];
	use_dpi = (h1 & 0x04) != 0;
	ext = layout((h1 & 0x01) != 0, (h1 & 0x02) ? (h1 & 0x40 ? 2 : 1) : 0,
	    use_dpi);
	custom = ((h1 >> 4) & 3) == 3;
	if (custom) {
		if (!next_record(&p, end, &bytes, &len, &delta) ||
		    (fp = fopen(tmpl_path, "w")) == NULL)
			return 0;
		fwrite(bytes, 1, len, fp);
		if (fclose(fp) != 0)
			return 0;
	}

	memset(&mc, 0, sizeof(mc));
	mc.ext = ext;
	mc.max_flows = 1u << ((h3 & 0x0f) % 13);	/* at most 4096: the
							 * ring's 8192 take a
							 * final flush */
	mc.idle_timeout_ms = timeouts_s[h2 & 0x0f] * 1000;
	mc.active_timeout_ms = timeouts_s[h2 >> 4] * 1000;
	mc.tcp_end = (h0 & 0x20) != 0;
	mc.accounting_mode = h0 >> 6;
	mc.decode_tunnels = (h0 & 0x10) != 0;
	mc.live = false;	/* files: a full ring waits, nothing is lost */
	mc.wake = NULL;		/* no thread to wake */
	FUZZ_CHECK((m = meter_create(&mc, err, sizeof(err))) != NULL);
	if (h3 & 0x80) {
		/* meter.c's smallest budget: the index and 1024 flows in
		 * DPI (BUDGET_MIN_FLOWS); refused if that ever grows. */
		const struct meter_snapshot *ms = meter_snapshot(m);

		mc.max_memory = ms->index_bytes + 1024 *
		    ((uint64_t)ms->entry_bytes + flowext_mem_per_flow(ext));
		meter_destroy(m);
		err[0] = '\0';
		if ((m = meter_create(&mc, err, sizeof(err))) == NULL) {
			FUZZ_CHECK(err[0] != '\0');
			return 0;
		}
	}
	FUZZ_CHECK((stage = export_stage_create(ext, err, sizeof(err))) != NULL);
	FUZZ_CHECK(export_stage_add_ring(stage, meter_ring(m), meter_room(m)) == 0);
	FUZZ_CHECK(colset_init(&cols, mc.decode_tunnels, (h1 & 0x01) != 0,
	    (h1 & 0x02) != 0, use_dpi) == 0);

	memset(&env, 0, sizeof(env));
	env.dpi = use_dpi ? dpi : NULL;
	env.statistics = (h1 & 0x01) != 0;
	env.splt = (h1 & 0x02) != 0;
	env.splt_n = env.splt ? (h1 & 0x40 ? 255 : 10) : 0;
	env.tunnels = mc.decode_tunnels;
	env.template_name = custom ? tmpl_path : templates[(h1 >> 4) & 3];
	env.template_dir = FUZZ_TEMPLATE_DIR;
	env.template_refresh_s = 60;
	env.template_packets = template_packets[(h3 >> 4) & 3];
	env.mtu = h1 & 0x80 ? 576 : 1400;
	env.observation_domain = 1;
	env.uniflow = (h1 & 0x08) != 0;
	env.packets_ignored = &meter_snapshot(m)->packets_ignored;
	for (kind = EXPORTER_CSV; kind <= EXPORTER_NF9; kind++) {
		fuzz_output_conf(&oc, kind);
		/* A template the binary exporters refuse (with a message,
		 * checked) leaves them out; CSV and JSON always open. */
		err[0] = '\0';
		if (export_stage_add_output(stage, &oc, &cols, &env, err,
		    sizeof(err)) != 0) {
			FUZZ_CHECK(err[0] != '\0');
			FUZZ_CHECK(kind == EXPORTER_IPFIX || kind == EXPORTER_NF9);
		}
	}

	/* The export thread's clock follows the packet clock. */
	mono0 = monotime_ms();
	while (next_record(&p, end, &bytes, &len, &delta)) {
		us += delta_us(delta);
		memset(&h, 0, sizeof(h));
		h.ts_sec = BASE_SEC + (int64_t)(us / 1000000);
		h.ts_usec = (int64_t)(us % 1000000);
		h.caplen = len;
		h.wirelen = len + (h3 & 0x40 ? 100 : 0);
		h.dlt = fuzz_dlts[(h0 & 0x0f) % FUZZ_NDLTS];
		/* malloc(0) may be NULL; one byte, none of it captured. */
		FUZZ_CHECK((frame = malloc(len ? len : 1)) != NULL);
		memcpy(frame, bytes, len);
		meter_packet(m, &h, frame);
		free(frame);
		(void)export_stage_pump(stage);
		pkt_ms = us / 1000;
		if (pkt_ms - last_tick >= TICK_MS) {
			export_stage_tick(stage, mono0 + pkt_ms, true);
			last_tick = pkt_ms;
		}
	}
	meter_finish(m);
	(void)export_stage_pump(stage);
	FUZZ_CHECK(ring_pop_begin(meter_ring(m)) == NULL);
	meter_publish(m, false);
	FUZZ_CHECK(atomic_load(&meter_snapshot(m)->flows_cached) == 0);
	FUZZ_CHECK(atomic_load(&meter_snapshot(m)->flows_dropped_queue) == 0);
	/* Every flow the meter finished went through every exporter. */
	FUZZ_CHECK(export_stage_exported(stage) + export_stage_failures(stage) ==
	    atomic_load(&meter_snapshot(m)->flows_expired));
	if (getenv("FUZZ_METER_VERBOSE") != NULL)
		fprintf(stderr, "fuzz_meter: %llu packets, %llu metered, %llu "
		    "flows exported, %llu failed, %llu lost DPI, %llu evicted "
		    "for memory\n",
		    (unsigned long long)atomic_load(
		    &meter_snapshot(m)->packets_read),
		    (unsigned long long)atomic_load(
		    &meter_snapshot(m)->packets_metered),
		    (unsigned long long)export_stage_exported(stage),
		    (unsigned long long)export_stage_failures(stage),
		    (unsigned long long)atomic_load(
		    &meter_snapshot(m)->flows_lost_dpi),
		    (unsigned long long)atomic_load(
		    &meter_snapshot(m)->flows_evicted_memory));
	(void)export_stage_finish(stage);
	export_stage_report(stage, devnull);
	(void)export_stage_report_undelivered(stage);
	export_stage_destroy(stage);
	colset_free(&cols);
	meter_destroy(m);
	return 0;
}
