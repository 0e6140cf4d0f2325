/*
 * mkgroups — test helper: consistency groups as srdf-dedup writes them
 * (srdf-record(5), "Consistency groups"), for tests of srdf-seal and the
 * tools after it that should not need a database.
 *	mkgroups [-c chunks] [-g group] [-r reason] first count
 * prints `count' groups numbered from `group' (default 1), group i
 * holding the one source transaction 0-1-(first + i): an insert and an
 * update of table d.t (non-ASCII text, escapes, a big unsigned value),
 * and gtid_pos "0-1-(first + i),1-2-9" (a second, idle domain).  With
 * -c N each group is one transaction streamed as N chunks ("last": true
 * on the N-th only), each chunk with both rows.  -r ddl makes DDL
 * barrier groups (one "ddl" record); another reason is only written into
 * group_end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "opt.h"

static void
rows(uint64_t seq, const char *reason)
{
	if (strcmp(reason, "ddl") == 0) {
		printf("{\"v\":1,\"type\":\"ddl\",\"db\":\"d\",\"sql\":\"ALTER "
		       "TABLE t ADD c%" PRIu64 " INT\",\"sql_mode\":1411383296,"
		       "\"charset\":45}\n",
		    seq);
		return;
	}
	printf("{\"v\":1,\"type\":\"insert\",\"db\":\"d\",\"table\":\"t\","
	       "\"pk\":[\"id\"],\"after\":{\"id\":%" PRIu64
	       ",\"txt\":\"\xc3\xa9t\xc3\xa9 "
	       "\\\"q\\\" \\u0000 \\\\\",\"u\":\"18446744073709551615\","
	       "\"b\":{\"b64\":\"AP8=\"},\"n\":null}}\n",
	    seq);
	printf("{\"v\":1,\"type\":\"update\",\"db\":\"d\",\"table\":\"t\","
	       "\"pk\":[\"id\"],\"before\":{\"id\":1,\"v\":%" PRIu64 "},"
	       "\"after\":{\"id\":1,\"v\":%" PRIu64 "}}\n",
	    seq - 1, seq);
}

int
main(int argc, char **argv)
{
	uint64_t first, count, chunks = 1, group = 1, i, c, seq;
	const char *reason = "window";
	int ch, ddl;

	log_init(argv[0]);
	while ((ch = getopt(argc, argv, "c:g:r:")) != -1) {
		switch (ch) {
		case 'c':
			if (parse_u64(optarg, &chunks) != 0 || chunks == 0)
				die(EX_USAGE, "bad -c %s", optarg);
			break;
		case 'g':
			if (parse_u64(optarg, &group) != 0)
				die(EX_USAGE, "bad -g %s", optarg);
			break;
		case 'r':
			reason = optarg;
			break;
		default:
			die(EX_USAGE, "usage: mkgroups [-c chunks] [-g group] "
			              "[-r reason] first count");
		}
	}
	if (argc - optind != 2 || parse_u64(argv[optind], &first) != 0 ||
	    parse_u64(argv[optind + 1], &count) != 0)
		die(EX_USAGE, "usage: mkgroups [-c chunks] [-g group] "
		              "[-r reason] first count");
	ddl = strcmp(reason, "ddl") == 0;
	for (i = 0; i < count; i++, group++) {
		seq = first + i;
		for (c = 1; c <= chunks; c++) {
			printf("{\"v\":1,\"type\":\"group_begin\",\"group\":"
			       "%" PRIu64 ","
			       "\"chunk\":%" PRIu64
			       ",\"first_gtid\":\"0-1-%" PRIu64 "\"}\n",
			    group, c, seq);
			rows(seq, reason);
			printf(
			    "{\"v\":1,\"type\":\"group_end\",\"group\":%" PRIu64
			    ","
			    "\"chunk\":%" PRIu64 ",\"last\":%s,\"first_gtid\":"
			    "\"0-1-%" PRIu64 "\",\"last_gtid\":\"0-1-%" PRIu64
			    "\","
			    "\"gtid_pos\":\"0-1-%" PRIu64 ",1-2-9\",\"trx\":1,"
			    "\"events_in\":%d,\"events_out\":%d,\"reason\":"
			    "\"%s\",\"first_ts\":%" PRIu64
			    ",\"last_ts\":%" PRIu64 "}\n",
			    group, c, c == chunks ? "true" : "false", seq, seq,
			    seq, ddl ? 0 : 2, ddl ? 0 : 2, reason,
			    1732200000 + seq, 1732200000 + seq);
		}
	}
	return fflush(stdout) == 0 ? 0 : EX_IOERR;
}
