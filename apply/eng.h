/*
 * eng.h — the insides of srdf-apply's engine, shared by the files that
 * make it up:
 *	engine.c  the net delta: tables, folding, rendering of row
 *	          statements, source order, system-versioned history,
 *	          moves; engine_run
 *	load.c    a table's inserts as one bulk load (db_bulk)
 *	ddl.c     a "ddl" record run, and what a crash may have left of it
 *	peek.c    the payload's framing, and what a wagon is (engine_peek)
 *
 * Calling sequence: engine_run_many (engine.c) reads the payload with
 * eng_next_line and eng_parse (peek.c), folds its rows into struct eng,
 * runs its DDL by run_ddl (ddl.c) and at the end writes each table's
 * statements, its inserts by emit_load when bulk_plan (load.c) chose a
 * bulk load.
 *
 * Error handling: every int function returns a DB_* code (apply.h), the
 * reason in e->d->err on DB_FAIL; eng_bad formats a payload error with
 * its line.  Nothing exits.
 */
#ifndef SRDF_APPLY_ENG_H
#define SRDF_APPLY_ENG_H

#include <jansson.h>

#include "apply.h"
#include "db.h"
#include "recopy.h"
#include "scan.h"

enum { T_INSERT, T_UPDATE, T_DELETE };
/* A change to a system-versioned table, as one statement of its own in
 * the arena (versioned_add): */
enum { T_VINSERT = 3, T_VUPDATE, T_VDELETE, T_VPURGE };

/* The columns of an image, as the records list them. */
struct plan {
	char **names;
	unsigned *flags;
	size_t n;
	char *cols; /* "(`a`,`b`)": what an INSERT writes, generated left out */
};

/* One primary key of a table, folded over the group. */
struct ent {
	size_t key; /* arena offset of the key's SQL text */
	size_t val; /* arena offset of the after-image "(v,...)" */
	uint32_t keylen;
	uint32_t vallen;
	uint32_t plan;
	uint8_t before; /* the row existed before the group */
	uint8_t after;  /* ... and exists after it, as val */
	uint8_t move;   /* MOVE_FROM, MOVE_TO: the two keys of a move */
	uint8_t lax;    /* val holds an ENUM "": written in a lax mode */
	uint32_t mvto;  /* 1 + index of the move into this key, or 0 */
	/* An exact undo (db.exact, engine.c "Exact undo"): the row as
	 * the first before-image of the key has it, "`a`<=>v AND ...",
	 * arena offset and length (0 when not before) */
	size_t bw;
	uint32_t bwlen;
};

/* A primary-key change of a parent of an ON UPDATE rule (see "Moves"):
 * the entries of the old and the new key, "`k`=v,..." of the new (or of
 * the referenced columns, in place), and "`c`=v,..." of the other
 * columns as the group leaves the row (emit_move_preps). */
struct move {
	uint32_t from, to;
	size_t set, pre;
	uint32_t setlen, prelen;
};
enum { MOVE_FROM = 1, MOVE_TO = 2 };

/* One change of a table without a primary key, in order. */
struct op {
	uint8_t type;
	uint8_t lax; /* val holds an ENUM "" (struct ent) */
	uint32_t plan;
	size_t where, val; /* arena offsets */
	uint32_t wherelen, vallen;
	size_t ts; /* T_VUPDATE, T_VDELETE: @@timestamp */
	uint32_t tslen;
};

struct tab {
	char *db, *name;
	char *label; /* db.name, for messages */
	char *qname; /* `db`.`name` */
	struct tinfo *ti;
	char **pk;
	unsigned *pkflags;
	size_t npk;
	struct plan *plans;
	size_t nplans;
	uint32_t curplan;
	struct ent *ent;
	size_t nent, capent;
	uint32_t *slot; /* open addressing over ent: index + 1, 0 empty */
	size_t nslot;
	struct op *op;
	size_t nop, capop;
	struct move *mv;
	size_t nmv, capmv, nmoved;
	struct tab *hnext;
	/* A bulk load (load.c), decided before the deletes: */
	int bulk;
	uint32_t bulkplan;
	long long nafter, nupd; /* after-images; of keys that existed */
	struct buf cells;       /* its values, as struct bulk_cell, row-major,
				 * over the arena's bytes */
	struct buf text, fix;   /* bulk_text's decoded strings; their cells */
};

#define TBUCKETS 64

struct eng {
	struct db *d;
	struct inwagon *w;
	struct buf arena;
	struct tab **tabs; /* in order of first appearance */
	size_t ntab, captab;
	struct tab *hash[TBUCKETS];
	struct tab *last;
	unsigned long line;
	struct scanner sc;         /* row records: no jansson tree */
	struct buf tmp, sdb, stab; /* decoded strings */
	int merged;                /* engine_run_many of more than one */
	/* The tables copied again whose older changes are skipped
	 * (recopy.c), or NULL */
	const struct recopy_list *recopied;
	int lax; /* literal() wrote an ENUM "" since reset */
	/* In source order (see "Cascades"): the rows go one by one, as
	 * they come; an INSERT is kept open for the next row of its table
	 * and plan (on rows so far, otab NULL when none). */
	int ordered;
	struct tab *otab;
	uint32_t oplan;
	int onofk;
	long long on;
};

/* run_payload's answer, inside the engine only: a row that needs the
 * wagon in source order came while folding (see "Cascades"). */
#define ENG_REORDER 100

int eng_bad(struct eng *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* eng_stmt queues sql (a NUL-terminated constant) as one statement of
 * kind that must touch no particular number of rows. */
int eng_stmt(struct db *d, const char *kind, const char *sql);
/* lax_prefix writes the SET STATEMENT of the lax sql_mode (engine.c). */
void lax_prefix(struct buf *q);

/* load.c (srdf-apply(1); load.c says when): bulk_plan sets t->bulk when
 * t's after-images go by bulk load; emit_load writes them so, *loaded
 * saying whether the server took them (else the caller inserts them). */
void bulk_plan(struct eng *e, struct tab *t);
int emit_load(struct eng *e, struct tab *t, int *loaded);

/* ddl.c: runs "ddl" record rec, the idx-th (from 0) of e->w, with mark
 * called around it (apply.h, ddl_mark_fn). */
int run_ddl(struct eng *e, json_t *rec, int idx, ddl_mark_fn mark, void *arg);

/* peek.c: eng_next_line gives the next line of a payload, [*line,
 * returned end), NULL at its end, *trunc set for a last line without its
 * newline; eng_parse parses record s..z and checks it (record_check),
 * its type in *type: NULL with *rc = eng_bad(...) when malformed. */
const char *eng_next_line(
    const char **p, const char *end, const char **line, int *trunc);
json_t *eng_parse(
    struct eng *e, const char *s, const char *z, const char **type, int *rc);

#endif
