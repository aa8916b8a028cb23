/*
 * fuzz_outputs.h - where fuzz_meter's exporters write: CSV, JSON and
 * IPFIX to /dev/null (a file transport), NetFlow v9 (UDP only) to a socket
 * of the harness's own on 127.0.0.1, which nobody reads: the kernel drops
 * what does not fit its buffer, the sends still succeed.
 */
#ifndef STREAMPROBE_FUZZ_OUTPUTS_H
#define STREAMPROBE_FUZZ_OUTPUTS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "exporter.h"
#include "fuzz_check.h"

/* The sink's port, as text; the socket stays open for the process. */
static inline const char *
fuzz_udp_sink(void)
{
	static char port[8];
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	if (port[0] != '\0')
		return port;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	FUZZ_CHECK(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	snprintf(port, sizeof(port), "%u", (unsigned)ntohs(sin.sin_port));
	return port;
}

/*
 * An output of each kind: what --csv, --json and --export would give.
 * FUZZ_OUTPUT_DIR=DIR in the environment (to look at what a harness
 * writes) puts CSV, JSON and IPFIX in DIR/flows.{csv,json,ipfix}.
 */
static inline void
fuzz_output_conf(struct exporter_conf *o, enum exporter_kind kind)
{
	static char paths[3][4096];
	const char *dir = getenv("FUZZ_OUTPUT_DIR");

	if (dir != NULL && paths[0][0] == '\0') {
		snprintf(paths[0], sizeof(paths[0]), "%s/flows.csv", dir);
		snprintf(paths[1], sizeof(paths[1]), "%s/flows.json", dir);
		snprintf(paths[2], sizeof(paths[2]), "%s/flows.ipfix", dir);
	}
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	switch (kind) {
	case EXPORTER_CSV:
	case EXPORTER_JSON:
		o->path = dir == NULL ? "/dev/null" : paths[kind];
		break;
	case EXPORTER_IPFIX:
		o->url = "ipfix+file://fuzz";
		o->transport.kind = TRANSPORT_FILE;
		o->transport.path = dir == NULL ? "/dev/null" : paths[2];
		break;
	case EXPORTER_NF9:
		o->url = "nf9+udp://127.0.0.1";
		o->transport.kind = TRANSPORT_UDP;
		o->transport.host = "127.0.0.1";
		o->transport.port = fuzz_udp_sink();
		break;
	}
}

#endif
