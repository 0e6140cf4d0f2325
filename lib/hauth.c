/*
 * hauth.c — HMAC-SHA-256 request authentication and the replay cache;
 * see hauth.h.
 *
 * The replay cache remembers every nonce it accepted for 2 × HAUTH_SKEW
 * seconds after accepting it.  That is enough: a request is only
 * accepted while its timestamp is within HAUTH_SKEW of the verifier's
 * clock, so a nonce accepted at time T carries a timestamp of at most
 * T + HAUTH_SKEW, and a copy of it presented after T + 2 × HAUTH_SKEW
 * fails the timestamp check before the cache is asked.
 *
 * Memory is bounded: the cache holds at most HAUTH_CACHE_MAX nonces (24
 * bytes each, plus 8 bytes of index).  Nonces are kept in a ring in the
 * order they were accepted — which is also the order in which they
 * expire — with an open-addressing index (linear probing, SipHash with a
 * random key, so nobody can aim requests at one bucket).  When the ring
 * is full of unexpired nonces the verifier answers HAUTH_EBUSY: refusing
 * is safe, forgetting a nonce early would open a replay window.
 *
 * Only requests whose signature checks out reach the cache, so an
 * attacker without the key cannot fill it.
 *
 * The cache lives in memory, so a restarted verifier has forgotten what
 * its predecessor accepted.  It therefore refuses every request signed
 * in or before the second it was made: signers sign just before sending,
 * and a refused sender signs again, so only a copy of an old request is
 * lost.  The refusal is HAUTH_EBUSY ("not now"), not a replay: the
 * sender did nothing wrong and will be taken a moment later.  (A signer
 * whose clock runs ahead of ours can still have a request replayed
 * across a restart; every srdf request is idempotent, so that costs a
 * duplicate answer, never a change.)
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hauth.h"

#define NONCE_LEN 16
#define SIG_LEN crypto_auth_hmacsha256_BYTES
_Static_assert(HAUTH_SUM_LEN == crypto_hash_sha256_BYTES, "body digest");

/* Invariant: HAUTH_CACHE_MAX / (2 × HAUTH_SKEW) is the sustained request
 * rate the cache allows: 1 Mi / 600 s ≈ 1700 requests/s, well above
 * what one source sends (a wagon is 64 KiB to a few MiB). */
#define HAUTH_CACHE_MAX ((size_t)1 << 20)
#define HAUTH_CACHE_MIN ((size_t)1 << 10)

struct nent {
	uint8_t nonce[NONCE_LEN];
	int64_t expires;
};

struct hauth_cache {
	pthread_mutex_t mu;
	int64_t not_before; /* the second the cache was made */
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	struct nent *ring; /* cap entries; n live ones from head on */
	size_t cap, head, n;
	uint32_t *slot; /* 2 × cap slots: ring position + 1, 0 when empty */
	size_t nslot;
};

/* ---- signing ----------------------------------------------------------- */

/* HMAC-SHA-256 under the subkey sub of key over the parts, each followed
 * by a newline but the last; NULL ends the list. */
static void
mac(const struct srdf_key *key, int sub, uint8_t out[SIG_LEN], ...)
{
	crypto_auth_hmacsha256_state st;
	uint8_t k[32];
	const char *part, *next;
	va_list ap;

	key_subkey(key, sub, k);
	crypto_auth_hmacsha256_init(&st, k, sizeof k);
	sodium_memzero(k, sizeof k);
	va_start(ap, out);
	for (part = va_arg(ap, const char *); part != NULL; part = next) {
		next = va_arg(ap, const char *);
		crypto_auth_hmacsha256_update(
		    &st, (const uint8_t *)part, strlen(part));
		if (next != NULL)
			crypto_auth_hmacsha256_update(
			    &st, (const uint8_t *)"\n", 1);
	}
	va_end(ap);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

static void
request_mac(const struct srdf_key *key, int to, const char *method,
    const char *path, const char *ts, const char *nonce, const char *len,
    const char *sum, uint8_t out[SIG_LEN])
{
	mac(key, to, out, "srdf-v2", method, path, ts, nonce, len, sum,
	    (const char *)NULL);
}

void
hauth_sign(const struct srdf_key *key, int to, const char *method,
    const char *path, const void *body, size_t len, time_t now,
    char value[HAUTH_VALUE_LEN])
{
	uint8_t nonce[NONCE_LEN], sig[SIG_LEN], sum[HAUTH_SUM_LEN];
	char kid[17], nhex[HAUTH_NONCE_HEX], shex[2 * SIG_LEN + 1], ts[21];
	char lbuf[21], sumhex[2 * HAUTH_SUM_LEN + 1];

	if (sodium_init() < 0)
		abort(); /* no randomness: nothing safe to do */
	randombytes_buf(nonce, sizeof nonce);
	sodium_bin2hex(kid, sizeof kid, key->id, sizeof key->id);
	sodium_bin2hex(nhex, sizeof nhex, nonce, sizeof nonce);
	snprintf(ts, sizeof ts, "%lld", (long long)now);
	snprintf(lbuf, sizeof lbuf, "%zu", len);
	crypto_hash_sha256(sum, body, len);
	sodium_bin2hex(sumhex, sizeof sumhex, sum, sizeof sum);
	request_mac(key, to, method, path, ts, nhex, lbuf, sumhex, sig);
	sodium_bin2hex(shex, sizeof shex, sig, sizeof sig);
	snprintf(value, HAUTH_VALUE_LEN,
	    "v2 keyid=%s ts=%s nonce=%s len=%s "
	    "sum=%s sig=%s",
	    kid, ts, nhex, lbuf, sumhex, shex);
}

static void
answer_mac(const struct srdf_key *key, const char *nonce, long status,
    const void *body, size_t len, uint8_t out[SIG_LEN])
{
	uint8_t sum[HAUTH_SUM_LEN];
	char st[24], hex[2 * HAUTH_SUM_LEN + 1];

	crypto_hash_sha256(sum, body, len);
	sodium_bin2hex(hex, sizeof hex, sum, sizeof sum);
	snprintf(st, sizeof st, "%ld", status);
	mac(key, KEY_SUB_ANSWER, out, "srdf-v2-answer", nonce, st, hex,
	    (const char *)NULL);
}

void
hauth_sign_answer(const struct srdf_key *key, const char *nonce, long status,
    const void *body, size_t len, char value[HAUTH_VALUE_LEN])
{
	uint8_t sig[SIG_LEN];
	char kid[17], shex[2 * SIG_LEN + 1];

	answer_mac(key, nonce, status, body, len, sig);
	sodium_bin2hex(kid, sizeof kid, key->id, sizeof key->id);
	sodium_bin2hex(shex, sizeof shex, sig, sizeof sig);
	snprintf(value, HAUTH_VALUE_LEN, "v2 keyid=%s sig=%s", kid, shex);
}

/* ---- parsing ------------------------------------------------------------ */

/* Matches "NAME=" then exactly n lowercase hex digits at *s, copying them
 * to out (NUL-terminated); advances *s.  Returns 0 or -1. */
static int
hex_token(const char **s, const char *name, size_t n, char *out)
{
	size_t nl = strlen(name), i;
	const char *p = *s;

	if (strncmp(p, name, nl) != 0 || p[nl] != '=')
		return -1;
	p += nl + 1;
	for (i = 0; i < n; i++) {
		if (!((p[i] >= '0' && p[i] <= '9') ||
		        (p[i] >= 'a' && p[i] <= 'f')))
			return -1;
		out[i] = p[i];
	}
	out[n] = '\0';
	*s = p + n;
	return 0;
}

/* Matches "NAME=" then a decimal without sign or leading zero of at
 * most 18 digits at *s, copying it to out (21 bytes); advances *s. */
static int
dec_token(const char **s, const char *name, char *out, long long *v)
{
	size_t nl = strlen(name), i;
	const char *p = *s;

	if (strncmp(p, name, nl) != 0 || p[nl] != '=')
		return -1;
	p += nl + 1;
	for (i = 0; p[i] >= '0' && p[i] <= '9'; i++)
		if (i == 18)
			return -1;
	if (i == 0 || (i > 1 && p[0] == '0'))
		return -1;
	memcpy(out, p, i);
	out[i] = '\0';
	*v = strtoll(out, NULL, 10);
	*s = p + i;
	return 0;
}

struct parsed {
	char kid[17];
	char ts[21];
	long long tsv;
	char nonce[HAUTH_NONCE_HEX];
	char len[21];
	long long lenv;
	char sum[2 * HAUTH_SUM_LEN + 1];
	char sig[2 * SIG_LEN + 1];
};

/* A request's header value, strictly: one space between fields, fields
 * in their order, lowercase hex, decimals without sign or leading zero,
 * nothing after the signature. */
static int
parse(const char *v, struct parsed *p)
{
	if (strlen(v) >= HAUTH_VALUE_LEN || strncmp(v, "v2 ", 3) != 0)
		return -1;
	v += 3;
	if (hex_token(&v, "keyid", 16, p->kid) != 0 || *v++ != ' ' ||
	    dec_token(&v, "ts", p->ts, &p->tsv) != 0 || *v++ != ' ' ||
	    hex_token(&v, "nonce", 2 * NONCE_LEN, p->nonce) != 0 ||
	    *v++ != ' ' || dec_token(&v, "len", p->len, &p->lenv) != 0 ||
	    *v++ != ' ' ||
	    hex_token(&v, "sum", 2 * HAUTH_SUM_LEN, p->sum) != 0 ||
	    *v++ != ' ' || hex_token(&v, "sig", 2 * SIG_LEN, p->sig) != 0 ||
	    *v != '\0')
		return -1;
	return 0;
}

int
hauth_nonce(const char *value, char nonce[HAUTH_NONCE_HEX])
{
	struct parsed p;

	if (value == NULL || parse(value, &p) != 0)
		return -1;
	memcpy(nonce, p.nonce, HAUTH_NONCE_HEX);
	return 0;
}

int
hauth_key_id(const char *value, uint8_t kid[8])
{
	const char *v = value;
	char hex[17];

	if (value == NULL || strncmp(v, "v2 ", 3) != 0)
		return -1;
	v += 3;
	if (hex_token(&v, "keyid", 16, hex) != 0 || (*v != ' ' && *v != '\0'))
		return -1;
	return sodium_hex2bin(kid, 8, hex, 16, NULL, NULL, NULL);
}

/* ---- the replay cache -------------------------------------------------- */

struct hauth_cache *
hauth_cache_new(void)
{
	struct hauth_cache *c;

	if (sodium_init() < 0 || (c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->cap = HAUTH_CACHE_MIN;
	c->nslot = 2 * c->cap;
	c->ring = calloc(c->cap, sizeof *c->ring);
	c->slot = calloc(c->nslot, sizeof *c->slot);
	if (c->ring == NULL || c->slot == NULL ||
	    pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c->ring);
		free(c->slot);
		free(c);
		return NULL;
	}
	crypto_shorthash_keygen(c->hkey);
	c->not_before = (int64_t)time(NULL);
	return c;
}

void
hauth_cache_free(struct hauth_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c->ring);
	free(c->slot);
	free(c);
}

static size_t
bucket(const struct hauth_cache *c, const uint8_t *nonce)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, nonce, NONCE_LEN, c->hkey);
	memcpy(&v, h, sizeof v);
	return (size_t)v & (c->nslot - 1);
}

/* Slot holding nonce, or the empty slot where it would go. */
static size_t
find(const struct hauth_cache *c, const uint8_t *nonce)
{
	size_t i = bucket(c, nonce);

	while (c->slot[i] != 0 &&
	       memcmp(c->ring[c->slot[i] - 1].nonce, nonce, NONCE_LEN) != 0)
		i = (i + 1) & (c->nslot - 1);
	return i;
}

/* Backward-shift deletion of slot i (linear probing without tombstones). */
static void
unslot(struct hauth_cache *c, size_t i)
{
	size_t j = i, k, mask = c->nslot - 1;

	for (;;) {
		c->slot[i] = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (c->slot[j] == 0)
				return;
			k = bucket(c, c->ring[c->slot[j] - 1].nonce);
			/* Move j back to i unless its home k lies in (i, j]. */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		c->slot[i] = c->slot[j];
		i = j;
	}
}

static void
expire(struct hauth_cache *c, int64_t now)
{
	while (c->n > 0 && c->ring[c->head].expires <= now) {
		unslot(c, find(c, c->ring[c->head].nonce));
		c->head = (c->head + 1) % c->cap;
		c->n--;
	}
}

/* Doubles the ring (and the index); -1 at HAUTH_CACHE_MAX or on ENOMEM. */
static int
grow(struct hauth_cache *c)
{
	size_t cap = 2 * c->cap, i;
	struct nent *ring;
	uint32_t *slot;

	if (cap > HAUTH_CACHE_MAX)
		return -1;
	if ((ring = calloc(cap, sizeof *ring)) == NULL)
		return -1;
	if ((slot = calloc(2 * cap, sizeof *slot)) == NULL) {
		free(ring);
		return -1;
	}
	for (i = 0; i < c->n; i++)
		ring[i] = c->ring[(c->head + i) % c->cap];
	free(c->ring);
	free(c->slot);
	c->ring = ring;
	c->slot = slot;
	c->cap = cap;
	c->nslot = 2 * cap;
	c->head = 0;
	for (i = 0; i < c->n; i++)
		c->slot[find(c, c->ring[i].nonce)] = (uint32_t)(i + 1);
	return 0;
}

/* HAUTH_OK after remembering nonce, HAUTH_EREPLAY or HAUTH_EBUSY. */
static int
remember(struct hauth_cache *c, const uint8_t *nonce, int64_t now)
{
	size_t i, pos;
	int rc = HAUTH_OK;

	pthread_mutex_lock(&c->mu);
	expire(c, now);
	i = find(c, nonce);
	if (c->slot[i] != 0) {
		rc = HAUTH_EREPLAY;
		goto out;
	}
	if (c->n == c->cap) {
		if (grow(c) != 0) {
			rc = HAUTH_EBUSY;
			goto out;
		}
		i = find(c, nonce);
	}
	pos = (c->head + c->n) % c->cap;
	memcpy(c->ring[pos].nonce, nonce, NONCE_LEN);
	/* Its timestamp is at most HAUTH_SKEW ahead of now, and passes
	 * until HAUTH_SKEW behind: up to now + 2 x HAUTH_SKEW inclusive. */
	c->ring[pos].expires = now + 2 * HAUTH_SKEW + 1;
	c->slot[i] = (uint32_t)(pos + 1);
	c->n++;
out:
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* ---- verifying ------------------------------------------------------------ */

int
hauth_verify_head(const struct srdf_key *key, int to, struct hauth_cache *cache,
    const char *method, const char *path, const char *value, time_t now,
    struct hauth_head *h, char *err, size_t errlen)
{
	uint8_t sig[SIG_LEN], want[SIG_LEN], nonce[NONCE_LEN], kid[8];
	struct parsed p;
	long long skew;
	int rc;

	if (value == NULL) {
		snprintf(err, errlen, "no %s header", HAUTH_HEADER);
		return HAUTH_EMISSING;
	}
	if (parse(value, &p) != 0) {
		snprintf(err, errlen,
		    "malformed %s header (want \"v2 "
		    "keyid=HEX16 ts=SECONDS nonce=HEX32 len=BYTES sum=HEX64 "
		    "sig=HEX64\"%s)",
		    HAUTH_HEADER,
		    strncmp(value, "v1 ", 3) == 0
		        ? "; v1 is the signature of srdf 0.1: upgrade the "
		          "sender"
		        : "");
		return HAUTH_EFORMAT;
	}
	sodium_hex2bin(kid, sizeof kid, p.kid, 16, NULL, NULL, NULL);
	if ((key = key_find(key, kid)) == NULL) {
		snprintf(err, errlen,
		    "unknown key id %s (not in the key "
		    "file's ring)",
		    p.kid);
		return HAUTH_EKEY;
	}
	skew = p.tsv - (long long)now;
	if (skew > HAUTH_SKEW || skew < -HAUTH_SKEW) {
		snprintf(err, errlen,
		    "timestamp %lld is %lld s %s this "
		    "host's clock (at most %d s allowed)",
		    p.tsv, skew < 0 ? -skew : skew,
		    skew < 0 ? "behind" : "ahead of", HAUTH_SKEW);
		return HAUTH_ESKEW;
	}
	sodium_hex2bin(sig, sizeof sig, p.sig, 2 * SIG_LEN, NULL, NULL, NULL);
	request_mac(key, to, method, path, p.ts, p.nonce, p.len, p.sum, want);
	if (sodium_memcmp(sig, want, SIG_LEN) != 0) {
		snprintf(err, errlen,
		    "signature mismatch (wrong key, a "
		    "request meant for the other service, or the method, "
		    "path or body was altered)");
		return HAUTH_ESIG;
	}
	/* Authentic from here on: what it promised is known, even when the
	 * replay checks say "not now". */
	h->key = key;
	h->len = (uint64_t)p.lenv;
	sodium_hex2bin(
	    h->sum, sizeof h->sum, p.sum, 2 * HAUTH_SUM_LEN, NULL, NULL, NULL);
	memcpy(h->nonce, p.nonce, sizeof h->nonce);
	if (cache != NULL && p.tsv <= cache->not_before) {
		snprintf(err, errlen,
		    "signed at %lld, not after this "
		    "verifier started (%lld): it may be a replay of a request "
		    "its predecessor took; sign it again",
		    p.tsv, (long long)cache->not_before);
		return HAUTH_EBUSY;
	}
	if (cache != NULL) {
		sodium_hex2bin(nonce, sizeof nonce, p.nonce, 2 * NONCE_LEN,
		    NULL, NULL, NULL);
		rc = remember(cache, nonce, (int64_t)now);
		if (rc == HAUTH_EREPLAY)
			snprintf(err, errlen,
			    "replayed request (nonce %s "
			    "already seen)",
			    p.nonce);
		else if (rc == HAUTH_EBUSY)
			snprintf(err, errlen,
			    "too many requests in the replay "
			    "window (%zu nonces in %d s); try again later",
			    HAUTH_CACHE_MAX, 2 * HAUTH_SKEW);
		if (rc != HAUTH_OK)
			return rc;
	}
	return HAUTH_OK;
}

int
hauth_verify_body(const struct hauth_head *h, const uint8_t sum[HAUTH_SUM_LEN],
    size_t len, char *err, size_t errlen)
{
	if (h->len != (uint64_t)len) {
		snprintf(err, errlen, "body of %zu bytes, signed as %llu", len,
		    (unsigned long long)h->len);
		return HAUTH_EBODY;
	}
	if (sodium_memcmp(h->sum, sum, HAUTH_SUM_LEN) != 0) {
		snprintf(err, errlen,
		    "the body is not the one signed (its "
		    "SHA-256 differs): altered on the way");
		return HAUTH_EBODY;
	}
	return HAUTH_OK;
}

int
hauth_verify(const struct srdf_key *key, int to, struct hauth_cache *cache,
    const char *method, const char *path, const void *body, size_t len,
    const char *value, time_t now, char *err, size_t errlen)
{
	struct hauth_head h;
	uint8_t sum[HAUTH_SUM_LEN];
	int rc;

	rc = hauth_verify_head(
	    key, to, cache, method, path, value, now, &h, err, errlen);
	if (rc != HAUTH_OK)
		return rc;
	crypto_hash_sha256(sum, body, len);
	return hauth_verify_body(&h, sum, len, err, errlen);
}

int
hauth_verify_answer(const struct srdf_key *key, const char *nonce, long status,
    const void *body, size_t len, const char *value, char *err, size_t errlen)
{
	uint8_t sig[SIG_LEN], want[SIG_LEN], kid[8];
	char khex[17], shex[2 * SIG_LEN + 1];
	const char *v = value;

	if (v == NULL) {
		snprintf(err, errlen,
		    "no %s header: not an srdf server, or "
		    "one that did not authenticate the request",
		    HAUTH_ANSWER_HEADER);
		return HAUTH_EANSWER;
	}
	if (strncmp(v, "v2 ", 3) != 0 ||
	    (v += 3, hex_token(&v, "keyid", 16, khex) != 0) || *v++ != ' ' ||
	    hex_token(&v, "sig", 2 * SIG_LEN, shex) != 0 || *v != '\0') {
		snprintf(
		    err, errlen, "malformed %s header", HAUTH_ANSWER_HEADER);
		return HAUTH_EANSWER;
	}
	sodium_hex2bin(kid, sizeof kid, khex, 16, NULL, NULL, NULL);
	if ((key = key_find(key, kid)) == NULL) {
		snprintf(err, errlen,
		    "answer signed with key id %s, not "
		    "ours",
		    khex);
		return HAUTH_EANSWER;
	}
	sodium_hex2bin(sig, sizeof sig, shex, 2 * SIG_LEN, NULL, NULL, NULL);
	answer_mac(key, nonce, status, body, len, want);
	if (sodium_memcmp(sig, want, SIG_LEN) != 0) {
		snprintf(err, errlen,
		    "answer signature mismatch (a forged or "
		    "altered answer, or one to another request)");
		return HAUTH_EANSWER;
	}
	return HAUTH_OK;
}
