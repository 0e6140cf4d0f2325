/*
 * fuzz.h — what the libFuzzer harnesses of t/fuzz share (t/fuzz/README).
 *
 * The test key: bytes 0, 1, ..., 31, its id the first 8 bytes of their
 * BLAKE2b-256 (srdf-keygen(1)), so cb2f5160fc1f7e05, the same in
 * every harness; the seed wagons were sealed and the seed requests
 * signed with it (t/fuzz/README).  Never a real key.
 *
 * Calling sequence: fuzz_key() from LLVMFuzzerInitialize or anywhere
 * after; fuzz_cstr() to have an input as a C string (malloc'd, freed by
 * the caller).  Out of memory aborts: libFuzzer reports it.
 */
#ifndef SRDF_FUZZ_H
#define SRDF_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "wagon.h"

static inline const struct srdf_key *
fuzz_key(void)
{
	static struct srdf_key k;
	static int made;
	uint8_t h[32];

	if (!made) {
		if (sodium_init() < 0)
			abort();
		for (int i = 0; i < 32; i++)
			k.key[i] = (uint8_t)i;
		crypto_generichash(h, sizeof h, k.key, sizeof k.key, NULL, 0);
		memcpy(k.id, h, sizeof k.id);
		made = 1;
	}
	return &k;
}

static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
