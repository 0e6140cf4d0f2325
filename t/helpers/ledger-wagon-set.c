/*
 * ledger-wagon-set — test helper: merges the members of a JSON object into
 * the record of wagon SEQ in a state directory's LMDB ledger (lib/ledger.h),
 * creating the record when there is none; a member whose value is null is
 * removed.  What a tool killed at a given point leaves behind.
 *	ledger-wagon-set DIR SEQ JSON
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include <jansson.h>

#include "ledger.h"
#include "log.h"

int
main(int argc, char **argv)
{
	struct ledger *l;
	struct ledger_txn *t;
	json_t *w = NULL, *set, *v;
	const char *k;
	uint64_t seq;
	char *end;
	int rc;

	log_init(argv[0]);
	if (argc != 4)
		die(EX_USAGE, "usage: ledger-wagon-set dir seq json");
	seq = strtoull(argv[2], &end, 10);
	if (*argv[2] == '\0' || *end != '\0')
		die(EX_USAGE, "seq: not a number: %s", argv[2]);
	if ((set = json_loads(argv[3], 0, NULL)) == NULL ||
	    !json_is_object(set))
		die(EX_USAGE, "json: not a JSON object: %s", argv[3]);
	if ((rc = ledger_open(argv[1], 0, &l)) != 0 ||
	    (rc = ledger_txn_begin(l, 0, &t)) != 0)
		die(EX_NOINPUT, "%s: %s", argv[1], ledger_strerror(rc));
	if ((rc = ledger_wagon_get(t, seq, &w)) != 0)
		die(EX_IOERR, "%s: %s", argv[1], ledger_strerror(rc));
	if (w == NULL)
		w = json_object();
	json_object_foreach(set, k, v)
	{
		if (json_is_null(v))
			json_object_del(w, k);
		else
			json_object_set(w, k, v);
	}
	if ((rc = ledger_wagon_put(t, seq, w)) != 0 ||
	    (rc = ledger_txn_commit(t)) != 0)
		die(EX_IOERR, "%s: %s", argv[1], ledger_strerror(rc));
	json_decref(w);
	json_decref(set);
	ledger_close(l);
	return 0;
}
