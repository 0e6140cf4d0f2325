/*
 * mkwagons — test helper: keys and wagons for the transport tests,
 * without srdf-seal (t/4*.t).
 *
 *	mkwagons key FILE
 *	    writes a new key file (mode 0600), as srdf-keygen would.
 *	mkwagons seal DIR KEYFILE COUNT [BYTES [FIRST]]
 *	    seals COUNT wagons, sequences FIRST (default: after the ledger's
 *	    last) onward, of about BYTES bytes each (default 2000), into
 *	    DIR/outbox/new, and records each in DIR's ledger the way
 *	    srdf-seal does: {"state":"sealed",...}, meta source_id (made
 *	    up once, then kept) and last_sealed_gtid.
 *	mkwagons one KEYFILE SEQ [BYTES [SOURCE_HEX]] > FILE
 *	    one wagon on stdout, not recorded anywhere.
 *
 * The records are lines {"pad":"<base64 of random bytes>"}: they do not
 * compress much, so a wagon's size is close to BYTES.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "fault.h"
#include "ledger.h"
#include "log.h"
#include "opt.h"
#include "spool.h"
#include "wagon.h"

static struct srdf_key *
load(const char *path)
{
	struct srdf_key *k;
	char err[256];

	if ((k = key_load(path, err, sizeof err)) == NULL)
		die(EX_CONFIG, "%s", err);
	return k;
}

static uint64_t
num(const char *s, const char *what)
{
	uint64_t v;

	if (parse_u64(s, &v) != 0)
		die(EX_USAGE, "bad %s %s", what, s);
	return v;
}

/* Records of about raw bytes. */
static void
make_records(struct buf *b, size_t raw)
{
	uint8_t rnd[3072];
	char b64[4200];
	size_t chunk;

	b->len = 0;
	do {
		chunk = raw > 4096 ? 3072 : raw * 3 / 4 + 1;
		randombytes_buf(rnd, chunk);
		sodium_bin2base64(b64, sizeof b64, rnd, chunk,
		    sodium_base64_VARIANT_ORIGINAL);
		buf_lit(b, "{\"pad\":\"");
		buf_puts(b, b64);
		buf_lit(b, "\"}\n");
	} while (b->len < raw);
}

static void
seal_one(const struct srdf_key *k, const uint8_t src[16], uint64_t seq,
    size_t bytes, struct buf *out, struct wagon_header *h)
{
	struct buf rec = {0};

	memset(h, 0, sizeof *h);
	h->flags = WAGON_F_LAST_CHUNK;
	memcpy(h->source_id, src, 16);
	h->seq = seq;
	h->chunk = 1;
	h->chunks = 1;
	snprintf(
	    h->first_gtid, sizeof h->first_gtid, "0-1-%" PRIu64, seq * 10 + 1);
	snprintf(
	    h->last_gtid, sizeof h->last_gtid, "0-1-%" PRIu64, seq * 10 + 10);
	h->events_in = 20;
	h->events_out = 10;
	/* base64 of random bytes compresses to about 0.79 with zstd -1
	 * (6 bits of 8, and a little of the framing). */
	make_records(&rec, bytes > 400 ? (bytes - 300) * 100 / 79 : 64);
	if (wagon_seal(h, rec.p, rec.len, k, 1, out) != 0)
		die(EX_SOFTWARE, "wagon_seal failed");
	buf_free(&rec);
}

static int
cmd_seal(int argc, char **argv)
{
	struct srdf_key *k;
	struct ledger *l;
	struct ledger_txn *t;
	struct wagon_header h;
	struct buf out = {0};
	char outbox[PATH_MAX], name[WAGON_NAME_LEN], *sid = NULL, hex[33];
	uint8_t src[16];
	uint64_t count, bytes = 2000, first = 0, last, i;
	size_t bin;
	json_t *w;
	int rc;

	if (argc < 5 || argc > 7)
		die(EX_USAGE, "usage: mkwagons seal DIR KEYFILE COUNT "
		              "[BYTES [FIRST]]");
	k = load(argv[3]);
	count = num(argv[4], "COUNT");
	if (argc > 5)
		bytes = num(argv[5], "BYTES");
	if (argc > 6)
		first = num(argv[6], "FIRST");
	snprintf(outbox, sizeof outbox, "%s/outbox", argv[2]);
	if (mkdir(argv[2], 0700) != 0 && errno != EEXIST)
		die(EX_CANTCREAT, "%s: %s", argv[2], strerror(errno));
	if (spool_init(outbox) != 0)
		die(EX_CANTCREAT, "cannot set up %s", outbox);
	if ((rc = ledger_open(argv[2], 0, &l)) != 0)
		die(EX_CANTCREAT, "ledger: %s", ledger_strerror(rc));
	if ((rc = ledger_txn_begin(l, 0, &t)) != 0 ||
	    (rc = ledger_meta_get(t, "source_id", &sid)) != 0 ||
	    (rc = ledger_wagon_last_seq(t, &last)) != 0)
		die(EX_SOFTWARE, "ledger: %s", ledger_strerror(rc));
	if (sid == NULL) {
		randombytes_buf(src, sizeof src);
		sodium_bin2hex(hex, sizeof hex, src, sizeof src);
		if ((rc = ledger_meta_put(t, "source_id", hex)) != 0)
			die(EX_SOFTWARE, "ledger: %s", ledger_strerror(rc));
	} else if (sodium_hex2bin(src, sizeof src, sid, strlen(sid), NULL, &bin,
	               NULL) != 0 ||
	           bin != 16)
		die(EX_DATAERR, "meta source_id %s is not 32 hex digits", sid);
	if ((rc = ledger_txn_commit(t)) != 0)
		die(EX_SOFTWARE, "ledger: %s", ledger_strerror(rc));
	free(sid);
	if (first == 0)
		first = last + 1;
	for (i = first; i < first + count; i++) {
		seal_one(k, src, i, (size_t)bytes, &out, &h);
		wagon_name(i, name);
		if (spool_put(outbox, name, out.p, out.len) != 0)
			die(EX_IOERR, "cannot store %s", name);
		w = json_pack("{s:s, s:i, s:n, s:I, s:I, s:I, s:I, s:s, s:s, "
		              "s:i, s:i, s:f}",
		    "state", "sealed", "attempts", 0, "last_error", "raw_bytes",
		    (json_int_t)h.raw_len, "wagon_bytes", (json_int_t)out.len,
		    "events_in", (json_int_t)h.events_in, "events_out",
		    (json_int_t)h.events_out, "first_gtid", h.first_gtid,
		    "last_gtid", h.last_gtid, "chunk", 1, "chunks", 1,
		    "sealed_at", (double)time(NULL));
		if ((rc = ledger_txn_begin(l, 0, &t)) != 0 ||
		    (rc = ledger_wagon_put(t, i, w)) != 0 ||
		    (rc = ledger_meta_put(
		         t, "last_sealed_gtid", h.last_gtid)) != 0 ||
		    (rc = ledger_txn_commit(t)) != 0)
			die(EX_SOFTWARE, "ledger: %s", ledger_strerror(rc));
		json_decref(w);
	}
	buf_free(&out);
	ledger_close(l);
	return 0;
}

static int
cmd_one(int argc, char **argv)
{
	struct srdf_key *k;
	struct wagon_header h;
	struct buf out = {0};
	uint8_t src[16];
	uint64_t seq, bytes = 2000;
	size_t bin;

	if (argc < 4 || argc > 6)
		die(EX_USAGE, "usage: mkwagons one KEYFILE SEQ [BYTES "
		              "[SOURCE_HEX]]");
	k = load(argv[2]);
	seq = num(argv[3], "SEQ");
	if (argc > 4)
		bytes = num(argv[4], "BYTES");
	if (argc > 5) {
		if (sodium_hex2bin(src, sizeof src, argv[5], strlen(argv[5]),
		        NULL, &bin, NULL) != 0 ||
		    bin != 16)
			die(EX_USAGE, "SOURCE_HEX must be 32 hex digits");
	} else
		memset(src, 0x42, sizeof src);
	seal_one(k, src, seq, (size_t)bytes, &out, &h);
	if (write_all(STDOUT_FILENO, out.p, out.len) != 0)
		die(EX_IOERR, "write: %s", strerror(errno));
	buf_free(&out);
	return 0;
}

static int
cmd_key(int argc, char **argv)
{
	struct srdf_key *k;
	char line[KEY_LINE_LEN + 1];
	int fd;

	if (argc != 3)
		die(EX_USAGE, "usage: mkwagons key FILE");
	if ((k = key_new()) == NULL)
		die(EX_SOFTWARE, "key_new failed");
	key_format(k, line);
	key_free(k);
	if ((fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 ||
	    write_all(fd, line, KEY_LINE_LEN) != 0 || close(fd) != 0)
		die(EX_CANTCREAT, "%s: %s", argv[2], strerror(errno));
	return 0;
}

int
main(int argc, char **argv)
{
	log_init(argv[0]);
	if (sodium_init() < 0)
		die(EX_SOFTWARE, "sodium_init failed");
	if (argc >= 2 && strcmp(argv[1], "key") == 0)
		return cmd_key(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "seal") == 0)
		return cmd_seal(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "one") == 0)
		return cmd_one(argc, argv);
	die(EX_USAGE, "usage: mkwagons key|seal|one ...");
}
