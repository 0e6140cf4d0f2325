/*
 * hsign — test helper: the X-Srdf-Auth value for a request (hauth.h),
 * so that tests can send their own requests with curl(1): replays, wrong
 * keys, skewed clocks, altered bodies.
 *	hsign KEYFILE METHOD PATH BODYFILE [UNIXTIME]
 * prints the header value (without "X-Srdf-Auth: ") on stdout.  BODYFILE
 * "-" or empty means an empty body.  The request is signed for
 * srdf-ackd when PATH is /v1/acks or HSIGN_TO=ackd is in the
 * environment, else for srdf-recv (hauth.h, subkeys).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hauth.h"
#include "log.h"
#include "opt.h"
#include "wagon.h"

int
main(int argc, char **argv)
{
	struct srdf_key *k;
	char err[256], value[HAUTH_VALUE_LEN], *body = NULL;
	size_t len = 0, cap = 0, n;
	uint64_t ts = (uint64_t)time(NULL);
	FILE *f;
	int to;

	log_init(argv[0]);
	if (argc != 5 && argc != 6)
		die(EX_USAGE, "usage: hsign KEYFILE METHOD PATH BODYFILE "
		              "[UNIXTIME]");
	if ((k = key_load(argv[1], err, sizeof err)) == NULL)
		die(EX_CONFIG, "%s", err);
	if (argc == 6 && parse_u64(argv[5], &ts) != 0)
		die(EX_USAGE, "bad UNIXTIME %s", argv[5]);
	if (strcmp(argv[4], "-") != 0 && argv[4][0] != '\0') {
		if ((f = fopen(argv[4], "rb")) == NULL)
			die(EX_NOINPUT, "%s: %s", argv[4], strerror(errno));
		for (;;) {
			if (len == cap &&
			    (body = realloc(
			         body, cap = cap ? 2 * cap : 65536)) == NULL)
				die(EX_OSERR, "out of memory");
			if ((n = fread(body + len, 1, cap - len, f)) == 0)
				break;
			len += n;
		}
		fclose(f);
	}
	to = strcmp(argv[3], "/v1/acks") == 0 ||
	             (getenv("HSIGN_TO") &&
	                 strcmp(getenv("HSIGN_TO"), "ackd") == 0)
	         ? HAUTH_TO_ACKD
	         : HAUTH_TO_RECV;
	hauth_sign(
	    k, to, argv[2], argv[3], body ? body : "", len, (time_t)ts, value);
	puts(value);
	free(body);
	return 0;
}
