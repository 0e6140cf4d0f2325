/*
 * record — libFuzzer harness of the record scanner, lib/scan.c, and of
 * the srdf-record(5) reader, lib/record.c: what srdf-dedup, srdf-seal
 * and srdf-apply read from the stage before them.
 *
 * Input: srdf-record(5) lines.  Each line, copied to a buffer of its
 * exact length, goes to scan_record and to jansson (json_loadb with
 * JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, then record_check), the
 * oracle scan.h promises to agree with: the scanner accepts exactly the
 * lines jansson accepts with a kind the scanner reads and no raw NUL,
 * and every span it gives (db, table, pk, gtid, ts, xa, the images and
 * each of their members) holds the value jansson read, jstr_decode
 * giving jansson's string.  t/helpers/scanfuzz makes the same check on
 * generated records.  The whole input then goes through record_next
 * (fmemopen), which frames the lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "record.h"
#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The span's value equals jansson's v (NULL: the span must be absent). */
static int
same_value(struct jspan s, json_t *v)
{
	json_error_t je;
	json_t *w;
	int eq;

	if (s.p == NULL || v == NULL)
		return s.p == NULL && v == NULL;
	w = json_loadb(s.p, s.n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	eq = w != NULL && json_equal(w, v);
	json_decref(w);
	return eq;
}

static int
same_string(const struct jstr *js, json_t *v, struct buf *k)
{
	k->len = 0;
	jstr_decode(js, k);
	return k->len == json_string_length(v) &&
	       memcmp(k->p ? k->p : "", json_string_value(v), k->len) == 0;
}

static void
check_spans(const struct rec *r, json_t *j)
{
	static const char *const names[] = {
	    "db", "table", "pk", "gtid", "ts", "xa", "before", "after"};
	const struct jspan sp[] = {r->db, r->table, r->pk, r->gtid, r->ts,
	    r->xa, r->img[0], r->img[1]};
	struct buf k = {0};

	for (size_t i = 0; i < sizeof sp / sizeof *sp; i++)
		if (!same_value(sp[i], json_object_get(j, names[i])))
			abort();
	for (int i = 0; i < 2; i++) {
		json_t *img = json_object_get(j, i ? "after" : "before");

		if (!json_is_object(img))
			continue;
		if (r->nmem[i] != json_object_size(img))
			abort();
		for (size_t m = 0; m < r->nmem[i]; m++) {
			struct jstr js;
			json_t *v;

			k.len = 0;
			jstr_decode(&r->mem[i][m].key, &k);
			buf_putc(&k, '\0');
			v = json_object_get(img, k.p);
			if (v == NULL || !same_value(r->mem[i][m].val, v))
				abort();
			if (json_is_string(v) &&
			    (jspan_str(r->mem[i][m].val, &js) != 0 ||
			        !same_string(&js, v, &k)))
				abort();
		}
	}
	buf_free(&k);
}

static int
scanned_kind(const char *t)
{
	for (int k = R_BEGIN; k <= R_RANGE; k++)
		if (strcmp(t, rec_type_name((enum rec_type)k)) == 0)
			return 1;
	return 0;
}

static void
one_line(struct scanner *sc, const uint8_t *p, size_t n)
{
	char *line = malloc(n ? n : 1), why[256];
	json_error_t je;
	json_t *j;
	const char *type;
	struct rec r;
	int ok_scan, ok_ref;

	if (line == NULL)
		abort();
	memcpy(line, p, n);
	ok_scan = scan_record(sc, line, n, &r) == 0;
	j = json_loadb(line, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	type = j ? record_check(j, why, sizeof why) : NULL;
	/* A raw NUL: the scanner refuses it where jansson may skip it. */
	ok_ref =
	    type != NULL && scanned_kind(type) && memchr(line, '\0', n) == NULL;
	if (ok_scan != ok_ref)
		abort();
	if (ok_scan) {
		if (strcmp(type, rec_type_name(r.type)) != 0)
			abort();
		check_spans(&r, j);
	}
	json_decref(j);
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *nl;
	struct scanner sc = {0}; /* new: each input on its own */
	struct record_reader rr;
	json_t *rec;
	FILE *f;
	int rc;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		one_line(&sc, p, (size_t)(nl - p));
	}
	scanner_free(&sc);

	if (size == 0 || (f = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	record_reader_init(&rr, f, "fuzz");
	while ((rc = record_next(&rr, &rec)) == 1)
		json_decref(rec);
	if (rc == -1 && rr.err[0] == '\0')
		abort(); /* an error without its words */
	record_reader_free(&rr);
	fclose(f);
	return 0;
}
