/* purge.c — see purge.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "clock.h"
#include "log.h"
#include "purge.h"
#include "wagon.h"

struct scan {
	struct purge *p;
	double cutoff;
	uint64_t seq[PURGE_BATCH];
	const char *state[PURGE_BATCH]; /* points into p->states */
	size_t n;
	int low_fixed;
};

static int
scan_one(uint64_t seq, json_t *w, void *arg)
{
	struct scan *sc = arg;
	const char *st;
	json_t *at;
	size_t i;

	if (seq >= sc->p->below)
		return 1;
	if (json_object_get(w, "purged_at") != NULL) {
		if (!sc->low_fixed)
			sc->p->low = seq + 1;
		return 0;
	}
	sc->low_fixed = 1;
	st = json_string_value(json_object_get(w, "state"));
	for (i = 0; st != NULL && sc->p->states[i] != NULL; i++)
		if (strcmp(st, sc->p->states[i]) == 0)
			break;
	if (st == NULL || sc->p->states[i] == NULL)
		return 0;
	at = json_object_get(w, sc->p->at);
	if (!json_is_number(at) || json_number_value(at) > sc->cutoff)
		return 0;
	sc->state[sc->n] = sc->p->states[i];
	sc->seq[sc->n++] = seq;
	return sc->n == PURGE_BATCH;
}

long
purge_sweep(struct purge *p)
{
	struct scan *sc;
	struct ledger_txn *t;
	char name[WAGON_NAME_LEN], path[PATH_MAX + 64];
	json_t *w = NULL;
	size_t i;
	int rc, fd;
	long n = -1;

	if ((sc = calloc(1, sizeof *sc)) == NULL)
		return -1;
	sc->p = p;
	sc->cutoff = clock_wall() - (double)p->keep_ms / 1000.0;
	if ((rc = ledger_txn_begin(p->l, LEDGER_RDONLY, &t)) == 0) {
		rc = ledger_wagon_foreach(t, p->low, scan_one, sc);
		ledger_txn_abort(t);
		t = NULL;
	}
	if (rc != 0 && rc != 1)
		goto fail;
	if (sc->n == 0) {
		free(sc);
		return 0;
	}
	for (i = 0; i < sc->n; i++) {
		wagon_name(sc->seq[i], name);
		snprintf(path, sizeof path, "%s/%s", p->dir, name);
		if (unlink(path) != 0 && errno != ENOENT) {
			log_err("cannot remove %s: %s", path, strerror(errno));
			sc->n = i;
			break;
		}
	}
	if ((fd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(fd) != 0)
			log_warn("cannot fsync %s: %s", p->dir, strerror(errno));
		close(fd);
	}
	if ((rc = ledger_txn_begin(p->l, 0, &t)) != 0)
		goto fail;
	for (i = 0; i < sc->n; i++) {
		if ((rc = ledger_wagon_get(t, sc->seq[i], &w)) != 0 ||
		    w == NULL)
			goto fail;
		json_object_set_new(w, "purged_at", json_real(clock_wall()));
		if ((rc = ledger_wagon_put(t, sc->seq[i], w)) != 0)
			goto fail;
		json_decref(w);
		w = NULL;
	}
	rc = ledger_txn_commit(t);
	t = NULL;
	if (rc != 0)
		goto fail;
	for (i = 0; i < sc->n; i++)
		audit_wagon(0, sc->seq[i], sc->state[i], sc->state[i], "%s",
		    p->why);
	if (sc->n > 0)
		log_info("purged %zu wagons from %s (%" PRIu64 "..%" PRIu64
		    "): %s", sc->n, p->dir, sc->seq[0], sc->seq[sc->n - 1],
		    p->why);
	n = (long)sc->n;
	free(sc);
	return n;
fail:
	json_decref(w);
	ledger_txn_abort(t);
	log_err("purge of %s: ledger: %s", p->dir,
	    rc != 0 ? ledger_strerror(rc) : "a wagon's record vanished");
	free(sc);
	return -1;
}
