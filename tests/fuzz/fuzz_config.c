/*
 * fuzz_config.c - the configuration file parser (config_load_stream(), the
 * code of config_load_file()) and the command-line parser
 * (config_parse_args()), then what the probe does with an accepted
 * configuration before it opens anything: config_print() (--check-config's
 * output, read back in), config_writes_stdout(), config_absolute_paths().
 *
 * Input: byte 0 picks the mode (modulo 3):
 *   0  the rest is a configuration file;
 *   1  the rest is the command line, NUL-separated arguments after
 *      "streamprobe";
 *   2  a configuration file, a NUL byte, then arguments: the file is
 *      written to a temporary path that the arguments start with -f.
 * A failure must come back as -1 with a message, as the CLI then exits 2.
 * The printed configuration must load back and print the same
 * (--check-config's promise, issue 13 item 4); FUZZ_CONFIG_ROUNDTRIP=0 in
 * the environment turns that check off.
 */
#define _GNU_SOURCE	/* fmemopen, open_memstream, mkdtemp */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_check.h"

#define MAX_ARGS	64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char conf_path[64];
static bool roundtrip;

static char tmp_dir[64];

/* The temporary file and its directory go at exit (CTest runs too). */
static void
remove_tmp(void)
{
	unlink(conf_path);
	rmdir(tmp_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fuzz_config.XXXXXX";
	const char *e = getenv("FUZZ_CONFIG_ROUNDTRIP");

	(void)argc;
	(void)argv;
	/* "-f /dev/stdin" must not wait for a terminal. */
	if (freopen("/dev/null", "r", stdin) == NULL)
		abort();
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	snprintf(tmp_dir, sizeof(tmp_dir), "%s", dir);
	snprintf(conf_path, sizeof(conf_path), "%s/c.conf", dir);
	atexit(remove_tmp);
	roundtrip = e == NULL || strcmp(e, "0") != 0;
	return 0;
}

/* config_print() into a malloc'd string. */
static char *
printed(const struct probe_conf *c, size_t *len)
{
	char *buf = NULL;
	FILE *fp;

	FUZZ_CHECK((fp = open_memstream(&buf, len)) != NULL);
	config_print(c, fp);
	FUZZ_CHECK(fclose(fp) == 0);
	return buf;
}

/* An accepted configuration: what main() does before opening anything. */
static void
accepted(struct probe_conf *c)
{
	struct probe_conf back;
	char err[CONFIG_ERRLEN], *text, *again;
	size_t len, len2;
	FILE *fp;
	int rc;

	(void)config_writes_stdout(c);
	text = printed(c, &len);
	config_defaults(&back);
	FUZZ_CHECK((fp = fmemopen(text, len, "r")) != NULL);
	err[0] = '\0';
	rc = config_load_stream(&back, fp, "printed", err, sizeof(err));
	fclose(fp);
	if (rc != 0)
		FUZZ_CHECK(err[0] != '\0');
	if (roundtrip) {
		if (rc != 0)
			fprintf(stderr, "printed configuration does not load: "
			    "%s\n--\n%s--\n", err, text);
		FUZZ_CHECK(rc == 0);
		/* A directory not from the options is printed as a comment:
		 * config_parse_args() finds it again, as it did for c. */
		if (back.template_dir == NULL && c->template_dir != NULL) {
			FUZZ_CHECK((back.template_dir = strdup(c->template_dir)) !=
			    NULL);
			back.template_dir_from = c->template_dir_from;
		}
		again = printed(&back, &len2);
		if (len != len2 || memcmp(text, again, len) != 0)
			fprintf(stderr, "printed configuration reads back "
			    "differently:\n--\n%s--\n%s--\n", text, again);
		FUZZ_CHECK(len == len2 && memcmp(text, again, len) == 0);
		free(again);
	}
	config_free(&back);
	free(text);
	err[0] = '\0';
	if (config_absolute_paths(c, err, sizeof(err)) != 0)
		FUZZ_CHECK(err[0] != '\0');
}

static void
load_text(const uint8_t *data, size_t size)
{
	static char empty[1];
	struct probe_conf c;
	char err[CONFIG_ERRLEN];
	FILE *fp;

	config_defaults(&c);
	FUZZ_CHECK((fp = fmemopen(size > 0 ? (void *)(uintptr_t)data : empty,
	    size, "r")) != NULL);
	err[0] = '\0';
	if (config_load_stream(&c, fp, "fuzz.conf", err, sizeof(err)) == 0)
		accepted(&c);
	else
		FUZZ_CHECK(err[0] != '\0');
	fclose(fp);
	config_free(&c);
}

/* -V, in a cluster or not, or --version (abbreviated: --v...). */
static bool
asked_version(char **args, int argc)
{
	int i;

	for (i = 1; i < argc; i++)
		if ((args[i][0] == '-' && args[i][1] != '-' &&
		    strchr(args[i], 'V') != NULL) ||
		    strncmp(args[i], "--v", 3) == 0)
			return true;
	return false;
}

/* argv from NUL-separated strings (copied: getopt may permute argv). */
static void
parse_args(const uint8_t *data, size_t size, bool with_file)
{
	char *args[MAX_ARGS + 4], *copy, *p, *end;
	struct probe_conf c;
	enum config_action action;
	char err[CONFIG_ERRLEN];
	int argc = 0;

	if ((copy = malloc(size + 1)) == NULL)
		return;
	memcpy(copy, data, size);
	copy[size] = '\0';
	args[argc++] = "streamprobe";
	if (with_file) {
		args[argc++] = "-f";
		args[argc++] = conf_path;
	}
	for (p = copy, end = copy + size; p < end && argc < MAX_ARGS + 3;
	    p += strlen(p) + 1)
		args[argc++] = p;
	args[argc] = NULL;
	config_defaults(&c);
	err[0] = '\0';
	if (config_parse_args(&c, argc, args, &action, err, sizeof(err)) == 0) {
		if (action == CONFIG_RUN || action == CONFIG_CHECK)
			accepted(&c);
		if (action == CONFIG_VERSION)
			FUZZ_CHECK(asked_version(args, argc));
	} else
		FUZZ_CHECK(err[0] != '\0');
	config_free(&c);
	/* Poisoned before it goes: a parser that kept a pointer into this
	 * argv (getopt's state) would read -V next time (found by this
	 * harness; regress/config/getopt-stale-*). */
	memset(copy, 'V', size);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul;
	FILE *fp;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		load_text(data + 1, size - 1);
		break;
	case 1:
		parse_args(data + 1, size - 1, false);
		break;
	default:
		nul = memchr(data + 1, '\0', size - 1);
		if (nul == NULL)
			nul = data + size;
		if ((fp = fopen(conf_path, "w")) == NULL)
			return 0;
		fwrite(data + 1, 1, (size_t)(nul - (data + 1)), fp);
		if (fclose(fp) != 0)
			return 0;
		if (nul < data + size)
			nul++;
		parse_args(nul, (size_t)(data + size - nul), true);
		break;
	}
	return 0;
}
