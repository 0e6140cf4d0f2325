/*
 * mkack — test helper: an ACK body (man/srdf-ack.5) made by ack_encode,
 * as srdf-apply sends it.
 *	mkack SOURCE_HEX SEQ applied|failed [GTID [ERROR]]
 * GTID "-" means null.  Prints the JSON on stdout, no newline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ack.h"
#include "log.h"
#include "opt.h"

int
main(int argc, char **argv)
{
	struct ack a = {0};
	char *s;

	log_init(argv[0]);
	if (argc < 4 || argc > 6)
		die(EX_USAGE, "usage: mkack SOURCE_HEX SEQ applied|failed "
		              "[GTID [ERROR]]");
	snprintf(a.source_id, sizeof a.source_id, "%s", argv[1]);
	if (parse_u64(argv[2], &a.seq) != 0)
		die(EX_USAGE, "bad SEQ %s", argv[2]);
	a.applied = strcmp(argv[3], "applied") == 0;
	if (argc > 4 && strcmp(argv[4], "-") != 0)
		a.last_gtid = argv[4];
	if (argc > 5)
		a.error = argv[5];
	a.time = (double)time(NULL);
	if ((s = ack_encode(&a)) == NULL)
		die(EX_SOFTWARE, "ack_encode failed");
	fputs(s, stdout);
	free(s);
	return 0;
}
