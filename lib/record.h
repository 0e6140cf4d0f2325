/*
 * record.h — reading srdf-record(5) lines with jansson.
 *
 * The writer side is buf.h (capture's hot path); every consumer reads
 * through here so the framing rules hold everywhere: one JSON object per
 * line, a final line without its newline is a truncated record (an
 * error, never data), lines longer than RECORD_MAX are refused, "v" must
 * be 1 and "type" one of the known kinds.
 *
 * Calling sequence:
 *	struct record_reader r; record_reader_init(&r, stdin, "stdin");
 *	while ((rc = record_next(&r, &rec)) == 1) { use rec; json_decref(rec); }
 *	rc == 0 at a clean end of input, -1 on an error already described in
 *	r.err (with the line number), e.g. "stdin:12: truncated record".
 *	record_reader_free(&r);
 */
#ifndef SRDF_RECORD_H
#define SRDF_RECORD_H

#include <stdio.h>

#include <jansson.h>

#define RECORD_MAX (1024UL * 1024 * 1024) /* one LONGBLOB row, base64 */

struct record_reader {
	FILE *f;
	const char *name;
	unsigned long line;
	char *buf;  /* the last line read, its newline included ... */
	size_t len; /* ... and its length: srdf-seal keeps lines verbatim */
	size_t cap;
	char err[512];
};

void record_reader_init(struct record_reader *r, FILE *f, const char *name);
int record_next(struct record_reader *r, json_t **rec);

/* The two halves of record_next, for readers with a faster path for
 * some lines (srdf-seal scans row records with lib/scan.h):
 * record_read_line reads and frames one line into r->buf/r->len (1, 0 at
 * the end, -1 with r->err); record_parse parses and checks it with
 * jansson (0, or -1 with r->err). */
int record_read_line(struct record_reader *r);
int record_parse(struct record_reader *r, json_t **rec);
void record_reader_free(struct record_reader *r);

/* record_check — validates an already parsed record: returns its type
 * name, or NULL with the reason in err. */
const char *record_check(json_t *rec, char *err, size_t errlen);

#endif
