/*
 * buf.h — a growable byte buffer and the JSON writer of srdf records.
 *
 * Records (srdf-record(5)) are written on the capture hot path, so they
 * are produced by these appenders rather than by building jansson trees:
 * a row image costs one pass over its bytes.  Every record written this
 * way is read back by jansson (record.h) in the tests.
 *
 * Calling sequence: struct buf b = {0}; buf_*(&b, ...); use b.p, b.len;
 * buf_free(&b).  Appenders never fail: on allocation failure they call
 * die(EX_OSERR) — a capture that cannot allocate a row cannot go on.
 */
#ifndef SRDF_BUF_H
#define SRDF_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	char *p;
	size_t len;
	size_t cap;
};

void buf_grow(struct buf *b, size_t need);
void buf_free(struct buf *b);
/* buf_free for a buffer that held plaintext records: its whole capacity
 * is wiped (sodium_memzero) before it is freed.  The copies a buf_grow
 * left behind when it moved the bytes are not: a caller that must leave
 * none sizes the buffer once. */
void buf_free_wiped(struct buf *b);

static inline void
buf_add(struct buf *b, const void *s, size_t n)
{
	if (b->cap - b->len < n + 1)
		buf_grow(b, n + 1);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static inline void
buf_putc(struct buf *b, char c)
{
	if (b->cap - b->len < 2)
		buf_grow(b, 2);
	b->p[b->len++] = c;
}

/* Appends a string literal; its length is known at compile time. */
/* lit: a string literal only (the "" makes anything else an error). */
#define buf_lit(b, lit) buf_add((b), "" lit, sizeof(lit) - 1)

void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_u64(struct buf *b, uint64_t v);
void buf_i64(struct buf *b, int64_t v);

/* JSON integer; as a JSON string when |v| >= 2^53 (srdf-record(5)). */
void buf_json_u64(struct buf *b, uint64_t v);
void buf_json_i64(struct buf *b, int64_t v);

/* A finite FLOAT value as a JSON number: the shortest decimal that
 * strtof, and strtod then a cast to float (how the server reads a
 * literal into a FLOAT column), both read back as exactly f, sign of
 * zero included, and that is not beyond FLT_MAX in magnitude read as a
 * double (else the server refuses it: "Out of range value").  At most 9
 * significant digits, except for +-FLT_MAX, whose 8-digit rounding lies
 * above it: the shortest digits toward zero that still read back as it
 * (-3.4028234e+38).  srdf-record(5), "Values". */
void buf_json_float(struct buf *b, float f);

/* A JSON string from UTF-8 bytes s[0..n) (quotes included).  The caller
 * has checked utf8_valid(); control characters are escaped. */
void buf_json_str(struct buf *b, const char *s, size_t n);

/* {"b64":"..."} holding bytes s[0..n) exactly (RFC 4648 base64). */
void buf_json_b64(struct buf *b, const void *s, size_t n);

/* 1 when s[0..n) is well-formed UTF-8 (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), else 0. */
int utf8_valid(const unsigned char *s, size_t n);

#endif
