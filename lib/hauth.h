/*
 * hauth.h — authentication of srdf's HTTP requests with the pre-shared
 * key (DESIGN.md §6): HMAC-SHA-256 over the method, the path, a
 * timestamp and the SHA-256 of the body.  Used by srdf-ship and
 * srdf-apply (signing) and srdf-recv and srdf-ackd (verifying).
 *
 * The request carries one header:
 *	X-Srdf-Auth: v1 keyid=<16 hex> ts=<unix seconds> nonce=<32 hex> sig=<64 hex>
 * sig = HMAC-SHA-256(key, "srdf-v1\n" METHOD "\n" PATH "\n" ts "\n"
 *                         nonce "\n" hex(SHA-256(body)))
 * A verifier refuses a timestamp more than HAUTH_SKEW seconds away from
 * its clock and a nonce it has already accepted within that window
 * (replay); it keeps the accepted nonces in memory (struct hauth_cache,
 * bounded: when it is full of unexpired nonces the verifier answers
 * HAUTH_EBUSY rather than forget one).  Because a new cache knows
 * nothing, it also refuses, as HAUTH_EBUSY, any request whose
 * timestamp is not later than the second the cache was made: a
 * restarted verifier cannot be fooled by a copy of a request its
 * predecessor took; an honest sender just signs again.  The signature
 * is checked before the cache is asked, so only holders of the key can
 * fill it.  The cache is safe to share between threads.  A NULL cache
 * skips the replay checks (tests, tools that verify a stored request).
 *
 * Calling sequence:
 *	hauth_sign(key, "POST", "/v1/wagons", body, len, time(NULL), hdr)
 *	    -> hdr is the header VALUE (without "X-Srdf-Auth: ")
 *	hauth_verify(key, cache, method, path, body, len, value, now, err)
 *	    -> 0, or HAUTH_E* with a reason in err
 */
#ifndef SRDF_HAUTH_H
#define SRDF_HAUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "wagon.h"

#define HAUTH_HEADER "X-Srdf-Auth"
#define HAUTH_SKEW 300
#define HAUTH_VALUE_LEN 192
#define HAUTH_SUM_LEN 32 /* SHA-256 */

enum {
	HAUTH_OK = 0,
	HAUTH_EMISSING = 1, /* no header */
	HAUTH_EFORMAT,	    /* malformed header */
	HAUTH_EKEY,	    /* unknown key id */
	HAUTH_ESKEW,	    /* timestamp outside the window */
	HAUTH_ESIG,	    /* signature mismatch */
	HAUTH_EREPLAY,	    /* nonce already seen */
	HAUTH_EBUSY,	    /* not now (retry): the replay cache is full,
			       or signed before the verifier started */
};

struct hauth_cache; /* accepted nonces, expiring after 2 × HAUTH_SKEW */

struct hauth_cache *hauth_cache_new(void);
void hauth_cache_free(struct hauth_cache *c);

void hauth_sign(const struct srdf_key *key, const char *method,
    const char *path, const void *body, size_t len, time_t now,
    char value[HAUTH_VALUE_LEN]);
int hauth_verify(const struct srdf_key *key, struct hauth_cache *cache,
    const char *method, const char *path, const void *body, size_t len,
    const char *value, time_t now, char *err, size_t errlen);

/* hauth_verify for a caller that has the body's SHA-256 already
 * (body_sum, HAUTH_SUM_LEN bytes): srdf's HTTP server gets it from
 * wagon_sums with the wagon's checksum, so srdf-recv hashes a wagon
 * once, not twice. */
int hauth_verify_summed(const struct srdf_key *key, struct hauth_cache *cache,
    const char *method, const char *path,
    const uint8_t body_sum[HAUTH_SUM_LEN], const char *value, time_t now,
    char *err, size_t errlen);

#endif
