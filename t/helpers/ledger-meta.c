/*
 * ledger-meta — test helper: read or write one meta key of a state
 * directory's LMDB ledger (lib/ledger.h).
 *	ledger-meta DIR KEY          prints the value (exit 1 if absent)
 *	ledger-meta DIR KEY VALUE    stores it
 */
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "ledger.h"
#include "log.h"

int
main(int argc, char **argv)
{
	struct ledger *l;
	struct ledger_txn *t;
	char *v = NULL;
	int rc, w = argc == 4;

	log_init(argv[0]);
	if (argc != 3 && argc != 4)
		die(EX_USAGE, "usage: ledger-meta dir key [value]");
	if ((rc = ledger_open(argv[1], w ? 0 : LEDGER_RDONLY, &l)) != 0 ||
	    (rc = ledger_txn_begin(l, w ? 0 : LEDGER_RDONLY, &t)) != 0)
		die(EX_NOINPUT, "%s: %s", argv[1], ledger_strerror(rc));
	if (w) {
		if ((rc = ledger_meta_put(t, argv[2], argv[3])) != 0 ||
		    (rc = ledger_txn_commit(t)) != 0)
			die(EX_IOERR, "%s: %s", argv[1], ledger_strerror(rc));
	} else {
		rc = ledger_meta_get(t, argv[2], &v);
		ledger_txn_abort(t);
		if (rc != 0)
			die(EX_IOERR, "%s: %s", argv[1], ledger_strerror(rc));
		if (v != NULL)
			puts(v);
	}
	ledger_close(l);
	free(v);
	return w || v != NULL ? 0 : 1;
}
