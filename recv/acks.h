/*
 * acks.h — srdf-recv's side of the pull-ACK mode (srdf-recv(1),
 * "Requests"; srdf-ack(5), "Pulled by srdf-ship"): the ACKs srdf-apply
 * keeps in the target ledger (a wagon record's "ack", the exact body
 * srdf-apply --ack-to would POST) are handed to srdf-ship --ack-pull,
 * which asks for them over the connection it ships on.
 *
 *	GET /v1/acks/pending   -> 200 {"status":"ok", "reason":...,
 *	                          "acks":[BODY, ...], "more":BOOL}
 *	    the oldest ACK bodies (JSON strings, sequence order), at most
 *	    RECV_ACKS_MAX of them and RECV_ACKS_BYTES of them as escaped
 *	    in the answer (but always the first); "more" when some were
 *	    left for the next request.
 *	POST /v1/acks/taken    body {"v":1,"taken":[{"seq":N,
 *	                          "sha256":"<64 hex>"}, ...]}
 *	                       -> 200 {"status":"accepted", "reason":...,
 *	                          "removed":N}
 *	    for each ACK the source recorded, whose body's SHA-256 is given:
 *	    what srdf-apply does after delivering one, in one ledger
 *	    transaction — "ack" removed from the record, an "applied" wagon
 *	    made "confirmed" (confirmed_at), meta "ack_low" moved up.  An
 *	    ACK whose record holds another body by now (srdf-apply replaced
 *	    a "failed" one with "applied") or none stays as it is.
 *	    A body that is not that shape -> 400 invalid_payload.
 * A ledger error is 503 busy.  Both requests are authenticated like
 * POST /v1/wagons, and the answer is signed, bound to the request's
 * nonce (lib/hauth.h): what the source reads is what this receiver
 * sent, to that request, now.
 *
 * Each function takes the target ledger, the request and the place of
 * the answer (a new JSON object, owned by the caller), and returns the
 * HTTP status.  Thread-safe (one ledger transaction each).
 */
#ifndef SRDF_RECV_ACKS_H
#define SRDF_RECV_ACKS_H

#include <jansson.h>

#include "http.h"
#include "ledger.h"

/* Invariant: RECV_ACKS_BYTES plus the answer's frame fits the client's
 * HTTP_ANSWER_MAX (an ACK's usual 150 bytes: 128 of them fit). */
#define RECV_ACKS_MAX 128
#define RECV_ACKS_BYTES 49152
#define RECV_TAKEN_MAX 1024 /* entries of one /v1/acks/taken */

int recv_acks_pending(
    struct ledger *l, const struct http_req *req, json_t **answer);
int recv_acks_taken(
    struct ledger *l, const struct http_req *req, json_t **answer);

#endif
