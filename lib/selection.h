/*
 * selection.h — the tables of srdf-bootstrap's copy that srdf-capture no
 * longer keeps in step (srdf-capture(1) --drop-from-selection,
 * srdf-status(1) "Tables no longer kept in step").
 *
 * The source ledger's meta "selection_dropped" holds
 *	{"v":1,"copy":G,"tables":{"db.t":{"at":UNIX_S,"gtid":POS},...}}
 * where G is the "first_gtid" of the copy (meta "bootstrap_progress")
 * the tables were dropped from, and POS the GTID position srdf-capture
 * started at when it dropped them: the target's copy of db.t is as of
 * POS at the latest.  A new copy (another first_gtid) has dropped
 * nothing: the record of an older one is ignored.
 *
 * selection_copy: the names ("db.table") of the tables of the copy
 *	recorded in the ledger into *tables (a JSON array, the caller's
 *	reference) and its first_gtid into *first (malloc'd); both NULL
 *	when the ledger holds no copy.  0, or a ledger error code.
 * selection_dropped: the tables dropped from copy `first' into *dropped
 *	(a JSON object keyed "db.table", the caller's reference; empty
 *	when none, or first is NULL).  0, or a ledger error code;
 *	LEDGER_CORRUPT when the record is not JSON.
 * selection_drop: records table `name' as dropped from copy `first' at
 *	time `at', position `gtid', in write transaction t.  0, or a
 *	ledger error code.
 */
#ifndef SRDF_SELECTION_H
#define SRDF_SELECTION_H

#include <time.h>

#include <jansson.h>

#include "ledger.h"

int selection_copy(struct ledger_txn *t, json_t **tables, char **first);
int selection_dropped(
    struct ledger_txn *t, const char *first, json_t **dropped);
int selection_drop(struct ledger_txn *t, const char *first, const char *name,
    time_t at, const char *gtid);

#endif
