/*
 * ack.h — the ACK that srdf-apply sends to srdf-ackd after a wagon's
 * target transaction (man/srdf-ack.5).  The body of
 * POST /v1/acks, authenticated like every request (hauth.h):
 *	{"v":1,"source_id":"<32 hex>","seq":42,"status":"applied",
 *	 "last_gtid":"0-1-900","time":1732200000.123,"error":null}
 * status is "applied" (committed on the target) or "failed" (error holds
 * the server's or the check's message).  ACKs are idempotent: the same
 * ACK twice changes nothing.
 *
 * ack_encode returns a malloc'd compact JSON string (NULL on ENOMEM).
 * ack_decode validates and fills *a (strings malloc'd, ack_free frees);
 * returns 0 or -1 with a reason in err.
 *
 * ack_taken(w): the source's ledger record w of a wagon (a JSON object,
 * srdf-wagon(5) FILES) once its ACK is taken, by srdf-apply after
 * srdf-ackd answered or by srdf-recv after srdf-ship --ack-pull fetched
 * it: its "ack" member removed; an "applied" wagon becomes "confirmed",
 * with "confirmed_at" now (Unix seconds with a fraction).  Returns 1 when
 * it became confirmed, else 0.  The caller stores w.
 */
#ifndef SRDF_ACK_H
#define SRDF_ACK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct ack {
	char source_id[33];
	uint64_t seq;
	int applied;     /* 1 applied, 0 failed */
	char *last_gtid; /* may be NULL */
	double time;
	char *error; /* NULL when applied */
};

char *ack_encode(const struct ack *a);
int ack_decode(
    const char *body, size_t len, struct ack *a, char *err, size_t errlen);
void ack_free(struct ack *a);
int ack_taken(json_t *w);

#endif
