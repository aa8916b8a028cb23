/*
 * plugin.h - the plugin loader and runtime (include/streamprobe/plugin.h is
 * the plugins' side of the contract).
 *
 * Start-up, main thread, in this order:
 *	plugin_set_load()	dlopen each --plugin PATH[:ARGS], check the ABI
 *				and every declaration, hand out the arguments;
 *				nothing is read before it succeeds
 *	plugin_set_register()	the columns udps.<name> (column registry) and
 *				the nfstream template's extra elements
 *	plugin_meter_create()	per meter: init() of each plugin (one instance
 *				per meter) and the per-flow state, registered as
 *				one flow extension (its flow_end hook runs
 *				on_expire)
 * Metering thread:
 *	plugin_packet()		after flow_account(): on_init / on_update of
 *				every plugin; true when one asked to end the flow
 * Exit: plugin_meter_destroy() (cleanup()), plugin_set_free() (dlclose).
 *
 * This stage is the only user of dlopen()/dlsym().
 */
#ifndef STREAMPROBE_PLUGIN_LOADER_H
#define STREAMPROBE_PLUGIN_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

struct flowext;
struct pkt_view;
struct plugin_set;
struct plugin_meter;

/* First id of the elements numbered in the template's enterprise space
 * (ENT:3001, ENT:3002, ... in load order; README "Plugins"): above the
 * templates' own (1001..) and the TCP backlog elements (2001..2004,
 * export_ipfix.c), which share that enterprise number. */
#define PLUGIN_ENT_BASE		3000

/*
 * specs: PATH[:ARGS] each; keys/values: "NAME.KEY" and its value.  NULL with
 * one message naming the plugin in errbuf.  n 0: an empty set (no cost).
 */
struct plugin_set *plugin_set_load(const char *const *specs, unsigned n,
    const char *const *keys, const char *const *values, unsigned nargs,
    char *errbuf, size_t errlen);
unsigned plugin_set_count(const struct plugin_set *s);
/* One line per plugin: name, version, path, fields, state (start-up). */
void plugin_set_log(const struct plugin_set *s);
/* Columns and template elements; after columns_init(), before the freeze. */
int plugin_set_register(struct plugin_set *s, char *errbuf, size_t errlen);
void plugin_set_free(struct plugin_set *s);

/* One meter's instances; registers the flow extension in x (not frozen). */
struct plugin_meter *plugin_meter_create(struct plugin_set *s,
    struct flowext *x, char *errbuf, size_t errlen);
void plugin_meter_destroy(struct plugin_meter *pm);

/* Metering thread, after flow_account(): true if the flow must end now. */
bool plugin_packet(struct plugin_meter *pm, struct flow *f,
    const struct pkt_view *pv, enum flow_dir dir, uint64_t now_ms,
    uint32_t usec);

#endif
