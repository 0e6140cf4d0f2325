/*
 * acks.c — srdf-recv's GET /v1/acks/pending and POST /v1/acks/taken
 * (acks.h): the ACKs srdf-apply queued in the target ledger, fetched by
 * srdf-ship --ack-pull, so that the source host needs no inbound port.
 * Removing a taken ACK is exactly what srdf-apply does after delivering
 * one to srdf-ackd (apply/acks.c): the same fields, the same audit line
 * shape.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ack.h"
#include "acks.h"
#include "audit.h"
#include "log.h"
#include "opt.h"

struct pend {
	json_t *acks;
	size_t bytes;
	int more;
};

static int
pend_one(uint64_t seq, json_t *w, void *arg)
{
	struct pend *p = arg;
	json_t *ack = json_object_get(w, "ack");
	size_t n;

	if (!json_is_string(ack))
		return 0;
	/* As it will be in the answer, escaped; the first always goes. */
	n = json_dumpb(ack, NULL, 0, JSON_ENCODE_ANY) + 1;
	if (json_array_size(p->acks) == RECV_ACKS_MAX ||
	    (p->bytes > 0 && p->bytes + n > RECV_ACKS_BYTES)) {
		p->more = 1;
		return 1;
	}
	p->bytes += n;
	json_array_append(p->acks, ack);
	return 0;
}

/* Meta "ack_low" (apply/acks.c): no pending ACK has a lower sequence. */
static int
ack_low(struct ledger_txn *t, uint64_t *low)
{
	char *v = NULL;
	int rc;

	*low = 1;
	if ((rc = ledger_meta_get(t, "ack_low", &v)) != 0)
		return rc;
	if (v != NULL && parse_u64(v, low) != 0)
		*low = 1;
	free(v);
	return 0;
}

int
recv_acks_pending(struct ledger *l, const struct http_req *req, json_t **answer)
{
	struct ledger_txn *t;
	struct pend p = {json_array(), 0, 0};
	uint64_t low;
	int rc;

	if ((rc = ledger_txn_begin(l, LEDGER_RDONLY, &t)) == 0) {
		if ((rc = ack_low(t, &low)) == 0)
			rc = ledger_wagon_foreach(t, low, pend_one, &p);
		ledger_txn_abort(t);
	}
	if (rc != 0 && rc != 1) {
		log_err("ACKs for %s: cannot read the ledger: %s", req->peer,
		    ledger_strerror(rc));
		json_decref(p.acks);
		*answer = http_answer("busy", "cannot read the ledger");
		return 503;
	}
	log_debug("ACKs for %s: %zu pending%s", req->peer,
	    json_array_size(p.acks), p.more ? ", more" : "");
	*answer = http_answer("ok", "%zu ACK%s%s", json_array_size(p.acks),
	    json_array_size(p.acks) == 1 ? "" : "s",
	    p.more ? ", more to "
	             "come"
	           : "");
	json_object_set_new(*answer, "acks", p.acks);
	json_object_set_new(*answer, "more", json_boolean(p.more));
	return 200;
}

static int
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

/* The taken list of body, or NULL with why. */
static json_t *
taken_list(const struct http_req *req, json_t **root, char *why, size_t wl)
{
	json_error_t je;
	json_t *list, *e, *seq, *sum;
	size_t i;

	*root = json_loadb(
	    (const char *)req->body, req->len, JSON_REJECT_DUPLICATES, &je);
	if (*root == NULL) {
		snprintf(
		    why, wl, "not JSON: %s at offset %d", je.text, je.position);
		return NULL;
	}
	if (!json_is_object(*root) ||
	    json_integer_value(json_object_get(*root, "v")) != 1 ||
	    !json_is_integer(json_object_get(*root, "v"))) {
		snprintf(why, wl, "not a version 1 taken list");
		return NULL;
	}
	list = json_object_get(*root, "taken");
	if (!json_is_array(list) || json_array_size(list) > RECV_TAKEN_MAX) {
		snprintf(why, wl, "\"taken\" is not an array of at most %d",
		    RECV_TAKEN_MAX);
		return NULL;
	}
	json_array_foreach(list, i, e)
	{
		seq = json_object_get(e, "seq");
		sum = json_object_get(e, "sha256");
		if (!json_is_object(e) || !json_is_integer(seq) ||
		    json_integer_value(seq) < 1 || !json_is_string(sum) ||
		    !is_hex64(json_string_value(sum))) {
			snprintf(why, wl,
			    "taken[%zu] is not {\"seq\": N, "
			    "\"sha256\": 64 hex digits}",
			    i);
			return NULL;
		}
	}
	return list;
}

static int
first_ack(uint64_t seq, json_t *w, void *arg)
{
	if (!json_is_string(json_object_get(w, "ack")))
		return 0;
	*(uint64_t *)arg = seq;
	return 1;
}

/* One entry e of a taken list ({seq, sha256}) in the transaction t:
 * when the wagon still holds an ACK of that SHA-256, the ACK is removed
 * (*removed counted) and an applied wagon becomes confirmed (its seq
 * appended to conf[*nconf]).  Returns 0 (a stale entry is skipped), or
 * a ledger error. */
static int
take_one(struct ledger_txn *t, json_t *e, uint64_t *conf, size_t *nconf,
    size_t *removed)
{
	unsigned char sum[crypto_hash_sha256_BYTES];
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(e, "seq"));
	char have[65];
	const char *ack;
	json_t *w = NULL;
	int rc;

	if ((rc = ledger_wagon_get(t, seq, &w)) != 0)
		return rc;
	ack = w != NULL ? json_string_value(json_object_get(w, "ack")) : NULL;
	if (ack != NULL) {
		crypto_hash_sha256(
		    sum, (const unsigned char *)ack, strlen(ack));
		sodium_bin2hex(have, sizeof have, sum, sizeof sum);
	}
	if (ack == NULL || strcmp(have, json_string_value(json_object_get(
	                                    e, "sha256"))) != 0) {
		json_decref(w);
		return 0;
	}
	if (ack_taken(w))
		conf[(*nconf)++] = seq;
	rc = ledger_wagon_put(t, seq, w);
	json_decref(w);
	if (rc == 0)
		(*removed)++;
	return rc;
}

/* The "ack_low" hint in t: the first wagon, from the last hint on, that
 * still holds an ACK (the last wagon + 1 when none does).  0 or a ledger
 * error. */
static int
put_ack_low(struct ledger_txn *t)
{
	uint64_t from, next;
	char low[24];
	int rc;

	if ((rc = ack_low(t, &from)) != 0 ||
	    (rc = ledger_wagon_last_seq(t, &next)) != 0)
		return rc;
	next++;
	rc = ledger_wagon_foreach(t, from, first_ack, &next);
	if (rc != 0 && rc != 1)
		return rc;
	snprintf(low, sizeof low, "%" PRIu64, next);
	return ledger_meta_put(t, "ack_low", low);
}

int
recv_acks_taken(struct ledger *l, const struct http_req *req, json_t **answer)
{
	struct ledger_txn *t = NULL;
	json_t *root = NULL, *list, *e;
	char why[256];
	uint64_t *conf = NULL;
	size_t i, nconf = 0, removed = 0;
	int rc;

	if ((list = taken_list(req, &root, why, sizeof why)) == NULL) {
		log_warn(
		    "ACKs taken by %s: invalid_payload: %s", req->peer, why);
		json_decref(root);
		*answer = http_answer("invalid_payload", "%s", why);
		return 400;
	}
	if ((conf = calloc(json_array_size(list) + 1, sizeof *conf)) == NULL) {
		json_decref(root);
		*answer = http_answer("busy", "out of memory");
		return 503;
	}
	if ((rc = ledger_txn_begin(l, 0, &t)) != 0)
		goto fail;
	json_array_foreach(list, i, e)
	{
		if ((rc = take_one(t, e, conf, &nconf, &removed)) != 0)
			goto fail;
	}
	if ((rc = put_ack_low(t)) != 0)
		goto fail;
	rc = ledger_txn_commit(t);
	t = NULL;
	if (rc != 0)
		goto fail;
	for (i = 0; i < nconf; i++)
		audit_wagon(0, conf[i], "applied", "confirmed",
		    "ACK taken by "
		    "the source (srdf-ship --ack-pull from %s)",
		    req->peer);
	log_info("ACKs taken by %s: %zu of %zu removed, %zu wagon%s "
	         "confirmed",
	    req->peer, removed, json_array_size(list), nconf,
	    nconf == 1 ? "" : "s");
	*answer = http_answer("accepted", "%zu of %zu ACKs removed", removed,
	    json_array_size(list));
	json_object_set_new(
	    *answer, "removed", json_integer((json_int_t)removed));
	json_decref(root);
	free(conf);
	return 200;
fail:
	ledger_txn_abort(t);
	json_decref(root);
	free(conf);
	log_err("ACKs taken by %s: cannot record them in the ledger: %s",
	    req->peer, ledger_strerror(rc));
	*answer = http_answer("busy", "cannot record it in the ledger");
	return 503;
}
