/*
 * inbox.c — srdf-apply's inbox (srdf-apply(1), FILES): wagon N opened
 * from inbox/new (or inbox/cur, when the target lost commits the inbox
 * had seen), checked against the key and the source, and peeked; the
 * applied ones moved to inbox/cur; inotify on inbox/new while waiting
 * for the next.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "applier.h"
#include "keyring.h"
#include "log.h"
#include "spool.h"

void
src_hex(const uint8_t id[16], char out[33])
{
	sodium_bin2hex(out, 33, id, 16);
}

/* Maps DIR/inbox/SUB/NAME; 0, 1 when absent, -1 on error (err). */
int
map_file(const struct config *cf, const char *sub, const char *name,
    uint8_t **p, size_t *len, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	snprintf(path, sizeof path, "%s/%s/%s", cf->inbox, sub, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "cannot open %.600s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot stat %.600s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%.600s is not a regular file", path);
		close(fd);
		return -1;
	}
	*len = (size_t)st.st_size;
	*p = mmap(NULL, *len ? *len : 1, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (*p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %.600s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Opens wagon seq from inbox/new (or inbox/cur, when the target lost
 * commits that the inbox had seen).  0 with w filled, 1 when it is not
 * there, -1 when it cannot be used (err), -2 when its key id is not in
 * the key file yet (err). */
int
load_wagon(struct applier *a, uint64_t seq, struct inwagon *w, char *err,
    size_t errlen, int warn_cur)
{
	char name[WAGON_NAME_LEN], why[512], hex[33];
	const struct srdf_key *key;
	const char *sub = "new";
	uint8_t *p;
	size_t len;
	int rc;

	memset(w, 0, sizeof *w);
	w->seq = seq;
	wagon_name(seq, name);
	if ((rc = map_file(a->cf, sub, name, &p, &len, err, errlen)) == 1) {
		sub = "cur";
		rc = map_file(a->cf, sub, name, &p, &len, err, errlen);
	}
	if (rc != 0)
		return rc;
	rc = wagon_open_tagged(p, len, keyring_key(a->cf->kr), &w->h,
	    &w->records, &w->len, why, sizeof why);
	/* A key id the ring lacks: the key file may hold it by now
	 * (srdf-keygen(1) KEY ROTATION); wagon_open_tagged filled w->h. */
	if (rc == WAGON_EKEY && (key = keyring_find(a->cf->kr, w->h.key_id)))
		rc = wagon_open_tagged(
		    p, len, key, &w->h, &w->records, &w->len, why, sizeof why);
	munmap(p, len ? len : 1);
	if (rc != 0) {
		snprintf(err, errlen, "wagon %s/%s: %s%s", sub, name, why,
		    rc == WAGON_EKEY ? "; retried until the key file holds "
		                       "that key: see srdf-keygen(1) KEY "
		                       "ROTATION"
		                     : "");
		return rc == WAGON_EKEY ? -2 : -1;
	}
	src_hex(w->h.source_id, hex);
	if (w->h.seq != seq) {
		snprintf(err, errlen, "wagon %s/%s holds sequence %" PRIu64,
		    sub, name, w->h.seq);
		return -1;
	}
	if (strcmp(hex, a->src) != 0) {
		snprintf(err, errlen,
		    "wagon %s/%s comes from source %s, but "
		    "this directory applies source %s",
		    sub, name, hex, a->src);
		return -1;
	}
	if (engine_peek(w, why, sizeof why) != 0) {
		snprintf(err, errlen, "wagon %s/%s: %s", sub, name, why);
		return -1;
	}
	if (strcmp(sub, "cur") == 0 && warn_cur)
		log_warn(
		    "applying wagon %" PRIu64 " again from %s/cur: the "
		    "target lost transactions it had committed (restored from "
		    "a backup? innodb_flush_log_at_trx_commit not 1?)",
		    seq, a->cf->inbox);
	return 0;
}

/* Wagon seq from the inbox (new/, else cur/), opened and peeked; 0, 1
 * when it is not there, -1 with err. */
int
load(struct applier *a, uint64_t seq, struct inwagon *w, char *err,
    size_t errlen)
{
	return load_wagon(a, seq, w, err, errlen, 1);
}

/* new/NAME -> cur/NAME for the wagons from..to that are there. */
void
move_done(struct applier *a, uint64_t from, uint64_t to)
{
	char name[WAGON_NAME_LEN], path[PATH_MAX];

	if (a->cf->dry_run)
		return;
	for (uint64_t s = from; s <= to && s != 0; s++) {
		wagon_name(s, name);
		snprintf(path, sizeof path, "%s/new/%s", a->cf->inbox, name);
		if (access(path, F_OK) == 0)
			spool_move(a->cf->inbox, "new", "cur", name);
	}
}

/* 1 when wagon seq was applied here and waits for the ledger flush. */
static int
pending_done(const struct applier *a, uint64_t seq)
{
	for (size_t i = 0; i < a->done.n; i++)
		if (a->done.v[i].from <= seq && seq <= a->done.v[i].to)
			return 1;
	return 0;
}

/* Looks at inbox/new when the next wagon is missing: moves wagons at or
 * below the checkpoint to cur/, says once that later ones wait. */
void
look_inbox(struct applier *a, int waiting)
{
	char **names;
	size_t n, later = 0;

	if (spool_list(a->cf->inbox, "new", &names, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t s = wagon_name_seq(names[i]);

		if (s == 0)
			continue;
		if (s <= a->cp.seq && !a->cf->dry_run) {
			/* Applied by this process, its ledger record not yet
			 * written: move_done moves it after the flush. */
			if (pending_done(a, s))
				continue;
			log_info("wagon %" PRIu64
			         " is at or below the checkpoint "
			         "(%" PRIu64 "): already applied",
			    s, a->cp.seq);
			spool_move(a->cf->inbox, "new", "cur", names[i]);
		} else if (s > a->next)
			later++;
	}
	spool_list_free(names, n);
	if (!waiting)
		return;
	if (later > 0 && !a->gap_logged)
		log_notice("waiting for wagon %" PRIu64 ": %zu later wagon%s "
		           "in the inbox",
		    a->next, later, later == 1 ? " is" : "s are");
	a->gap_logged = later > 0;
}
