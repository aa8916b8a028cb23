/*
 * plugin.c - the plugin loader and runtime (see plugin.h).
 *
 *	plugin_set_load()	dlopen, ABI and declaration checks, arguments
 *	plugin_set_register()	columns udps.<name>, nfstream template fields
 *	plugin_meter_create()	init() per meter, the per-flow extension
 *	plugin_packet()		on_init / on_update, after flow_account()
 *	pm_flow_end()		on_expire (the extension's flow_end hook)
 *	plugin_meter_destroy(), plugin_set_free()
 *
 * Per-flow layout (one flow extension per meter, the same in each): for
 * each plugin in load order its value area (a number 8 bytes; a string its
 * size byte, then its size bytes, the layout sp_set_string() expects), then
 * its own state at its alignment.  The flow table zeroes it when the flow
 * starts; the first packet writes the strings' size bytes.  It is plain
 * data: the export stage reads the values from the record's copy.
 *
 * Sanitizer build: each callback gets its state in a heap buffer of exactly
 * state_size bytes (copied in and out), so that a plugin writing past its
 * declared state is a heap-buffer-overflow that ASan reports, instead of a
 * silent write into the next plugin's bytes.  Other builds pass the record's
 * own bytes: no copy on the hot path.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "columns.h"
#include "decode.h"
#include "flowext.h"
#include "log.h"
#include "plugin.h"
#include "streamprobe/plugin.h"
#include "template.h"

#if defined(__SANITIZE_ADDRESS__)
#define PLUGIN_BOUNCE	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PLUGIN_BOUNCE	1
#endif
#endif

#define MAX_PLUGINS	16
#define MAX_FIELDS	64
#define MAX_NAME	48
#define MAX_STATE	4096

struct plugin {
	void			*dl;
	const struct sp_plugin	*p;
	char			*path;
	char			*arg;		/* after the first ':', or "" */
	const char		*name;		/* p->name */
	/* Its arguments: the KEY part of NAME.KEY, and the values. */
	const char		**arg_keys, **arg_values;
	unsigned		 nargs;
	uint32_t		 value_off[MAX_FIELDS];	/* from values */
	size_t			 values_at;	/* value area, in the extension */
	size_t			 state_at;	/* its state, in the extension */
	int			 col[MAX_FIELDS];	/* -1: volatile */
	char			*col_name[MAX_FIELDS];	/* udps.<name> */
};

/* An exported field, in column order. */
struct plugin_col {
	uint16_t	plugin, field;
};

struct plugin_set {
	struct plugin		 pl[MAX_PLUGINS];
	unsigned		 n;
	size_t			 size;		/* per-flow bytes */
	size_t			 ext_off;	/* in flow_ext(), every meter */
	bool			 ext_off_set;
	struct plugin_col	 cols[MAX_PLUGINS * MAX_FIELDS];
	unsigned		 ncols;
	struct col_def		 defs[MAX_PLUGINS * MAX_FIELDS];
	struct tmpl_field	 tmpl[MAX_PLUGINS * MAX_FIELDS];
	unsigned		 ntmpl;
	int			 col_base;
};

struct plugin_meter {
	const struct plugin_set	*set;
	void			*inst[MAX_PLUGINS];
	bool			 inited[MAX_PLUGINS];
	bool			 warned[MAX_PLUGINS];
	size_t			 ext_off;
#ifdef PLUGIN_BOUNCE
	void			*bounce[MAX_PLUGINS];
#endif
};

/* The column registry's fill and getters have no argument of their own:
 * the one set whose columns are registered (one per process). */
static const struct plugin_set *col_set;

static bool
name_ok(const char *s)
{
	size_t n;

	if (s == NULL || *s == '\0')
		return false;
	for (n = 0; s[n] != '\0'; n++)
		if (n == MAX_NAME || !((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return false;
	return true;
}

/* dlopen() and the ABI: nothing of the descriptor is read before its
 * version and sizes are known to be ours. */
static int
open_one(struct plugin *pl, char *errbuf, size_t errlen)
{
	const struct sp_abi want = SP_PLUGIN_ABI;
	const struct sp_abi *abi;
	struct stat st;

	if (stat(pl->path, &st) != 0) {
		snprintf(errbuf, errlen, "plugin %s: %s", pl->path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(errbuf, errlen, "plugin %s: not a regular file",
		    pl->path);
		return -1;
	}
	if ((pl->dl = dlopen(pl->path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		const char *e = dlerror();

		snprintf(errbuf, errlen, "plugin %s: not a loadable shared "
		    "object (%s)", pl->path, e != NULL ? e : "dlopen failed");
		return -1;
	}
	if ((pl->p = dlsym(pl->dl, "streamprobe_plugin")) == NULL) {
		snprintf(errbuf, errlen, "plugin %s: no streamprobe_plugin "
		    "symbol: not a streamprobe plugin (see SP_PLUGIN in "
		    "streamprobe/plugin.h)", pl->path);
		return -1;
	}
	abi = &pl->p->abi;
	if (abi->api_version != want.api_version) {
		snprintf(errbuf, errlen, "plugin %s: built for plugin API "
		    "version %u, this probe has API version %u: rebuild it "
		    "against this probe's streamprobe/plugin.h", pl->path,
		    abi->api_version, want.api_version);
		return -1;
	}
	if (abi->plugin_size != want.plugin_size ||
	    abi->field_size != want.field_size ||
	    abi->pkt_size != want.pkt_size ||
	    abi->flow_size != want.flow_size ||
	    abi->args_size != want.args_size) {
		snprintf(errbuf, errlen, "plugin %s: API version %u, but its "
		    "structure sizes (plugin %u, field %u, pkt %u, flow %u, args "
		    "%u) are not this probe's (API version %u: %u, %u, %u, %u, "
		    "%u): rebuild it against this probe's streamprobe/plugin.h",
		    pl->path, abi->api_version, abi->plugin_size,
		    abi->field_size, abi->pkt_size, abi->flow_size,
		    abi->args_size, want.api_version, want.plugin_size,
		    want.field_size, want.pkt_size, want.flow_size,
		    want.args_size);
		return -1;
	}
	return 0;
}

/* The descriptor's declarations, and this plugin against the earlier. */
static int
check_one(struct plugin_set *s, unsigned k, char *errbuf, size_t errlen)
{
	struct plugin *pl = &s->pl[k];
	const struct sp_plugin *p = pl->p;
	const struct sp_field *f, *g;
	unsigned i, j, q;

	if (!name_ok(p->name)) {
		snprintf(errbuf, errlen, "plugin %s: name \"%.64s\" is not "
		    "[a-z0-9_], 1 to %d bytes", pl->path,
		    p->name != NULL ? p->name : "(null)", MAX_NAME);
		return -1;
	}
	pl->name = p->name;
	for (q = 0; q < k; q++)
		if (strcmp(s->pl[q].name, p->name) == 0) {
			snprintf(errbuf, errlen, "plugin %s (%s): a plugin of "
			    "that name is already loaded (%s)", p->name, pl->path,
			    s->pl[q].path);
			return -1;
		}
	if (p->nfields > MAX_FIELDS || (p->nfields > 0 && p->fields == NULL)) {
		snprintf(errbuf, errlen, "plugin %s: %u fields (0..%d, with a "
		    "fields array)", p->name, p->nfields, MAX_FIELDS);
		return -1;
	}
	if (p->state_size > MAX_STATE) {
		snprintf(errbuf, errlen, "plugin %s: state_size %zu (0..%d)",
		    p->name, p->state_size, MAX_STATE);
		return -1;
	}
	if (p->state_size > 0 && p->state_align != 1 && p->state_align != 2 &&
	    p->state_align != 4 && p->state_align != 8) {
		snprintf(errbuf, errlen, "plugin %s: state_align %zu (1, 2, 4 "
		    "or 8)", p->name, p->state_align);
		return -1;
	}
	for (i = 0; i < p->nfields; i++) {
		f = &p->fields[i];
		if (!name_ok(f->name)) {
			snprintf(errbuf, errlen, "plugin %s: field %u's name "
			    "\"%.64s\" is not [a-z0-9_], 1 to %d bytes", p->name,
			    i, f->name != NULL ? f->name : "(null)", MAX_NAME);
			return -1;
		}
		if (f->type != SP_UINT64 && f->type != SP_INT64 &&
		    f->type != SP_DOUBLE && f->type != SP_STRING) {
			snprintf(errbuf, errlen, "plugin %s: field %s: unknown "
			    "type %d", p->name, f->name, (int)f->type);
			return -1;
		}
		if (f->type == SP_STRING && (f->size < 2 || f->size > 256)) {
			snprintf(errbuf, errlen, "plugin %s: field %s: string size "
			    "%u (2..256 bytes, the NUL included)", p->name,
			    f->name, f->size);
			return -1;
		}
		if (column_by_name(f->name) >= 0) {
			snprintf(errbuf, errlen, "plugin %s: field %s has the name "
			    "of a built-in column", p->name, f->name);
			return -1;
		}
		if ((f->ipfix_pen != 0 && f->ipfix_id == 0) ||
		    f->ipfix_id > 16383) {
			snprintf(errbuf, errlen, "plugin %s: field %s: IPFIX "
			    "element %u:%u (id 1..16383)", p->name, f->name,
			    f->ipfix_pen, f->ipfix_id);
			return -1;
		}
		/* Against its own earlier fields and every earlier plugin's. */
		for (q = 0; q <= k; q++) {
			const struct sp_plugin *o = s->pl[q].p;
			unsigned end = q == k ? i : o->nfields;

			for (j = 0; j < end; j++) {
				g = &o->fields[j];
				if (strcmp(g->name, f->name) == 0) {
					snprintf(errbuf, errlen, "plugin %s: field "
					    "%s declared twice%s%s", p->name,
					    f->name, q == k ? "" : " (also by "
					    "plugin ", q == k ? "" : o->name);
					if (q != k)
						strncat(errbuf, ")", errlen -
						    strlen(errbuf) - 1);
					return -1;
				}
				if (f->is_volatile || g->is_volatile)
					continue;
				if (f->ipfix_id != 0 &&
				    f->ipfix_pen == g->ipfix_pen &&
				    f->ipfix_id == g->ipfix_id) {
					snprintf(errbuf, errlen, "plugin %s: field "
					    "%s: IPFIX element %u:%u is already "
					    "field %s of plugin %s", p->name,
					    f->name, f->ipfix_pen, f->ipfix_id,
					    g->name, o->name);
					return -1;
				}
				if (f->v9_id != 0 && f->v9_id == g->v9_id) {
					snprintf(errbuf, errlen, "plugin %s: field "
					    "%s: NetFlow v9 id %u is already "
					    "field %s of plugin %s", p->name,
					    f->name, f->v9_id, g->name, o->name);
					return -1;
				}
			}
		}
	}
	return 0;
}

/* NAME.KEY = VALUE to plugin NAME's argument list. */
static int
give_args(struct plugin_set *s, const char *const *keys,
    const char *const *values, unsigned nargs, char *errbuf, size_t errlen)
{
	unsigned i, k;
	const char *dot;
	size_t n;

	for (k = 0; k < s->n; k++) {
		s->pl[k].arg_keys = calloc(nargs + 1, sizeof(char *));
		s->pl[k].arg_values = calloc(nargs + 1, sizeof(char *));
		if (s->pl[k].arg_keys == NULL || s->pl[k].arg_values == NULL) {
			snprintf(errbuf, errlen, "out of memory");
			return -1;
		}
	}
	for (i = 0; i < nargs; i++) {
		dot = strchr(keys[i], '.');
		n = dot != NULL ? (size_t)(dot - keys[i]) : strlen(keys[i]);
		for (k = 0; k < s->n; k++)
			if (strlen(s->pl[k].name) == n &&
			    strncmp(s->pl[k].name, keys[i], n) == 0)
				break;
		if (k == s->n || dot == NULL) {
			snprintf(errbuf, errlen, "plugin argument %s: no plugin "
			    "named \"%.*s\" is loaded", keys[i], (int)n, keys[i]);
			return -1;
		}
		s->pl[k].arg_keys[s->pl[k].nargs] = dot + 1;
		s->pl[k].arg_values[s->pl[k].nargs++] = values[i];
	}
	return 0;
}

/* The per-flow layout (see the top of the file). */
static void
lay_out(struct plugin_set *s)
{
	size_t cur = 0, a;
	unsigned k, i;

	for (k = 0; k < s->n; k++) {
		struct plugin *pl = &s->pl[k];
		const struct sp_plugin *p = pl->p;

		cur = (cur + 7) & ~(size_t)7;
		pl->values_at = cur;
		for (i = 0; i < p->nfields; i++) {
			if (p->fields[i].type == SP_STRING) {
				cur++;		/* the size byte */
				pl->value_off[i] = (uint32_t)(cur - pl->values_at);
				cur += p->fields[i].size;
			} else {
				pl->value_off[i] = (uint32_t)(cur - pl->values_at);
				cur += 8;
			}
		}
		a = p->state_size > 0 ? p->state_align : 1;
		cur = (cur + a - 1) & ~(a - 1);
		pl->state_at = cur;
		cur += p->state_size;
	}
	s->size = (cur + 7) & ~(size_t)7;
	if (s->size == 0)
		s->size = 8;	/* the extension registry wants a state */
}

struct plugin_set *
plugin_set_load(const char *const *specs, unsigned n,
    const char *const *keys, const char *const *values, unsigned nargs,
    char *errbuf, size_t errlen)
{
	struct plugin_set *s;
	const char *colon;
	unsigned k;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	if (n > MAX_PLUGINS) {
		snprintf(errbuf, errlen, "more than %d plugins", MAX_PLUGINS);
		goto fail;
	}
	/* Built-in names first: a field may not take one. */
	if (columns_init(errbuf, errlen) != 0)
		goto fail;
	for (k = 0; k < n; k++) {
		struct plugin *pl = &s->pl[k];
		size_t plen;

		s->n = k + 1;
		colon = strchr(specs[k], ':');
		plen = colon != NULL ? (size_t)(colon - specs[k]) :
		    strlen(specs[k]);
		/* A bare name is a file here, not a library search. */
		if ((pl->path = malloc(plen + 3)) == NULL ||
		    (pl->arg = strdup(colon != NULL ? colon + 1 : "")) == NULL) {
			snprintf(errbuf, errlen, "out of memory");
			goto fail;
		}
		snprintf(pl->path, plen + 3, "%s%.*s",
		    memchr(specs[k], '/', plen) != NULL ? "" : "./", (int)plen,
		    specs[k]);
		if (open_one(pl, errbuf, errlen) != 0 ||
		    check_one(s, k, errbuf, errlen) != 0)
			goto fail;
	}
	if (give_args(s, keys, values, nargs, errbuf, errlen) != 0)
		goto fail;
	lay_out(s);
	return s;
fail:
	plugin_set_free(s);
	return NULL;
}

void
plugin_set_log(const struct plugin_set *s)
{
	const struct sp_plugin *p;
	unsigned k, i, vol;

	for (k = 0; s != NULL && k < s->n; k++) {
		p = s->pl[k].p;
		for (i = vol = 0; i < p->nfields; i++)
			vol += p->fields[i].is_volatile != 0;
		log_info("plugin %s %s (%s): %u fields (%u volatile), %zu bytes "
		    "of state per flow", p->name, p->version != NULL ?
		    p->version : "", s->pl[k].path, p->nfields, vol,
		    p->state_size);
	}
}

unsigned
plugin_set_count(const struct plugin_set *s)
{
	return s != NULL ? s->n : 0;
}

/* ---- columns ----------------------------------------------------------- */

static const uint8_t *
value_ptr(const struct flow_view *v, const struct plugin_col *c)
{
	const struct plugin *pl = &col_set->pl[c->plugin];

	return (const uint8_t *)v->ext + col_set->ext_off + pl->values_at +
	    pl->value_off[c->field];
}

/* Numbers: their 8 bytes are the row's union as the field's type. */
static void
fill_cols(const struct flow_view *v, union col_num *row, unsigned base)
{
	const struct plugin_set *s = col_set;
	const struct sp_field *f;
	unsigned k;

	for (k = 0; k < s->ncols; k++) {
		f = &s->pl[s->cols[k].plugin].p->fields[s->cols[k].field];
		if (f->type != SP_STRING)
			memcpy(&row[base + k], value_ptr(v, &s->cols[k]), 8);
	}
}

static void
get_string(const struct flow_view *v, const struct col_def *c,
    struct col_value *out)
{
	const struct plugin_col *pc = &col_set->cols[c->arg];
	const struct sp_field *f =
	    &col_set->pl[pc->plugin].p->fields[pc->field];
	const char *p = (const char *)value_ptr(v, pc);

	out->type = COLT_STRING;
	out->s = p;
	out->slen = (unsigned)strnlen(p, (size_t)f->size - 1);
}

int
plugin_set_register(struct plugin_set *s, char *errbuf, size_t errlen)
{
	struct tmpl_field *tf;
	const struct sp_field *f;
	unsigned k, i, ent = 0;
	size_t len;
	int base;

	if (s == NULL || s->n == 0)
		return 0;
	if (col_set != NULL) {
		snprintf(errbuf, errlen, "plugin columns registered twice");
		return -1;
	}
	for (k = 0; k < s->n; k++) {
		struct plugin *pl = &s->pl[k];

		for (i = 0; i < pl->p->nfields; i++) {
			f = &pl->p->fields[i];
			pl->col[i] = -1;
			if (f->is_volatile)
				continue;
			len = strlen(f->name) + 6;
			if ((pl->col_name[i] = malloc(len)) == NULL) {
				snprintf(errbuf, errlen, "out of memory");
				return -1;
			}
			snprintf(pl->col_name[i], len, "udps.%s", f->name);
			s->cols[s->ncols].plugin = (uint16_t)k;
			s->cols[s->ncols].field = (uint16_t)i;
			s->defs[s->ncols] = (struct col_def){
				.name = pl->col_name[i],
				.type = f->type == SP_UINT64 ? COLT_UINT :
				    f->type == SP_INT64 ? COLT_INT :
				    f->type == SP_DOUBLE ? COLT_DOUBLE : COLT_STRING,
				.group = COLG_CORE,
				.dir = COLD_NONE,
				.get = f->type == SP_STRING ? get_string : NULL,
				.arg = s->ncols,
			};
			s->ncols++;
		}
	}
	if (s->ncols == 0)
		return 0;
	col_set = s;
	if ((base = column_register(s->defs, s->ncols, fill_cols, errbuf,
	    errlen)) < 0) {
		col_set = NULL;
		return -1;
	}
	s->col_base = base;
	/* The nfstream template's extra elements, in column order. */
	for (k = 0; k < s->ncols; k++) {
		struct plugin *pl = &s->pl[s->cols[k].plugin];

		f = &pl->p->fields[s->cols[k].field];
		pl->col[s->cols[k].field] = base + (int)k;
		tf = &s->tmpl[s->ntmpl++];
		memset(tf, 0, sizeof(*tf));
		tf->column = base + (int)k;
		snprintf(tf->name, sizeof(tf->name), "udps_%s", f->name);
		if (f->ipfix_id != 0) {
			tf->pen = f->ipfix_pen;
			tf->id = f->ipfix_id;
		} else {
			tf->ent_auto = 1;
			tf->id = (uint16_t)(PLUGIN_ENT_BASE + ++ent);
		}
		tf->type = f->type == SP_UINT64 ? IE_UNSIGNED64 :
		    f->type == SP_INT64 ? IE_SIGNED64 :
		    f->type == SP_DOUBLE ? IE_FLOAT64 : IE_STRING;
		tf->length = f->type == SP_STRING ? (uint16_t)(f->size - 1) :
		    (uint16_t)ie_type_size(tf->type);
		tf->v9_set = 1;
		tf->v9_id = f->v9_id;
		tf->owner = pl->name;
		tf->description = f->description;
	}
	tmpl_set_auto(s->tmpl, s->ntmpl);
	return 0;
}

void
plugin_set_free(struct plugin_set *s)
{
	unsigned k, i;
	bool registered;

	if (s == NULL)
		return;
	/* Registered column names stay: the column registry names them
	 * until the process ends (it has no way to forget a column). */
	registered = col_set == s;
	if (registered) {
		tmpl_set_auto(NULL, 0);
		col_set = NULL;
	}
	for (k = 0; k < s->n; k++) {
		struct plugin *pl = &s->pl[k];

		for (i = 0; i < MAX_FIELDS && !registered; i++)
			free(pl->col_name[i]);
		free(pl->arg_keys);
		free(pl->arg_values);
		free(pl->path);
		free(pl->arg);
		if (pl->dl != NULL)
			dlclose(pl->dl);
	}
	free(s);
}

/* ---- per meter ---------------------------------------------------------- */

/* A plugin broke a rule it can be caught at: say so once; a debug or
 * sanitizer build stops there (the tests' net for plugin bugs). */
static void
plugin_bug(struct plugin_meter *pm, unsigned k, const char *what)
{
	if (!pm->warned[k]) {
		pm->warned[k] = true;
		log_warnx("plugin %s: %s (a plugin bug)", pm->set->pl[k].name,
		    what);
	}
#ifndef NDEBUG
	abort();
#endif
}

/* The flow view a callback gets: the record's columns, this plugin's
 * state and values. */
static void
flow_of(struct sp_flow *fl, const struct flow *f)
{
	int s = f->src_end, d = !f->src_end;

	memcpy(fl->first_seen_ms, f->first_ms, sizeof(fl->first_seen_ms));
	memcpy(fl->last_seen_ms, f->last_ms, sizeof(fl->last_seen_ms));
	memcpy(fl->packets, f->packets, sizeof(fl->packets));
	memcpy(fl->bytes, f->bytes, sizeof(fl->bytes));
	fl->src_ip = f->key.addr[s];
	fl->dst_ip = f->key.addr[d];
	fl->src_port = f->key.port[s];
	fl->dst_port = f->key.port[d];
	fl->vlan_id = f->key.vlan_id;
	fl->ip_version = f->key.ip_version;
	fl->protocol = f->key.protocol;
}

static inline void *
state_in(struct plugin_meter *pm, unsigned k, uint8_t *ext)
{
	const struct plugin *pl = &pm->set->pl[k];

	if (pl->p->state_size == 0)
		return NULL;
#ifdef PLUGIN_BOUNCE
	memcpy(pm->bounce[k], ext + pl->state_at, pl->p->state_size);
	return pm->bounce[k];
#else
	return ext + pl->state_at;
#endif
}

static inline void
state_out(struct plugin_meter *pm, unsigned k, uint8_t *ext)
{
#ifdef PLUGIN_BOUNCE
	const struct plugin *pl = &pm->set->pl[k];

	if (pl->p->state_size != 0)
		memcpy(ext + pl->state_at, pm->bounce[k], pl->p->state_size);
#else
	(void)pm;
	(void)k;
	(void)ext;
#endif
}

/* Plugin k's part of the flow view: its values, request word and state. */
static inline void
bind_flow(struct plugin_meter *pm, unsigned k, uint8_t *ext,
    struct sp_flow *fl, uint32_t *req)
{
	const struct plugin *pl = &pm->set->pl[k];

	*req = 0;
	fl->sp_values = ext + pl->values_at;
	fl->sp_value_off = pl->value_off;
	fl->sp_request = req;
	fl->state = state_in(pm, k, ext);
}

/* The flow extension's flow_end hook: on_expire, before the record is
 * copied to the export ring. */
static void
pm_flow_end(void *arg, void *state)
{
	struct plugin_meter *pm = arg;
	const struct plugin_set *s = pm->set;
	uint8_t *ext = state;
	/* state is flow_ext(f) + ext_off, and flow_ext(f) is f + 1. */
	struct flow *f = (struct flow *)(void *)(ext - pm->ext_off) - 1;
	struct sp_flow fl;
	uint32_t req;
	unsigned k;

	flow_of(&fl, f);
	for (k = 0; k < s->n; k++) {
		const struct plugin *pl = &s->pl[k];

		if (pl->p->on_expire == NULL)
			continue;
		bind_flow(pm, k, ext, &fl, &req);
		pl->p->on_expire(pm->inst[k], &fl);
		state_out(pm, k, ext);
		if (req != 0)
			plugin_bug(pm, k, "sp_expire() called from on_expire");
	}
}

struct plugin_meter *
plugin_meter_create(struct plugin_set *s, struct flowext *x, char *errbuf,
    size_t errlen)
{
	struct flowext_client c;
	struct plugin_meter *pm;
	char msg[256];
	unsigned k;
	int id;

	if ((pm = calloc(1, sizeof(*pm))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	pm->set = s;
	for (k = 0; k < s->n; k++) {
		const struct plugin *pl = &s->pl[k];
		struct sp_args a = { pl->arg, pl->nargs, pl->arg_keys, pl->arg_values };

#ifdef PLUGIN_BOUNCE
		if (pl->p->state_size > 0 &&
		    (pm->bounce[k] = malloc(pl->p->state_size)) == NULL) {
			snprintf(errbuf, errlen, "out of memory");
			goto fail;
		}
#endif
		if (pl->p->init == NULL) {
			pm->inited[k] = true;
			continue;
		}
		msg[0] = '\0';
		if (pl->p->init(&a, &pm->inst[k], msg, sizeof(msg)) != 0) {
			msg[sizeof(msg) - 1] = '\0';
			snprintf(errbuf, errlen, "plugin %s: init failed: %s",
			    pl->name, msg[0] != '\0' ? msg : "(no message)");
			goto fail;
		}
		pm->inited[k] = true;
	}
	memset(&c, 0, sizeof(c));
	c.name = "plugins";
	c.size = s->size;
	c.align = 8;
	c.hooks.flow_end = pm_flow_end;
	c.arg = pm;
	if ((id = flowext_register(x, &c, errbuf, errlen)) < 0)
		goto fail;
	pm->ext_off = flowext_offset(x, id);
	if (s->ext_off_set && s->ext_off != pm->ext_off) {
		snprintf(errbuf, errlen, "plugins: meters with different "
		    "layouts");
		goto fail;
	}
	s->ext_off = pm->ext_off;
	s->ext_off_set = true;
	return pm;
fail:
	plugin_meter_destroy(pm);
	return NULL;
}

void
plugin_meter_destroy(struct plugin_meter *pm)
{
	unsigned k;

	if (pm == NULL)
		return;
	for (k = 0; k < pm->set->n; k++) {
		if (pm->inited[k] && pm->set->pl[k].p->cleanup != NULL)
			pm->set->pl[k].p->cleanup(pm->inst[k]);
#ifdef PLUGIN_BOUNCE
		free(pm->bounce[k]);
#endif
	}
	free(pm);
}

/* ---- per packet --------------------------------------------------------- */

bool
plugin_packet(struct plugin_meter *pm, struct flow *f,
    const struct pkt_view *pv, enum flow_dir dir, uint64_t now_ms)
{
	const struct plugin_set *s = pm->set;
	uint8_t *ext = (uint8_t *)flow_ext(f) + pm->ext_off;
	bool first = flow_packets(f) == 1, expire = false;
	struct l4_detail d;
	struct sp_pkt pkt;
	struct sp_flow fl;
	uint32_t req;
	unsigned k, i;

	decode_l4_detail(pv, &d);
	memset(&pkt, 0, sizeof(pkt));
	pkt.time_ms = now_ms;
	pkt.direction = dir == FLOW_DIR_SRC2DST ? SP_SRC_TO_DST : SP_DST_TO_SRC;
	pkt.raw_size = pv->size[PKT_SIZE_RAW];
	pkt.ip_size = pv->size[PKT_SIZE_IP];
	pkt.transport_size = pv->size[PKT_SIZE_TRANSPORT];
	pkt.payload_size = pv->size[PKT_SIZE_PAYLOAD];
	pkt.ip_version = pv->ip_version;
	pkt.protocol = pv->protocol;
	pkt.ttl = d.ttl;
	pkt.has_tcp = d.has_tcp;
	pkt.src_ip = pv->src_addr;
	pkt.dst_ip = pv->dst_addr;
	pkt.src_port = pv->src_port;
	pkt.dst_port = pv->dst_port;
	pkt.vlan_id = pv->vlan_id;
	pkt.tcp_flags = pv->tcp_flags;
	pkt.tcp_header_len = d.tcp_header_len;
	pkt.tcp_seq = d.tcp_seq;
	pkt.tcp_ack = d.tcp_ack;
	pkt.tcp_window = d.tcp_window;
	pkt.payload_len = d.payload_len;
	pkt.payload = d.payload_len > 0 ? pv->l3 + d.payload_off : NULL;
	flow_of(&fl, f);
	for (k = 0; k < s->n; k++) {
		const struct plugin *pl = &s->pl[k];
		void (*cb)(void *, const struct sp_pkt *, struct sp_flow *);

		if (first)	/* the strings' size bytes (sp_set_string) */
			for (i = 0; i < pl->p->nfields; i++)
				if (pl->p->fields[i].type == SP_STRING)
					ext[pl->values_at + pl->value_off[i] - 1] =
					    (uint8_t)(pl->p->fields[i].size - 1);
		cb = first ? pl->p->on_init : pl->p->on_update;
		if (cb == NULL)
			continue;
		bind_flow(pm, k, ext, &fl, &req);
		cb(pm->inst[k], &pkt, &fl);
		state_out(pm, k, ext);
		if (req != 0) {
			if (req != SP_REQUEST_EXPIRE)
				plugin_bug(pm, k, "sp_expire() called twice for "
				    "one flow");
			expire = true;
		}
	}
	return expire;
}
