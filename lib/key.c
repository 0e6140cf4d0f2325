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
	struct srdf_key *older;

	for (; key != NULL; key = older) {
		older = key->older;
		sodium_free(key); /* makes it writable, wipes, unmaps */
	}
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

/* One key line (KEY_LINE_LEN bytes, newline included) of path, line
 * lineno, into a new key; NULL with the reason in err. */
static struct srdf_key *
key_parse(
    const char *path, int lineno, const char *line, char *err, size_t errlen)
{
	struct srdf_key *key;
	uint8_t id[8];

	if ((key = key_alloc()) == NULL) {
		snprintf(err, errlen,
		    "libsodium cannot start, or no memory for the key");
		return NULL;
	}
	if (memcmp(line, KEY_PREFIX, sizeof KEY_PREFIX - 1) != 0 ||
	    line[sizeof KEY_PREFIX - 1 + 16] != ' ' ||
	    line[KEY_LINE_LEN - 1] != '\n' ||
	    hex_field(line + sizeof KEY_PREFIX - 1, 16, id) != 0 ||
	    hex_field(line + sizeof KEY_PREFIX - 1 + 17, 64, key->key) != 0) {
		snprintf(err, errlen,
		    "key file %s line %d is not "
		    "\"srdf-key-v1 KEYID KEY\" as srdf-keygen writes it",
		    path, lineno);
		key_free(key);
		return NULL;
	}
	derive_id(key->key, key->id);
	if (memcmp(id, key->id, sizeof id) != 0) {
		snprintf(err, errlen,
		    "key file %s line %d: the key id does "
		    "not match the key (was the file edited?)",
		    path, lineno);
		key_free(key);
		return NULL;
	}
	return key;
}

/* The key file's bytes (at most KEY_RING_MAX lines; one byte more is
 * read so that a longer file is refused) into buf; their count, or -1
 * with the reason in err. */
static ssize_t
key_read(const char *path, char *buf, size_t cap, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n, got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) <
	    0) {
		snprintf(err, errlen, "cannot open key file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot stat key file %s: %s", path,
		    strerror(errno));
		got = -1;
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(
		    err, errlen, "key file %s is not a regular file", path);
		got = -1;
	} else if (st.st_mode & 077) {
		snprintf(err, errlen,
		    "key file %s has mode %04o: it must not "
		    "be readable or writable by group or others; chmod 600 %s",
		    path, (unsigned)(st.st_mode & 07777), path);
		got = -1;
	}
	while (got >= 0 && (size_t)got < cap &&
	       (n = read(fd, buf + got, cap - (size_t)got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot read key file %s: %s",
			    path, strerror(errno));
			got = -1;
		} else
			got += n;
	}
	close(fd);
	return got;
}

struct srdf_key *
key_load(const char *path, char *err, size_t errlen)
{
	char buf[KEY_RING_MAX * KEY_LINE_LEN + 1];
	struct srdf_key *ring = NULL, *key;
	ssize_t n;
	int i;

	if ((n = key_read(path, buf, sizeof buf, err, errlen)) < 0)
		goto fail;
	if (n == 0 || n % KEY_LINE_LEN != 0 ||
	    n > KEY_RING_MAX * KEY_LINE_LEN) {
		snprintf(err, errlen,
		    "key file %s is not 1 to %d lines "
		    "\"srdf-key-v1 KEYID KEY\" as srdf-keygen writes them",
		    path, KEY_RING_MAX);
		goto fail;
	}
	for (i = 0; i < n / KEY_LINE_LEN; i++) {
		key =
		    key_parse(path, i + 1, buf + i * KEY_LINE_LEN, err, errlen);
		if (key == NULL)
			goto fail;
		if (key_find(ring, key->id) != NULL) {
			char hex[17];

			key_id_hex(key->id, hex);
			snprintf(err, errlen,
			    "key file %s holds key id %s "
			    "twice (line %d)",
			    path, hex, i + 1);
			key_free(key);
			goto fail;
		}
		key->older = ring;
		ring = key;
	}
	/* Read-only from here on, the older links included. */
	for (key = ring; key != NULL; key = key->older)
		key_readonly(key);
	sodium_memzero(buf, sizeof buf);
	return ring;
fail:
	sodium_memzero(buf, sizeof buf);
	key_free(ring);
	return NULL;
}

const struct srdf_key *
key_find(const struct srdf_key *ring, const uint8_t id[8])
{
	for (; ring != NULL; ring = ring->older)
		if (memcmp(ring->id, id, sizeof ring->id) == 0)
			return ring;
	return NULL;
}

void
key_ring_ids(const struct srdf_key *ring, char *out, size_t len)
{
	char hex[17];
	size_t at = 0;

	if (len > 0)
		out[0] = '\0';
	for (; ring != NULL && at < len; ring = ring->older) {
		key_id_hex(ring->id, hex);
		at += (size_t)snprintf(
		    out + at, len - at, "%s%s", at ? ", " : "", hex);
	}
}

void
key_subkey(const struct srdf_key *key, int purpose, uint8_t out[32])
{
	_Static_assert(crypto_kdf_KEYBYTES == sizeof key->key, "kdf key");
	_Static_assert(crypto_kdf_CONTEXTBYTES == 8, "kdf context");

	crypto_kdf_derive_from_key(
	    out, 32, (uint64_t)purpose, "srdf-key", key->key);
}
