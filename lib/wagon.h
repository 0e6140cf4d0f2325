/*
 * wagon.h — the wagon file: one consistency group (or one chunk of one),
 * sealed.  man/srdf-wagon.5 documents it byte by byte; this is the only
 * code that writes or reads it (srdf-seal writes; srdf-cat, srdf-recv,
 * srdf-apply read).
 *
 * Pipeline, never another order (srdf-wagon(5) "Pipeline"): serialize
 * (the group's srdf-record(5) lines) → compress (zstd) → encrypt (XChaCha20-Poly1305
 * IETF, libsodium, the clear-text header as associated data) → checksum
 * (SHA-256 over everything before it, appended).
 *
 * Layout (all integers little-endian):
 *	header    WAGON_HEADER_LEN bytes, struct wagon_header fields
 *	payload   ciphertext: compressed length + 16-byte tag
 *	trailer   32-byte SHA-256 of header and payload
 *
 * Calling sequence:
 *	wagon_seal(&hdr, records, len, &key, level, &out)  → out.p/out.len
 *	  (or wagon_compress, then wagon_finish, on two threads)
 *	wagon_open(file, len, &key, &hdr, &records, err)   → records (malloc'd)
 *	wagon_peek(file, len, &hdr, err)   header only, checksum verified,
 *	                                   nothing decrypted (srdf-recv, cat --header)
 *
 * Error handling: wagon_open and wagon_peek return 0, or one of the
 * WAGON_E* codes below with a one-line reason in err; each code is a
 * distinct failure so callers and tests can tell them apart.  They check
 * in this order (man/srdf-wagon.5): length (ETRUNC; EMAGIC when the
 * file does not even start with the magic), SHA-256 (ESUM), magic and
 * version (EMAGIC), header fields (EHEADER), then wagon_open: key id
 * (EKEY), AEAD (EAUTH), zstd and raw_len (ECODEC).  hdr is filled when
 * the checksum and header passed: on 0, EKEY, EAUTH and ECODEC.  A
 * damaged comp_len field reads as ETRUNC or EHEADER, not ESUM: the
 * length is checked before the checksum can be found.
 */
#ifndef SRDF_WAGON_H
#define SRDF_WAGON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define WAGON_MAGIC "SRDFWAG1"
#define WAGON_VERSION 2     /* written; 2: encrypted under the wagon subkey */
#define WAGON_VERSION_MIN 1 /* read; 1: under the pre-shared key (srdf 0.1) */
#define WAGON_HEADER_LEN 256
#define WAGON_TAG_LEN 16
#define WAGON_SUM_LEN 32
#define WAGON_NONCE_LEN 24
#define WAGON_GTID_LEN 48 /* NUL-padded "domain-server-seq" */
#define WAGON_CODEC_ZSTD 1
#define WAGON_CIPHER_XCHACHA20POLY1305 1

/* flags */
#define WAGON_F_LAST_CHUNK 0x1 /* the group's last (or only) chunk */
#define WAGON_F_DDL 0x2        /* the group is a DDL barrier */
#define WAGON_F_BOOTSTRAP 0x4  /* rows from srdf-bootstrap */

struct wagon_header {
	uint16_t version;
	uint32_t flags;
	uint8_t source_id[16];
	uint64_t seq;    /* gap-free per source, from 1 */
	uint32_t chunk;  /* from 1 */
	uint32_t chunks; /* 0 until the last chunk, which holds the count */
	char first_gtid[WAGON_GTID_LEN];
	char last_gtid[WAGON_GTID_LEN];
	uint64_t events_in;  /* row changes before folding */
	uint64_t events_out; /* after folding */
	uint64_t raw_len;    /* serialized records */
	uint64_t comp_len;   /* compressed, = ciphertext - tag */
	uint8_t codec;
	uint8_t cipher;
	uint8_t key_id[8];
	uint8_t nonce[WAGON_NONCE_LEN];
	uint64_t created_us; /* Unix time in microseconds */
};

/* Only ever in key_load's or key_new's memory (below), by pointer.  A
 * key file may hold a key ring (srdf-keygen(1) --rotate): key_load
 * returns its newest key, and each key links to the one before it. */
struct srdf_key {
	uint8_t id[8];
	uint8_t key[32];
	struct srdf_key *older; /* the previous key of the ring, or NULL */
};
#define KEY_RING_MAX 8 /* keys in one key file */

enum {
	WAGON_OK = 0,
	WAGON_ETRUNC = 1, /* shorter than its header says */
	WAGON_ESUM,       /* SHA-256 mismatch: the file is damaged */
	WAGON_EMAGIC,     /* not a wagon, or an unknown version */
	WAGON_EHEADER,    /* a header field out of range */
	WAGON_EKEY,       /* sealed under another key id */
	WAGON_EAUTH,      /* authentication failed: tampered or swapped */
	WAGON_ECODEC,     /* decompression failed or wrong raw length */
	WAGON_ENOMEM,
};

/* The largest serialized group a wagon holds: it bounds the memory a
 * reader gives one wagon, whatever the header claims. */
#define WAGON_RAW_MAX ((uint64_t)1 << 30)

/* Fills hdr->version, nonce, codec, cipher, key_id, raw_len, comp_len,
 * created_us; the caller sets the rest.  out receives the whole file
 * (out->len is reset first; its memory is reused).  Returns 0, or -1
 * with errno: EFBIG when len is over WAGON_RAW_MAX, EINVAL when zstd
 * fails or a caller's field would make a header wagon_peek refuses
 * (seq 0, chunk 0, chunks other than chunk on the last chunk and 0
 * before it, a GTID longer than 47 characters or not made of digits,
 * '-' and ',', unknown flags).
 * Out of memory dies (buf.h). */
int wagon_seal(struct wagon_header *hdr, const void *records, size_t len,
    const struct srdf_key *key, int level, struct buf *out);

/* wagon_seal in two steps, for a caller that compresses one group on one
 * thread while another thread encrypts the previous one (srdf-seal).
 * wagon_compress: records (len bytes) compressed at zstd level into out,
 * behind room for the header (out->len = WAGON_HEADER_LEN + compressed
 * length), with capacity left for tag and checksum; -1 with errno
 * EFBIG or EINVAL as wagon_seal.  wagon_finish: on such an out, fills
 * hdr as wagon_seal does (raw_len is the uncompressed length), encrypts
 * in place and appends the tag and the SHA-256; -1 with errno EINVAL
 * for an out wagon_compress did not make or a header wagon_peek would
 * refuse.  wagon_seal(h, r, n, k, lvl, o) is wagon_compress(r, n, lvl, o)
 * then wagon_finish(h, n, k, o), byte for byte.  zstd's own buffers,
 * which hold pieces of the records, are wiped before they are freed;
 * out and records are the caller's to wipe (buf_free_wiped). */
int wagon_compress(const void *records, size_t len, int level, struct buf *out);
int wagon_finish(struct wagon_header *hdr, size_t raw_len,
    const struct srdf_key *key, struct buf *out);

int wagon_peek(const uint8_t *file, size_t len, struct wagon_header *hdr,
    char *err, size_t errlen);

/* The SHA-256 of file[0, len - WAGON_SUM_LEN) — the wagon's checksum,
 * which its trailer must hold — into head, and, when whole is not NULL,
 * of all len bytes into whole (the body digest a request signature
 * covers, hauth.h), in one pass over the bytes.  For a len shorter than
 * WAGON_SUM_LEN head is the hash of nothing.  Never fails. */
void wagon_sums(const uint8_t *file, size_t len, uint8_t head[WAGON_SUM_LEN],
    uint8_t whole[WAGON_SUM_LEN]);

/* wagon_peek for a caller that has the checksum of these bytes already
 * (wagon_sums, head): the same checks and answers, without hashing the
 * file again (srdf-ship, srdf-recv). */
int wagon_peek_summed(const uint8_t *file, size_t len,
    const uint8_t sum[WAGON_SUM_LEN], struct wagon_header *hdr, char *err,
    size_t errlen);

/* *records is malloc'd (NUL-terminated, *rlen bytes): the plaintext,
 * which the caller gives back with wagon_records_free.  Every other
 * buffer that held plaintext (the compressed frame; the records when
 * opening fails) is wiped before it is freed. */
int wagon_open(const uint8_t *file, size_t len, const struct srdf_key *key,
    struct wagon_header *hdr, char **records, size_t *rlen, char *err,
    size_t errlen);

/* wagon_open for a reader that holds the key and will use the records
 * (srdf-apply): the AEAD tag authenticates the header and the payload,
 * everything the checksum covers, so the SHA-256 is computed only when
 * the wagon is refused past the length check, to answer WAGON_ESUM for
 * a damaged file as wagon_open does.  Same arguments, answers and
 * ownership as wagon_open, but for one case: a file whose only damage is
 * in its trailer opens (its content is authentic). */
int wagon_open_tagged(const uint8_t *file, size_t len,
    const struct srdf_key *key, struct wagon_header *hdr, char **records,
    size_t *rlen, char *err, size_t errlen);

/* wagon_open's steps after wagon_peek, for a caller that has just had
 * wagon_peek return 0 on these same bytes and fill hdr (srdf-recv): the
 * SHA-256 is not computed twice.  Returns 0, WAGON_EKEY, WAGON_EAUTH,
 * WAGON_ECODEC or WAGON_ENOMEM, as wagon_open. */
int wagon_open_peeked(const uint8_t *file, size_t len,
    const struct srdf_key *key, const struct wagon_header *hdr, char **records,
    size_t *rlen, char *err, size_t errlen);

/* Wipes records (rlen bytes and the NUL after them, as wagon_open
 * returned them: rlen is that length, whatever the caller did to the
 * bytes since) and frees it; NULL does nothing.  Never fails. */
void wagon_records_free(char *records, size_t rlen);

/* Wagon file name for a sequence: "%020llu.wagon", sorting in sequence
 * order under ls(1).  buf must hold WAGON_NAME_LEN bytes.
 * wagon_name_seq is its inverse: the sequence of such a name, or 0 for
 * any other name (not 20 digits and ".wagon", or beyond 2^64 - 1). */
#define WAGON_NAME_LEN 32
void wagon_name(uint64_t seq, char *buf);
uint64_t wagon_name_seq(const char *name);

/*
 * Key files (srdf-keygen(1) KEY FILES): 1 to KEY_RING_MAX lines
 * "srdf-key-v1 KEYID KEY\n", oldest first, KEYID 16 hex digits (the first
 * 8 bytes of BLAKE2b-256 of the key, so a key id never names two keys),
 * KEY 64 hex digits.  The last line is the newest key: the one that seals
 * wagons and signs requests and ACKs; every key of the ring opens wagons
 * and verifies what the other side signed.  key_load refuses a file
 * readable by group or others (mode must be 0600 or stricter), a
 * malformed line, an id that does not match its key, a key given twice,
 * or more than KEY_RING_MAX keys.
 * Returns the newest key (the others through ->older), or NULL with the
 * reason in err.  The keys are never logged.
 *
 * key_find: the key of the ring with this id, or NULL.
 * key_ring_ids: the ring's ids, newest first, separated by ", ", into
 * out (at most KEY_RING_MAX * 18 bytes; truncated to len).
 *
 * A key from key_load or key_new lives in memory of its own, never in
 * the caller's: guard pages around it, left out of core dumps
 * (MADV_DONTDUMP), locked in RAM when RLIMIT_MEMLOCK allows (a notice
 * says so when not; it is no error), read-only once filled.  Copying
 * *key anywhere else would undo that: pass the pointer.  The caller owns
 * it and gives it back with key_free, which wipes it and the older keys
 * of its ring; key_free(NULL) does nothing.
 */
struct srdf_key *key_load(const char *path, char *err, size_t errlen);
const struct srdf_key *key_find(
    const struct srdf_key *ring, const uint8_t id[8]);
void key_ring_ids(const struct srdf_key *ring, char *out, size_t len);
void key_free(struct srdf_key *key);
void key_id_hex(const uint8_t id[8], char out[17]);

/* key_new: a new random key and its id, as key_load's (caller frees
 * with key_free); NULL if libsodium cannot start or on no memory.
 * key_format: the key file's line, newline included, in line
 * (KEY_LINE_LEN bytes and a NUL); the caller sodium_memzero's line. */
#define KEY_LINE_LEN 94
struct srdf_key *key_new(void);
void key_format(const struct srdf_key *key, char line[KEY_LINE_LEN + 1]);

/* The subkey of key for one purpose, into out (32 bytes; the caller
 * wipes it with sodium_memzero): crypto_kdf_derive_from_key with the
 * context "srdf-key" and the purpose as subkey id (srdf(7) SECURITY).
 * Nothing is encrypted or signed with the key itself. */
enum {
	KEY_SUB_WAGON = 1,  /* wagon encryption, format version 2 */
	KEY_SUB_RECV = 2,   /* requests to srdf-recv */
	KEY_SUB_ACKD = 3,   /* requests to srdf-ackd (ACKs) */
	KEY_SUB_ANSWER = 4, /* answers of srdf-recv and srdf-ackd */
};
void key_subkey(const struct srdf_key *key, int purpose, uint8_t out[32]);

#endif
