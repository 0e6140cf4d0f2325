/*
 * wagon-edit — test helper: damage or forge wagon files (srdf-wagon(5))
 * the way a disk, a network or an attacker would.
 *	wagon-edit flip FILE OFFSET [MASK]   XOR the byte at OFFSET with MASK
 *	                                     (default 1); OFFSET < 0 counts
 *	                                     from the end
 *	wagon-edit resum FILE                write a fresh SHA-256 trailer
 *	wagon-edit swap-headers A B          swap the 256-byte headers of two
 *	                                     wagons, then resum both
 * All in place.  An attacker can always recompute the checksum: what must
 * catch him is the authentication, and these let the tests prove it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <sodium.h>

#include "log.h"
#include "wagon.h"

static uint8_t *
load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (p = malloc((size_t)n + 1)) == NULL ||
	    fread(p, 1, (size_t)n, f) != (size_t)n)
		die(EX_NOINPUT, "cannot read %s: %s", path, strerror(errno));
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void
save(const char *path, const uint8_t *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0)
		die(EX_IOERR, "cannot write %s: %s", path, strerror(errno));
}

static void
resum(const char *path, uint8_t *p, size_t len)
{
	if (len < WAGON_SUM_LEN)
		die(EX_DATAERR, "%s: too short for a trailer", path);
	crypto_hash_sha256(p + len - WAGON_SUM_LEN, p, len - WAGON_SUM_LEN);
}

int
main(int argc, char **argv)
{
	uint8_t *a, *b, tmp[WAGON_HEADER_LEN];
	size_t alen, blen;
	long long off, mask = 1;

	log_init(argv[0]);
	if (sodium_init() < 0)
		die(EX_OSERR, "libsodium cannot start");
	if (argc >= 4 && argc <= 5 && strcmp(argv[1], "flip") == 0) {
		a = load(argv[2], &alen);
		off = strtoll(argv[3], NULL, 0);
		if (argc == 5)
			mask = strtoll(argv[4], NULL, 0);
		if (off < 0)
			off += (long long)alen;
		if (off < 0 || (size_t)off >= alen || mask < 1 || mask > 255)
			die(EX_USAGE, "offset %s or mask out of range",
			    argv[3]);
		a[off] ^= (uint8_t)mask;
		save(argv[2], a, alen);
		free(a);
	} else if (argc == 3 && strcmp(argv[1], "resum") == 0) {
		a = load(argv[2], &alen);
		resum(argv[2], a, alen);
		save(argv[2], a, alen);
		free(a);
	} else if (argc == 4 && strcmp(argv[1], "swap-headers") == 0) {
		a = load(argv[2], &alen);
		b = load(argv[3], &blen);
		if (alen < WAGON_HEADER_LEN || blen < WAGON_HEADER_LEN)
			die(EX_DATAERR, "too short for a header");
		memcpy(tmp, a, WAGON_HEADER_LEN);
		memcpy(a, b, WAGON_HEADER_LEN);
		memcpy(b, tmp, WAGON_HEADER_LEN);
		resum(argv[2], a, alen);
		resum(argv[3], b, blen);
		save(argv[2], a, alen);
		save(argv[3], b, blen);
		free(a);
		free(b);
	} else {
		die(EX_USAGE, "usage: wagon-edit flip FILE OFFSET [MASK] | "
		              "resum FILE | swap-headers A B");
	}
	return 0;
}
