/* fold.c — net-effect folding of one consistency group; see fold.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "fold.h"
#include "log.h"
#include "xalloc.h"

#define NO_SLOT UINT32_MAX
#define MARK_SLOT (UINT32_MAX - 1) /* a trx record */

/* One output position: a slot's row, or (slot NO_SLOT) a row of a table
 * without a primary key, written as it came. */
struct fold_ent {
	size_t off;
	uint32_t len;
	uint32_t slot;
};

/* One row of the group.  Its net before-image is the "before" of the
 * first record (when before), its net after-image the "after" of the
 * last record (when after).  raw: one record, not a key change, so its
 * own line is the net effect; RAW_MOVE: one half of a key change (pair:
 * the other half), whose record is the net effect of both when neither
 * row has another record. */
struct fold_slot {
	uint64_t hash;
	size_t key;
	uint32_t keylen;
	uint32_t n;
	uint32_t pair;
	uint32_t trx; /* the group's transaction that changed it last */
	size_t first, last;
	uint32_t firstlen, lastlen;
	uint8_t before, after, raw;
};

#define RAW_MOVE 2

/* An index entry is in use when gen is the fold's; h is the key hash's
 * high bits, so a probe touches a slot only when they match. */
struct fold_idx {
	uint32_t gen;
	uint32_t slot;
	uint32_t h;
};

/* ---- keys ---------------------------------------------------------- */

static void
put_len(struct buf *b, size_t at)
{
	uint32_t n = (uint32_t)(b->len - at - 4);

	memcpy(b->p + at, &n, 4);
}

/* A length-prefixed field: reserve the prefix, append, then put_len. */
static size_t
open_field(struct buf *b, char tag)
{
	uint32_t zero = 0;
	size_t at;

	buf_putc(b, tag);
	at = b->len;
	buf_add(b, &zero, 4);
	return at;
}

static void
canon_number(const char *p, const char *q, struct buf *b)
{
	size_t n = (size_t)(q - p), at;
	char t[400], *end;
	double x;

	if (memchr(p, '.', n) == NULL && memchr(p, 'e', n) == NULL &&
	    memchr(p, 'E', n) == NULL) {
		at = open_field(b, 'i');
		if (n == 2 && p[0] == '-' && p[1] == '0')
			buf_putc(b, '0');
		else
			buf_add(b, p, n);
		put_len(b, at);
		return;
	}
	/* A real: by value, and an integral one as the integer it equals,
	 * so 1, 1.0 and 1e0 are one key. */
	if (n >= sizeof t)
		n = sizeof t - 1; /* longer spellings: beyond a double anyway */
	memcpy(t, p, n);
	t[n] = '\0';
	x = strtod(t, &end);
	at = open_field(b, 'i');
	if (x == floor(x) && fabs(x) < 9.2e18) {
		buf_printf(b, "%lld", (long long)x);
	} else {
		b->p[at - 1] = 'r';
		buf_add(b, &x, sizeof x);
	}
	put_len(b, at);
}

/* The canonical form of the JSON value at p (scan_record accepted it):
 * strings decoded, numbers by value, no white space. */
static const char *
canon(const char *p, const char *e, struct buf *b)
{
	const char *q;
	struct jspan sp;
	struct jstr j;
	size_t at;
	char close;

	p = json_ws(p, e);
	switch (*p) {
	case '"':
		q = json_skip(p, e);
		sp.p = p;
		sp.n = (size_t)(q - p);
		jspan_str(sp, &j);
		at = open_field(b, 's');
		jstr_decode(&j, b);
		put_len(b, at);
		return q;
	case '{':
	case '[':
		close = *p == '{' ? '}' : ']';
		buf_putc(b, *p);
		p = json_ws(p + 1, e);
		while (*p != close) {
			if (close == '}') {
				p = json_ws(canon(p, e, b), e);
				p++; /* ':' */
			}
			p = json_ws(canon(p, e, b), e);
			if (*p == ',')
				p = json_ws(p + 1, e);
		}
		buf_putc(b, close);
		return p + 1;
	case 't':
		buf_putc(b, 't');
		return p + 4;
	case 'f':
		buf_putc(b, 'f');
		return p + 5;
	case 'n':
		buf_putc(b, 'n');
		return p + 4;
	default:
		q = json_skip(p, e);
		canon_number(p, q, b);
		return q;
	}
}

static int
jstr_equal(struct fold *f, const struct jstr *a, const struct jstr *b)
{
	size_t n;

	if (!a->esc && !b->esc)
		return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
	f->tmp.len = 0;
	jstr_decode(a, &f->tmp);
	n = f->tmp.len;
	jstr_decode(b, &f->tmp);
	return f->tmp.len - n == n && memcmp(f->tmp.p, f->tmp.p + n, n) == 0;
}

static const char *
img_name(int img)
{
	return img == IMG_BEFORE ? "before" : "after";
}

/* The "pk" column names into f->pk; -1 when "pk" is not an array of
 * strings. */
static int
pk_names(struct fold *f, struct jspan pk)
{
	const char *p, *q, *e = pk.p + pk.n;
	struct jspan sp;

	f->npk = 0;
	if (pk.p == NULL || pk.p[0] != '[')
		return -1;
	p = json_ws(pk.p + 1, e);
	while (*p != ']') {
		if (*p != '"')
			return -1;
		q = json_skip(p, e);
		sp.p = p;
		sp.n = (size_t)(q - p);
		f->pk = xgrow(f->pk, &f->cappk, f->npk + 1, sizeof *f->pk);
		jspan_str(sp, &f->pk[f->npk++]);
		p = json_ws(q, e);
		if (*p == ',')
			p = json_ws(p + 1, e);
	}
	return 0;
}

static int
one_key(struct fold *f, const struct rec *r, int img, const struct jstr *db,
    const struct jstr *table, struct buf *key, char *err, size_t errlen)
{
	size_t at;

	at = open_field(key, 'd');
	jstr_decode(db, key);
	put_len(key, at);
	at = open_field(key, 't');
	jstr_decode(table, key);
	put_len(key, at);
	for (size_t i = 0; i < f->npk; i++) {
		size_t m;

		for (m = 0; m < r->nmem[img]; m++)
			if (jstr_equal(f, &f->pk[i], &r->mem[img][m].key))
				break;
		if (m == r->nmem[img]) {
			f->tmp.len = 0;
			jstr_decode(&f->pk[i], &f->tmp);
			snprintf(err, errlen,
			    "primary-key column \"%.*s\" is "
			    "missing from the %s image",
			    (int)(f->tmp.len > 64 ? 64 : f->tmp.len), f->tmp.p,
			    img_name(img));
			return -1;
		}
		canon(r->mem[img][m].val.p,
		    r->mem[img][m].val.p + r->mem[img][m].val.n, key);
	}
	return 0;
}

/* Whether value v is the greatest TIMESTAMP(6), which a system-versioned
 * table's current row holds as ROW END, a column MariaDB adds to its
 * primary key (2106 on MariaDB 11.5 and later; "System-Versioned
 * Tables" in MariaDB's docs). */
static int
ts_max(struct jspan v)
{
	static const char *const max[] = {
	    "\"2038-01-19 03:14:07.999999\"", "\"2106-02-07 06:28:15.999999\""};

	for (size_t i = 0; i < sizeof max / sizeof max[0]; i++)
		if (v.n == strlen(max[i]) && memcmp(v.p, max[i], v.n) == 0)
			return 1;
	return 0;
}

/* Whether the table of key (its "d" and "t" fields, len bytes) is
 * system-versioned: known, or told by record r (a primary-key value at
 * the greatest TIMESTAMP), then remembered for the run.  Its rows are
 * never folded: each version of a row is a row of its own, with its
 * own period, that the target must write (srdf-dedup(1)). */
static int
versioned(struct fold *f, const struct rec *r, const char *key, size_t len)
{
	const char *p = f->vers.p, *end = f->vers.p + f->vers.len;
	uint32_t n;
	int seen = 0;

	for (; p < end; p += 4 + n) {
		memcpy(&n, p, 4);
		if (n == len && memcmp(p + 4, key, len) == 0)
			return 1;
	}
	for (int img = 0; img < 2 && !seen; img++)
		for (size_t m = 0; m < r->nmem[img] && !seen; m++)
			for (size_t i = 0; i < f->npk && !seen; i++)
				seen = jstr_equal(
				           f, &f->pk[i], &r->mem[img][m].key) &&
				       ts_max(r->mem[img][m].val);
	if (seen) {
		n = (uint32_t)len;
		buf_add(&f->vers, &n, 4);
		buf_add(&f->vers, key, len);
	}
	return seen;
}

int
row_keys(struct fold *f, const struct rec *r, struct buf *keys, size_t *kbn,
    size_t *kan, char *err, size_t errlen)
{
	static const char *const tn[] = {[R_INSERT] = "insert",
	    [R_UPDATE] = "update",
	    [R_DELETE] = "delete"};
	struct jstr db, table;
	int need[2];
	size_t at, start;
	uint32_t tl;

	*kbn = *kan = 0;
	need[IMG_BEFORE] = r->type != R_INSERT;
	need[IMG_AFTER] = r->type != R_DELETE;
	if (jspan_str(r->db, &db) != 0 || jspan_str(r->table, &table) != 0) {
		snprintf(err, errlen,
		    "%s record without \"db\" and \"table\" "
		    "strings",
		    tn[r->type]);
		return -1;
	}
	if (pk_names(f, r->pk) != 0) {
		snprintf(err, errlen,
		    "%s record whose \"pk\" is not an array "
		    "of column names",
		    tn[r->type]);
		return -1;
	}
	for (int i = 0; i < 2; i++)
		if (need[i] && (r->img[i].p == NULL || r->img[i].p[0] != '{')) {
			snprintf(err, errlen, "%s record without %s image",
			    tn[r->type],
			    i == IMG_BEFORE ? "a \"before\"" : "an \"after\"");
			return -1;
		}
	if (f->npk == 0)
		return 0;
	start = keys->len;
	for (int i = 0; i < 2; i++) {
		if (!need[i])
			continue;
		at = keys->len;
		if (one_key(f, r, i, &db, &table, keys, err, errlen) != 0)
			return -1;
		*(i == IMG_BEFORE ? kbn : kan) = keys->len - at;
	}
	/* The "d" and "t" fields: the key's first two */
	memcpy(&tl, keys->p + start + 1, 4);
	at = 5 + tl;
	memcpy(&tl, keys->p + start + at + 1, 4);
	if (versioned(f, r, keys->p + start, at + 5 + tl)) {
		keys->len = start;
		*kbn = *kan = 0;
		return 0;
	}
	return 1;
}

/* ---- the index ----------------------------------------------------- */

static uint64_t
hash_key(const char *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, w;

	while (n >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
		h ^= h >> 32;
		p += 8;
		n -= 8;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
	h ^= h >> 29;
	h *= 0x9E3779B97F4A7C15ULL;
	return h ^ (h >> 32);
}

static void
idx_insert(struct fold *f, uint32_t slot)
{
	size_t mask = f->idxcap - 1, i;

	for (i = f->slots[slot].hash & mask; f->idx[i].gen == f->gen;
	     i = (i + 1) & mask)
		;
	f->idx[i].gen = f->gen;
	f->idx[i].slot = slot;
	f->idx[i].h = (uint32_t)(f->slots[slot].hash >> 32);
}

/* Keeps the load at most one half. */
static void
idx_grow(struct fold *f)
{
	size_t cap = f->idxcap ? f->idxcap * 2 : 1024;

	if (2 * (f->nslots + 1) <= f->idxcap)
		return;
	free(f->idx);
	f->idx = xcalloc(cap, sizeof *f->idx);
	f->idxcap = cap;
	f->gen = 1;
	for (size_t s = 0; s < f->nslots; s++)
		idx_insert(f, (uint32_t)s);
}

static void
add_ent(struct fold *f, size_t off, uint32_t len, uint32_t slot)
{
	f->ents = xgrow(f->ents, &f->capents, f->nents + 1, sizeof *f->ents);
	f->ents[f->nents].off = off;
	f->ents[f->nents].len = len;
	f->ents[f->nents].slot = slot;
	f->nents++;
}

/* One record's change to one row: before/after say whether the row
 * exists before and after this change. */
static uint32_t
contribute(struct fold *f, const char *key, size_t keylen, size_t off,
    uint32_t len, int before, int after, int raw)
{
	uint64_t h = hash_key(key, keylen);
	struct fold_slot *s;
	size_t mask, i;

	if (f->idxcap == 0)
		idx_grow(f);
	mask = f->idxcap - 1;
	for (i = h & mask; f->idx[i].gen == f->gen; i = (i + 1) & mask) {
		if (f->idx[i].h != (uint32_t)(h >> 32))
			continue;
		s = &f->slots[f->idx[i].slot];
		if (s->hash == h && s->keylen == keylen &&
		    memcmp(f->keys.p + s->key, key, keylen) == 0) {
			if (s->trx != f->trx)
				f->crossed = 1;
			s->trx = f->trx;
			s->last = off;
			s->lastlen = len;
			s->after = (uint8_t)after;
			s->raw = 0;
			s->n++;
			return f->idx[i].slot;
		}
	}
	idx_grow(f);
	f->slots =
	    xgrow(f->slots, &f->capslots, f->nslots + 1, sizeof *f->slots);
	s = &f->slots[f->nslots];
	s->hash = h;
	s->key = f->keys.len;
	s->keylen = (uint32_t)keylen;
	buf_add(&f->keys, key, keylen);
	s->first = s->last = off;
	s->firstlen = s->lastlen = len;
	s->before = (uint8_t)before;
	s->after = (uint8_t)after;
	s->raw = (uint8_t)raw;
	s->n = 1;
	s->pair = NO_SLOT;
	s->trx = f->trx;
	idx_insert(f, (uint32_t)f->nslots);
	add_ent(f, 0, 0, (uint32_t)f->nslots);
	return (uint32_t)f->nslots++;
}

void
fold_row(struct fold *f, enum rec_type type, const char *line, size_t n,
    int nokey, const char *kb, size_t kbn, const char *ka, size_t kan)
{
	size_t off = f->arena.len;
	uint32_t len = (uint32_t)n;

	buf_add(&f->arena, line, n);
	f->lines =
	    xgrow(f->lines, &f->caplines, f->nlines + 2, sizeof *f->lines);
	f->lines[f->nlines++] = off;
	f->lines[f->nlines++] = n;
	if (nokey) {
		add_ent(f, off, len, NO_SLOT);
		return;
	}
	switch (type) {
	case R_INSERT:
		contribute(f, ka, kan, off, len, 0, 1, 1);
		break;
	case R_DELETE:
		contribute(f, kb, kbn, off, len, 1, 0, 1);
		break;
	default:
		if (kbn == kan && memcmp(kb, ka, kbn) == 0) {
			contribute(f, kb, kbn, off, len, 1, 1, 1);
		} else {
			/* A primary-key change: delete the old row, insert
			 * the new one; kept as one update (a move) when
			 * nothing else touches either row (fold_emit), so
			 * that srdf-apply can make the target's ON UPDATE
			 * CASCADE act. */
			uint32_t a =
			    contribute(f, kb, kbn, off, len, 1, 0, RAW_MOVE);
			uint32_t b =
			    contribute(f, ka, kan, off, len, 0, 1, RAW_MOVE);

			if (f->slots[a].n == 1 && f->slots[b].n == 1) {
				f->slots[a].pair = b;
				f->slots[b].pair = a;
			}
		}
	}
}

void
fold_trx(struct fold *f, const char *line, size_t n)
{
	size_t off = f->arena.len;

	buf_add(&f->arena, line, n);
	f->lines =
	    xgrow(f->lines, &f->caplines, f->nlines + 2, sizeof *f->lines);
	f->lines[f->nlines++] = off;
	f->lines[f->nlines++] = n;
	add_ent(f, off, (uint32_t)n, MARK_SLOT);
	f->nmarks++;
	f->trx++;
}

int
fold_split(const struct fold *f)
{
	return f->ordered || !f->crossed;
}

/* ---- output -------------------------------------------------------- */

static void
rescan(struct fold *f, size_t off, uint32_t len, struct rec *r)
{
	if (scan_record(&f->sc, f->arena.p + off, len, r) != 0)
		die(EX_SOFTWARE, "internal error: a stored record no longer "
		                 "scans");
}

static void
put_span(struct buf *b, struct jspan s)
{
	buf_add(b, s.p, s.n);
}

/* The net effect of a folded row as one record. */
static int
put_folded(struct fold *f, const struct fold_slot *s, struct buf *out)
{
	struct jspan db, table, pk, before = {0}, after = {0};

	if (!s->before && !s->after)
		return 0;
	rescan(f, s->first, s->firstlen, &f->r1);
	db = f->r1.db;
	table = f->r1.table;
	pk = f->r1.pk;
	before = f->r1.img[IMG_BEFORE];
	if (s->after) {
		if (s->last != s->first)
			rescan(f, s->last, s->lastlen, &f->r2);
		else
			f->r2 = f->r1;
		after = f->r2.img[IMG_AFTER];
	}
	if (s->before && s->after)
		buf_lit(out, "{\"v\":1,\"type\":\"update\",\"db\":");
	else if (s->after)
		buf_lit(out, "{\"v\":1,\"type\":\"insert\",\"db\":");
	else
		buf_lit(out, "{\"v\":1,\"type\":\"delete\",\"db\":");
	put_span(out, db);
	buf_lit(out, ",\"table\":");
	put_span(out, table);
	buf_lit(out, ",\"pk\":");
	put_span(out, pk);
	if (s->before) {
		buf_lit(out, ",\"before\":");
		put_span(out, before);
	}
	if (s->after) {
		buf_lit(out, ",\"after\":");
		put_span(out, after);
	}
	buf_lit(out, "}\n");
	return 1;
}

uint64_t
fold_emit(struct fold *f, struct buf *out)
{
	uint64_t n = 0;

	/* Cascades: the target must delete or change the parent where the
	 * source did, among the group's other rows, for its own ON DELETE
	 * and ON UPDATE rules to do what the source's did (srdf-dedup(1),
	 * "Folding"). */
	if (f->ordered) {
		for (size_t i = 0; i < f->nlines; i += 2) {
			buf_add(out, f->arena.p + f->lines[i], f->lines[i + 1]);
			buf_putc(out, '\n');
		}
		return f->nlines / 2 - f->nmarks;
	}
	for (size_t i = 0; i < f->nents; i++) {
		const struct fold_ent *e = &f->ents[i];
		const struct fold_slot *s;

		if (e->slot == NO_SLOT || e->slot == MARK_SLOT) {
			buf_add(out, f->arena.p + e->off, e->len);
			buf_putc(out, '\n');
			n += e->slot == NO_SLOT;
			continue;
		}
		s = &f->slots[e->slot];
		if (s->n == 1 && s->raw == RAW_MOVE && s->pair != NO_SLOT &&
		    f->slots[s->pair].n == 1) {
			/* An untouched move: its record once, where the
			 * old row's first appears. */
			if (s->before) {
				buf_add(
				    out, f->arena.p + s->first, s->firstlen);
				buf_putc(out, '\n');
				n++;
			}
		} else if (s->n == 1 && s->raw == 1) {
			buf_add(out, f->arena.p + s->first, s->firstlen);
			buf_putc(out, '\n');
			n++;
		} else
			n += (uint64_t)put_folded(f, s, out);
	}
	return n;
}

void
fold_reset(struct fold *f)
{
	f->arena.len = 0;
	f->keys.len = 0;
	f->nents = 0;
	f->nslots = 0;
	f->nlines = 0;
	f->ordered = 0;
	f->trx = 0;
	f->crossed = 0;
	f->nmarks = 0;
	if (++f->gen == 0) {
		if (f->idx != NULL)
			memset(f->idx, 0, f->idxcap * sizeof *f->idx);
		f->gen = 1;
	}
}

void
fold_free(struct fold *f)
{
	buf_free(&f->arena);
	buf_free(&f->keys);
	free(f->ents);
	free(f->slots);
	free(f->idx);
	free(f->pk);
	free(f->lines);
	buf_free(&f->tmp);
	buf_free(&f->vers);
	scanner_free(&f->sc);
	memset(f, 0, sizeof *f);
}
