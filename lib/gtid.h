/*
 * gtid.h — MariaDB GTIDs and GTID positions (MariaDB docs, "Global
 * Transaction ID"): a GTID is domain-server-sequence; a position holds
 * one GTID per replication domain, comma-separated ("0-1-100,1-2-7"), as
 * @@gtid_binlog_pos prints it and @slave_connect_state takes it.
 *
 * gtid_pos_parse: s → *p (replacing its contents); "" is the empty
 * position.  Returns 0, or -1 when s is not a position (a malformed GTID,
 * a domain twice); *p is then empty.
 * gtid_pos_set: g becomes its domain's GTID in p (added if new).
 * gtid_pos_merge: every domain of q overrides p's (srdf-seal merges a
 * group's position into the stored one: a group only names the domains
 * it saw).
 * gtid_pos_format: appends the text form to b (NUL-terminated, not
 * counted in b->len).  Memory: gtid_pos_free; allocation failure dies.
 */
#ifndef SRDF_GTID_H
#define SRDF_GTID_H

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
};

int gtid_pos_parse(const char *s, struct gtid_pos *p);
void gtid_pos_set(struct gtid_pos *p, const struct gtid *g);
void gtid_pos_merge(struct gtid_pos *p, const struct gtid_pos *q);
void gtid_pos_format(const struct gtid_pos *p, struct buf *b);
void gtid_pos_free(struct gtid_pos *p);

#endif
