/*
 * driver.c - runs a fuzz harness's LLVMFuzzerTestOneInput() over files, for
 * the reproducer tests (tests/fuzz/regress/HARNESS/): any compiler, no
 * libFuzzer, so the normal and the ASan builds run every input that ever
 * crashed a harness.  Each argument is a file or a directory (its files,
 * in name order; dot files skipped).  Each input is copied into a buffer
 * of exactly its size, so that ASan sees a read past its end.
 */
#define _DEFAULT_SOURCE	/* scandir, alphasort */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int
run_file(const char *path)
{
	uint8_t *buf;
	FILE *fp;
	long n;
	size_t got;

	if ((fp = fopen(path, "rb")) == NULL ||
	    fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		if (fp != NULL)
			fclose(fp);
		return -1;
	}
	/* malloc(0) may be NULL: keep one byte, pass size 0. */
	if ((buf = malloc(n > 0 ? (size_t)n : 1)) == NULL) {
		fclose(fp);
		fprintf(stderr, "%s: out of memory\n", path);
		return -1;
	}
	got = fread(buf, 1, (size_t)n, fp);
	fclose(fp);
	if (got != (size_t)n) {
		fprintf(stderr, "%s: short read\n", path);
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	printf("ok %s (%ld bytes)\n", path, n);
	return 0;
}

static int
skip_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int
main(int argc, char **argv)
{
	struct dirent **ents;
	struct stat st;
	char path[4096];
	int i, j, n, runs = 0, bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			bad++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad += run_file(argv[i]) != 0;
			runs++;
			continue;
		}
		if ((n = scandir(argv[i], &ents, skip_dot, alphasort)) < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			bad++;
			continue;
		}
		for (j = 0; j < n; j++) {
			snprintf(path, sizeof(path), "%s/%s", argv[i],
			    ents[j]->d_name);
			bad += run_file(path) != 0;
			runs++;
			free(ents[j]);
		}
		free(ents);
	}
	printf("%d inputs, %d unreadable\n", runs, bad);
	/* No input at all is a broken test, not a pass. */
	return bad != 0 || runs == 0 ? 1 : 0;
}
