/* record.c — srdf-record(5) reader; see record.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

static const char *const kinds[] = {"begin", "commit", "abort", "insert",
    "update", "delete", "ddl", "xa_prepare", "xa_end", "range", "group_begin",
    "group_end", "trx"};

void
record_reader_init(struct record_reader *r, FILE *f, const char *name)
{
	memset(r, 0, sizeof *r);
	r->f = f;
	r->name = name;
}

void
record_reader_free(struct record_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

const char *
record_check(json_t *rec, char *err, size_t errlen)
{
	json_t *v = json_object_get(rec, "v"),
	       *t = json_object_get(rec, "type");
	const char *type;

	if (!json_is_object(rec)) {
		snprintf(err, errlen, "record is not a JSON object");
		return NULL;
	}
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		snprintf(
		    err, errlen, "unknown record version (\"v\" must be 1)");
		return NULL;
	}
	if (!json_is_string(t)) {
		snprintf(err, errlen, "record without a \"type\"");
		return NULL;
	}
	type = json_string_value(t);
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (strcmp(type, kinds[i]) == 0)
			return kinds[i];
	snprintf(err, errlen, "unknown record type \"%.40s\"", type);
	return NULL;
}

int
record_read_line(struct record_reader *r)
{
	ssize_t n;

	errno = 0;
	n = getline(&r->buf, &r->cap, r->f);
	if (n < 0) {
		if (ferror(r->f)) {
			snprintf(r->err, sizeof r->err,
			    "%s:%lu: read error: %s", r->name, r->line + 1,
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	r->line++;
	r->len = (size_t)n;
	if (r->buf[n - 1] != '\n') {
		snprintf(r->err, sizeof r->err,
		    "%s:%lu: truncated record (%zd "
		    "bytes without the final newline)",
		    r->name, r->line, n);
		return -1;
	}
	if ((size_t)n > RECORD_MAX) {
		snprintf(r->err, sizeof r->err,
		    "%s:%lu: record of %zd bytes is "
		    "longer than the limit",
		    r->name, r->line, n);
		return -1;
	}
	return 1;
}

int
record_parse(struct record_reader *r, json_t **rec)
{
	json_error_t je;
	char why[256];

	*rec = json_loadb(
	    r->buf, r->len - 1, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (*rec == NULL) {
		snprintf(r->err, sizeof r->err,
		    "%s:%lu:%d: malformed record: %s", r->name, r->line,
		    je.column, je.text);
		return -1;
	}
	if (record_check(*rec, why, sizeof why) == NULL) {
		snprintf(
		    r->err, sizeof r->err, "%s:%lu: %s", r->name, r->line, why);
		json_decref(*rec);
		*rec = NULL;
		return -1;
	}
	return 0;
}

int
record_next(struct record_reader *r, json_t **rec)
{
	int rc = record_read_line(r);

	if (rc != 1)
		return rc;
	return record_parse(r, rec) == 0 ? 1 : -1;
}
