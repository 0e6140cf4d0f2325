/*
 * par.h — worker threads applying wagons over connections of their own
 * (par.c, --parallel; srdf-apply(1), "Parallel apply").
 *
 * Calling sequence: par_new; per wagon par_deps, par_submit; par_collect
 * the finished ones in order, par_job_free; par_free.
 *
 * Error handling: a job's outcome is its rc (DB_*) and err; par_new dies
 * when threads cannot start.
 */
#ifndef SRDF_APPLY_PAR_H
#define SRDF_APPLY_PAR_H

#include <stddef.h>
#include <stdint.h>

#include "apply.h"

/* One wagon for a worker: filled by dispatch.c, which keeps ownership of
 * the struct while it is submitted; w (its buffers) and bootstrap_pos
 * (malloc'd or NULL) go with it to par_job_free. */
#define PAR_EXEC_DEPS 4
struct par_job {
	struct inwagon w;
	uint64_t from;       /* the checkpoint it moves from */
	char *bootstrap_pos; /* srdf.applied.bootstrap_pos to set, or NULL */
	/* What must be done before it starts (par_deps): the wagons up to
	 * wait_commit committed, and the DDL of wait_exec[] run. */
	uint64_t wait_commit;
	uint64_t wait_exec[PAR_EXEC_DEPS];
	int nwait_exec;
	int rows_job;     /* a wagon of rows, not of DDL */
	ddl_mark_fn mark; /* for its DDL (engine_run) */
	void *mark_arg;
	/* set by the worker */
	int finished;
	int rc;     /* DB_*: DB_OK means committed */
	int worker; /* 1.. */
	uint64_t missing;
	long long t0; /* clock_mono_ms() when the worker took it */
	char err[2048];
};
struct par;

/* par_new starts n worker threads (each connects on its first job, with
 * cf's options); dies when threads cannot start.  par_free stops them,
 * closes their connections and frees the jobs not collected. */
struct par *par_new(const struct config *cf, int n);
void par_free(struct par *p);
/* par_submit queues job j (no more than n in flight: see par_full) for
 * source src (32 hex digits).  par_collect returns the oldest submitted
 * job once it has finished, waiting at most timeout_ms; NULL when it has
 * not (or none is in flight).  The caller frees it (par_job_free). */
void par_submit(struct par *p, const char *src, struct par_job *j);
struct par_job *par_collect(struct par *p, long timeout_ms);
size_t par_inflight(const struct par *p);
int par_full(const struct par *p);
/* par_deps: what wagon w must wait for among the jobs in flight that
 * touch a table of its (srdf-apply(1), "Parallel apply"), into j's
 * wait_commit and wait_exec: a job of rows, its commit; a job of DDL,
 * that its DDL has run.  Returns how many jobs of rows in flight touch
 * a table of w's (bootstrap row wagons never count against each other),
 * or -1 when one in flight touches every table (tabs_all). */
int par_deps(struct par *p, const struct inwagon *w, struct par_job *j);
/* The jobs of rows in flight. */
size_t par_rows_inflight(struct par *p);
void par_job_free(struct par_job *j);

#endif
