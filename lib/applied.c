/* applied.c — srdf-apply's checkpoint table, read; see applied.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysqld_error.h>

#include "applied.h"
#include "buf.h"
#include "maria.h"
#include "xalloc.h"

void
applied_free(struct applied_rows *out)
{
	for (size_t i = 0; i < out->n; i++) {
		free(out->v[i].last_gtid);
		free(out->v[i].gtid_pos);
	}
	free(out->v);
	out->v = NULL;
	out->n = 0;
}

static void
take_row(MYSQL_ROW row, struct applied *a)
{
	memset(a, 0, sizeof *a);
	if (row[0] != NULL && strlen(row[0]) == 32)
		memcpy(a->source_id, row[0], 33);
	a->seq = row[1] ? strtoull(row[1], NULL, 10) : 0;
	a->last_gtid = xstrdup(row[2]);
	a->gtid_pos = xstrdup(row[3]);
	a->applied_at = row[4] ? strtod(row[4], NULL) : -1;
	a->part = row[5] ? atoi(row[5]) : 0;
}

int
applied_read(MYSQL *my, const char *source, struct applied_rows *out, char *err,
    size_t errlen)
{
	struct buf q = {0};
	MYSQL_RES *r;
	MYSQL_ROW row;
	size_t cap = 0;
	int old = 0;

	applied_free(out);
again:
	q.len = 0;
	buf_puts(&q, old ? "SELECT " APPLIED_COLUMNS_V1 ", 0"
	                 : "SELECT " APPLIED_COLUMNS);
	buf_puts(&q, " FROM " APPLIED_TABLE);
	if (source != NULL) {
		buf_puts(&q, " WHERE source_id='");
		maria_escape(&q, source);
		buf_puts(&q, "'");
	}
	buf_puts(&q, " ORDER BY applied_at DESC");
	buf_putc(&q, '\0');
	if (mysql_query(my, q.p) != 0 && !old &&
	    mysql_errno(my) == ER_BAD_FIELD_ERROR /* no part yet */) {
		old = 1;
		goto again;
	}
	if (mysql_errno(my) != 0 || (r = mysql_store_result(my)) == NULL) {
		snprintf(err, errlen, "%s (error %u)", mysql_error(my),
		    mysql_errno(my));
		buf_free(&q);
		return -1;
	}
	buf_free(&q);
	while ((row = mysql_fetch_row(r)) != NULL) {
		out->v = xgrow(out->v, &cap, out->n + 1, sizeof *out->v);
		take_row(row, &out->v[out->n++]);
	}
	mysql_free_result(r);
	return 0;
}
