/*
 * early_classification.c - NFStream's early-classification seed as a
 * streamprobe plugin: a model decides on a flow from its first three
 * packets, and the flow is exported right then instead of at its end.
 *
 * The first three packets' IP sizes (ip_size: IP header and what follows)
 * are kept in volatile fields (computed, never exported).  At the third
 * packet a logistic regression gives
 *
 *	probability = 1 / (1 + exp(-(bias + w1 * size1 + w2 * size2 +
 *	    w3 * size3)))
 *	prediction  = probability >= threshold ? 1 : 0
 *
 * and the flow ends there (sp_expire(): expiration_id -1).  A flow that
 * ends before its third packet gets prediction -1 and probability 0.
 *
 * The model is a text file (conf/early_classification.model, installed
 * as /etc/streamprobe/early_classification.model): "key value" lines for
 * bias, w1, w2, w3 and threshold (0.5 when absent); # starts a comment.
 * Its path is the plugin's argument:
 *	--plugin early_classification.so:/path/to/model
 *	plugin.early_classification.model = /path/to/model
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <streamprobe/plugin.h>

#define DEFAULT_MODEL	"/etc/streamprobe/early_classification.model"

enum { F_SIZE1, F_SIZE2, F_SIZE3, F_PREDICTION, F_PROBABILITY };

static const struct sp_field fields[] = {
	[F_SIZE1] = { .name = "size1", .type = SP_UINT64, .is_volatile = 1,
	    .description = "IP size of the flow's first packet" },
	[F_SIZE2] = { .name = "size2", .type = SP_UINT64, .is_volatile = 1,
	    .description = "IP size of the flow's second packet" },
	[F_SIZE3] = { .name = "size3", .type = SP_UINT64, .is_volatile = 1,
	    .description = "IP size of the flow's third packet" },
	[F_PREDICTION] = { .name = "model_prediction", .type = SP_INT64,
	    .description = "the model's class at the third packet (1 or 0); "
	    "-1: the flow ended before it" },
	[F_PROBABILITY] = { .name = "model_probability", .type = SP_DOUBLE,
	    .description = "the model's probability of class 1" },
};

struct model {
	double	bias, w[3], threshold;
};

/* One "key value" line into m; -1 with a message on a bad line. */
static int
model_line(struct model *m, char *line, unsigned *seen, char *err,
    size_t errlen)
{
	static const char *const keys[] = { "bias", "w1", "w2", "w3",
	    "threshold" };
	char key[32], *end;
	double v;
	int n;
	unsigned i;

	line[strcspn(line, "#\r\n")] = '\0';
	if (sscanf(line, " %31s %n", key, &n) != 1)
		return 0;	/* blank or comment */
	errno = 0;
	v = strtod(line + n, &end);
	if (end == line + n || errno != 0 || !isfinite(v) ||
	    end[strspn(end, " \t")] != '\0') {
		snprintf(err, errlen, "bad value for %s", key);
		return -1;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			break;
	switch (i) {
	case 0: m->bias = v; break;
	case 1: case 2: case 3: m->w[i - 1] = v; break;
	case 4: m->threshold = v; break;
	default:
		snprintf(err, errlen, "unknown key %s (bias, w1, w2, w3, "
		    "threshold)", key);
		return -1;
	}
	*seen |= 1u << i;
	return 0;
}

static int
model_init(const struct sp_args *args, void **instance, char *err,
    size_t errlen)
{
	const char *path = sp_arg(args, "model");
	struct model *m;
	unsigned seen = 0, lineno = 0;
	char line[256], why[128];
	FILE *fp;

	if (path == NULL)
		path = args->arg[0] != '\0' ? args->arg : DEFAULT_MODEL;
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "model %s: %s", path, strerror(errno));
		return -1;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		fclose(fp);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->threshold = 0.5;
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (model_line(m, line, &seen, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "model %s line %u: %s", path,
			    lineno, why);
			goto fail;
		}
	}
	if ((seen & 0xf) != 0xf) {
		snprintf(err, errlen, "model %s: bias, w1, w2 and w3 are "
		    "needed", path);
		goto fail;
	}
	fclose(fp);
	*instance = m;
	return 0;
fail:
	fclose(fp);
	free(m);
	return -1;
}

static void
first_packet(void *instance, const struct sp_pkt *pkt, struct sp_flow *flow)
{
	(void)instance;
	sp_set_uint(flow, F_SIZE1, pkt->ip_size);
	sp_set_int(flow, F_PREDICTION, -1);
}

static void
next_packet(void *instance, const struct sp_pkt *pkt, struct sp_flow *flow)
{
	const struct model *m = instance;
	uint64_t k = flow->packets[0] + flow->packets[1];	/* this one counted */
	double z, p;

	if (k == 2) {
		sp_set_uint(flow, F_SIZE2, pkt->ip_size);
		return;
	}
	if (k != 3)
		return;		/* not reached: the flow ends at packet 3 */
	sp_set_uint(flow, F_SIZE3, pkt->ip_size);
	z = m->bias + m->w[0] * (double)sp_get_uint(flow, F_SIZE1) +
	    m->w[1] * (double)sp_get_uint(flow, F_SIZE2) +
	    m->w[2] * (double)pkt->ip_size;
	p = 1.0 / (1.0 + exp(-z));
	sp_set_double(flow, F_PROBABILITY, p);
	sp_set_int(flow, F_PREDICTION, p >= m->threshold ? 1 : 0);
	sp_expire(flow);
}

static void
model_cleanup(void *instance)
{
	free(instance);
}

SP_PLUGIN = {
	.abi = SP_PLUGIN_ABI,
	.name = "early_classification",
	.version = "1.0",
	.fields = fields,
	.nfields = sizeof(fields) / sizeof(fields[0]),
	.init = model_init,
	.on_init = first_packet,
	.on_update = next_packet,
	.cleanup = model_cleanup,
};
