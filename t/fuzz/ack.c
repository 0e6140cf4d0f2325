/*
 * ack — libFuzzer harness of the ACK parser, ack_decode (lib/ack.c,
 * srdf-ack(5)): the body srdf-ackd takes from the network.
 *
 * Beyond not crashing: an ACK it accepts is one srdf-ack(5) allows
 * (source_id 32 lowercase hex digits, seq >= 1, error present exactly
 * when failed), and it survives ack_encode and ack_decode again
 * unchanged, but for the time, which the encoder writes to 16
 * significant digits.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ack a, b;
	char err[256];
	char *enc;

	if (ack_decode((const char *)data, size, &a, err, sizeof err) != 0) {
		if (err[0] == '\0')
			abort(); /* refused without a reason */
		ack_free(&a);
		return 0;
	}
	if (strlen(a.source_id) != 32 ||
	    strspn(a.source_id, "0123456789abcdef") != 32 || a.seq < 1 ||
	    !isfinite(a.time) || a.time < 0 || (a.applied != (a.error == NULL)))
		abort();
	if ((enc = ack_encode(&a)) == NULL)
		abort();
	if (ack_decode(enc, strlen(enc), &b, err, sizeof err) != 0 ||
	    strcmp(a.source_id, b.source_id) != 0 || a.seq != b.seq ||
	    a.applied != b.applied || fabs(a.time - b.time) > a.time * 1e-15 ||
	    !same(a.last_gtid, b.last_gtid) || !same(a.error, b.error))
		abort();
	free(enc);
	ack_free(&a);
	ack_free(&b);
	return 0;
}
