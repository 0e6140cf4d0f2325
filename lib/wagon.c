/*
 * wagon.c — seal, check and open wagon files; see wagon.h and
 * man/srdf-wagon.5, which holds the byte map below in prose.
 *
 * The header is encoded field by field at fixed offsets, never by
 * copying the struct: the file format must not depend on the compiler's
 * padding or the host's byte order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
/* For ZSTD_customMem: zstd's own buffers hold plaintext too (below). */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "log.h"
#include "wagon.h"

/* Byte offsets in the header (man/srdf-wagon.5).  Invariant: OFF_RESERVED
 * + RESERVED_LEN == WAGON_HEADER_LEN, checked below at compile time. */
enum {
	OFF_MAGIC = 0,        /* 8  "SRDFWAG1" */
	OFF_VERSION = 8,      /* 2 */
	OFF_CODEC = 10,       /* 1 */
	OFF_CIPHER = 11,      /* 1 */
	OFF_FLAGS = 12,       /* 4 */
	OFF_SOURCE_ID = 16,   /* 16 */
	OFF_SEQ = 32,         /* 8 */
	OFF_CHUNK = 40,       /* 4 */
	OFF_CHUNKS = 44,      /* 4 */
	OFF_FIRST_GTID = 48,  /* 48 */
	OFF_LAST_GTID = 96,   /* 48 */
	OFF_EVENTS_IN = 144,  /* 8 */
	OFF_EVENTS_OUT = 152, /* 8 */
	OFF_RAW_LEN = 160,    /* 8 */
	OFF_COMP_LEN = 168,   /* 8 */
	OFF_KEY_ID = 176,     /* 8 */
	OFF_NONCE = 184,      /* 24 */
	OFF_CREATED = 208,    /* 8 */
	OFF_RESERVED = 216,   /* 40, zero */
	RESERVED_LEN = 40,
};

_Static_assert(OFF_RESERVED + RESERVED_LEN == WAGON_HEADER_LEN,
    "the header fields fill exactly WAGON_HEADER_LEN bytes");
_Static_assert(
    WAGON_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag length");
_Static_assert(WAGON_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
    "nonce length");
_Static_assert(WAGON_SUM_LEN == crypto_hash_sha256_BYTES, "sum length");
_Static_assert(sizeof(((struct srdf_key *)0)->key) ==
                   crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
    "key length");

#define KNOWN_FLAGS (WAGON_F_LAST_CHUNK | WAGON_F_DDL | WAGON_F_BOOTSTRAP)
#define MIN_FILE (WAGON_HEADER_LEN + WAGON_TAG_LEN + WAGON_SUM_LEN)
#define SUM_MISMATCH \
	"checksum mismatch: the file is damaged (its SHA-256 differs from " \
	"the trailer)"

static void
put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

static void
encode(const struct wagon_header *h, uint8_t *p)
{
	memset(p, 0, WAGON_HEADER_LEN);
	memcpy(p + OFF_MAGIC, WAGON_MAGIC, 8);
	put_le(p + OFF_VERSION, h->version, 2);
	p[OFF_CODEC] = h->codec;
	p[OFF_CIPHER] = h->cipher;
	put_le(p + OFF_FLAGS, h->flags, 4);
	memcpy(p + OFF_SOURCE_ID, h->source_id, 16);
	put_le(p + OFF_SEQ, h->seq, 8);
	put_le(p + OFF_CHUNK, h->chunk, 4);
	put_le(p + OFF_CHUNKS, h->chunks, 4);
	/* strnlen: a GTID of 48 characters has no room for its NUL and is
	 * caught by check_header's "not NUL-terminated". */
	memcpy(p + OFF_FIRST_GTID, h->first_gtid,
	    strnlen(h->first_gtid, WAGON_GTID_LEN));
	memcpy(p + OFF_LAST_GTID, h->last_gtid,
	    strnlen(h->last_gtid, WAGON_GTID_LEN));
	put_le(p + OFF_EVENTS_IN, h->events_in, 8);
	put_le(p + OFF_EVENTS_OUT, h->events_out, 8);
	put_le(p + OFF_RAW_LEN, h->raw_len, 8);
	put_le(p + OFF_COMP_LEN, h->comp_len, 8);
	memcpy(p + OFF_KEY_ID, h->key_id, 8);
	memcpy(p + OFF_NONCE, h->nonce, WAGON_NONCE_LEN);
	put_le(p + OFF_CREATED, h->created_us, 8);
}

static void
decode(const uint8_t *p, struct wagon_header *h)
{
	memset(h, 0, sizeof *h);
	h->version = (uint16_t)get_le(p + OFF_VERSION, 2);
	h->codec = p[OFF_CODEC];
	h->cipher = p[OFF_CIPHER];
	h->flags = (uint32_t)get_le(p + OFF_FLAGS, 4);
	memcpy(h->source_id, p + OFF_SOURCE_ID, 16);
	h->seq = get_le(p + OFF_SEQ, 8);
	h->chunk = (uint32_t)get_le(p + OFF_CHUNK, 4);
	h->chunks = (uint32_t)get_le(p + OFF_CHUNKS, 4);
	/* check_header has made sure both hold a NUL. */
	memcpy(h->first_gtid, p + OFF_FIRST_GTID, WAGON_GTID_LEN);
	memcpy(h->last_gtid, p + OFF_LAST_GTID, WAGON_GTID_LEN);
	h->events_in = get_le(p + OFF_EVENTS_IN, 8);
	h->events_out = get_le(p + OFF_EVENTS_OUT, 8);
	h->raw_len = get_le(p + OFF_RAW_LEN, 8);
	h->comp_len = get_le(p + OFF_COMP_LEN, 8);
	memcpy(h->key_id, p + OFF_KEY_ID, 8);
	memcpy(h->nonce, p + OFF_NONCE, WAGON_NONCE_LEN);
	h->created_us = get_le(p + OFF_CREATED, 8);
}

/* A GTID field: a NUL-terminated GTID or GTID position (digits, '-' and
 * ','), zero after the NUL, so that each header has one encoding. */
static const char *
check_gtid(const uint8_t *f)
{
	size_t n = 0;

	while (n < WAGON_GTID_LEN && f[n] != '\0') {
		if ((f[n] < '0' || f[n] > '9') && f[n] != '-' && f[n] != ',')
			return "holds a character that is not in a GTID";
		n++;
	}
	if (n == WAGON_GTID_LEN)
		return "is not NUL-terminated";
	while (++n < WAGON_GTID_LEN)
		if (f[n] != '\0')
			return "has bytes after its NUL";
	return NULL;
}

/* Field sanity of an encoded header whose magic and version are right:
 * WAGON_EHEADER with the reason, or 0. */
static int
check_header(const uint8_t *p, char *err, size_t errlen)
{
	uint32_t flags = (uint32_t)get_le(p + OFF_FLAGS, 4);
	uint32_t chunk = (uint32_t)get_le(p + OFF_CHUNK, 4);
	uint32_t chunks = (uint32_t)get_le(p + OFF_CHUNKS, 4);
	uint64_t raw = get_le(p + OFF_RAW_LEN, 8);
	uint64_t comp = get_le(p + OFF_COMP_LEN, 8);
	const char *why;
	int i;

	if (p[OFF_CODEC] != WAGON_CODEC_ZSTD) {
		snprintf(
		    err, errlen, "bad header: unknown codec %u", p[OFF_CODEC]);
		return WAGON_EHEADER;
	}
	if (p[OFF_CIPHER] != WAGON_CIPHER_XCHACHA20POLY1305) {
		snprintf(err, errlen, "bad header: unknown cipher %u",
		    p[OFF_CIPHER]);
		return WAGON_EHEADER;
	}
	if (flags & ~(uint32_t)KNOWN_FLAGS) {
		snprintf(err, errlen, "bad header: unknown flags 0x%" PRIx32,
		    flags & ~(uint32_t)KNOWN_FLAGS);
		return WAGON_EHEADER;
	}
	if (get_le(p + OFF_SEQ, 8) == 0) {
		snprintf(err, errlen,
		    "bad header: sequence 0 (they start "
		    "at 1)");
		return WAGON_EHEADER;
	}
	if (chunk == 0) {
		snprintf(err, errlen, "bad header: chunk 0 (they start at 1)");
		return WAGON_EHEADER;
	}
	if ((flags & WAGON_F_LAST_CHUNK) ? chunks != chunk : chunks != 0) {
		snprintf(err, errlen,
		    "bad header: chunk %" PRIu32 " with "
		    "chunk count %" PRIu32 " (the count is 0 except on the "
		    "last chunk, where it equals the chunk number)",
		    chunk, chunks);
		return WAGON_EHEADER;
	}
	if ((why = check_gtid(p + OFF_FIRST_GTID)) != NULL) {
		snprintf(err, errlen, "bad header: first GTID %s", why);
		return WAGON_EHEADER;
	}
	if ((why = check_gtid(p + OFF_LAST_GTID)) != NULL) {
		snprintf(err, errlen, "bad header: last GTID %s", why);
		return WAGON_EHEADER;
	}
	if (raw > WAGON_RAW_MAX) {
		snprintf(err, errlen,
		    "bad header: raw length %" PRIu64
		    " is over the limit of %" PRIu64 " bytes",
		    raw, WAGON_RAW_MAX);
		return WAGON_EHEADER;
	}
	if (comp > ZSTD_compressBound((size_t)raw)) {
		snprintf(err, errlen,
		    "bad header: compressed length %" PRIu64
		    " is more than zstd makes of %" PRIu64 " bytes",
		    comp, raw);
		return WAGON_EHEADER;
	}
	for (i = 0; i < RESERVED_LEN; i++)
		if (p[OFF_RESERVED + i] != 0) {
			snprintf(err, errlen,
			    "bad header: reserved byte %d is "
			    "not zero",
			    OFF_RESERVED + i);
			return WAGON_EHEADER;
		}
	return 0;
}

/*
 * zstd's contexts keep pieces of what they compress or decompress in
 * buffers of their own (literals, the window), which ZSTD_compress and
 * ZSTD_decompress free without a wipe.  Contexts made here allocate
 * through wipe_alloc and wipe_free instead: each block carries its size
 * in front, and is wiped whole before it is freed.  WIPE_HEAD keeps the
 * block as aligned as malloc's.
 */
#define WIPE_HEAD 16
_Static_assert(WIPE_HEAD >= sizeof(size_t), "room for the size");

static void *
wipe_alloc(void *opaque, size_t n)
{
	char *p;

	(void)opaque;
	if (n > SIZE_MAX - WIPE_HEAD || (p = malloc(WIPE_HEAD + n)) == NULL)
		return NULL;
	memcpy(p, &n, sizeof n);
	return p + WIPE_HEAD;
}

static void
wipe_free(void *opaque, void *q)
{
	char *p;
	size_t n;

	(void)opaque;
	if (q == NULL)
		return;
	p = (char *)q - WIPE_HEAD;
	memcpy(&n, p, sizeof n);
	sodium_memzero(p, WIPE_HEAD + n);
	free(p);
}

static const ZSTD_customMem wipe_mem = {wipe_alloc, wipe_free, NULL};

static int
crypto_ready(void)
{
	return sodium_init() >= 0 ? 0 : -1;
}

int
wagon_compress(const void *records, size_t len, int level, struct buf *out)
{
	ZSTD_CCtx *cc;
	size_t bound, comp;

	if (len > WAGON_RAW_MAX) {
		errno = EFBIG;
		return -1;
	}
	bound = ZSTD_compressBound(len);
	out->len = 0;
	buf_grow(out, WAGON_HEADER_LEN + bound + WAGON_TAG_LEN + WAGON_SUM_LEN);
	/* Out of memory dies, as buf_grow does (wagon.h). */
	if ((cc = ZSTD_createCCtx_advanced(wipe_mem)) == NULL)
		die(EX_OSERR, "out of memory for zstd");
	/* Straight into the payload's place, behind the header's. */
	comp = ZSTD_compressCCtx(
	    cc, out->p + WAGON_HEADER_LEN, bound, records, len, level);
	ZSTD_freeCCtx(cc);
	if (ZSTD_isError(comp)) {
		errno = EINVAL;
		return -1;
	}
	out->len = WAGON_HEADER_LEN + comp;
	return 0;
}

/* The AEAD key of a wagon of format version: the pre-shared key itself
 * for version 1 (srdf 0.1), its wagon subkey (key_subkey,
 * KEY_SUB_WAGON) from version 2 on (srdf-wagon(5)). */
static void
cipher_key(const struct srdf_key *key, unsigned version, uint8_t k[32])
{
	if (version == 1)
		memcpy(k, key->key, 32);
	else
		key_subkey(key, KEY_SUB_WAGON, k);
}

int
wagon_finish(struct wagon_header *hdr, size_t raw_len,
    const struct srdf_key *key, struct buf *out)
{
	uint8_t k[32];
	uint8_t *p, *payload;
	size_t comp;
	struct timespec ts;
	char why[128];

	if (crypto_ready() != 0)
		return -1;
	if (out->len < WAGON_HEADER_LEN ||
	    out->cap < out->len + WAGON_TAG_LEN + WAGON_SUM_LEN) {
		errno = EINVAL;
		return -1;
	}
	comp = out->len - WAGON_HEADER_LEN;
	p = (uint8_t *)out->p;
	payload = p + WAGON_HEADER_LEN;

	/* 1. the header, now that the compressed length is known. */
	clock_gettime(CLOCK_REALTIME, &ts);
	hdr->version = WAGON_VERSION;
	hdr->codec = WAGON_CODEC_ZSTD;
	hdr->cipher = WAGON_CIPHER_XCHACHA20POLY1305;
	memcpy(hdr->key_id, key->id, sizeof hdr->key_id);
	randombytes_buf(hdr->nonce, sizeof hdr->nonce);
	hdr->raw_len = raw_len;
	hdr->comp_len = comp;
	hdr->created_us =
	    (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	encode(hdr, p);
	/* Never write what wagon_peek would refuse. */
	if (check_header(p, why, sizeof why) != 0) {
		errno = EINVAL;
		return -1;
	}

	/* 2. encrypt in place (libsodium allows c == m), the header as
	 * associated data: a byte changed in it fails authentication. */
	cipher_key(key, hdr->version, k);
	crypto_aead_xchacha20poly1305_ietf_encrypt(payload, NULL, payload, comp,
	    p, WAGON_HEADER_LEN, NULL, hdr->nonce, k);
	sodium_memzero(k, sizeof k);

	/* 3. checksum over everything before it. */
	crypto_hash_sha256(payload + comp + WAGON_TAG_LEN, p,
	    WAGON_HEADER_LEN + comp + WAGON_TAG_LEN);
	out->len = WAGON_HEADER_LEN + comp + WAGON_TAG_LEN + WAGON_SUM_LEN;
	return 0;
}

int
wagon_seal(struct wagon_header *hdr, const void *records, size_t len,
    const struct srdf_key *key, int level, struct buf *out)
{
	if (wagon_compress(records, len, level, out) != 0)
		return -1;
	return wagon_finish(hdr, len, key, out);
}

void
wagon_sums(const uint8_t *file, size_t len, uint8_t head[WAGON_SUM_LEN],
    uint8_t whole[WAGON_SUM_LEN])
{
	crypto_hash_sha256_state st, rest;
	size_t n = len < WAGON_SUM_LEN ? 0 : len - WAGON_SUM_LEN;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, file, n);
	if (whole != NULL) {
		rest = st;
		crypto_hash_sha256_update(&rest, file + n, len - n);
		crypto_hash_sha256_final(&rest, whole);
	}
	crypto_hash_sha256_final(&st, head);
}

/* Whether len is the length the header's comp_len gives: the first check
 * of wagon_peek, and the point past which it computes the checksum. */
static int
length_matches(const uint8_t *file, size_t len)
{
	uint64_t comp;

	if (len < MIN_FILE)
		return 0;
	comp = get_le(file + OFF_COMP_LEN, 8);
	return comp <= UINT64_MAX - MIN_FILE && comp + MIN_FILE == len;
}

/* wagon_peek with the checksum of file given in sum (SHA-256 of all but
 * the trailer), computed here when sum is NULL, or not checked at all
 * when check_sum is 0 (wagon_open_tagged). */
static int
peek(const uint8_t *file, size_t len, const uint8_t *sum, int check_sum,
    struct wagon_header *hdr, char *err, size_t errlen)
{
	uint8_t own[WAGON_SUM_LEN];
	uint64_t comp, want;
	uint16_t version;
	int magic_ok, rc;

	if (crypto_ready() != 0) {
		snprintf(err, errlen, "libsodium cannot start");
		return WAGON_ENOMEM;
	}
	magic_ok = len >= 8 && memcmp(file, WAGON_MAGIC, 8) == 0;
	/* The length first, so that a short file is called truncated and not
	 * damaged.  A file that is neither the right length nor starts with
	 * the magic is not a wagon at all. */
	if (len < MIN_FILE) {
		if (!magic_ok) {
			snprintf(err, errlen, "not a wagon file (no %s magic)",
			    WAGON_MAGIC);
			return WAGON_EMAGIC;
		}
		snprintf(err, errlen,
		    "truncated: %zu bytes, less than the "
		    "smallest wagon (%d bytes)",
		    len, MIN_FILE);
		return WAGON_ETRUNC;
	}
	comp = get_le(file + OFF_COMP_LEN, 8);
	want = comp > UINT64_MAX - MIN_FILE ? UINT64_MAX : comp + MIN_FILE;
	if (want != len) {
		if (!magic_ok) {
			snprintf(err, errlen, "not a wagon file (no %s magic)",
			    WAGON_MAGIC);
			return WAGON_EMAGIC;
		}
		if (len < want) {
			snprintf(err, errlen,
			    "truncated: %zu bytes, the "
			    "header says %" PRIu64,
			    len, want);
			return WAGON_ETRUNC;
		}
		snprintf(err, errlen,
		    "bad header: the file has %zu bytes, "
		    "the header says %" PRIu64,
		    len, want);
		return WAGON_EHEADER;
	}
	if (check_sum) {
		if (sum == NULL) {
			crypto_hash_sha256(own, file, len - WAGON_SUM_LEN);
			sum = own;
		}
		if (sodium_memcmp(
		        sum, file + len - WAGON_SUM_LEN, WAGON_SUM_LEN)) {
			snprintf(err, errlen, "%s", SUM_MISMATCH);
			return WAGON_ESUM;
		}
	}
	if (!magic_ok) {
		snprintf(
		    err, errlen, "not a wagon file (no %s magic)", WAGON_MAGIC);
		return WAGON_EMAGIC;
	}
	version = (uint16_t)get_le(file + OFF_VERSION, 2);
	if (version < WAGON_VERSION_MIN || version > WAGON_VERSION) {
		snprintf(err, errlen,
		    "unknown wagon format version %u (this "
		    "srdf reads versions %d to %d)",
		    version, WAGON_VERSION_MIN, WAGON_VERSION);
		return WAGON_EMAGIC;
	}
	if ((rc = check_header(file, err, errlen)) != 0)
		return rc;
	decode(file, hdr);
	return 0;
}

int
wagon_peek(const uint8_t *file, size_t len, struct wagon_header *hdr, char *err,
    size_t errlen)
{
	return peek(file, len, NULL, 1, hdr, err, errlen);
}

int
wagon_peek_summed(const uint8_t *file, size_t len,
    const uint8_t sum[WAGON_SUM_LEN], struct wagon_header *hdr, char *err,
    size_t errlen)
{
	return peek(file, len, sum, 1, hdr, err, errlen);
}

int
wagon_open(const uint8_t *file, size_t len, const struct srdf_key *key,
    struct wagon_header *hdr, char **records, size_t *rlen, char *err,
    size_t errlen)
{
	int rc;

	*records = NULL;
	*rlen = 0;
	if ((rc = wagon_peek(file, len, hdr, err, errlen)) != 0)
		return rc;
	return wagon_open_peeked(
	    file, len, key, hdr, records, rlen, err, errlen);
}

int
wagon_open_tagged(const uint8_t *file, size_t len, const struct srdf_key *key,
    struct wagon_header *hdr, char **records, size_t *rlen, char *err,
    size_t errlen)
{
	uint8_t sum[WAGON_SUM_LEN];
	int rc;

	*records = NULL;
	*rlen = 0;
	rc = peek(file, len, NULL, 0, hdr, err, errlen);
	if (rc == 0)
		rc = wagon_open_peeked(
		    file, len, key, hdr, records, rlen, err, errlen);
	if (rc == 0 || rc == WAGON_ENOMEM || !length_matches(file, len))
		return rc;
	/* Refused past the length check: a damaged file says so, as
	 * wagon_open would have, before the reason it was refused for. */
	crypto_hash_sha256(sum, file, len - WAGON_SUM_LEN);
	if (sodium_memcmp(sum, file + len - WAGON_SUM_LEN, WAGON_SUM_LEN)) {
		snprintf(err, errlen, "%s", SUM_MISMATCH);
		return WAGON_ESUM;
	}
	return rc;
}

int
wagon_open_peeked(const uint8_t *file, size_t len, const struct srdf_key *ring,
    const struct wagon_header *hdr, char **records, size_t *rlen, char *err,
    size_t errlen)
{
	const struct srdf_key *key = ring;
	char have[17], want[KEY_RING_MAX * 18];
	ZSTD_DCtx *dc;
	uint8_t k[32];
	uint8_t *comp = NULL;
	unsigned long long clen;
	unsigned long long fsize;
	size_t n;
	char *raw;
	int rc;

	(void)len; /* wagon_peek matched it to hdr->comp_len */
	*records = NULL;
	*rlen = 0;
	if ((key = key_find(key, hdr->key_id)) == NULL) {
		key_id_hex(hdr->key_id, have);
		key_ring_ids(ring, want, sizeof want);
		snprintf(err, errlen,
		    "sealed with key id %s, the key file "
		    "holds %s",
		    have, want);
		return WAGON_EKEY;
	}
	if ((comp = malloc(hdr->comp_len ? hdr->comp_len : 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return WAGON_ENOMEM;
	}
	raw = NULL; /* raw_len is believed only once the tag is checked */
	cipher_key(key, hdr->version, k);
	rc = crypto_aead_xchacha20poly1305_ietf_decrypt(comp, &clen, NULL,
	    file + WAGON_HEADER_LEN, hdr->comp_len + WAGON_TAG_LEN, file,
	    WAGON_HEADER_LEN, hdr->nonce, k);
	sodium_memzero(k, sizeof k);
	if (rc != 0) {
		snprintf(err, errlen,
		    "authentication failed: the header or "
		    "payload was altered or swapped");
		rc = WAGON_EAUTH;
		goto fail;
	}
	fsize = ZSTD_getFrameContentSize(comp, clen);
	if (fsize != ZSTD_CONTENTSIZE_UNKNOWN &&
	    fsize != ZSTD_CONTENTSIZE_ERROR && fsize != hdr->raw_len) {
		snprintf(err, errlen,
		    "decompression: the payload holds %llu "
		    "bytes, the header says %" PRIu64,
		    fsize, hdr->raw_len);
		rc = WAGON_ECODEC;
		goto fail;
	}
	if ((raw = malloc(hdr->raw_len + 1)) == NULL ||
	    (dc = ZSTD_createDCtx_advanced(wipe_mem)) == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = WAGON_ENOMEM;
		goto fail;
	}
	n = ZSTD_decompressDCtx(dc, raw, hdr->raw_len, comp, clen);
	ZSTD_freeDCtx(dc);
	if (ZSTD_isError(n)) {
		snprintf(err, errlen, "decompression failed: %s",
		    ZSTD_getErrorName(n));
		rc = WAGON_ECODEC;
		goto fail;
	}
	if (n != hdr->raw_len) {
		snprintf(err, errlen,
		    "decompression: the payload holds %zu "
		    "bytes, the header says %" PRIu64,
		    n, hdr->raw_len);
		rc = WAGON_ECODEC;
		goto fail;
	}
	/* The compressed frame is plaintext too: wiped on every path. */
	sodium_memzero(comp, hdr->comp_len ? hdr->comp_len : 1);
	free(comp);
	raw[n] = '\0';
	*records = raw;
	*rlen = n;
	return 0;
fail:
	sodium_memzero(comp, hdr->comp_len ? hdr->comp_len : 1);
	free(comp);
	wagon_records_free(raw, hdr->raw_len);
	return rc;
}

void
wagon_records_free(char *records, size_t rlen)
{
	if (records == NULL)
		return;
	sodium_memzero(records, rlen + 1);
	free(records);
}

void
wagon_name(uint64_t seq, char *buf)
{
	snprintf(buf, WAGON_NAME_LEN, "%020" PRIu64 ".wagon", seq);
}

uint64_t
wagon_name_seq(const char *name)
{
	uint64_t v = 0, d;

	if (strlen(name) != 26 || strcmp(name + 20, ".wagon") != 0)
		return 0;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		d = (uint64_t)(name[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	return v;
}
