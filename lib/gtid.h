/*
 * gtid.h — MariaDB GTIDs and GTID positions, the one parser of them in
 * srdf (MariaDB docs, "Global Transaction ID"; srdf's use: srdf(7),
 * srdf-record(5) "gtid", srdf-apply(1) srdf.applied).  A GTID is
 * domain-server-sequence (decimal, 32, 32 and 64 bits); a position holds
 * one GTID per replication domain, comma-separated ("0-1-100,1-2-7"), as
 * @@gtid_binlog_pos prints it and @slave_connect_state takes it.  Within
 * a domain, GTIDs are ordered by sequence number alone.
 *
 * Parsing is strict and fails closed: no sign, no empty element, no
 * trailing comma or text, no number out of range, no domain twice; only
 * spaces before a GTID are allowed (as MariaDB may print them).  There is
 * no limit on the number of domains.
 *
 * Calling sequence: struct gtid_pos p = {0}; gtid_pos_parse(s, &p) ...;
 * gtid_pos_free(&p).
 *
 * gtid_parse: one GTID, the whole of s, → *g.  0, or -1 (*g undefined).
 * gtid_pos_parse: s → *p (replacing its contents); "" is the empty
 * position.  Returns 0, or -1 when s is not a position; *p is then empty.
 * gtid_pos_find: p's GTID of domain, or NULL (borrowed from p).
 * gtid_pos_set: g becomes its domain's GTID in p (added if new).
 * gtid_pos_advance: as gtid_pos_set, but only when g is beyond p's GTID of
 * its domain (a higher sequence number): p merged with g.
 * gtid_pos_merge: every domain of q overrides p's (srdf-seal merges a
 * group's position into the stored one: a group only names the domains
 * it saw).
 * gtid_pos_max: every GTID of q advances p (gtid_pos_advance): per
 * domain the higher of the two.
 * gtid_cmp: orders two GTIDs by domain, then sequence number: <0, 0, >0.
 * gtid_pos_covers: 1 when p holds g's domain at a sequence number at
 * least g's (g is within p), else 0.
 * gtid_pos_reached: 1 when have covers every GTID of want, else 0 (the
 * empty want is reached by anything).
 * gtid_format: appends "d-s-n" to b; gtid_pos_format: the position's text
 * form.  Both leave b NUL-terminated (the NUL not counted in b->len).
 *
 * Text forms, for callers that keep positions as strings (srdf-apply's
 * checkpoint columns): gtid_pos_valid(s): 1 when s is a position (as
 * gtid_pos_parse takes it), 0 when not or NULL.  gtid_within(gtid,
 * pos): 1 when the GTID text gtid lies within the position text pos; 0
 * when not, when either is NULL, and when either is malformed (so a
 * damaged position never makes a GTID count as done).  gtid_merge(a, b): the position a with b laid over
 * it, per domain the higher sequence number, malloc'd; a or b NULL is
 * the empty position; NULL when a or b is malformed.
 *
 * Memory: gtid_pos_free; allocation failure dies (lib/xalloc.h).
 */
#ifndef SRDF_GTID_H
#define SRDF_GTID_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct gtid {
	uint32_t domain;
	uint32_t server;
	uint64_t seq;
};

struct gtid_pos {
	struct gtid *g;
	int n;
	size_t cap; /* room in g, in GTIDs */
};

int gtid_parse(const char *s, struct gtid *g);
int gtid_pos_parse(const char *s, struct gtid_pos *p);
const struct gtid *gtid_pos_find(const struct gtid_pos *p, uint32_t domain);
void gtid_pos_set(struct gtid_pos *p, const struct gtid *g);
void gtid_pos_advance(struct gtid_pos *p, const struct gtid *g);
void gtid_pos_merge(struct gtid_pos *p, const struct gtid_pos *q);
void gtid_pos_max(struct gtid_pos *p, const struct gtid_pos *q);
int gtid_cmp(const struct gtid *a, const struct gtid *b);
int gtid_pos_covers(const struct gtid_pos *p, const struct gtid *g);
int gtid_pos_reached(const struct gtid_pos *have, const struct gtid_pos *want);
void gtid_format(const struct gtid *g, struct buf *b);
void gtid_pos_format(const struct gtid_pos *p, struct buf *b);
void gtid_pos_free(struct gtid_pos *p);

int gtid_pos_valid(const char *s);
int gtid_within(const char *gtid, const char *pos);
char *gtid_merge(const char *a, const char *b);

#endif
