/*
 * export_stage.c - the export thread (see export_stage.h).
 *
 *	export_stage_create(), _add_output(), _add_ring(), _start()
 *	export_thread_main()	pop, export_one(), ticks, reopen, sleep
 *	export_stage_drain(), _finish(), counters and reports, _destroy()
 *	export_stage_pump(), _tick()	the same work without the thread
 */
#define _GNU_SOURCE	/* RUSAGE_THREAD */
#include <pthread.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "columns.h"
#include "dpi.h"
#include "export_stage.h"
#include "exporter.h"
#include "flowext.h"
#include "log.h"
#include "monotime.h"
#include "ring.h"
#include "wake.h"

#define MAX_OUTPUTS		16
#define TICK_EVERY		1024	/* records between busy ticks */
#define RING_CHUNK		256	/* records from one ring at a time */
/*
 * Sleeping with nothing to do: the exporters' timers are an idle flush
 * 1 s after their last message (IPFIX, v9: at most 1 s after the last
 * flow) or their last flush at an idle tick (CSV/JSON), and the template
 * refresh in whole seconds.  So: one tick right after the last flow (the
 * ring went empty), one FLUSH_IDLE_MS after it (every partial message is
 * then flushed), and one a second in a steady phase (the files' flush).
 */
#define TICK_IDLE_MS		1000
#define FLUSH_IDLE_MS		1001	/* the exporters' 1000, strictly past */

struct export_stage {
	const struct flowext	*ext;
	union col_num		*num;		/* one flow's row (export thread) */
	struct exporter		*exp[MAX_OUTPUTS];
	unsigned		 nexp;
	struct ring		*ring[EXPORT_STAGE_MAX_RINGS];
	struct wake		*room[EXPORT_STAGE_MAX_RINGS];
	unsigned		 nring;
	struct wake		 wake;
	pthread_t		 thr;
	bool			 started;
	_Atomic int		 reopen_req;	/* SIGHUP */
	_Atomic int		 metering_done;
	_Atomic uint64_t	 exported;
	_Atomic uint64_t	 failures;
	double			 user_s, sys_s;	/* the thread's CPU time */
	uint64_t		 pumped;	/* export_stage_pump()'s ids */
};

/* The calling thread's CPU time, split: user (building and encoding
 * records) and system (the kernel writing them out). */
static void
thread_cpu_s(double *user, double *sys)
{
	struct rusage ru;

	*user = *sys = 0;
	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		return;
	*user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

struct export_stage *
export_stage_create(const struct flowext *ext, char *errbuf, size_t errlen)
{
	struct export_stage *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	s->ext = ext;
	/* Indexed by column id: the column set is frozen by now. */
	if ((s->num = calloc(column_count(), sizeof(*s->num))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		free(s);
		return NULL;
	}
	atomic_init(&s->reopen_req, 0);
	atomic_init(&s->metering_done, 0);
	atomic_init(&s->exported, 0);
	atomic_init(&s->failures, 0);
	if (wake_init(&s->wake) != 0) {
		snprintf(errbuf, errlen, "eventfd: %s", strerror(errno));
		free(s->num);
		free(s);
		return NULL;
	}
	return s;
}

int
export_stage_add_output(struct export_stage *s,
    const struct exporter_conf *conf, const struct colset *cols,
    const struct exporter_env *env, char *errbuf, size_t errlen)
{
	struct exporter *e;

	if (s->nexp == MAX_OUTPUTS) {
		snprintf(errbuf, errlen, "at most %d outputs", MAX_OUTPUTS);
		return -1;
	}
	if ((e = exporter_open(conf, cols, env, errbuf, errlen)) == NULL)
		return -1;
	s->exp[s->nexp++] = e;
	return 0;
}

int
export_stage_add_ring(struct export_stage *s, struct ring *r,
    struct wake *room)
{
	if (s->nring == EXPORT_STAGE_MAX_RINGS)
		return -1;
	s->room[s->nring] = room;
	s->ring[s->nring++] = r;
	return 0;
}

struct wake *
export_stage_wake(struct export_stage *s)
{
	return &s->wake;
}

static void
export_one(struct export_stage *s, const struct flow *f, uint64_t id)
{
	const struct flowext *x = s->ext;
	struct flow_view v = { .flow = f, .ext = flow_ext_const(f),
	    .feat = &x->feat, .id = id };
	struct feat_summary summary[FEAT_DIRS];
	unsigned i;
	bool ok = true;

	flowext_fill(x, f);
	if (x->dpi_id >= 0)
		v.l7 = flowext_scratch(x, x->dpi_id);
	flow_view_prepare(&v, summary, s->num);
	for (i = 0; i < s->nexp; i++)
		if (s->exp[i]->ops->export_flow(s->exp[i], &v) != 0)
			ok = false;
	if (ok)
		atomic_fetch_add(&s->exported, 1);
	else
		atomic_fetch_add(&s->failures, 1);
	flowext_release(x, f);
}

/* SIGHUP: output files and the log start again (logrotate). */
static void
export_reopen(struct export_stage *s)
{
	unsigned i;

	log_reopen();
	for (i = 0; i < s->nexp; i++) {
		if (s->exp[i]->ops->reopen == NULL)
			continue;
		if (s->exp[i]->ops->reopen(s->exp[i]) < 0)
			log_warnx("%s", s->exp[i]->error);
	}
	log_info("SIGHUP: output files reopened");
}

/* Exporter timers: template refresh, flushing idle messages. */
static void
export_tick(struct export_stage *s, uint64_t now, bool idle)
{
	unsigned i;

	for (i = 0; i < s->nexp; i++)
		if (s->exp[i]->ops->tick != NULL)
			s->exp[i]->ops->tick(s->exp[i], now, idle);
}

static bool
rings_empty(struct export_stage *s)
{
	unsigned i;

	for (i = 0; i < s->nring; i++)
		if (ring_pop_begin(s->ring[i]) != NULL)
			return false;
	return true;
}

static void *
export_thread_main(void *arg)
{
	struct export_stage *s = arg;
	const void *slot;
	uint64_t id = 0, now, flush_ms = 0, next_ms = 0, due;
	unsigned i, n, got;
	int done, timeout;

	for (;;) {
		/* Round robin: up to RING_CHUNK flows from each ring in turn,
		 * so that every meter's final flush goes on at once. */
		got = 0;
		for (i = 0; i < s->nring; i++) {
			for (n = 0; n < RING_CHUNK &&
			    (slot = ring_pop_begin(s->ring[i])) != NULL; n++) {
				export_one(s, slot, id++);
				ring_pop_end(s->ring[i]);
				if ((id & (TICK_EVERY - 1)) == 0)
					export_tick(s, monotime_ms(), false);
			}
			/* A meter waiting for room is woken once its ring is
			 * half empty, to refill half of it in one go. */
			if (n > 0 && s->room[i] != NULL &&
			    ring_pending(s->ring[i]) <= ring_size(s->ring[i]) / 2)
				wake_signal(s->room[i]);
			got += n;
		}
		if (got > 0) {
			flush_ms = monotime_ms() + FLUSH_IDLE_MS;
			continue;
		}
		if (atomic_exchange(&s->reopen_req, 0))
			export_reopen(s);
		now = monotime_ms();
		export_tick(s, now, true);
		if (flush_ms != 0 && now >= flush_ms)
			flush_ms = 0;	/* that tick flushed them */
		/* The once-a-second ticks keep their phase whatever wakes the
		 * thread in between: CSV/JSON flush on it. */
		if (now >= next_ms)
			next_ms = now + TICK_IDLE_MS;
		/* Empty: finished only if metering ended before this check. */
		done = atomic_load_explicit(&s->metering_done,
		    memory_order_acquire);
		if (done) {
			if (rings_empty(s))
				break;
			continue;
		}
		/* Sleep until a meter pushes, a request, or the next tick. */
		wake_prepare(&s->wake);
		if (!rings_empty(s) || atomic_load(&s->reopen_req) ||
		    atomic_load(&s->metering_done)) {
			wake_cancel(&s->wake);
			continue;
		}
		due = flush_ms != 0 && flush_ms < next_ms ? flush_ms : next_ms;
		timeout = due > now ? (int)(due - now) : 0;
		wake_wait(&s->wake, timeout);
	}
	thread_cpu_s(&s->user_s, &s->sys_s);
	return NULL;
}

int
export_stage_start(struct export_stage *s, char *errbuf, size_t errlen)
{
	int rc;

	if ((rc = pthread_create(&s->thr, NULL, export_thread_main, s)) != 0) {
		snprintf(errbuf, errlen, "cannot start the export thread: %s",
		    strerror(rc));
		return -1;
	}
	s->started = true;
	return 0;
}

/* Without the thread: what export_thread_main() does per wake-up, on the
 * caller's clock (tests/fuzz/fuzz_meter.c). */
unsigned
export_stage_pump(struct export_stage *s)
{
	const void *slot;
	unsigned i, got = 0;

	for (i = 0; i < s->nring; i++)
		while ((slot = ring_pop_begin(s->ring[i])) != NULL) {
			export_one(s, slot, s->pumped++);
			ring_pop_end(s->ring[i]);
			got++;
		}
	return got;
}

void
export_stage_tick(struct export_stage *s, uint64_t now_ms, bool idle)
{
	export_tick(s, now_ms, idle);
}

void
export_stage_request_reopen(struct export_stage *s)
{
	atomic_store(&s->reopen_req, 1);
	wake_kick(&s->wake);
}

void
export_stage_drain(struct export_stage *s)
{
	atomic_store_explicit(&s->metering_done, 1, memory_order_release);
	wake_kick(&s->wake);
	if (s->started)
		pthread_join(s->thr, NULL);
	s->started = false;
}

int
export_stage_finish(struct export_stage *s)
{
	unsigned i;
	int rc, status = 0;

	for (i = 0; i < s->nexp; i++) {
		rc = s->exp[i]->ops->finish(s->exp[i]);
		if (rc != 0 || s->exp[i]->failed != 0) {
			log_warnx("output failed: %s", s->exp[i]->error);
			status = 1;
		}
	}
	if (atomic_load(&s->failures) != 0)
		status = 1;
	return status;
}

uint64_t
export_stage_exported(const struct export_stage *s)
{
	return atomic_load(&((struct export_stage *)s)->exported);
}

uint64_t
export_stage_failures(const struct export_stage *s)
{
	return atomic_load(&((struct export_stage *)s)->failures);
}

uint64_t
export_stage_records_lost(const struct export_stage *s)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < s->nexp; i++)
		if (s->exp[i]->ops->records_lost != NULL)
			n += s->exp[i]->ops->records_lost(s->exp[i]);
	return n;
}

bool
export_stage_backlog(const struct export_stage *s,
    struct transport_backlog *out)
{
	struct transport_backlog b;
	bool any = false;
	unsigned i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < s->nexp; i++) {
		if (s->exp[i]->ops->backlog == NULL ||
		    !s->exp[i]->ops->backlog(s->exp[i], &b))
			continue;
		out->queued_records += b.queued_records;
		out->queued_bytes += b.queued_bytes;
		out->kernel_records += b.kernel_records;
		out->kernel_bytes += b.kernel_bytes;
		any = true;
	}
	return any;
}

void
export_stage_cpu(const struct export_stage *s, double *user, double *sys)
{
	*user = s->user_s;
	*sys = s->sys_s;
}

void
export_stage_report(struct export_stage *s, FILE *fp)
{
	unsigned i;

	for (i = 0; i < s->nexp; i++)
		if (s->exp[i]->ops->report != NULL)
			s->exp[i]->ops->report(s->exp[i], fp);
}

/*
 * Records the exporters refused (encoding, a failed file) or took but could
 * not deliver (collector refusing or absent, TCP queue full or not drained
 * at the end, rows lost in a failed write): one line per output, after the
 * run.  Returns the total.
 */
uint64_t
export_stage_report_undelivered(struct export_stage *s)
{
	uint64_t n, total = 0;
	unsigned i;

	for (i = 0; i < s->nexp; i++) {
		/* Refused at once (failed) or taken and lost later. */
		n = s->exp[i]->failed;
		if (s->exp[i]->ops->records_lost != NULL)
			n += s->exp[i]->ops->records_lost(s->exp[i]);
		if (n == 0)
			continue;
		log_warnx("%s: %llu records not delivered", s->exp[i]->name,
		    (unsigned long long)n);
		total += n;
	}
	return total;
}

void
export_stage_destroy(struct export_stage *s)
{
	unsigned i;

	if (s == NULL)
		return;
	if (s->started)
		export_stage_drain(s);
	for (i = 0; i < s->nexp; i++)
		s->exp[i]->ops->destroy(s->exp[i]);
	wake_destroy(&s->wake);
	free(s->num);
	free(s);
}
