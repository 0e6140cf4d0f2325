/*
 * ledger-wagons — test helper: a state directory's ledger as JSON lines.
 *	ledger-wagons DIR             one line per wagon: {"seq":N, ...record}
 *	ledger-wagons --attempts DIR  one line per delivery attempt:
 *	                              {"seq":N, "attempt":K, ...record}
 * The attempts are read with LMDB directly: lib/ledger.h has no reader
 * for them (srdf-status will want one).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "ledger.h"
#include "log.h"

static uint64_t
be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static int
print_wagon(uint64_t seq, json_t *w, void *arg)
{
	json_t *o = json_deep_copy(w);
	char *s;

	json_object_set_new(o, "seq", json_integer((json_int_t)seq));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	puts(s);
	free(s);
	json_decref(o);
	return 0;
}

static int
attempts(const char *dir)
{
	char path[PATH_MAX];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v;
	json_t *o;
	char *s;
	int rc;

	snprintf(path, sizeof path, "%s/ledger", dir);
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 8)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, LEDGER_MAPSIZE)) != 0 ||
	    (rc = mdb_env_open(env, path, MDB_RDONLY, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "attempts", 0, &dbi)) != 0 ||
	    (rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		die(EX_NOINPUT, "%s: %s", path, mdb_strerror(rc));
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		if (k.mv_size != 12 ||
		    (o = json_loadb(v.mv_data, v.mv_size, 0, NULL)) == NULL)
			die(EX_DATAERR, "bad attempt record");
		json_object_set_new(
		    o, "seq", json_integer((json_int_t)be(k.mv_data, 8)));
		json_object_set_new(o, "attempt",
		    json_integer(
		        (json_int_t)be((unsigned char *)k.mv_data + 8, 4)));
		s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		puts(s);
		free(s);
		json_decref(o);
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return 0;
}

int
main(int argc, char **argv)
{
	struct ledger *l;
	struct ledger_txn *t;
	int rc;

	log_init(argv[0]);
	if (argc == 3 && strcmp(argv[1], "--attempts") == 0)
		return attempts(argv[2]);
	if (argc != 2)
		die(EX_USAGE, "usage: ledger-wagons [--attempts] DIR");
	if ((rc = ledger_open(argv[1], LEDGER_RDONLY, &l)) != 0 ||
	    (rc = ledger_txn_begin(l, LEDGER_RDONLY, &t)) != 0 ||
	    (rc = ledger_wagon_foreach(t, 0, print_wagon, NULL)) != 0)
		die(EX_NOINPUT, "%s: %s", argv[1], ledger_strerror(rc));
	ledger_txn_abort(t);
	ledger_close(l);
	return 0;
}
