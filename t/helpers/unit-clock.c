/*
 * unit-clock.c — unit tests of lib/clock.c's ISO 8601 helpers, which
 * srdf-promote writes into the ledger ("promoted") and srdf-status reads
 * back and prints.  Run by t/0007-lib-clock.t; prints TAP.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"

static int ntests, nfailed;

static void
ok(int cond, const char *what)
{
	ntests++;
	if (!cond)
		nfailed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", ntests, what);
}

int
main(void)
{
	char b[CLOCK_ISO_LEN], small[8];

	ok(strcmp(clock_iso(1795300201.9, 'T', b, sizeof b),
	       "2026-11-21T22:30:01Z") == 0,
	    "clock_iso: UTC, 'T', fraction "
	    "dropped");
	ok(strcmp(clock_iso(0, ' ', b, sizeof b), "1970-01-01 00:00:00Z") == 0,
	    "clock_iso: ' ' between date and time");
	ok(strcmp(clock_iso(0, 'T', small, sizeof small), "") == 0,
	    "clock_iso: a buffer too small gives \"\"");
	ok(clock_iso_parse("2026-11-21T22:30:01Z") == 1795300201.0,
	    "clock_iso_parse: the inverse");
	ok(clock_iso_parse(NULL) == -1 && clock_iso_parse("") == -1 &&
	        clock_iso_parse("2026-11-21 22:30:01Z") == -1 &&
	        clock_iso_parse("2026-11-21T22:30:01Zx") == -1,
	    "clock_iso_parse: NULL, empty, ' ', trailing text are -1");
	printf("1..%d\n", ntests);
	return nfailed != 0;
}
