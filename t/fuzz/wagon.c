/*
 * wagon — libFuzzer harness of the wagon opener, lib/wagon.c: the file
 * srdf-recv takes from the network and srdf-apply and srdf-cat read
 * from disk (srdf-wagon(5)).
 *
 * Input: a wagon file.  It is opened three ways, each by wagon_peek,
 * wagon_peek_summed, wagon_open, wagon_open_tagged and, when the peek
 * passed, wagon_open_peeked, with the test key (fuzz.h):
 *	1. as it is;
 *	2. with a fresh SHA-256 trailer, what anyone can write: the magic,
 *	   the header's fields, the key id and the AEAD are reached;
 *	3. with its payload (the bytes between the header and the tag)
 *	   taken as the zstd frame, encrypted under the test key with the
 *	   header as associated data, and the trailer made again: what only
 *	   a holder of the key can write, so that decompression and the
 *	   raw_len checks are reached.  The seeds named clear-* are wagons
 *	   of srdf-seal's with the payload decrypted for this.
 * Beyond not crashing: the five calls agree on the answer and, when the
 * wagon opens, on the records, which are NUL-terminated, raw_len bytes
 * long, and open again after wagon_seal seals them anew; a refusal has
 * its words; a header wagon_peek accepts is one its checks allow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "fuzz.h"
#include "wagon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OFF_NONCE 184 /* srdf-wagon(5), "Header" */
#define MIN_FILE (WAGON_HEADER_LEN + WAGON_TAG_LEN + WAGON_SUM_LEN)

/* The five calls on f; returns wagon_open's answer. */
static int
open_all(const uint8_t *f, size_t len)
{
	const struct srdf_key *key = fuzz_key();
	struct wagon_header h1, h2;
	uint8_t head[WAGON_SUM_LEN], whole[WAGON_SUM_LEN];
	char err[256], *r1 = NULL, *r2 = NULL, *r3 = NULL;
	size_t n1, n2, n3;
	int peek, peek2, rc1, rc2, rc3;

	err[0] = '\0';
	peek = wagon_peek(f, len, &h1, err, sizeof err);
	if (peek != 0 && err[0] == '\0')
		abort();
	wagon_sums(f, len, head, whole);
	peek2 = wagon_peek_summed(f, len, head, &h2, err, sizeof err);
	if (peek2 != peek)
		abort();
	if (peek == 0 &&
	    (h1.seq == 0 || h1.chunk == 0 || h1.raw_len > WAGON_RAW_MAX ||
	        h1.comp_len + MIN_FILE != len ||
	        memcmp(&h1, &h2, sizeof h1) != 0))
		abort();

	rc1 = wagon_open(f, len, key, &h1, &r1, &n1, err, sizeof err);
	rc2 = wagon_open_tagged(f, len, key, &h2, &r2, &n2, err, sizeof err);
	/* The tagged open checks no trailer: it may open what the other
	 * calls a damaged file, never the reverse. */
	if (rc1 != rc2 && !(rc1 == WAGON_ESUM && rc2 == 0))
		abort();
	if ((rc1 != 0 && r1 != NULL) || (rc2 != 0 && r2 != NULL))
		abort();
	if (peek == 0) {
		rc3 = wagon_open_peeked(
		    f, len, key, &h1, &r3, &n3, err, sizeof err);
		if (rc3 != rc1)
			abort();
	} else {
		rc3 = rc1;
		r3 = NULL;
		if (rc1 == 0)
			abort();
	}
	if (rc1 == 0) {
		struct wagon_header h = h1;
		struct buf sealed = {0};
		char *again;
		size_t na;

		if (n1 != h1.raw_len || r1[n1] != '\0' || n2 != n1 ||
		    n3 != n1 || memcmp(r1, r2, n1) != 0 ||
		    memcmp(r1, r3, n1) != 0)
			abort();
		if (wagon_seal(&h, r1, n1, key, 1, &sealed) != 0 ||
		    wagon_open((uint8_t *)sealed.p, sealed.len, key, &h, &again,
		        &na, err, sizeof err) != 0 ||
		    na != n1 || memcmp(again, r1, n1) != 0)
			abort();
		free(again);
		buf_free(&sealed);
	} else if (err[0] == '\0')
		abort();
	free(r1);
	free(r2);
	free(r3);
	return rc1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct srdf_key *key = fuzz_key();
	uint8_t *f;
	size_t comp;
	int rc;

	/* Exact-length copies: AddressSanitizer sees a byte read past. */
	if ((f = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(f, data, size);
	rc = open_all(f, size);
	if (size < MIN_FILE || rc == 0) {
		free(f);
		return 0;
	}
	/* 2. a fresh trailer */
	crypto_hash_sha256(f + size - WAGON_SUM_LEN, f, size - WAGON_SUM_LEN);
	open_all(f, size);
	/* 3. the payload encrypted under the test key */
	comp = size - MIN_FILE;
	crypto_aead_xchacha20poly1305_ietf_encrypt(f + WAGON_HEADER_LEN, NULL,
	    f + WAGON_HEADER_LEN, comp, f, WAGON_HEADER_LEN, NULL,
	    f + OFF_NONCE, key->key);
	crypto_hash_sha256(f + size - WAGON_SUM_LEN, f, size - WAGON_SUM_LEN);
	open_all(f, size);
	free(f);
	return 0;
}
