/*
 * wagon-units.c — unit tests of lib/wagon.c and lib/key.c: the wagon
 * format's round trip, each verification error, key files.  Run by
 * t/3000-wagon-units.t in a scratch directory; prints TAP.
 *
 * Some failures cannot be made with the tools, only with the key in hand
 * (a payload that authenticates but does not decompress): forge() makes
 * them the way a holder of the key could.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "hauth.h"
#include "keyring.h"
#include "wagon.h"

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

static const char records[] =
    "{\"v\":1,\"type\":\"group_begin\",\"group\":7,\"chunk\":1}\n"
    "{\"v\":1,\"type\":\"insert\",\"db\":\"d\",\"table\":\"t\",\"pk\":[\"id\"],"
    "\"after\":{\"id\":1}}\n"
    "{\"v\":1,\"type\":\"group_end\",\"group\":7,\"chunk\":1,\"last\":true}\n";

static struct wagon_header
header(void)
{
	struct wagon_header h;

	memset(&h, 0, sizeof h);
	memset(h.source_id, 0xab, sizeof h.source_id);
	h.seq = 42;
	h.chunk = 1;
	h.chunks = 1;
	h.flags = WAGON_F_LAST_CHUNK;
	strcpy(h.first_gtid, "0-1-100");
	strcpy(h.last_gtid, "0-1-130");
	h.events_in = 124;
	h.events_out = 57;
	return h;
}

static int
write_file(const char *path, const char *s, mode_t mode)
{
	int fd;

	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)) < 0)
		return -1;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s)) {
		close(fd);
		return -1;
	}
	fchmod(fd, mode);
	return close(fd);
}

static void
resum(uint8_t *p, size_t len)
{
	crypto_hash_sha256(p + len - WAGON_SUM_LEN, p, len - WAGON_SUM_LEN);
}

/* Replaces the payload by the encryption of plain[0..n) under the
 * (possibly edited) header, as only a key holder can. */
static void
forge(struct buf *w, const struct srdf_key *k, const void *plain, size_t n)
{
	uint8_t *p = (uint8_t *)w->p, sub[32];
	size_t i;

	for (i = 0; i < 8; i++) /* comp_len at 168 */
		p[168 + i] = (uint8_t)((uint64_t)n >> (8 * i));
	w->len = WAGON_HEADER_LEN + n + WAGON_TAG_LEN + WAGON_SUM_LEN;
	buf_grow(w, w->len);
	p = (uint8_t *)w->p;
	key_subkey(k, KEY_SUB_WAGON, sub);
	crypto_aead_xchacha20poly1305_ietf_encrypt(p + WAGON_HEADER_LEN, NULL,
	    plain, n, p, WAGON_HEADER_LEN, NULL, p + 184, sub);
	sodium_memzero(sub, sizeof sub);
	resum(p, w->len);
}

static int
open_rc(const struct buf *w, const struct srdf_key *k, char *err, size_t errlen)
{
	struct wagon_header h;
	char *rec;
	size_t rlen;
	int rc;

	rc = wagon_open(
	    (const uint8_t *)w->p, w->len, k, &h, &rec, &rlen, err, errlen);
	if (rc == 0)
		free(rec);
	return rc;
}

/* Whether the mapping that holds p is marked "dd" (MADV_DONTDUMP: left
 * out of core dumps) in /proc/self/smaps; -1 when that cannot be read. */
static int
dontdump(const void *p)
{
	char l[512];
	uintptr_t a = (uintptr_t)p, lo, hi;
	int in = 0, rc = -1;
	FILE *f;

	if ((f = fopen("/proc/self/smaps", "r")) == NULL)
		return -1;
	while (fgets(l, sizeof l, f) != NULL) {
		/* A mapping's first line is "LO-HI perms ..."; none of
		 * its other lines reads as two hex numbers and a dash. */
		if (sscanf(l, "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) == 2)
			in = lo <= a && a < hi;
		else if (in && strncmp(l, "VmFlags:", 8) == 0) {
			rc = strstr(l, " dd") != NULL;
			break;
		}
	}
	fclose(f);
	return rc;
}

static struct srdf_key *
test_keys(void)
{
	char line[KEY_LINE_LEN + 1], bad[KEY_LINE_LEN + 8], err[512];
	struct srdf_key *k, *k2 = NULL;

	ok((k = key_new()) != NULL, "key_new");
	key_format(k, line);
	ok(strlen(line) == KEY_LINE_LEN &&
	        strncmp(line, "srdf-key-v1 ", 12) == 0 && line[28] == ' ' &&
	        line[KEY_LINE_LEN - 1] == '\n',
	    "key_format: one line");
	ok(write_file("key", line, 0600) == 0 &&
	        (k2 = key_load("key", err, sizeof err)) != NULL &&
	        memcmp(k2, k, sizeof *k2) == 0,
	    "key_load reads key_format's line");
	ok(dontdump(k) == 1 && dontdump(k2) == 1,
	    "key_new's and key_load's keys are left out of core dumps "
	    "(MADV_DONTDUMP)");
	ok(dontdump(line) == 0, "(control) the stack is not");
	key_free(k2);
	k2 = NULL;
	ok(write_file("key.ro", line, 0400) == 0 &&
	        (k2 = key_load("key.ro", err, sizeof err)) != NULL,
	    "mode 0400 is fine");
	key_free(k2);
	ok(write_file("key.644", line, 0644) == 0 &&
	        key_load("key.644", err, sizeof err) == NULL &&
	        strstr(err, "chmod 600 key.644") != NULL,
	    "mode 0644 refused: %s", err);
	ok(write_file("key.640", line, 0640) == 0 &&
	        key_load("key.640", err, sizeof err) == NULL,
	    "mode 0640 refused");
	memcpy(bad, line, sizeof line);
	bad[13] = bad[13] == '0' ? '1' : '0';
	ok(write_file("key.id", bad, 0600) == 0 &&
	        key_load("key.id", err, sizeof err) == NULL &&
	        strstr(err, "does not match") != NULL,
	    "an edited key id: %s", err);
	memcpy(bad, line, sizeof line);
	bad[KEY_LINE_LEN - 1] = '\0';
	ok(write_file("key.nonl", bad, 0600) == 0 &&
	        key_load("key.nonl", err, sizeof err) == NULL,
	    "no final newline refused: %s", err);
	snprintf(bad, sizeof bad, "%s\n", line);
	ok(write_file("key.2nl", bad, 0600) == 0 &&
	        key_load("key.2nl", err, sizeof err) == NULL,
	    "a second line refused");
	memcpy(bad, line, sizeof line);
	bad[40] = 'G';
	ok(write_file("key.hex", bad, 0600) == 0 &&
	        key_load("key.hex", err, sizeof err) == NULL,
	    "a non-hex digit refused");
	ok(key_load("no-such-key", err, sizeof err) == NULL &&
	        strstr(err, "No such file") != NULL,
	    "a missing file: %s", err);
	sodium_memzero(line, sizeof line);
	return k;
}

static void
test_round_trip(const struct srdf_key *k, struct buf *w)
{
	struct wagon_header h = header(), got;
	char err[256], *rec = NULL, name[WAGON_NAME_LEN];
	size_t rlen = 0;

	ok(wagon_seal(&h, records, sizeof records - 1, k, 3, w) == 0,
	    "wagon_seal");
	ok(memcmp(w->p, "SRDFWAG1", 8) == 0 &&
	        w->len == WAGON_HEADER_LEN + h.comp_len + WAGON_TAG_LEN +
	                      WAGON_SUM_LEN,
	    "magic and length (%zu bytes)", w->len);
	ok(memmem(w->p, w->len, "insert", 6) == NULL &&
	        memmem(w->p, w->len, "group_begin", 11) == NULL,
	    "no record in clear");
	ok(wagon_peek((uint8_t *)w->p, w->len, &got, err, sizeof err) == 0 &&
	        memcmp(&got, &h, sizeof got) == 0,
	    "wagon_peek: the header back");
	ok(wagon_open((uint8_t *)w->p, w->len, k, &got, &rec, &rlen, err,
	       sizeof err) == 0 &&
	        rlen == sizeof records - 1 && memcmp(rec, records, rlen) == 0 &&
	        rec[rlen] == '\0',
	    "wagon_open: the records back, NUL-terminated");
	free(rec);
	{
		uint8_t sub[32], *tmp = malloc(h.comp_len + 1);
		const uint8_t *f = (const uint8_t *)w->p;
		unsigned long long tl;
		size_t ct = h.comp_len + WAGON_TAG_LEN;

		key_subkey(k, KEY_SUB_WAGON, sub);
		ok(tmp != NULL &&
		        crypto_aead_xchacha20poly1305_ietf_decrypt(tmp, &tl,
		            NULL, f + WAGON_HEADER_LEN, ct, f, WAGON_HEADER_LEN,
		            h.nonce, k->key) != 0 &&
		        crypto_aead_xchacha20poly1305_ietf_decrypt(tmp, &tl,
		            NULL, f + WAGON_HEADER_LEN, ct, f, WAGON_HEADER_LEN,
		            h.nonce, sub) == 0,
		    "version 2: encrypted under the wagon subkey, not the key");
		sodium_memzero(sub, sizeof sub);
		free(tmp);
	}
	ok(h.version == 2 && h.codec == WAGON_CODEC_ZSTD &&
	        h.cipher == WAGON_CIPHER_XCHACHA20POLY1305 &&
	        memcmp(h.key_id, k->id, 8) == 0 &&
	        h.raw_len == sizeof records - 1,
	    "wagon_seal fills version, codec, cipher, key id, raw length");
	wagon_name(42, name);
	ok(strcmp(name, "00000000000000000042.wagon") == 0, "wagon_name %s",
	    name);
	wagon_name(UINT64_MAX, name);
	ok(strcmp(name, "18446744073709551615.wagon") == 0, "wagon_name max");
	ok(wagon_name_seq(name) == UINT64_MAX &&
	        wagon_name_seq("00000000000000000042.wagon") == 42,
	    "wagon_name_seq reads what wagon_name writes");
	ok(wagon_name_seq("18446744073709551616.wagon") == 0 &&
	        wagon_name_seq("0000000000000000042.wagon") == 0 &&
	        wagon_name_seq("00000000000000000042.wagon.reason") == 0 &&
	        wagon_name_seq("0000000000000000004x.wagon") == 0 &&
	        wagon_name_seq("00000000000000000042.wagoN") == 0,
	    "wagon_name_seq: 0 for any other name, beyond 2^64 - 1 too");

	h = header();
	ok(wagon_seal(&h, "", 0, k, 3, w) == 0 &&
	        wagon_open((uint8_t *)w->p, w->len, k, &got, &rec, &rlen, err,
	            sizeof err) == 0 &&
	        rlen == 0,
	    "an empty payload round-trips");
	free(rec);
}

static void
test_seal_refuses(const struct srdf_key *k, struct buf *w)
{
	struct wagon_header h;

	h = header(), h.chunk = 0;
	ok(wagon_seal(&h, records, 10, k, 3, w) == -1 && errno == EINVAL,
	    "seal refuses chunk 0");
	h = header(), h.seq = 0;
	ok(wagon_seal(&h, records, 10, k, 3, w) == -1, "seal refuses seq 0");
	h = header(), h.chunks = 0;
	ok(wagon_seal(&h, records, 10, k, 3, w) == -1,
	    "seal refuses a last chunk without its count");
	h = header(), h.flags = 0;
	ok(wagon_seal(&h, records, 10, k, 3, w) == -1,
	    "seal refuses a count on a chunk that is not the last");
	h = header(), h.flags |= 0x80;
	ok(wagon_seal(&h, records, 10, k, 3, w) == -1,
	    "seal refuses unknown flags");
	h = header(), memset(h.first_gtid, '1', sizeof h.first_gtid);
	ok(wagon_seal(&h, records, 10, k, 3, w) == -1,
	    "seal refuses a 48-character GTID");
	h = header(), strcpy(h.last_gtid, "0-1-x");
	ok(wagon_seal(&h, records, 10, k, 3, w) == -1,
	    "seal refuses a GTID with a letter");
	h = header(), h.chunk = 3, h.chunks = 0, h.flags = 0;
	ok(wagon_seal(&h, records, 10, k, 3, w) == 0,
	    "seal takes chunk 3 of a group still open");
}

/* Sets byte off of a fresh copy of good and recomputes the checksum. */
static void
edit(struct buf *w, const struct buf *good, size_t off, uint8_t v)
{
	w->len = 0;
	buf_add(w, good->p, good->len);
	((uint8_t *)w->p)[off] = v;
	resum((uint8_t *)w->p, w->len);
}

/* The good wagon with raw_len one more and its own compressed payload,
 * encrypted again under the edited header. */
static int
raw_len_plus_one(
    struct buf *w, const struct buf *good, const struct srdf_key *k)
{
	const uint8_t *g = (const uint8_t *)good->p;
	size_t comp =
	    good->len - WAGON_HEADER_LEN - WAGON_TAG_LEN - WAGON_SUM_LEN;
	struct buf plain = {0};
	uint8_t sub[32];
	int rc;

	buf_grow(&plain, comp);
	key_subkey(k, KEY_SUB_WAGON, sub);
	rc = crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)plain.p,
	    NULL, NULL, g + WAGON_HEADER_LEN, comp + WAGON_TAG_LEN, g,
	    WAGON_HEADER_LEN, g + 184, sub);
	sodium_memzero(sub, sizeof sub);
	if (rc == 0) {
		w->len = 0;
		buf_add(w, good->p, good->len);
		((uint8_t *)w->p)[160] += 1; /* raw_len, little-endian */
		forge(w, k, plain.p, comp);
	}
	buf_free(&plain);
	return rc;
}

static void
test_refusals(const struct srdf_key *k, const struct buf *good)
{
	struct buf w = {0};
	struct wagon_header h;
	struct srdf_key *other;
	char err[256];
	uint8_t junk[64];

	w.len = 0, buf_add(&w, good->p, good->len - 1);
	ok(wagon_peek((uint8_t *)w.p, w.len, &h, err, sizeof err) ==
	            WAGON_ETRUNC &&
	        strstr(err, "truncated") != NULL,
	    "one byte short: ETRUNC: %s", err);
	ok(wagon_peek((uint8_t *)w.p, 100, &h, err, sizeof err) == WAGON_ETRUNC,
	    "100 bytes: ETRUNC: %s", err);
	w.len = 0, buf_add(&w, good->p, good->len), buf_putc(&w, 'x');
	ok(wagon_peek((uint8_t *)w.p, w.len, &h, err, sizeof err) ==
	        WAGON_EHEADER,
	    "one byte more: EHEADER: %s", err);
	ok(wagon_peek((const uint8_t *)"hello\n", 6, &h, err, sizeof err) ==
	            WAGON_EMAGIC &&
	        strstr(err, "not a wagon") != NULL,
	    "a text file: EMAGIC: %s", err);
	ok(wagon_peek((const uint8_t *)"", 0, &h, err, sizeof err) ==
	        WAGON_EMAGIC,
	    "an empty file: EMAGIC");

	w.len = 0, buf_add(&w, good->p, good->len);
	((uint8_t *)w.p)[300] ^= 4;
	ok(wagon_peek((uint8_t *)w.p, w.len, &h, err, sizeof err) ==
	            WAGON_ESUM &&
	        strstr(err, "checksum mismatch") != NULL,
	    "a flipped payload bit: ESUM: %s", err);

	edit(&w, good, 0, 'X');
	ok(wagon_peek((uint8_t *)w.p, w.len, &h, err, sizeof err) ==
	        WAGON_EMAGIC,
	    "another magic, checksum right: EMAGIC: %s", err);
	edit(&w, good, 8, 3);
	ok(wagon_peek((uint8_t *)w.p, w.len, &h, err, sizeof err) ==
	            WAGON_EMAGIC &&
	        strstr(err, "version 3") != NULL,
	    "version 3: EMAGIC: %s", err);
	edit(&w, good, 10, 9);
	ok(wagon_peek((uint8_t *)w.p, w.len, &h, err, sizeof err) ==
	            WAGON_EHEADER &&
	        strstr(err, "codec") != NULL,
	    "codec 9: EHEADER: %s", err);
	edit(&w, good, 11, 9);
	ok(wagon_peek((uint8_t *)w.p, w.len, &h, err, sizeof err) ==
	            WAGON_EHEADER &&
	        strstr(err, "cipher") != NULL,
	    "cipher 9: EHEADER: %s", err);
	edit(&w, good, 255, 1);
	ok(wagon_peek((uint8_t *)w.p, w.len, &h, err, sizeof err) ==
	            WAGON_EHEADER &&
	        strstr(err, "reserved") != NULL,
	    "a reserved byte set: EHEADER: %s", err);
	edit(&w, good, 40, 0);
	ok(wagon_peek((uint8_t *)w.p, w.len, &h, err, sizeof err) ==
	        WAGON_EHEADER,
	    "chunk 0: EHEADER: %s", err);
	edit(&w, good, 167, 0x40); /* raw_len += 2^62 */
	ok(wagon_peek((uint8_t *)w.p, w.len, &h, err, sizeof err) ==
	            WAGON_EHEADER &&
	        strstr(err, "raw length") != NULL,
	    "raw length over 1 GiB: EHEADER: %s", err);
	edit(&w, good, 48 + 47, '1');
	ok(wagon_peek((uint8_t *)w.p, w.len, &h, err, sizeof err) ==
	            WAGON_EHEADER &&
	        strstr(err, "first GTID") != NULL,
	    "a byte after a GTID's NUL: EHEADER: %s", err);

	ok((other = key_new()) != NULL &&
	        open_rc(good, other, err, sizeof err) == WAGON_EKEY &&
	        strstr(err, "sealed with key id") != NULL,
	    "another key: EKEY: %s", err);
	key_free(other);
	edit(&w, good, 32, 43); /* seq 42 -> 43 */
	ok(wagon_peek((uint8_t *)w.p, w.len, &h, err, sizeof err) == 0 &&
	        open_rc(&w, k, err, sizeof err) == WAGON_EAUTH &&
	        strstr(err, "authentication failed") != NULL,
	    "a header field changed and the checksum redone: peek passes, "
	    "open EAUTH: %s",
	    err);
	w.len = 0, buf_add(&w, good->p, good->len);
	((uint8_t *)w.p)[WAGON_HEADER_LEN] ^= 1;
	resum((uint8_t *)w.p, w.len);
	ok(open_rc(&w, k, err, sizeof err) == WAGON_EAUTH,
	    "a payload byte changed and the checksum redone: EAUTH");

	/* Forgeries by a key holder: authentic, but not what seal makes. */
	randombytes_buf(junk, sizeof junk);
	w.len = 0, buf_add(&w, good->p, good->len);
	forge(&w, k, junk, sizeof junk);
	ok(wagon_peek((uint8_t *)w.p, w.len, &h, err, sizeof err) == 0 &&
	        open_rc(&w, k, err, sizeof err) == WAGON_ECODEC &&
	        strstr(err, "decompress") != NULL,
	    "not zstd: ECODEC: %s", err);
	ok(raw_len_plus_one(&w, good, k) == 0,
	    "(setup) raw length one more, the same zstd frame");
	ok(open_rc(&w, k, err, sizeof err) == WAGON_ECODEC &&
	        strstr(err, "the header says") != NULL,
	    "raw length one more than the payload: ECODEC: %s", err);
	buf_free(&w);
}

/* wagon_sums against two plain hashes; wagon_peek_summed answers as
 * wagon_peek; wagon_open_tagged answers as wagon_open for a bit flipped
 * at every byte (reason and all), but opens a wagon whose only damage is
 * in its trailer, with the same records. */
static void
test_sums_and_tagged(const struct srdf_key *k, const struct buf *good)
{
	uint8_t head[WAGON_SUM_LEN], whole[WAGON_SUM_LEN], want[WAGON_SUM_LEN];
	uint8_t want2[WAGON_SUM_LEN];
	const uint8_t *g = (const uint8_t *)good->p;
	struct wagon_header h1, h2;
	struct buf w = {0};
	char e1[256], e2[256], *r1, *r2;
	size_t i, n1, n2, same = 0, trailer_opens = 0;
	int rc1, rc2;

	wagon_sums(g, good->len, head, whole);
	crypto_hash_sha256(want, g, good->len - WAGON_SUM_LEN);
	crypto_hash_sha256(want2, g, good->len);
	ok(memcmp(head, want, sizeof want) == 0 &&
	        memcmp(whole, want2, sizeof want2) == 0,
	    "wagon_sums: the checksum and the whole file's SHA-256, one pass");
	wagon_sums(g, good->len, head, NULL);
	ok(memcmp(head, want, sizeof want) == 0,
	    "wagon_sums without whole: the checksum");
	ok(wagon_peek_summed(g, good->len, head, &h1, e1, sizeof e1) == 0 &&
	        h1.seq == 42,
	    "wagon_peek_summed with the right sum: 0, the header");
	head[5] ^= 1;
	ok(wagon_peek_summed(g, good->len, head, &h1, e1, sizeof e1) ==
	            WAGON_ESUM &&
	        strstr(e1, "checksum mismatch") != NULL,
	    "wagon_peek_summed with another sum: ESUM: %s", e1);

	for (i = 0; i < good->len; i++) {
		w.len = 0, buf_add(&w, good->p, good->len);
		((uint8_t *)w.p)[i] ^= (uint8_t)(1u << (i % 8));
		e1[0] = e2[0] = '\0';
		rc1 = wagon_open(
		    (uint8_t *)w.p, w.len, k, &h1, &r1, &n1, e1, sizeof e1);
		rc2 = wagon_open_tagged(
		    (uint8_t *)w.p, w.len, k, &h2, &r2, &n2, e2, sizeof e2);
		if (i >= good->len - WAGON_SUM_LEN) {
			if (rc1 == WAGON_ESUM && rc2 == 0 && r2 != NULL &&
			    n2 == sizeof records - 1 &&
			    memcmp(r2, records, n2) == 0 && h2.seq == 42)
				trailer_opens++;
		} else if (rc1 == rc2 && rc1 != 0 && strcmp(e1, e2) == 0) {
			same++;
		} else {
			printf("# byte %zu: wagon_open %d (%s), tagged %d "
			       "(%s)\n",
			    i, rc1, e1, rc2, e2);
		}
		free(r1);
		free(r2);
	}
	ok(same == good->len - WAGON_SUM_LEN,
	    "a bit flipped at each of the %zu bytes before the trailer: "
	    "wagon_open_tagged refuses it as wagon_open does (%zu did)",
	    good->len - WAGON_SUM_LEN, same);
	ok(trailer_opens == WAGON_SUM_LEN,
	    "a bit flipped in the trailer: wagon_open says ESUM, "
	    "wagon_open_tagged opens it, the same records (%zu of %d)",
	    trailer_opens, WAGON_SUM_LEN);
	rc2 = wagon_open_tagged(g, good->len, k, &h2, &r2, &n2, e2, sizeof e2);
	ok(rc2 == 0 && n2 == sizeof records - 1 && memcmp(r2, records, n2) == 0,
	    "wagon_open_tagged on a good wagon: its records");
	free(r2);
	buf_free(&w);
}

/* A key ring (srdf-keygen --rotate): the newest key seals and signs,
 * every key of the ring opens and verifies, an answer is signed with the
 * key its request used. */
static void
test_ring(void)
{
	char la[KEY_LINE_LEN + 1], lb[KEY_LINE_LEN + 1], err[512];
	char many[(KEY_RING_MAX + 1) * KEY_LINE_LEN + 1], ids[200];
	char value[HAUTH_VALUE_LEN], answer[HAUTH_VALUE_LEN];
	struct srdf_key *a, *b, *ring = NULL, *only_a = NULL, *only_b = NULL;
	struct wagon_header h = header();
	struct hauth_head hh;
	struct buf w = {0};
	int i;

	a = key_new(), b = key_new();
	key_format(a, la), key_format(b, lb);
	snprintf(many, sizeof many, "%s%s", la, lb);
	ok(write_file("ring", many, 0600) == 0 &&
	        (ring = key_load("ring", err, sizeof err)) != NULL &&
	        memcmp(ring->id, b->id, 8) == 0 && ring->older != NULL &&
	        memcmp(ring->older->id, a->id, 8) == 0 &&
	        ring->older->older == NULL,
	    "a two-line key file: the last line is the newest key");
	ok(key_find(ring, a->id) == ring->older &&
	        key_find(ring, b->id) == ring &&
	        key_find(ring->older, b->id) == NULL,
	    "key_find finds each key of the ring, and only those");
	key_ring_ids(ring, ids, sizeof ids);
	ok(strlen(ids) == 34 && ids[16] == ',', "key_ring_ids: %s", ids);
	write_file("only-a", la, 0600), write_file("only-b", lb, 0600);
	only_a = key_load("only-a", err, sizeof err);
	only_b = key_load("only-b", err, sizeof err);

	ok(wagon_seal(&h, records, sizeof records - 1, a, 3, &w) == 0 &&
	        open_rc(&w, ring, err, sizeof err) == 0,
	    "a wagon sealed with the older key opens with the ring");
	h = header(), w.len = 0;
	ok(wagon_seal(&h, records, sizeof records - 1, ring, 3, &w) == 0 &&
	        memcmp(h.key_id, b->id, 8) == 0 &&
	        open_rc(&w, only_b, err, sizeof err) == 0,
	    "the ring seals with its newest key");
	ok(open_rc(&w, only_a, err, sizeof err) == WAGON_EKEY &&
	        strstr(err, "sealed with key id") != NULL,
	    "a key file without it: EKEY: %s", err);

	hauth_sign(only_a, HAUTH_TO_RECV, "POST", "/v1/wagons", "x", 1,
	    time(NULL), value);
	ok(hauth_verify_head(ring, HAUTH_TO_RECV, NULL, "POST", "/v1/wagons",
	       value, time(NULL), &hh, err, sizeof err) == HAUTH_OK &&
	        hh.key == ring->older,
	    "a request signed with the older key is verified by the ring");
	hauth_sign_answer(hh.key, hh.nonce, 201, "{}", 2, answer);
	ok(hauth_verify_answer(only_a, hh.nonce, 201, "{}", 2, answer, err,
	       sizeof err) == HAUTH_OK,
	    "its answer is signed with that key: a side without the new "
	    "key verifies it");
	hauth_sign(
	    ring, HAUTH_TO_ACKD, "POST", "/v1/acks", "x", 1, time(NULL), value);
	ok(hauth_verify_head(only_a, HAUTH_TO_ACKD, NULL, "POST", "/v1/acks",
	       value, time(NULL), &hh, err, sizeof err) == HAUTH_EKEY &&
	        strstr(err, "unknown key id") != NULL,
	    "a side without the newest key refuses what it signs: %s", err);

	snprintf(many, sizeof many, "%s%s%s", la, lb, la);
	ok(write_file("ring.dup", many, 0600) == 0 &&
	        key_load("ring.dup", err, sizeof err) == NULL &&
	        strstr(err, "twice (line 3)") != NULL,
	    "a key given twice refused: %s", err);
	many[0] = '\0';
	for (i = 0; i <= KEY_RING_MAX; i++) {
		struct srdf_key *n = key_new();
		char l[KEY_LINE_LEN + 1];

		key_format(n, l);
		strcat(many, l);
		key_free(n);
	}
	ok(write_file("ring.big", many, 0600) == 0 &&
	        key_load("ring.big", err, sizeof err) == NULL &&
	        strstr(err, "1 to 8 lines") != NULL,
	    "more than KEY_RING_MAX keys refused: %s", err);
	many[KEY_RING_MAX * KEY_LINE_LEN] = '\0';
	ok(write_file("ring.max", many, 0600) == 0 &&
	        (only_b = (key_free(only_b),
	             key_load("ring.max", err, sizeof err))) != NULL,
	    "KEY_RING_MAX keys are fine");
	sodium_memzero(la, sizeof la), sodium_memzero(lb, sizeof lb);
	sodium_memzero(many, sizeof many);
	key_free(a), key_free(b), key_free(ring);
	key_free(only_a), key_free(only_b);
	buf_free(&w);
}

/* A key file read again while the tool runs (keyring.h). */
static void
test_keyring(void)
{
	char la[KEY_LINE_LEN + 1], lb[KEY_LINE_LEN + 1],
	    both[2 * KEY_LINE_LEN + 1];
	char err[512], value[HAUTH_VALUE_LEN];
	struct srdf_key *a = key_new(), *b = key_new();
	const struct srdf_key *first;
	struct keyring *kr;
	uint8_t kid[8];

	key_format(a, la), key_format(b, lb);
	write_file("kr", la, 0600);
	ok((kr = keyring_open("kr", err, sizeof err)) != NULL &&
	        memcmp(keyring_key(kr)->id, a->id, 8) == 0,
	    "keyring_open: the file's key");
	first = keyring_key(kr);
	ok(keyring_reload(kr, err, sizeof err) == 0 && keyring_key(kr) == first,
	    "a reload of the same file changes nothing");
	snprintf(both, sizeof both, "%s%s", la, lb);
	unlink("kr"), write_file("kr", both, 0600);
	ok(keyring_find(kr, b->id) != NULL &&
	        memcmp(keyring_key(kr)->id, b->id, 8) == 0,
	    "an unknown id read the file again: the new key is found and is "
	    "now the newest");
	ok(memcmp(first->id, a->id, 8) == 0,
	    "the ring handed out before stays readable");
	ok(keyring_find(kr, (const uint8_t *)"12345678") == NULL,
	    "an id the file does not hold either: NULL");
	unlink("kr"), write_file("kr", "nonsense\n", 0600);
	ok(keyring_reload(kr, err, sizeof err) == -1 &&
	        memcmp(keyring_key(kr)->id, b->id, 8) == 0,
	    "a malformed file: the reload fails, the ring stays: %s", err);
	hauth_sign(
	    b, HAUTH_TO_RECV, "POST", "/v1/wagons", "", 0, time(NULL), value);
	ok(hauth_key_id(value, kid) == 0 && memcmp(kid, b->id, 8) == 0 &&
	        hauth_key_id("v2 keyid=zz", kid) == -1,
	    "hauth_key_id reads a header's key id");
	keyring_close(kr);
	sodium_memzero(la, sizeof la), sodium_memzero(lb, sizeof lb);
	sodium_memzero(both, sizeof both);
	key_free(a), key_free(b);
}

int
main(void)
{
	struct srdf_key *k;
	struct buf good = {0};

	k = test_keys();
	test_round_trip(k, &good);
	test_seal_refuses(k, &good);
	{
		struct wagon_header h = header();

		ok(wagon_seal(&h, records, sizeof records - 1, k, 3, &good) ==
		        0,
		    "(setup) a good wagon");
	}
	test_refusals(k, &good);
	test_sums_and_tagged(k, &good);
	test_ring();
	test_keyring();
	key_free(k);
	buf_free(&good);
	printf("1..%d\n", ntests);
	return nfailed != 0;
}
