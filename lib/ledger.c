/* ledger.c — the LMDB ledger; see ledger.h for the state table. */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "ledger.h"

struct ledger {
	MDB_env *env;
	MDB_dbi meta, wagons, attempts;
};

struct ledger_txn {
	struct ledger *l;
	MDB_txn *txn;
};

const char *const ledger_states[LEDGER_NSTATES] = {
    "sealed",
    "sending",
    "received",
    "applied",
    "confirmed",
    "failed",
    "dead",
};

static void
put_be(unsigned char *p, uint64_t v, int n)
{
	while (n-- > 0) {
		p[n] = (unsigned char)v;
		v >>= 8;
	}
}

static uint64_t
get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The ledger's "format" in meta: LEDGER_FORMAT, or none yet (a new
 * ledger, or one of an srdf before the key existed, which wrote format
 * 1), which a writer records; another value is LEDGER_NEWER. */
static int
check_format(struct ledger *l, MDB_txn *txn, int rdonly)
{
	MDB_val k = {sizeof "format" - 1, "format"};
	MDB_val v = {sizeof LEDGER_FORMAT - 1, LEDGER_FORMAT};
	MDB_val got;
	int rc;

	rc = mdb_get(txn, l->meta, &k, &got);
	if (rc == MDB_NOTFOUND)
		return rdonly ? 0 : mdb_put(txn, l->meta, &k, &v, 0);
	if (rc != 0)
		return rc;
	if (got.mv_size != v.mv_size ||
	    memcmp(got.mv_data, v.mv_data, v.mv_size) != 0)
		return LEDGER_NEWER;
	return 0;
}

int
ledger_open(const char *dir, unsigned flags, struct ledger **out)
{
	char path[PATH_MAX];
	struct ledger *l;
	MDB_txn *txn;
	unsigned envflags = 0, dbflags = MDB_CREATE;
	int rc, n, dead;

	*out = NULL;
	n = snprintf(path, sizeof path, "%s/ledger", dir);
	if (n < 0 || n >= (int)sizeof path)
		return ENAMETOOLONG;
	if (flags & LEDGER_RDONLY) {
		envflags = MDB_RDONLY;
		dbflags = 0;
	} else if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return errno;
	if ((l = calloc(1, sizeof *l)) == NULL)
		return ENOMEM;
	if ((rc = mdb_env_create(&l->env)) != 0) {
		free(l);
		return rc;
	}
	/* Default flags: every commit is synced (never MDB_NOSYNC: the
	 * ledger is the source's checkpoint). */
	if ((rc = mdb_env_set_mapsize(l->env, LEDGER_MAPSIZE)) != 0 ||
	    (rc = mdb_env_set_maxdbs(l->env, 8)) != 0 ||
	    (rc = mdb_env_open(l->env, path, envflags, 0600)) != 0 ||
	    (rc = mdb_reader_check(l->env, &dead)) != 0 ||
	    (rc = mdb_txn_begin(l->env, NULL, envflags, &txn)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(txn, "meta", dbflags, &l->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "wagons", dbflags, &l->wagons)) != 0 ||
	    (rc = mdb_dbi_open(txn, "attempts", dbflags, &l->attempts)) != 0 ||
	    (rc = check_format(l, txn, flags & LEDGER_RDONLY)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	/* Commit, even read-only: it keeps the handles for later txns. */
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	*out = l;
	return 0;
fail:
	mdb_env_close(l->env);
	free(l);
	return rc;
}

void
ledger_close(struct ledger *l)
{
	if (l == NULL)
		return;
	mdb_env_close(l->env);
	free(l);
}

const char *
ledger_strerror(int rc)
{
	switch (rc) {
	case LEDGER_CORRUPT:
		return "ledger record is not a JSON object";
	case LEDGER_BADREC:
		return "invalid ledger record or key";
	case LEDGER_NEWER:
		return "the ledger is of a format this srdf does not know (a "
		       "newer srdf wrote it): upgrade srdf on this host";
	default:
		return mdb_strerror(rc);
	}
}

int
ledger_txn_begin(struct ledger *l, unsigned flags, struct ledger_txn **out)
{
	struct ledger_txn *t;
	int rc;

	*out = NULL;
	if ((t = malloc(sizeof *t)) == NULL)
		return ENOMEM;
	t->l = l;
	rc = mdb_txn_begin(
	    l->env, NULL, flags & LEDGER_RDONLY ? MDB_RDONLY : 0, &t->txn);
	if (rc != 0) {
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int
ledger_txn_commit(struct ledger_txn *t)
{
	int rc = mdb_txn_commit(t->txn);

	free(t);
	return rc;
}

int
ledger_txn_end(struct ledger_txn *t, int rc)
{
	if (rc != 0) {
		ledger_txn_abort(t);
		return rc;
	}
	return ledger_txn_commit(t);
}

void
ledger_txn_abort(struct ledger_txn *t)
{
	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	free(t);
}

int
ledger_meta_get(struct ledger_txn *t, const char *key, char **val)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	int rc;

	*val = NULL;
	if (k.mv_size == 0)
		return LEDGER_BADREC;
	if ((rc = mdb_get(t->txn, t->l->meta, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if ((*val = malloc(v.mv_size + 1)) == NULL)
		return ENOMEM;
	memcpy(*val, v.mv_data, v.mv_size);
	(*val)[v.mv_size] = '\0';
	return 0;
}

int
ledger_meta_put(struct ledger_txn *t, const char *key, const char *val)
{
	MDB_val k = {strlen(key), (void *)key};
	MDB_val v = {strlen(val), (void *)val};

	if (k.mv_size == 0)
		return LEDGER_BADREC;
	return mdb_put(t->txn, t->l->meta, &k, &v, 0);
}

/* Decodes a stored record into a new reference in *out. */
static int
decode(const MDB_val *v, json_t **out)
{
	json_t *j = json_loadb(v->mv_data, v->mv_size, 0, NULL);

	if (!json_is_object(j)) {
		json_decref(j);
		return LEDGER_CORRUPT;
	}
	*out = j;
	return 0;
}

/* Stores object j under key in dbi. */
static int
encode_put(
    struct ledger_txn *t, MDB_dbi dbi, MDB_val *k, json_t *j, unsigned flags)
{
	MDB_val v;
	char *s;
	int rc;

	if ((s = json_dumps(j, JSON_COMPACT)) == NULL)
		return ENOMEM;
	v.mv_size = strlen(s);
	v.mv_data = s;
	rc = mdb_put(t->txn, dbi, k, &v, flags);
	free(s);
	return rc;
}

int
ledger_wagon_get(struct ledger_txn *t, uint64_t seq, json_t **w)
{
	unsigned char key[8];
	MDB_val k = {sizeof key, key}, v;
	int rc;

	*w = NULL;
	put_be(key, seq, 8);
	if ((rc = mdb_get(t->txn, t->l->wagons, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	return decode(&v, w);
}

int
ledger_wagon_put(struct ledger_txn *t, uint64_t seq, json_t *w)
{
	unsigned char key[8];
	MDB_val k = {sizeof key, key};
	const char *state = json_string_value(json_object_get(w, "state"));
	size_t i;

	for (i = 0; state != NULL && i < LEDGER_NSTATES; i++)
		if (strcmp(state, ledger_states[i]) == 0)
			break;
	if (state == NULL || i == LEDGER_NSTATES)
		return LEDGER_BADREC;
	put_be(key, seq, 8);
	return encode_put(t, t->l->wagons, &k, w, 0);
}

int
ledger_wagon_last_seq(struct ledger_txn *t, uint64_t *seq)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	*seq = 0;
	if ((rc = mdb_cursor_open(t->txn, t->l->wagons, &c)) != 0)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (k.mv_size != 8)
		return LEDGER_CORRUPT;
	*seq = get_be64(k.mv_data);
	return 0;
}

int
ledger_wagon_foreach_raw(struct ledger_txn *t, uint64_t from,
    int (*fn)(uint64_t seq, const char *json, size_t len, void *arg), void *arg)
{
	unsigned char key[8];
	MDB_cursor *c;
	MDB_val k = {sizeof key, key}, v;
	MDB_cursor_op op = MDB_SET_RANGE;
	int rc;

	put_be(key, from, 8);
	if ((rc = mdb_cursor_open(t->txn, t->l->wagons, &c)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size != 8) {
			rc = LEDGER_CORRUPT;
			break;
		}
		if ((rc = fn(get_be64(k.mv_data), v.mv_data, v.mv_size, arg)) !=
		    0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ledger_wagon_foreach's walk over ledger_wagon_foreach_raw: each
 * record decoded for the caller's fn. */
struct tree_walk {
	int (*fn)(uint64_t seq, json_t *w, void *arg);
	void *arg;
};

static int
tree_visit(uint64_t seq, const char *json, size_t len, void *arg)
{
	struct tree_walk *tw = arg;
	MDB_val v = {len, (void *)json};
	json_t *w;
	int rc;

	if (decode(&v, &w) != 0)
		return LEDGER_CORRUPT;
	rc = tw->fn(seq, w, tw->arg);
	json_decref(w);
	return rc;
}

int
ledger_wagon_foreach(struct ledger_txn *t, uint64_t from,
    int (*fn)(uint64_t seq, json_t *w, void *arg), void *arg)
{
	struct tree_walk tw = {fn, arg};

	return ledger_wagon_foreach_raw(t, from, tree_visit, &tw);
}

int
ledger_wagon_del(struct ledger_txn *t, uint64_t seq)
{
	unsigned char key[12];
	MDB_val k = {8, key}, v;
	MDB_cursor *c;
	int rc;

	put_be(key, seq, 8);
	if ((rc = mdb_del(t->txn, t->l->wagons, &k, NULL)) != 0 &&
	    rc != MDB_NOTFOUND)
		return rc;
	/* Its attempts: keys seq (8 bytes) + attempt (4), from attempt 0. */
	put_be(key + 8, 0, 4);
	k.mv_size = sizeof key;
	if ((rc = mdb_cursor_open(t->txn, t->l->attempts, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 12 || get_be64(k.mv_data) != seq)
			break;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

int
ledger_attempt_add(
    struct ledger_txn *t, uint64_t seq, uint32_t attempt, json_t *a)
{
	unsigned char key[12];
	MDB_val k = {sizeof key, key};

	if (!json_is_object(a))
		return LEDGER_BADREC;
	put_be(key, seq, 8);
	put_be(key + 8, attempt, 4);
	return encode_put(t, t->l->attempts, &k, a, MDB_NOOVERWRITE);
}
