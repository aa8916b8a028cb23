/*
 * fuzz_template.c - the template parser (tmpl_parse_buffer(), the code of
 * tmpl_load()) and, for a template it accepts, everything built from it:
 * the binary-export core's record layouts for both formats (IPFIX's
 * varlen, v9's fixed lengths and v9 types) in the run mode the input
 * picks.  The exporters opened on a fuzzed template, and records encoded
 * with it, are fuzz_meter's job (its template mode 3): opening one costs
 * about 50 times this harness's run.
 *
 * Input: byte 0 is the run mode (bit 0 statistics, 1 SPLT, 2 DPI,
 * 3 tunnel decoding, 4 uniflow, 6 SPLT of 255 packets instead of 10);
 * the rest is the template file.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "binrec.h"
#include "columns.h"
#include "dpi.h"
#include "exporter.h"
#include "fuzz_check.h"
#include "template.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dpi *dpi;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct dpi_conf dc = { 20 };
	char err[256];

	(void)argc;
	(void)argv;
	if (columns_init(err, sizeof(err)) != 0 ||
	    columns_freeze(err, sizeof(err)) != 0 ||
	    (dpi = dpi_create(&dc, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_template: %s\n", err);
		abort();
	}
	return 0;
}

static int
field_any(void *ctx, const struct tmpl_field *tf, char *errbuf, size_t errlen)
{
	(void)ctx;
	(void)tf;
	(void)errbuf;
	(void)errlen;
	return 1;
}

static int
field_v9(void *ctx, const struct tmpl_field *tf, char *errbuf, size_t errlen)
{
	const struct tmpl *t = ctx;

	(void)errbuf;
	(void)errlen;
	return tmpl_v9_type(tf, t->enterprise) != 0;
}

static void
layouts(const struct tmpl *t, const struct exporter_env *env, bool varlen)
{
	struct binrec_hooks hooks = { varlen ? field_any : field_v9, NULL,
	    varlen };
	struct binrec b;
	char err[512];
	unsigned i, k;

	memset(&b, 0, sizeof(b));
	if (binrec_init(&b, t, env, &hooks, (void *)t, err, sizeof(err)) == 0) {
		for (k = 0; k < BINREC_LAYOUTS; k++) {
			const struct binrec_layout *lay = &b.lay[k];

			if (!lay->used)
				continue;
			FUZZ_CHECK(lay->n <= t->n);
			for (i = 0; i < lay->n; i++)
				FUZZ_CHECK(lay->f[i].off + (size_t)(lay->f[i].varlen ?
				    sizeof(struct binrec_varfield) : lay->f[i].len) <=
				    lay->rec_size);
		}
	}
	binrec_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exporter_env env;
	struct tmpl *t;
	char err[1024];
	unsigned i;

	if (size < 1)
		return 0;
	if ((t = malloc(sizeof(*t))) == NULL)
		return 0;
	if (tmpl_parse_buffer(t, data + 1, size - 1, "fuzz", err,
	    sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		free(t);
		return 0;
	}
	FUZZ_CHECK(t->n > 0 && t->n <= TMPL_MAX_FIELDS);
	for (i = 0; i < t->n; i++) {
		FUZZ_CHECK(t->f[i].type < IE_TYPE_COUNT);
		FUZZ_CHECK(t->f[i].column >= 0 &&
		    (unsigned)t->f[i].column < column_count());
		(void)tmpl_v9_type(&t->f[i], t->enterprise);
	}

	memset(&env, 0, sizeof(env));
	env.statistics = (data[0] & 0x01) != 0;
	env.splt = (data[0] & 0x02) != 0;
	env.splt_n = env.splt ? (data[0] & 0x40 ? 255 : 10) : 0;
	env.dpi = data[0] & 0x04 ? dpi : NULL;
	env.tunnels = (data[0] & 0x08) != 0;
	env.uniflow = (data[0] & 0x10) != 0;
	layouts(t, &env, true);
	layouts(t, &env, false);
	free(t);
	return 0;
}
