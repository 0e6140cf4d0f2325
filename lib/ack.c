/*
 * ack.c — encode and decode the ACK of man/srdf-ack.5; see ack.h.
 *
 * The decoder fails closed: exactly the seven keys of
 * version 1, each of its type, no duplicate key, no NUL in a string, at
 * most ACK_MAX bytes; anything else is refused with the first reason.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ack.h"

#define ACK_MAX 65536      /* body; an error message is cut well below */
#define ACK_GTID_MAX 47    /* as in the wagon header (WAGON_GTID_LEN - 1) */
#define ACK_ERROR_MAX 8192 /* bytes of the target's error text */

static const char *const keys[] = {
    "v",
    "source_id",
    "seq",
    "status",
    "last_gtid",
    "time",
    "error",
};

/* The error text as a JSON string the decoder accepts: cut to
 * ACK_ERROR_MAX bytes at a character boundary; a text that is not UTF-8
 * (a server message in another character set) has its non-ASCII bytes
 * replaced by '?'.  "(no error text)" for an empty one. */
static json_t *
error_string(const char *e)
{
	size_t n = strlen(e), i;
	json_t *j;
	char *c;

	if (n == 0)
		return json_string("(no error text)");
	if (n > ACK_ERROR_MAX) {
		n = ACK_ERROR_MAX;
		while (n > 0 && ((unsigned char)e[n] & 0xc0) == 0x80)
			n--;
	}
	if ((j = json_stringn(e, n)) != NULL)
		return j;
	if ((c = strndup(e, n)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if ((unsigned char)c[i] >= 0x80)
			c[i] = '?';
	j = json_stringn(c, n);
	free(c);
	return j;
}

char *
ack_encode(const struct ack *a)
{
	json_t *o;
	char *s;

	/* "o" steals the reference and fails the pack on a NULL value. */
	o = json_pack("{s:i, s:s, s:I, s:s, s:o, s:f, s:o}", "v", 1,
	    "source_id", a->source_id, "seq", (json_int_t)a->seq, "status",
	    a->applied ? "applied" : "failed", "last_gtid",
	    a->last_gtid ? json_string(a->last_gtid) : json_null(), "time",
	    a->time, "error",
	    a->applied ? json_null() : error_string(a->error ? a->error : ""));
	if (o == NULL)
		return NULL;
	/* 16 significant digits: a Unix time keeps its microseconds' ms. */
	s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(16));
	json_decref(o);
	return s;
}

static int
fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

static int
is_hex32(const char *s)
{
	size_t i;

	for (i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[32] == '\0';
}

static int
is_gtid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((s[i] < '0' || s[i] > '9') && s[i] != '-' && s[i] != ',')
			return 0;
	return i > 0 && i <= ACK_GTID_MAX;
}

/* o is an object holding exactly the keys of an ACK: 0, or -1 with
 * err. */
static int
check_keys(json_t *o, char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	size_t i;

	if (!json_is_object(o))
		return fail(err, errlen, "not a JSON object");
	json_object_foreach(o, k, v)
	{
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (i == sizeof keys / sizeof keys[0]) {
			snprintf(err, errlen, "unknown key \"%.64s\"", k);
			return -1;
		}
	}
	if (json_object_size(o) != sizeof keys / sizeof keys[0])
		return fail(err, errlen,
		    "missing key (want v, source_id, seq, "
		    "status, last_gtid, time, error)");
	return 0;
}

/* v, source_id, seq and status of o into *a: 0, or -1 with err. */
static int
decode_which(json_t *o, struct ack *a, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, "v");
	const char *status;

	if (!json_is_integer(v) || json_integer_value(v) != 1)
		return fail(err, errlen, "\"v\" is not 1");
	v = json_object_get(o, "source_id");
	if (!json_is_string(v) || !is_hex32(json_string_value(v)))
		return fail(err, errlen,
		    "\"source_id\" is not 32 lowercase hex "
		    "digits");
	memcpy(a->source_id, json_string_value(v), 33);
	v = json_object_get(o, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return fail(err, errlen, "\"seq\" is not an integer >= 1");
	a->seq = (uint64_t)json_integer_value(v);
	status = json_string_value(json_object_get(o, "status"));
	if (status != NULL && strcmp(status, "applied") == 0)
		a->applied = 1;
	else if (status == NULL || strcmp(status, "failed") != 0)
		return fail(err, errlen,
		    "\"status\" is not \"applied\" or "
		    "\"failed\"");
	return 0;
}

/* last_gtid, time and error of o into *a (status already decoded): 0,
 * or -1 with err. */
static int
decode_outcome(json_t *o, struct ack *a, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, "last_gtid");
	double t;

	if (json_is_string(v) && is_gtid(json_string_value(v))) {
		if ((a->last_gtid = strdup(json_string_value(v))) == NULL)
			return fail(err, errlen, "out of memory");
	} else if (!json_is_null(v))
		return fail(err, errlen,
		    "\"last_gtid\" is neither null nor a GTID "
		    "(digits, '-' and ',', at most 47)");
	v = json_object_get(o, "time");
	t = json_number_value(v);
	if (!json_is_number(v) || !isfinite(t) || t < 0)
		return fail(
		    err, errlen, "\"time\" is not a number of seconds >= 0");
	a->time = t;
	v = json_object_get(o, "error");
	if (a->applied) {
		if (!json_is_null(v))
			return fail(err, errlen,
			    "\"error\" must be null when status "
			    "is \"applied\"");
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > ACK_ERROR_MAX)
		return fail(err, errlen,
		    "\"error\" must be a non-empty "
		    "string of at most 8192 bytes when status is "
		    "\"failed\"");
	if ((a->error = strdup(json_string_value(v))) == NULL)
		return fail(err, errlen, "out of memory");
	return 0;
}

int
ack_decode(
    const char *body, size_t len, struct ack *a, char *err, size_t errlen)
{
	json_t *o;
	json_error_t je;
	int rc;

	memset(a, 0, sizeof *a);
	if (len > ACK_MAX)
		return fail(err, errlen, "ACK longer than 64 KiB");
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		snprintf(err, errlen, "not JSON: %s at byte %d", je.text,
		    je.position);
		return -1;
	}
	rc = check_keys(o, err, errlen) != 0 ||
	             decode_which(o, a, err, errlen) != 0 ||
	             decode_outcome(o, a, err, errlen) != 0
	         ? -1
	         : 0;
	json_decref(o);
	if (rc != 0)
		ack_free(a);
	return rc;
}

void
ack_free(struct ack *a)
{
	free(a->last_gtid);
	free(a->error);
	a->last_gtid = NULL;
	a->error = NULL;
}

int
ack_taken(json_t *w)
{
	const char *st;
	struct timespec ts;

	json_object_del(w, "ack");
	st = json_string_value(json_object_get(w, "state"));
	if (st == NULL || strcmp(st, "applied") != 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_set_new(w, "state", json_string("confirmed"));
	json_object_set_new(
	    w, "confirmed_at", json_real((double)ts.tv_sec + ts.tv_nsec / 1e9));
	return 1;
}
