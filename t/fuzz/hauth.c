/*
 * hauth — libFuzzer harness of the request-signature parser: the
 * X-Srdf-Auth value that srdf-recv and srdf-ackd read from the network
 * (lib/hauth.h).  Only hauth.h's public calls, so that the harness
 * keeps building while the header's format grows versions.
 *
 * Input: the header value, a newline, then the request body (no
 * newline: all of it is the value, the body empty).  It is verified
 * with the test key (fuzz.h) for "POST /v1/wagons" to srdf-recv, with
 * no replay cache (a NULL cache skips the replay checks, hauth.h) and
 * the clock at the value's own "ts=" when it has one, so that a
 * well-formed value reaches the signature check.  The same value is
 * also read as an answer's X-Srdf-Answer.  Beyond not crashing: a value
 * the verifier accepts was signed with the test key, and for srdf-recv
 * only (not srdf-ackd, not another method); what hauth_sign and
 * hauth_sign_answer write for this body is accepted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "hauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct srdf_key *key = fuzz_key();
	const uint8_t *nl = memchr(data, '\n', size);
	size_t vlen = nl ? (size_t)(nl - data) : size;
	const uint8_t *body = nl ? nl + 1 : data + size;
	size_t blen = size - (size_t)(body - data);
	char *value = fuzz_cstr(data, vlen), *ts;
	char signed_value[HAUTH_VALUE_LEN], err[256], nonce[HAUTH_NONCE_HEX];
	time_t now = 1732200000;
	int rc;

	/* A clock as a verifier's can be: not negative, nor near the
	 * largest time_t (the skew is a difference). */
	if ((ts = strstr(value, "ts=")) != NULL &&
	    strtoll(ts + 3, NULL, 10) >= 0 &&
	    strtoll(ts + 3, NULL, 10) < 1000000000000000000LL)
		now = (time_t)strtoll(ts + 3, NULL, 10);
	err[0] = '\0';
	rc = hauth_verify(key, HAUTH_TO_RECV, NULL, "POST", "/v1/wagons", body,
	    blen, value, now, err, sizeof err);
	if (rc != HAUTH_OK && err[0] == '\0')
		abort(); /* refused without a reason */
	if (rc == HAUTH_OK && strstr(value, "keyid=cb2f5160fc1f7e05") == NULL)
		abort(); /* accepted a key id it does not hold */
	if (rc == HAUTH_OK &&
	    hauth_verify(key, HAUTH_TO_ACKD, NULL, "POST", "/v1/wagons", body,
	        blen, value, now, err, sizeof err) == HAUTH_OK)
		abort(); /* a request for srdf-recv is none for srdf-ackd */
	rc = hauth_verify(key, HAUTH_TO_RECV, NULL, "GET", "/v1/wagons", body,
	    blen, value, now, err, sizeof err);
	if (rc == HAUTH_OK)
		abort(); /* the method is signed */
	if (hauth_nonce(value, nonce) != 0)
		memcpy(nonce, "00000000000000000000000000000000", sizeof nonce);
	if (hauth_verify_answer(key, nonce, 201, body, blen, value, err,
	        sizeof err) == HAUTH_OK &&
	    strncmp(value,
	        "v2 keyid="
	        "cb2f5160fc1f7e05 sig=",
	        31) != 0)
		abort(); /* an answer it did not sign */

	hauth_sign(key, HAUTH_TO_RECV, "POST", "/v1/wagons", body, blen,
	    1732200000, signed_value);
	if (hauth_verify(key, HAUTH_TO_RECV, NULL, "POST", "/v1/wagons", body,
	        blen, signed_value, 1732200000, err, sizeof err) != HAUTH_OK)
		abort();
	hauth_nonce(signed_value, nonce);
	hauth_sign_answer(key, nonce, 409, body, blen, signed_value);
	if (hauth_verify_answer(key, nonce, 409, body, blen, signed_value, err,
	        sizeof err) != HAUTH_OK ||
	    hauth_verify_answer(key, nonce, 201, body, blen, signed_value, err,
	        sizeof err) == HAUTH_OK)
		abort();
	free(value);
	return 0;
}
