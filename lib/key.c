/*
 * key.c — srdf-keygen(1) key files: make, format, load; see wagon.h.
 *
 * The key id is derived from the key (BLAKE2b-256, first 8 bytes) rather
 * than chosen, so an id never names two keys and a file whose id was
 * edited is caught.  The key bytes are wiped from every buffer this file
 * fills, except the key's own memory.
 *
 * That memory comes from sodium_malloc: pages of their own between guard
 * pages, which libsodium marks MADV_DONTDUMP (a core dump of the process,
 * by the kernel or by gcore, leaves them out) and tries to mlock (never
 * written to swap).  Once filled they are made read-only, and key_free
 * wipes them.  The process itself stays dumpable: a core of a crashed
 * tool is still worth having, and it holds no key (srdf(7), Security).
 * mlock can fail for an unprivileged user under RLIMIT_MEMLOCK; that is
 * said in a notice, not a reason to stop: the key is still out of cores.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "wagon.h"

#define KEY_PREFIX "srdf-key-v1 "

_Static_assert(KEY_LINE_LEN == sizeof KEY_PREFIX - 1 + 16 + 1 + 64 + 1,
               "KEY_LINE_LEN is prefix, id, space, key, newline");

static void
derive_id(const uint8_t key[32], uint8_t id[8])
{
	uint8_t h[crypto_generichash_BYTES];

	crypto_generichash(h, sizeof h, key, 32, NULL, 0);
	memcpy(id, h, 8);
}

/* A zeroed struct srdf_key in memory of its own (see the top), writable
 * until key_readonly; NULL when libsodium cannot start or on no memory. */
static struct srdf_key *
key_alloc(void)
{
	struct srdf_key *key;

	if (sodium_init() < 0 || (key = sodium_malloc(sizeof *key)) == NULL)
		return NULL;
	/* sodium_malloc has tried mlock and says nothing of it: ask again
	 * (the same page; locks do not stack) to be able to tell. */
	if (mlock(key, sizeof *key) != 0)
		log_notice(
		    "the key is not locked in memory (mlock: %s): "
		    "it may be swapped out, though it stays out of core "
		    "dumps; raise RLIMIT_MEMLOCK (LimitMEMLOCK= in systemd) "
		    "to lock it",
		    strerror(errno));
	memset(key, 0, sizeof *key);
	return key;
}

/* From here on the key can only be read: a stray write faults. */
static void
key_readonly(struct srdf_key *key)
{
	sodium_mprotect_readonly(key);
}

void
key_free(struct srdf_key *key)
{
	if (key != NULL)
		sodium_free(key); /* makes it writable, wipes, unmaps */
}

struct srdf_key *
key_new(void)
{
	struct srdf_key *key;

	if ((key = key_alloc()) == NULL)
		return NULL;
	randombytes_buf(key->key, sizeof key->key);
	derive_id(key->key, key->id);
	key_readonly(key);
	return key;
}

void
key_format(const struct srdf_key *key, char line[KEY_LINE_LEN + 1])
{
	char *p = line;

	memcpy(p, KEY_PREFIX, sizeof KEY_PREFIX - 1);
	p += sizeof KEY_PREFIX - 1;
	sodium_bin2hex(p, 17, key->id, 8);
	p += 16;
	*p++ = ' ';
	sodium_bin2hex(p, 65, key->key, 32);
	p += 64;
	*p++ = '\n';
	*p = '\0';
}

void
key_id_hex(const uint8_t id[8], char out[17])
{
	sodium_bin2hex(out, 17, id, 8);
}

/* Exactly n lowercase hex digits at s into bin[n / 2]. */
static int
hex_field(const char *s, size_t n, uint8_t *bin)
{
	size_t got;
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return -1;
	return sodium_hex2bin(bin, n / 2, s, n, NULL, &got, NULL) == 0 &&
	               got == n / 2
	           ? 0
	           : -1;
}

struct srdf_key *
key_load(const char *path, char *err, size_t errlen)
{
	char line[KEY_LINE_LEN + 2];
	uint8_t id[8];
	struct srdf_key *key;
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	if ((key = key_alloc()) == NULL) {
		snprintf(err, errlen,
		         "libsodium cannot start, or no memory for the key");
		return NULL;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
		snprintf(err, errlen, "cannot open key file %s: %s", path,
		         strerror(errno));
		key_free(key);
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot stat key file %s: %s", path,
		         strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "key file %s is not a regular file",
		         path);
		goto out;
	}
	if (st.st_mode & 077) {
		snprintf(
		    err, errlen,
		    "key file %s has mode %04o: it must not "
		    "be readable or writable by group or others; chmod 600 %s",
		    path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	/* One read of at most one byte more than a key line: a longer file
	 * is refused without reading the rest. */
	n = read(fd, line, sizeof line);
	if (n < 0) {
		snprintf(err, errlen, "cannot read key file %s: %s", path,
		         strerror(errno));
		goto out;
	}
	if (n != KEY_LINE_LEN ||
	    memcmp(line, KEY_PREFIX, sizeof KEY_PREFIX - 1) != 0 ||
	    line[sizeof KEY_PREFIX - 1 + 16] != ' ' ||
	    line[KEY_LINE_LEN - 1] != '\n' ||
	    hex_field(line + sizeof KEY_PREFIX - 1, 16, id) != 0 ||
	    hex_field(line + sizeof KEY_PREFIX - 1 + 17, 64, key->key) != 0) {
		snprintf(err, errlen,
		         "key file %s is not one line "
		         "\"srdf-key-v1 KEYID KEY\" as srdf-keygen writes it",
		         path);
		goto out;
	}
	derive_id(key->key, key->id);
	if (memcmp(id, key->id, sizeof id) != 0) {
		snprintf(err, errlen,
		         "key file %s: the key id does not match "
		         "the key (was the file edited?)",
		         path);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(line, sizeof line);
	close(fd);
	if (rc != 0) {
		key_free(key);
		return NULL;
	}
	key_readonly(key);
	return key;
}

void
key_subkey(const struct srdf_key *key, int purpose, uint8_t out[32])
{
	_Static_assert(crypto_kdf_KEYBYTES == sizeof key->key, "kdf key");
	_Static_assert(crypto_kdf_CONTEXTBYTES == 8, "kdf context");

	crypto_kdf_derive_from_key(out, 32, (uint64_t)purpose, "srdf-key",
	    key->key);
}
