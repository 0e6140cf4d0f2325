/*
 * unit-transport.c — unit tests of lib/hauth.c and lib/ack.c; run by
 * t/4001-lib-hauth-ack.t.  Prints TAP.
 *
 * Time is passed in, so expiry and skew are tested without sleeping:
 * every "now" below is later than the second the caches were made.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ack.h"
#include "hauth.h"
#include "log.h"
#include "wagon.h"

#define R HAUTH_TO_RECV

static int ntests, nfailed;

static void __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	ntests++;
	if (!cond)
		nfailed++;
	printf("%sok %d - ", cond ? "" : "not ", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int
verify(const struct srdf_key *k, struct hauth_cache *c, const char *m,
    const char *p, const char *body, const char *v, time_t now, char *err)
{
	return hauth_verify(
	    k, R, c, m, p, body, strlen(body), v, now, err, 256);
}

static void
test_hauth(void)
{
	struct srdf_key *k = key_new(), *k2 = key_new();
	struct hauth_cache *c = hauth_cache_new();
	char v[HAUTH_VALUE_LEN], v2[HAUTH_VALUE_LEN], err[256], bad[300];
	time_t now = time(NULL) + 10;
	int rc, i, n;

	ok(c != NULL && k != NULL && k2 != NULL, "hauth_cache_new, key_new");
	hauth_sign(k, R, "POST", "/v1/wagons", "body", 4, now, v);
	ok(strncmp(v, "v2 keyid=", 9) == 0 && strlen(v) < HAUTH_VALUE_LEN,
	    "header value: %s", v);
	ok(verify(k, c, "POST", "/v1/wagons", "body", v, now, err) == 0,
	    "a signed request verifies");
	rc = verify(k, c, "POST", "/v1/wagons", "body", v, now, err);
	ok(rc == HAUTH_EREPLAY, "the same request again is a replay: %s", err);
	hauth_sign(k, R, "POST", "/v1/wagons", "body", 4, now, v);
	ok(verify(k, c, "POST", "/v1/wagons", "bodY", v, now, err) ==
	        HAUTH_EBODY,
	    "another body: %s", err);
	hauth_sign(k, R, "POST", "/v1/wagons", "body", 4, now, v);
	ok(verify(k, c, "POST", "/v1/wagons", "body!", v, now, err) ==
	        HAUTH_EBODY,
	    "a longer body: %s", err);
	hauth_sign(k, R, "POST", "/v1/wagons", "body", 4, now, v);
	{
		char *l = strstr(v, " len=4 ");

		l[5] = '5';
		ok(verify(k, c, "POST", "/v1/wagons", "body", v, now, err) ==
		        HAUTH_ESIG,
		    "the signed length altered: %s", err);
		l[5] = '4';
	}
	ok(hauth_verify(k, HAUTH_TO_ACKD, c, "POST", "/v1/wagons", "body", 4, v,
	       now, err, sizeof err) == HAUTH_ESIG,
	    "a request for srdf-recv is no request for srdf-ackd: %s", err);
	ok(verify(k, c, "POST", "/v1/acks", "body", v, now, err) == HAUTH_ESIG,
	    "another path: signature mismatch");
	ok(verify(k, c, "GET", "/v1/wagons", "body", v, now, err) == HAUTH_ESIG,
	    "another method: signature mismatch");
	ok(verify(k, c, "POST", "/v1/wagons", "body", v, now, err) == 0,
	    "failed checks do not use the nonce up");
	hauth_sign(k2, R, "POST", "/v1/wagons", "body", 4, now, v2);
	ok(verify(k, c, "POST", "/v1/wagons", "body", v2, now, err) ==
	        HAUTH_EKEY,
	    "another key: unknown key id: %s", err);
	memcpy(v2 + 9, v + 9, 16); /* our key id, their signature */
	ok(verify(k, c, "POST", "/v1/wagons", "body", v2, now, err) ==
	        HAUTH_ESIG,
	    "another key under our key id: signature mismatch");
	ok(verify(k, c, "POST", "/v1/wagons", "body", NULL, now, err) ==
	        HAUTH_EMISSING,
	    "no header: %s", err);
	hauth_sign(
	    k, R, "POST", "/v1/wagons", "body", 4, now - HAUTH_SKEW - 1, v);
	ok(verify(k, c, "POST", "/v1/wagons", "body", v, now, err) ==
	        HAUTH_ESKEW,
	    "timestamp too old: %s", err);
	hauth_sign(
	    k, R, "POST", "/v1/wagons", "body", 4, now + HAUTH_SKEW + 1, v);
	ok(verify(k, c, "POST", "/v1/wagons", "body", v, now, err) ==
	        HAUTH_ESKEW,
	    "timestamp too new: %s", err);
	hauth_sign(k, R, "POST", "/v1/wagons", "body", 4, now + HAUTH_SKEW, v);
	ok(verify(k, c, "POST", "/v1/wagons", "body", v, now, err) == 0,
	    "timestamp at the edge of the window is taken");
	hauth_sign(k, R, "POST", "/v1/wagons", "body", 4, time(NULL) - 1, v);
	ok(verify(k, c, "POST", "/v1/wagons", "body", v, time(NULL), err) ==
	        HAUTH_EBUSY,
	    "signed before the verifier started: %s", err);
	ok(verify(k, NULL, "POST", "/v1/wagons", "body", v, time(NULL), err) ==
	        0,
	    "without a cache there is no replay check");

	/* Malformed values, each a single change to a good one. */
	hauth_sign(k, R, "GET", "/v1/health", "", 0, now, v);
	{
		static const char *const edits[] = {
		    "v1 ",
		    "upper",
		    "space2",
		    "short",
		    "long",
		    "ts0",
		    "tssign",
		    "trail",
		};
		for (i = 0; i < (int)(sizeof edits / sizeof edits[0]); i++) {
			snprintf(bad, sizeof bad, "%s", v);
			if (i == 0)
				bad[1] = '1';
			else if (i == 1)
				bad[strlen(bad) - 1] = 'A';
			else if (i == 2) {
				memmove(bad + 3, bad + 2, strlen(bad) - 1);
				bad[2] = ' ';
			} else if (i == 3)
				bad[strlen(bad) - 1] = '\0';
			else if (i == 4)
				strcat(bad, "0");
			else if (i == 5) {
				char *t = strstr(bad, "ts=") + 3;
				memmove(t + 1, t, strlen(t) + 1);
				*t = '0';
			} else if (i == 6) {
				char *t = strstr(bad, "ts=") + 3;
				memmove(t + 1, t, strlen(t) + 1);
				*t = '+';
			} else
				strcat(bad, " x=1");
			ok(verify(k, c, "GET", "/v1/health", "", bad, now,
			       err) == HAUTH_EFORMAT,
			    "malformed (%s): %s", edits[i], err);
		}
	}
	ok(verify(k, c, "GET", "/v1/health", "", "", now, err) == HAUTH_EFORMAT,
	    "empty value");

	/* Expiry: a nonce is forgotten after 2 x HAUTH_SKEW, when its
	 * timestamp can no longer pass. */
	hauth_sign(k, R, "GET", "/v1/health", "", 0, now, v);
	ok(verify(k, c, "GET", "/v1/health", "", v, now, err) == 0,
	    "fresh nonce");
	ok(verify(k, c, "GET", "/v1/health", "", v, now + HAUTH_SKEW, err) ==
	        HAUTH_EREPLAY,
	    "still a replay HAUTH_SKEW later");
	ok(verify(k, c, "GET", "/v1/health", "", v, now + HAUTH_SKEW + 1,
	       err) == HAUTH_ESKEW,
	    "then refused by its timestamp");
	/* The last second its timestamp passes: signed HAUTH_SKEW ahead,
	 * replayed 2 x HAUTH_SKEW after it was first taken. */
	hauth_sign(k, R, "GET", "/v1/health", "", 0, now + HAUTH_SKEW, v);
	ok(verify(k, c, "GET", "/v1/health", "", v, now, err) == 0,
	    "signed HAUTH_SKEW ahead: taken");
	ok(verify(k, c, "GET", "/v1/health", "", v, now + 2 * HAUTH_SKEW,
	       err) == HAUTH_EREPLAY,
	    "a replay 2 x HAUTH_SKEW later, when its "
	    "timestamp is HAUTH_SKEW behind: %s",
	    err);
	hauth_cache_free(c);

	/* Capacity: 2^20 nonces in one window, then HAUTH_EBUSY; space
	 * comes back as they expire. */
	c = hauth_cache_new();
	for (n = 0, rc = 0; rc == 0 && n < (1 << 20) + 1; n++) {
		hauth_sign(k, R, "GET", "/v1/health", "", 0, now, v);
		rc = verify(k, c, "GET", "/v1/health", "", v, now, err);
	}
	ok(rc == HAUTH_EBUSY && n == (1 << 20) + 1, "full after %d nonces: %s",
	    n - 1, err);
	hauth_sign(
	    k, R, "GET", "/v1/health", "", 0, now + 2 * HAUTH_SKEW + 1, v);
	ok(verify(k, c, "GET", "/v1/health", "", v, now + 2 * HAUTH_SKEW + 1,
	       err) == 0,
	    "room again once the window has passed");
	hauth_cache_free(c);
	key_free(k);
	key_free(k2);
}

static void
test_answers(void)
{
	struct srdf_key *k = key_new(), *k2 = key_new();
	char v[HAUTH_VALUE_LEN], a[HAUTH_VALUE_LEN], n[HAUTH_NONCE_HEX],
	    n2[HAUTH_NONCE_HEX], err[256];
	const char *body = "{\"status\":\"accepted\"}\n";
	size_t len = strlen(body);

	hauth_sign(k, R, "POST", "/v1/wagons", "w", 1, time(NULL), v);
	ok(hauth_nonce(v, n) == 0 && strlen(n) == 32 && strstr(v, n) != NULL,
	    "hauth_nonce: %s", n);
	ok(hauth_nonce("v1 keyid=0", n2) == -1, "hauth_nonce of a bad value");
	hauth_sign(k, R, "POST", "/v1/wagons", "w", 1, time(NULL), v);
	hauth_nonce(v, n2);
	hauth_sign_answer(k, n, 201, body, len, a);
	ok(strncmp(a, "v2 keyid=", 9) == 0, "answer value: %s", a);
	ok(hauth_verify_answer(k, n, 201, body, len, a, err, sizeof err) == 0,
	    "a signed answer verifies");
	ok(hauth_verify_answer(k, n, 409, body, len, a, err, sizeof err) ==
	        HAUTH_EANSWER,
	    "another status: %s", err);
	ok(hauth_verify_answer(k, n, 201, body, len - 1, a, err, sizeof err) ==
	        HAUTH_EANSWER,
	    "another body: %s", err);
	ok(hauth_verify_answer(k, n2, 201, body, len, a, err, sizeof err) ==
	        HAUTH_EANSWER,
	    "the answer to another request: %s", err);
	ok(hauth_verify_answer(k2, n, 201, body, len, a, err, sizeof err) ==
	        HAUTH_EANSWER,
	    "another key: %s", err);
	ok(hauth_verify_answer(k, n, 201, body, len, NULL, err, sizeof err) ==
	        HAUTH_EANSWER,
	    "no signature: %s", err);
	a[strlen(a) - 1] ^= 1;
	ok(hauth_verify_answer(k, n, 201, body, len, a, err, sizeof err) ==
	        HAUTH_EANSWER,
	    "a damaged signature: %s", err);
	key_free(k);
	key_free(k2);
}

static void
test_ack(void)
{
	struct ack a = {0}, b;
	char err[256], *s;
	static const struct {
		const char *json, *why;
	} bad[] = {
	    {"[]", "not an object"},
	    {"{\"v\":1}", "missing keys"},
	    {"{\"v\":2,\"source_id\":\"00112233445566778899aabbccddeeff\","
	     "\"seq\":1,\"status\":\"applied\",\"last_gtid\":null,\"time\":1,"
	     "\"error\":null}",
	        "version 2"},
	    {"{\"v\":1,\"source_id\":\"00112233445566778899AABBCCDDEEFF\","
	     "\"seq\":1,\"status\":\"applied\",\"last_gtid\":null,\"time\":1,"
	     "\"error\":null}",
	        "uppercase source id"},
	    {"{\"v\":1,\"source_id\":\"00112233445566778899aabbccddeeff\","
	     "\"seq\":0,\"status\":\"applied\",\"last_gtid\":null,\"time\":1,"
	     "\"error\":null}",
	        "sequence 0"},
	    {"{\"v\":1,\"source_id\":\"00112233445566778899aabbccddeeff\","
	     "\"seq\":\"1\",\"status\":\"applied\",\"last_gtid\":null,"
	     "\"time\":1,\"error\":null}",
	        "sequence as a string"},
	    {"{\"v\":1,\"source_id\":\"00112233445566778899aabbccddeeff\","
	     "\"seq\":1,\"status\":\"done\",\"last_gtid\":null,\"time\":1,"
	     "\"error\":null}",
	        "unknown status"},
	    {"{\"v\":1,\"source_id\":\"00112233445566778899aabbccddeeff\","
	     "\"seq\":1,\"status\":\"failed\",\"last_gtid\":null,\"time\":1,"
	     "\"error\":null}",
	        "failed without error"},
	    {"{\"v\":1,\"source_id\":\"00112233445566778899aabbccddeeff\","
	     "\"seq\":1,\"status\":\"applied\",\"last_gtid\":null,\"time\":1,"
	     "\"error\":\"x\"}",
	        "applied with error"},
	    {"{\"v\":1,\"source_id\":\"00112233445566778899aabbccddeeff\","
	     "\"seq\":1,\"status\":\"applied\",\"last_gtid\":\"0-1-x\","
	     "\"time\":1,\"error\":null}",
	        "bad GTID"},
	    {"{\"v\":1,\"source_id\":\"00112233445566778899aabbccddeeff\","
	     "\"seq\":1,\"status\":\"applied\",\"last_gtid\":null,\"time\":-1,"
	     "\"error\":null}",
	        "negative time"},
	    {"{\"v\":1,\"source_id\":\"00112233445566778899aabbccddeeff\","
	     "\"seq\":1,\"status\":\"applied\",\"last_gtid\":null,\"time\":1,"
	     "\"error\":null,\"x\":1}",
	        "unknown key"},
	    {"{\"v\":1,\"v\":1,\"source_id\":\"00112233445566778899aabbccddeef"
	     "f\",\"seq\":1,\"status\":\"applied\",\"last_gtid\":null,"
	     "\"time\":1,\"error\":null}",
	        "duplicate key"},
	    {"{\"v\":1,\"source_id\":\"00112233445566778899aabbccddeeff\","
	     "\"seq\":1,\"status\":\"applied\",\"last_gtid\":null,\"time\":1,"
	     "\"error\":null",
	        "truncated"},
	};
	size_t i;

	memcpy(a.source_id, "00112233445566778899aabbccddeeff", 33);
	a.seq = 42;
	a.applied = 1;
	a.last_gtid = "0-1-900";
	a.time = 1732200000.123;
	s = ack_encode(&a);
	ok(s != NULL &&
	        strcmp(s,
	            "{\"v\":1,\"source_id\":"
	            "\"00112233445566778899aabbccddeeff\",\"seq\":42,\"status\":"
	            "\"applied\",\"last_gtid\":\"0-1-900\",\"time\":1732200000.123,"
	            "\"error\":null}") == 0,
	    "ack_encode applied: %s", s);
	ok(ack_decode(s, strlen(s), &b, err, sizeof err) == 0 && b.seq == 42 &&
	        b.applied && strcmp(b.last_gtid, "0-1-900") == 0 &&
	        b.error == NULL && b.time > 1732200000.12 &&
	        strcmp(b.source_id, a.source_id) == 0,
	    "round trip");
	ack_free(&b);
	free(s);
	a.applied = 0;
	a.last_gtid = NULL;
	a.error = "Table 'shop.t' doesn't exist \xc3\xa9";
	s = ack_encode(&a);
	ok(ack_decode(s, strlen(s), &b, err, sizeof err) == 0 && !b.applied &&
	        b.last_gtid == NULL && strcmp(b.error, a.error) == 0,
	    "failed round trip: %s", s);
	ack_free(&b);
	free(s);
	a.error = "bad \xff byte";
	s = ack_encode(&a);
	ok(s != NULL && strstr(s, "bad ? byte") != NULL,
	    "non-UTF-8 error text is made ASCII: %s", s);
	free(s);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = ack_decode(
		    bad[i].json, strlen(bad[i].json), &b, err, sizeof err);
		ok(rc == -1 && b.last_gtid == NULL && b.error == NULL,
		    "refused, %s: %s", bad[i].why, err);
	}
}

int
main(int argc, char **argv)
{
	log_init(argv[0]);
	if (sodium_init() < 0)
		return 1;
	test_hauth();
	test_answers();
	test_ack();
	printf("1..%d\n", ntests);
	return nfailed != 0;
}
