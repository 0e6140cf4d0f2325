/*
 * ledger-confirm — test helper: marks every wagon of a state directory's
 * LMDB ledger (lib/ledger.h) "confirmed", confirmed_at 1 (long ago), as
 * if srdf-ackd had taken its ACK then: what srdf-ackd --keep purges.
 *	ledger-confirm DIR
 */
#include <stdio.h>
#include <sysexits.h>

#include "ledger.h"
#include "log.h"

static int
mark(uint64_t seq, json_t *w, void *arg)
{
	struct ledger_txn *t = arg;

	json_object_set_new(w, "state", json_string("confirmed"));
	json_object_set_new(w, "confirmed_at", json_real(1.0));
	return ledger_wagon_put(t, seq, w);
}

int
main(int argc, char **argv)
{
	struct ledger *l;
	struct ledger_txn *t;
	int rc;

	log_init(argv[0]);
	if (argc != 2)
		die(EX_USAGE, "usage: ledger-confirm dir");
	if ((rc = ledger_open(argv[1], 0, &l)) != 0 ||
	    (rc = ledger_txn_begin(l, 0, &t)) != 0)
		die(EX_NOINPUT, "%s: %s", argv[1], ledger_strerror(rc));
	if ((rc = ledger_wagon_foreach(t, 0, mark, t)) != 0 ||
	    (rc = ledger_txn_commit(t)) != 0)
		die(EX_IOERR, "%s: %s", argv[1], ledger_strerror(rc));
	ledger_close(l);
	return 0;
}
