/*
 * hauth.h — authentication of srdf's HTTP requests and answers with the
 * pre-shared key (srdf(7) SECURITY, man/srdf-recv.1 "Authentication").
 * Used by srdf-ship and srdf-apply (signing requests, verifying
 * answers) and srdf-recv and srdf-ackd (verifying requests, signing
 * answers).
 *
 * Keys.  Nothing is signed with the pre-shared key itself: each purpose
 * has its own subkey, derived with libsodium's crypto_kdf (BLAKE2b) and
 * the context "srdf-key" (key_subkey, wagon.h): requests to srdf-recv
 * (subkey 2), requests to srdf-ackd — the ACKs — (3), and answers (4);
 * subkey 1 encrypts wagons.  A request signed for one service is
 * therefore no request to the other.  The key is a ring (wagon.h,
 * srdf-keygen(1) --rotate): a signer uses its newest key, a verifier
 * any key of its ring whose id the header names, and an answer is
 * signed with the key its request was signed with, so that either side
 * may add a key first.
 *
 * A request carries one header, checked as soon as the headers are in,
 * before a byte of the body is read or memory is reserved for it:
 *	X-Srdf-Auth: v2 keyid=<16 hex> ts=<unix seconds> nonce=<32 hex>
 *	             len=<decimal> sum=<64 hex> sig=<64 hex>
 * (one line) where len and sum are the body's length and SHA-256 and
 * sig = HMAC-SHA-256(subkey, "srdf-v2\n" METHOD "\n" PATH "\n" ts "\n"
 *                    nonce "\n" len "\n" sum)
 * PATH is the request target exactly as sent: srdf's server refuses a
 * target with a query string or a %-escape, so what was signed is what
 * is routed.  When the body has arrived its length and SHA-256 must be
 * the signed ones.
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
 * The server answers every request whose header verified with a signed
 * answer, bound to that request's nonce, the HTTP status and the whole
 * answer body:
 *	X-Srdf-Answer: v2 keyid=<16 hex> sig=<64 hex>
 *	sig = HMAC-SHA-256(subkey 4, "srdf-v2-answer\n" nonce "\n" status
 *	                   "\n" hex(SHA-256(answer body)))
 * and the client believes no answer without it (HAUTH_EANSWER): a
 * host that does not hold the key can neither acknowledge a wagon nor
 * refuse one, even over plain http.  Refusals made before the request
 * was authenticated (malformed target, missing or bad signature) are
 * not signed: nobody who lacks the key can be given a signature.
 *
 * Calling sequence (requests):
 *	hauth_sign(key, HAUTH_TO_RECV, "POST", "/v1/wagons", body, len,
 *	    time(NULL), hdr)     -> hdr is the header VALUE
 *	hauth_verify_head(key, to, cache, method, path, value, now, &h, err)
 *	    -> 0 with h.len, h.sum, h.nonce; or HAUTH_E* with a reason
 *	... read h.len bytes of body ...
 *	hauth_verify_body(&h, sha256(body), len, err)  -> 0 or HAUTH_EBODY
 *	(hauth_verify does the three steps on a body in memory)
 * Answers:
 *	hauth_sign_answer(h.key, h.nonce, status, body, len, value)
 *	hauth_verify_answer(key, nonce, status, body, len, value, err)
 */
#ifndef SRDF_HAUTH_H
#define SRDF_HAUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "wagon.h"

#define HAUTH_HEADER "X-Srdf-Auth"
#define HAUTH_ANSWER_HEADER "X-Srdf-Answer"
#define HAUTH_SKEW 300
#define HAUTH_VALUE_LEN 256
#define HAUTH_SUM_LEN 32   /* SHA-256 */
#define HAUTH_NONCE_HEX 33 /* 32 hex digits and a NUL */

/* Whom a request is for: picks its subkey (key_subkey). */
enum {
	HAUTH_TO_RECV = KEY_SUB_RECV,
	HAUTH_TO_ACKD = KEY_SUB_ACKD,
};

enum {
	HAUTH_OK = 0,
	HAUTH_EMISSING = 1, /* no header */
	HAUTH_EFORMAT,      /* malformed header */
	HAUTH_EKEY,         /* unknown key id */
	HAUTH_ESKEW,        /* timestamp outside the window */
	HAUTH_ESIG,         /* signature mismatch */
	HAUTH_EREPLAY,      /* nonce already seen */
	HAUTH_EBUSY,        /* not now (retry): the replay cache is full,
			       or signed before the verifier started */
	HAUTH_EBODY,        /* the body is not the one signed */
	HAUTH_EANSWER,      /* an answer without a good signature */
};

struct hauth_cache; /* accepted nonces, expiring after 2 × HAUTH_SKEW */

struct hauth_cache *hauth_cache_new(void);
void hauth_cache_free(struct hauth_cache *c);

/* What a verified request header promised about its body. */
struct hauth_head {
	const struct srdf_key *key; /* the ring's key it was signed with:
				       the answer is signed with it too */
	uint64_t len;
	uint8_t sum[HAUTH_SUM_LEN];
	char nonce[HAUTH_NONCE_HEX];
};

/* Signs a request for service to (HAUTH_TO_*) at time now: value gets
 * the header value (NUL-terminated, < HAUTH_VALUE_LEN).  Never fails
 * (aborts if libsodium cannot start: there is no randomness). */
void hauth_sign(const struct srdf_key *key, int to, const char *method,
    const char *path, const void *body, size_t len, time_t now,
    char value[HAUTH_VALUE_LEN]);

/* Verifies a request header value (NULL: none came) for method and
 * path against key and subkey to, the clock now and, when cache is not
 * NULL, the replay cache, and fills *h.  Returns HAUTH_OK or one of
 * HAUTH_EMISSING .. HAUTH_EBUSY, with a reason in err; *h is filled on
 * HAUTH_OK and on HAUTH_EREPLAY and HAUTH_EBUSY, which come after the
 * signature checked out (the answer can be signed).  A nonce is
 * remembered only when everything else passed. */
int hauth_verify_head(const struct srdf_key *key, int to,
    struct hauth_cache *cache, const char *method, const char *path,
    const char *value, time_t now, struct hauth_head *h, char *err,
    size_t errlen);

/* HAUTH_OK when the body that arrived (len bytes, SHA-256 sum) is the
 * one h promised, else HAUTH_EBODY with a reason in err. */
int hauth_verify_body(const struct hauth_head *h,
    const uint8_t sum[HAUTH_SUM_LEN], size_t len, char *err, size_t errlen);

/* hauth_verify_head, then hauth_verify_body on body (len bytes). */
int hauth_verify(const struct srdf_key *key, int to, struct hauth_cache *cache,
    const char *method, const char *path, const void *body, size_t len,
    const char *value, time_t now, char *err, size_t errlen);

/* The nonce of a request header value this module made (any value that
 * parses), into nonce; 0, or -1 when value is not one. */
int hauth_nonce(const char *value, char nonce[HAUTH_NONCE_HEX]);

/* The key id a request or answer header value names (the "v2 keyid="
 * that starts both), into kid: 0, or -1 when value has none.  For
 * keyring_find (keyring.h) after HAUTH_EKEY or HAUTH_EANSWER. */
int hauth_key_id(const char *value, uint8_t kid[8]);

/* Signs an answer (HTTP status, body of len bytes) to the request
 * whose nonce is given: value gets the X-Srdf-Answer header value. */
void hauth_sign_answer(const struct srdf_key *key, const char *nonce,
    long status, const void *body, size_t len, char value[HAUTH_VALUE_LEN]);

/* HAUTH_OK when value (NULL: no header) signs this status and body as
 * the answer to the request with this nonce under key, else
 * HAUTH_EANSWER with a reason in err. */
int hauth_verify_answer(const struct srdf_key *key, const char *nonce,
    long status, const void *body, size_t len, const char *value, char *err,
    size_t errlen);

#endif
