/*
 * scan.h — srdf-dedup's record scanner: one srdf-record(5) line to the
 * byte spans of the members dedup needs, without building a tree.
 *
 * Why not jansson: json_loadb() builds a tree of allocated values and
 * runs at about 160 000 capture records per second on this hardware,
 * six times slower than srdf-capture writes them.  The scanner makes one
 * pass over the bytes, allocates nothing per record, and accepts exactly
 * what lib/record.c accepts: json_loadb(JSON_REJECT_DUPLICATES |
 * JSON_ALLOW_NUL) followed by record_check() — RFC 8259 syntax,
 * well-formed UTF-8 (no overlongs, surrogates or code points above
 * U+10FFFF), valid \u escapes and surrogate pairs, no NUL in object
 * keys, integers that fit in 64 signed bits, reals that do not overflow
 * a double, no duplicate key in any object (escapes decoded before
 * comparing), at most 2048 levels of nesting, nothing after the value;
 * then "v" the integer 1 and "type" one of the known record kinds.
 * One difference, on the safe side: a raw NUL byte is refused wherever
 * it is (jansson 2.14 skips one that follows a number or a literal).
 * t/helpers/scanfuzz checks that claim against jansson on millions of
 * mutated records (t/2005-dedup-scanner.t).
 *
 * Calling sequence:
 *	struct scanner s = {0};
 *	if (scan_record(&s, line, len, &rec) == 0) use rec (spans point
 *	    into line, valid while line is);
 *	else ask json_loadb() + record_check() for the words of the error.
 *	scanner_free(&s);
 *
 * Error handling: scan_record returns 0 or -1; it never logs and never
 * says why (the caller has jansson describe the error, so the message is
 * the one every other srdf tool gives for the same line).  Out of memory
 * dies with EX_OSERR (buf.h's policy).
 */
#ifndef SRDF_DEDUP_SCAN_H
#define SRDF_DEDUP_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Record kinds, in the order of lib/record.c. */
enum rec_type {
	R_BEGIN,
	R_COMMIT,
	R_ABORT,
	R_INSERT,
	R_UPDATE,
	R_DELETE,
	R_DDL,
	R_XA_PREPARE,
	R_XA_END,
	R_TRX,  /* a transaction's end inside a group (srdf-dedup(1)) */
	R_RANGE /* a key range copied again (srdf-bootstrap --resync) */
};

/* The text of one JSON value: p == NULL when the member is absent. */
struct jspan {
	const char *p;
	size_t n;
};

/* A JSON string's content between its quotes; esc when it holds a
 * backslash escape (then its bytes are not its value: jstr_decode). */
struct jstr {
	const char *p;
	uint32_t n;
	uint8_t esc;
};

struct jmember {
	struct jstr key;
	struct jspan val;
};

#define IMG_BEFORE 0
#define IMG_AFTER 1

struct rec {
	enum rec_type type;
	/* top-level members dedup reads (absent: p == NULL) */
	struct jspan db, table, pk, gtid, ts, xa;
	struct jspan cascade;   /* a row of a cascade parent: "true" */
	struct jspan fk_checks; /* written with foreign_key_checks=0: "false" */
	struct jspan img[2];    /* "before", "after" */
	/* the members of "before"/"after" when they are objects */
	struct jmember *mem[2];
	size_t nmem[2];
};

struct scanner {
	struct jstr *keys; /* keys of the objects being scanned */
	size_t nkeys, capkeys;
	struct jmember *mem[2];
	size_t capmem[2];
	uint32_t *ht; /* duplicate-key check of large objects */
	size_t htcap;
	struct buf t1, t2; /* decoded keys */
};

int scan_record(struct scanner *s, const char *p, size_t n, struct rec *r);
void scanner_free(struct scanner *s);
/* The record type's name as srdf-record(5) spells it. */
const char *rec_type_name(enum rec_type t);

/* Appends the value of a JSON string (escapes decoded) to b. */
void jstr_decode(const struct jstr *j, struct buf *b);
/* The value of a JSON string as bytes: j's own (no escape), or decoded
 * into tmp (its old content dropped, jstr_decode); *n is their number.
 * The pointer is valid while j's text and tmp are unchanged. */
const char *jstr_bytes(const struct jstr *j, struct buf *tmp, size_t *n);

/* A string span (quotes included, as in struct jspan) as a jstr; 0, or
 * -1 when the span is not a string. */
int jspan_str(struct jspan v, struct jstr *out);

/* Skips one JSON value that scan_record has accepted; returns its end. */
const char *json_skip(const char *p, const char *e);
const char *json_ws(const char *p, const char *e);

#endif
