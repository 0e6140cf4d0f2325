/*
 * keyring.c — a key file read again while the tool runs; see keyring.h.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "keyring.h"
#include "log.h"
#include "xalloc.h"

#define KEYRING_KEEP 64 /* rings kept for readers; more reloads recycle */

struct keyring {
	char *path;
	_Atomic(struct srdf_key *) cur;
	pthread_mutex_t mu;  /* reloads */
	long long missed_ms; /* of the last read for a missing id */
	struct srdf_key *old[KEYRING_KEEP]; /* replaced rings, kept */
	size_t nold;
};

struct keyring *
keyring_open(const char *path, char *err, size_t errlen)
{
	struct keyring *kr;
	struct srdf_key *ring;

	if ((ring = key_load(path, err, errlen)) == NULL)
		return NULL;
	kr = xcalloc(1, sizeof *kr);
	kr->path = xstrdup(path);
	atomic_init(&kr->cur, ring);
	pthread_mutex_init(&kr->mu, NULL);
	kr->missed_ms = clock_mono_ms() - KEYRING_RELOAD_MS;
	return kr;
}

const struct srdf_key *
keyring_key(struct keyring *kr)
{
	return atomic_load(&kr->cur);
}

const char *
keyring_path(const struct keyring *kr)
{
	return kr->path;
}

/* Whether rings a and b hold the same keys in the same order. */
static int
same_ring(const struct srdf_key *a, const struct srdf_key *b)
{
	for (; a != NULL && b != NULL; a = a->older, b = b->older)
		if (memcmp(a->id, b->id, sizeof a->id) != 0)
			return 0;
	return a == NULL && b == NULL;
}

static int
reload_locked(struct keyring *kr, char *err, size_t errlen)
{
	struct srdf_key *ring, *cur = atomic_load(&kr->cur);
	char ids[KEY_RING_MAX * 18];

	if ((ring = key_load(kr->path, err, errlen)) == NULL)
		return -1;
	if (same_ring(ring, cur)) {
		key_free(ring);
		return 0;
	}
	if (kr->nold == KEYRING_KEEP) {
		/* Never reached in practice (64 rotations in one run); the
		 * oldest kept ring is one no signer has held for 63
		 * reloads. */
		key_free(kr->old[0]);
		memmove(kr->old, kr->old + 1,
		    (KEYRING_KEEP - 1) * sizeof kr->old[0]);
		kr->nold--;
	}
	kr->old[kr->nold++] = cur;
	atomic_store(&kr->cur, ring);
	key_ring_ids(ring, ids, sizeof ids);
	log_notice(
	    "read key file %s again: key ids %s (newest first)", kr->path, ids);
	return 1;
}

int
keyring_reload(struct keyring *kr, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&kr->mu);
	rc = reload_locked(kr, err, errlen);
	pthread_mutex_unlock(&kr->mu);
	return rc;
}

const struct srdf_key *
keyring_find(struct keyring *kr, const uint8_t id[8])
{
	const struct srdf_key *k;
	char err[512];

	if ((k = key_find(atomic_load(&kr->cur), id)) != NULL)
		return k;
	pthread_mutex_lock(&kr->mu);
	if ((k = key_find(atomic_load(&kr->cur), id)) == NULL &&
	    clock_mono_ms() - kr->missed_ms >= KEYRING_RELOAD_MS) {
		kr->missed_ms = clock_mono_ms();
		if (reload_locked(kr, err, sizeof err) < 0)
			log_warn("%s", err);
		k = key_find(atomic_load(&kr->cur), id);
	}
	pthread_mutex_unlock(&kr->mu);
	return k;
}

void
keyring_close(struct keyring *kr)
{
	size_t i;

	if (kr == NULL)
		return;
	for (i = 0; i < kr->nold; i++)
		key_free(kr->old[i]);
	key_free(atomic_load(&kr->cur));
	pthread_mutex_destroy(&kr->mu);
	free(kr->path);
	free(kr);
}
